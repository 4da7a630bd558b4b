package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// ANSI sequences used when TextOptions.Color is on. They are written by the
// writer itself, never taken from data.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
)

var levelColor = map[Level]string{
	LevelCritical:      "\x1b[1;97;41m",
	LevelHigh:          "\x1b[1;31m",
	LevelMedium:        "\x1b[33m",
	LevelLow:           "\x1b[36m",
	LevelInformational: "\x1b[2m",
}

// TextWriter writes findings for a person reading a terminal or a report:
// a header line whenever the host or user changes, then one block per
// finding (level and title, rule and ATT&CK ids, key and value, times,
// evidence file, explanation, remediation), and on Close a summary by level.
//
// Findings are grouped as they arrive: a caller that emits findings host by
// host (as a scan does) gets one group per host and user; SortFindings puts
// a collected slice in that order. Every string from a finding goes through
// SafeTerminal, so the output carries no control characters or escape
// sequences from the evidence; the only escape sequences written are this
// writer's own colours, and only with TextOptions.Color.
type TextWriter struct {
	w         *bufio.Writer
	opts      TextOptions
	tally     Tally
	started   bool
	host, sid string
	user      string
	err       error
}

// NewTextWriter returns a text findings writer on w.
func NewTextWriter(w io.Writer, opts TextOptions) *TextWriter {
	return &TextWriter{w: bufio.NewWriter(w), opts: opts}
}

func (t *TextWriter) color(code, s string) string {
	if !t.opts.Color || code == "" {
		return s
	}
	return code + s + ansiReset
}

// GroupLabel returns the text writer's header for a host and user: "host
// WS01 · user CORP\alice (S-1-5-21-...)", or "· machine" when the finding
// belongs to no user. Parts are sanitized.
func GroupLabel(host, userSID, user string) string {
	var b strings.Builder
	b.WriteString("host ")
	if host == "" {
		b.WriteString("(unknown)")
	} else {
		b.WriteString(SafeTerminal(host))
	}
	switch {
	case user != "" && userSID != "":
		b.WriteString(" · user " + SafeTerminal(user) + " (" + SafeTerminal(userSID) + ")")
	case user != "":
		b.WriteString(" · user " + SafeTerminal(user))
	case userSID != "":
		b.WriteString(" · user " + SafeTerminal(userSID))
	default:
		b.WriteString(" · machine")
	}
	return b.String()
}

// WriteFinding writes f, preceded by a group header when its host or user
// differs from the previous finding's.
func (t *TextWriter) WriteFinding(f *Finding) error {
	if t.err != nil {
		return t.err
	}
	t.tally.Add(f)
	w := t.w
	if !t.started || f.Host != t.host || f.UserSID != t.sid || f.User != t.user {
		if t.started {
			w.WriteByte('\n')
		}
		t.started = true
		t.host, t.sid, t.user = f.Host, f.UserSID, f.User
		w.WriteString(t.color(ansiBold, "== "+GroupLabel(f.Host, f.UserSID, f.User)+" =="))
		w.WriteString("\n")
	}
	const indent = "          "
	lvl := strings.ToUpper(f.Level.String())
	if f.Level == LevelInformational {
		lvl = "INFO" // keeps the titles aligned
	}
	w.WriteString("\n")
	w.WriteString(t.color(levelColor[f.Level], lvl))
	if pad := len(indent) - len(lvl); pad > 0 {
		w.WriteString(indent[:pad])
	} else {
		w.WriteByte(' ')
	}
	w.WriteString(SafeTerminal(f.Title))
	w.WriteString("\n")

	var meta []string
	if f.RuleID != "" {
		meta = append(meta, "rule "+SafeTerminal(f.RuleID))
	}
	if f.Pattern != "" {
		meta = append(meta, "pattern "+SafeTerminal(f.Pattern))
	}
	if len(f.Attack) > 0 {
		meta = append(meta, SafeTerminal(strings.Join(f.Attack, ", ")))
	}
	line := func(label, s string) {
		if s == "" {
			return
		}
		w.WriteString(indent)
		w.WriteString(label)
		w.WriteString(strings.Repeat(" ", max(1, 7-len(label))))
		w.WriteString(s)
		w.WriteString("\n")
	}
	if len(meta) > 0 {
		w.WriteString(indent + strings.Join(meta, " · ") + "\n")
	}
	key := SafeTerminal(f.Key)
	if key != "" && !f.LastWrite.IsZero() {
		key += " (last write " + wintime.Format(f.LastWrite) + ")"
	}
	line("key", key)
	if f.Value != "" || f.Data != "" {
		name := SafeTerminal(f.Value)
		if f.Value == "" {
			name = "(Default)"
		}
		line("value", name+" = "+SafeTerminal(clip(f.Data, t.opts.maxData())))
	}
	if !f.Time.IsZero() && !f.Time.Equal(f.LastWrite) {
		line("time", wintime.Format(f.Time))
	}
	line("by", processText(f))
	src := SafeTerminal(f.Source)
	if f.Recovered {
		src += " (recovered from transaction logs)"
	}
	line("source", src)
	line("why", SafeTerminal(f.Explain))
	line("fix", SafeTerminal(f.Remediation))
	return t.err
}

// clip shortens s to at most max bytes (at a character boundary) and says
// how much was left out; max <= 0 keeps everything.
func clip(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " … (" + strconv.Itoa(len(s)-cut) + " more bytes; the JSONL and CSV output carry all of it)"
}

// processText describes the process behind a finding from its event's
// process fields (traces and event logs): "C:\Windows\System32\reg.exe
// (pid 4242): reg add ...". Empty for hive state, which has no process.
func processText(f *Finding) string {
	if f.Event == nil {
		return ""
	}
	get := func(k string) string {
		v, ok := f.Event.Get(k)
		if !ok {
			return ""
		}
		return SafeTerminal(CellText(v))
	}
	s := get("Image")
	if pid := get("ProcessId"); pid != "" {
		if s == "" {
			s = "process"
		}
		s += " (pid " + pid + ")"
	}
	if cmd := get("CommandLine"); cmd != "" {
		if s != "" {
			s += ": "
		}
		s += cmd
	}
	return s
}

// Flush writes buffered text to the underlying writer.
func (t *TextWriter) Flush() error {
	if t.err != nil {
		return t.err
	}
	t.err = t.w.Flush()
	return t.err
}

// Close writes the summary line (unless TextOptions.NoSummary) and flushes.
func (t *TextWriter) Close() error {
	if t.err == nil && !t.opts.NoSummary {
		if t.started {
			t.w.WriteString("\n")
		}
		t.w.WriteString(t.tally.String() + "\n")
	}
	return t.Flush()
}
