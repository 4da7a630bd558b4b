// Package report turns envhunt's findings, events and timelines into output a
// responder or a pipeline can use: a grouped text report for the terminal,
// JSON Lines and CSV for machines, timeline formats for Sleuth Kit's mactime
// and log2timeline's TLN, and a reviewed remediation script.
//
// Every writer streams: it writes each record as it arrives, keeps JSON Lines
// valid line by line, and buffers only what its format needs (a text table's
// column widths, a CSV event header built from the events seen). Flush pushes
// buffered output to the underlying writer; when to flush (per host, per
// batch) is the caller's decision. Close writes any trailer and flushes; it
// never closes the underlying io.Writer.
//
// # Entry points
//
//   - Findings (scan): Finding, Level/ParseLevel, FindingFromEvent,
//     AttackFromTags; NewFindingWriter("text"|"jsonl"|"csv") or
//     NewTextWriter, NewJSONLWriter, NewCSVWriter; Tally for summaries and
//     --fail-level; SortFindings.
//   - Events (events): NewEventWriter("jsonl"|"text"|"csv"), EventColumns.
//   - Other commands' rows (dump, etl, evtx, env, diff): NewTableWriter for
//     flat rows, NewRecordWriter for nested JSON records.
//   - Timelines (timeline): TimelineRow, TimelineSource (TimelineFunc,
//     FindingsTimeline, EventRow), SortTimeline or MergeTimeline,
//     NewTimelineWriter("csv"|"jsonl"|"bodyfile"|"tln"), ParseTimeBound.
//   - Remediation (scan --remediate): Action, DefaultActions,
//     NewRemediationWriter("ps1"|"reg") with RemediationFormatFor.
//   - One implementation of output safety for every package: SafeTerminal,
//     SafeCSVCell, SafeLine, RawText, MarshalValue, PowerShellString,
//     ContainsHidden.
//
// # Security
//
// Everything a finding or event carries may come from an attacker's machine.
// The writers therefore guarantee, for any input bytes:
//
//   - Text output never passes a control character (C0, DEL, C1, so no ESC
//     sequence), a bidirectional override or isolate, or another invisible
//     format character to the terminal: they appear as \x1b or \u202e.
//     Bytes that are not valid UTF-8 appear as \xNN. See SafeTerminal.
//   - CSV cells never start a spreadsheet formula: a cell starting with =, +,
//     -, @, tab or CR gets a leading apostrophe. See SafeCSVCell.
//   - JSON output is valid UTF-8 JSON; a string that is not valid UTF-8 is
//     written with U+FFFD in place of the bad bytes and a sibling
//     "<field>_raw" holding the original bytes in hex, so nothing is lost.
//     Control and invisible format characters are \u-escaped, so a JSONL
//     file is also safe to cat to a terminal.
//   - Bodyfile and TLN lines stay one record per line: |, CR, LF and every
//     other control character inside a field are escaped.
//   - Remediation scripts quote every name and value from the evidence so
//     that none of it can become code, and they are pure ASCII.
//
// Nesting of event values is bounded (MaxDepth) and so is the number of
// values in one record (MaxValues), so a self-referencing or widely shared
// value cannot recurse or multiply without end.
package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Level is a finding's severity, ordered from LevelInformational to
// LevelCritical as Sigma orders rule levels. The zero Level is "unknown" and
// sorts below every real level.
type Level int

// The Sigma levels, in increasing order of severity.
const (
	LevelInformational Level = iota + 1
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

var levelNames = [...]string{"unknown", "informational", "low", "medium", "high", "critical"}

// Levels lists the valid levels in increasing order.
func Levels() []Level {
	return []Level{LevelInformational, LevelLow, LevelMedium, LevelHigh, LevelCritical}
}

// ParseLevel parses a level name as rules and --min-level/--fail-level spell
// it ("informational", "low", "medium", "high", "critical"; case-insensitive;
// "info" is accepted for informational).
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "informational", "info":
		return LevelInformational, nil
	case "low":
		return LevelLow, nil
	case "medium":
		return LevelMedium, nil
	case "high":
		return LevelHigh, nil
	case "critical":
		return LevelCritical, nil
	}
	return 0, fmt.Errorf("unknown level %q: want informational, low, medium, high or critical", s)
}

// String returns the level's name ("high"); the zero Level is "unknown".
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l]
}

// Valid reports whether l is one of the five Sigma levels.
func (l Level) Valid() bool { return l >= LevelInformational && l <= LevelCritical }

// AtLeast reports whether l is at or above min: the test behind --min-level
// (show a finding) and --fail-level (exit 1).
func (l Level) AtLeast(min Level) bool { return l >= min }

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. It accepts what
// MarshalText writes, including "unknown" for the zero Level.
func (l *Level) UnmarshalText(b []byte) error {
	if s := string(b); s == "unknown" || s == "" {
		*l = 0
		return nil
	}
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Finding is one rule match: what was found, where, when, why it matters and
// what to do about it. Its JSON form (MarshalJSON) uses exactly the field
// names of the documented findings schema (docs/output.md), in this order.
type Finding struct {
	RuleID  string `json:"rule_id"`
	Title   string `json:"title"`
	Level   Level  `json:"level"`
	Pattern string `json:"pattern"` // acl, gpo, callback, roaming, persistence, path, misconfig
	// Attack lists ATT&CK technique ids ("T1574.007"); see AttackFromTags.
	Attack  []string `json:"attack"`
	Host    string   `json:"host"`
	UserSID string   `json:"user_sid"`
	User    string   `json:"user"` // DOMAIN\name where known
	// Source is the evidence file the finding rests on.
	Source string `json:"source"`
	// Key is the registry key path (HKU\<SID>\Environment, HKLM\...), or the
	// object the finding is about for other evidence.
	Key   string `json:"key"`
	Value string `json:"value"` // value name; "" for the default value or a key-level finding
	Data  string `json:"data"`  // the value's data as text
	// LastWrite is the last-write time of Key.
	LastWrite time.Time `json:"last_write"`
	// Time is when the evidence says it happened: the event time for trace
	// and log events, else the key's last write.
	Time        time.Time `json:"time"`
	Explain     string    `json:"explain"`
	Remediation string    `json:"remediation"`
	// Recovered is true when the evidence came from transaction-log recovery
	// (it was only in .LOG1/.LOG2, not in the primary hive file).
	Recovered bool `json:"recovered"`
	// Event holds the matched event's fields in order.
	Event *ordereddict.Dict `json:"event"`

	// Raw carries the original bytes of a field whose text form lost
	// information, keyed by JSON field name ("key", "value", "data"); for
	// example the UTF-16LE bytes of a value name with a lone surrogate. The
	// JSON writer emits them as "<field>_raw" hex. Strings that are not
	// valid UTF-8 need no entry: their bytes are written as "_raw"
	// automatically.
	Raw map[string][]byte `json:"-"`
	// Actions are the remediation steps for this finding, set by the caller
	// or the rule; when empty, the remediation writers use DefaultActions.
	Actions []Action `json:"-"`
}

// FindingFromEvent fills the evidence part of a finding from the event that
// matched: host, user, source file, key, value, data, last write, time, the
// recovered flag and the ordered event fields. The rule part (RuleID, Title,
// Level, Pattern, Attack, Explain, Remediation) is the caller's.
//
// It reads the common fields (Host, UserSid, User, EvidenceFile) and the
// registry fields (KeyPath, TargetObject, ValueName, Details, Data,
// LastWrite, Recovered) when present.
func FindingFromEvent(e *event.Event) *Finding {
	f := &Finding{Host: e.Source.Host, Source: e.Source.File, Time: e.Time, Event: e.Fields}
	if f.Event == nil {
		f.Event = ordereddict.NewDict()
	}
	str := func(name string) string { return e.String(name) }
	if s := str("Host"); s != "" {
		f.Host = s
	}
	if s := str("EvidenceFile"); s != "" && f.Source == "" {
		f.Source = s
	}
	f.UserSID = str("UserSid")
	f.User = str("User")
	f.Key = str("KeyPath")
	if _, ok := e.Get("ValueName"); ok {
		f.Value = str("ValueName")
	}
	if f.Key == "" {
		f.Key = str("TargetObject")
	}
	if v, ok := e.Get("Data"); ok {
		f.Data = event.FormatValue(v)
	} else {
		f.Data = str("Details")
	}
	if v, ok := e.Get("LastWrite"); ok {
		if t, ok := v.(time.Time); ok {
			f.LastWrite = t
		}
	}
	if f.Time.IsZero() {
		f.Time = f.LastWrite
	}
	if v, ok := e.Get("Recovered"); ok {
		if b, ok := v.(bool); ok {
			f.Recovered = b
		}
	}
	return f
}

// AttackFromTags returns the ATT&CK technique ids among Sigma rule tags:
// "attack.t1574.007" gives "T1574.007"; tactic tags ("attack.persistence")
// and other tags are skipped. Order is kept and duplicates dropped.
func AttackFromTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		id, ok := strings.CutPrefix(t, "attack.")
		if !ok || len(id) < 5 || id[0] != 't' || !isDigits(id[1:5]) {
			continue
		}
		rest := id[5:]
		if rest != "" && (rest[0] != '.' || len(rest) != 4 || !isDigits(rest[1:])) {
			continue
		}
		id = "T" + id[1:]
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MarshalJSON writes the finding with the documented field names in order,
// "<field>_raw" hex beside any text that is not valid UTF-8 (or that Raw
// carries), and the event's fields in their order. Zero times are "".
func (f *Finding) MarshalJSON() ([]byte, error) {
	var o jsonObject
	o.begin()
	o.str("rule_id", f.RuleID, f.Raw["rule_id"])
	o.str("title", f.Title, f.Raw["title"])
	o.str("level", f.Level.String(), nil)
	o.str("pattern", f.Pattern, nil)
	o.key("attack")
	o.value(f.Attack, 0)
	o.str("host", f.Host, f.Raw["host"])
	o.str("user_sid", f.UserSID, f.Raw["user_sid"])
	o.str("user", f.User, f.Raw["user"])
	o.str("source", f.Source, f.Raw["source"])
	o.str("key", f.Key, f.Raw["key"])
	o.str("value", f.Value, f.Raw["value"])
	o.str("data", f.Data, f.Raw["data"])
	o.str("last_write", wintime.Format(f.LastWrite), nil)
	o.str("time", wintime.Format(f.Time), nil)
	o.str("explain", f.Explain, f.Raw["explain"])
	o.str("remediation", f.Remediation, f.Raw["remediation"])
	o.key("recovered")
	o.value(f.Recovered, 0)
	o.key("event")
	if f.Event == nil {
		o.buf = append(o.buf, "{}"...)
	} else {
		o.value(f.Event, 0)
	}
	o.end()
	return o.buf, nil
}

// UnmarshalJSON reads a finding written by MarshalJSON ("_raw" fields are
// ignored; empty times give the zero time).
func (f *Finding) UnmarshalJSON(b []byte) error {
	type plain Finding
	var aux struct {
		*plain
		LastWrite string `json:"last_write"`
		Time      string `json:"time"`
	}
	aux.plain = (*plain)(f)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	if f.LastWrite, err = parseTime(aux.LastWrite); err != nil {
		return fmt.Errorf("last_write: %w", err)
	}
	if f.Time, err = parseTime(aux.Time); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Tally counts findings by level, for summaries and --fail-level.
type Tally struct {
	counts [len(levelNames)]int
}

// Add counts f.
func (t *Tally) Add(f *Finding) {
	l := f.Level
	if !l.Valid() {
		l = 0
	}
	t.counts[l]++
}

// Count returns how many findings of level l were added.
func (t *Tally) Count(l Level) int {
	if l < 0 || int(l) >= len(t.counts) {
		return 0
	}
	return t.counts[l]
}

// Total returns how many findings were added.
func (t *Tally) Total() int {
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

// Max returns the highest level added (0 when none).
func (t *Tally) Max() Level {
	for l := LevelCritical; l >= LevelInformational; l-- {
		if t.counts[l] > 0 {
			return l
		}
	}
	return 0
}

// String summarizes the tally: "3 findings: 1 high, 2 low" or "no findings".
func (t *Tally) String() string {
	n := t.Total()
	if n == 0 {
		return "no findings"
	}
	var parts []string
	for l := LevelCritical; l >= 0; l-- {
		if c := t.counts[l]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, l))
		}
	}
	noun := "findings"
	if n == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s: %s", n, noun, strings.Join(parts, ", "))
}
