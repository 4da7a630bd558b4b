package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
)

// Level is a rule's severity, ordered from Informational to Critical so that
// levels compare with < and >.
type Level int

// The Sigma levels.
const (
	Informational Level = iota + 1
	Low
	Medium
	High
	Critical
)

var levelNames = [...]string{"", "informational", "low", "medium", "high", "critical"}

// String returns the level as rules spell it ("high").
func (l Level) String() string {
	if l < Informational || l > Critical {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// MarshalText renders the level as its name, so JSON output says "high".
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParseLevel parses a level name (case-insensitive): informational, low,
// medium, high or critical.
func ParseLevel(s string) (Level, error) {
	for i := Informational; i <= Critical; i++ {
		if strings.EqualFold(s, levelNames[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q: want one of informational, low, medium, high, critical", s)
}

// Pattern is the kind of environment hijack (or benign explanation) a
// built-in rule detects; it is empty for rules without an envhunt block,
// such as SigmaHQ rules.
type Pattern string

// The patterns of the product brief.
const (
	PatternACL         Pattern = "acl"
	PatternGPO         Pattern = "gpo"
	PatternCallback    Pattern = "callback"
	PatternRoaming     Pattern = "roaming"
	PatternPersistence Pattern = "persistence"
	PatternPath        Pattern = "path"
	PatternMisconfig   Pattern = "misconfig"
)

// Patterns lists every valid pattern.
var Patterns = []Pattern{PatternACL, PatternGPO, PatternCallback, PatternRoaming, PatternPersistence, PatternPath, PatternMisconfig}

// Logsource is the Sigma logsource of a rule.
type Logsource struct {
	Product    string
	Category   string
	Service    string
	Definition string
}

// Related is one entry of a rule's related list.
type Related struct {
	ID   string
	Type string // derived, obsolete, merged, renamed, similar
}

// Rule is one loaded and compiled rule. A Rule is immutable after loading and
// safe for concurrent use.
type Rule struct {
	Title          string
	ID             string
	Name           string
	Related        []Related
	Status         string
	Description    string
	License        string
	References     []string
	Author         string
	Date           string
	Modified       string
	Tags           []string
	Logsource      Logsource
	Fields         []string
	FalsePositives []string
	Level          Level

	// Conditions is the detection's condition as written (several entries
	// are alternatives, as in old Sigma rules).
	Conditions []string

	// The envhunt block.
	Pattern             Pattern
	ExplainTemplate     string
	RemediationTemplate string
	Tests               []TestCase

	// File is the rule's file name as it was loaded and Line the line of its
	// first key.
	File string
	Line int

	// Warnings are problems that did not stop the rule from loading but
	// probably make it match something other than meant (a wildcard
	// escaped by a path's backslash). "rules validate" prints them.
	Warnings []*Error

	idLine, idCol int

	categories  []event.Category // what the logsource category resolves to
	det         *detection
	explain     template
	remediation template
}

// Categories returns the event categories whose events the rule reads: its
// logsource category and the categories that declare it as an alias.
func (r *Rule) Categories() []event.Category {
	return append([]event.Category(nil), r.categories...)
}

var attackTechnique = regexp.MustCompile(`^attack\.(t\d{4}(\.\d{3})?)$`)

// Attack returns the ATT&CK technique ids of the rule's tags, upper-cased
// ("attack.t1574.007" gives "T1574.007").
func (r *Rule) Attack() []string {
	var out []string
	for _, t := range r.Tags {
		if m := attackTechnique.FindStringSubmatch(strings.ToLower(t)); m != nil {
			out = append(out, strings.ToUpper(m[1]))
		}
	}
	return out
}

// String returns the rule's id and title.
func (r *Rule) String() string { return r.ID + " " + r.Title }
