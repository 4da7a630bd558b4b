package casereport

import (
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

// FuzzMarkdownEscaping checks, for any evidence string, that the Markdown
// escapes keep it one line of text: no raw HTML or entity outside code
// spans, no cell separator, no code span left open.
func FuzzMarkdownEscaping(f *testing.F) {
	for _, s := range []string{"", "a|b", "<script>alert(1)</script>", "`", "``a`", "\\|", "a\\", "# x\n- y", "&amp;", "1. x", "\u202e\x1b[1m", "[a](b)", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"mdEsc": mdEsc(s), "mdCode": mdCode(s)} {
			if strings.ContainsAny(out, "\n\r") {
				t.Fatalf("%s(%q) = %q spans lines", name, s, out)
			}
			pipes, raw := mdLine("x " + out + " x")
			if raw != "" {
				t.Fatalf("%s(%q) = %q leaves raw HTML %q", name, s, out, raw)
			}
			if name == "mdEsc" && pipes != 0 {
				t.Fatalf("%s(%q) = %q has %d unescaped |", name, s, out, pipes)
			}
		}
		if pipes, raw := mdLine("| " + mdCell(s) + " | " + mdEsc(s) + " |"); pipes != 3 || raw != "" {
			t.Fatalf("table row of %q: %d separators (want 3), raw %q", s, pipes, raw)
		}
		if code := mdCode(s); s != "" && (!strings.HasPrefix(code, "`") || !strings.HasSuffix(code, "`")) {
			t.Fatalf("mdCode(%q) = %q is not one code span", s, code)
		}
	})
}

// syntheticReport puts s in every text field a report shows.
func syntheticReport(s string) *Report {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := &report.Finding{RuleID: s, Title: s, Level: report.LevelHigh, Pattern: s, Attack: []string{s}, Host: s, UserSID: s, User: s,
		Source: s, Key: s, Value: s, Data: s, LastWrite: t0, Time: t0.Add(time.Hour), Explain: s, Remediation: s}
	states := []HState{
		{Source: s, Kind: s, File: s, Time: t0, Values: []HValue{{Name: "Path", Type: s, Data: s, Changed: s}}},
		{Source: s, Time: t0.Add(time.Hour), Values: []HValue{{Name: "Path", Data: s + "2"}}},
	}
	h := &Host{
		Name: s, Root: s,
		Identity: Identity{ComputerName: Fact{s, s}, Domain: Fact{s, s}, Product: Fact{s, s}, OSNote: s, Build: Fact{s, s},
			Edition: Fact{s, s}, DisplayVersion: Fact{s, s}, InstallDate: t0, TimeZone: TimeZone{KeyName: s, Source: s, fixed: time.FixedZone("", 3600)}},
		Users: []User{{SID: s, Folder: s, ProfilePath: s, Name: s, NameSource: s, SIDSource: s, Status: []string{s}, CentralProfile: s, State: s,
			LoadTime: t0, Hive: s, HiveState: s, Roaming: &RoamingVerdict{ServerFile: s, Winner: s, DecidedBy: s, LocalTime: t0, ServerTime: t0}}},
		Groups: []FindingGroup{{Pattern: s, Title: s, Level: report.LevelHigh, Findings: []Finding{{Finding: f, UserLabel: s, Process: s, Steps: []string{s}, Writes: []string{s}}}}},
		Environment: []UserEnv{{Label: s, SID: s, Kind: s,
			PathSources: []PathSource{{Scope: s, Key: s, Value: s, Type: s, File: s, LastWrite: t0}},
			Path:        []PathRow{{Position: 1, Raw: s, Expanded: s, Origin: s, Scope: s, Flags: []string{s}, State: s}},
			Vars:        []VarRow{{Name: s, Value: s, Expanded: s, Origin: s}},
			Go:          []GoRow{{Name: s, Env: s, File: s, Winner: s, Overridden: true}}}},
		History:       []Series{{Name: s, File: s, States: states, Chart: chartOf(states, []ChartMark{{Time: t0, Label: s}})}},
		HistorySource: s,
		NotChecked:    []Gap{{What: s, Why: s}},
		Problems:      []string{s},
	}
	h.Findings.Add(f)
	return &Report{
		Header: Header{Tool: s, Version: s, Platform: s, RuleSet: RuleSet{Version: s, SHA256: s}, CommandLine: s, RunTime: t0,
			Inputs: []string{s}, Roaming: []string{s}, Evidence: []scan.FileDigest{{Path: s, Kind: s, SHA256: s, Note: s, Err: s}}},
		Hosts: []*Host{h},
	}
}

// FuzzWriteHTML checks that no string from the evidence adds markup: the
// document has exactly as many < and > as the same report with a plain word
// in every field, and the Markdown the same lines with the same table cells.
func FuzzWriteHTML(f *testing.F) {
	for _, s := range []string{"x", "<script>alert(1)</script>", `"onload=alert(1) x="`, "</style>", "]]>", "<!--", "\u202e\x1b[0m", "a|b\nc", "`", "{{.}}", "\xff"} {
		f.Add(s)
	}
	render := func(t *testing.T, r *Report) (string, string) {
		var h, m strings.Builder
		if err := r.WriteHTML(&h); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteMarkdown(&m); err != nil {
			t.Fatal(err)
		}
		return h.String(), m.String()
	}
	f.Fuzz(func(t *testing.T, s string) {
		baseHTML, baseMD := render(t, syntheticReport("x"))
		gotHTML, gotMD := render(t, syntheticReport(s))
		for _, c := range []string{"<", ">"} {
			// An empty field leaves out its row, so fewer tags are fine.
			if n, base := strings.Count(gotHTML, c), strings.Count(baseHTML, c); n > base || s != "" && n != base {
				t.Fatalf("%q adds %q to the HTML: %d, plain %d", s, c, strings.Count(gotHTML, c), strings.Count(baseHTML, c))
			}
		}
		if s == "" {
			return // rows and lines are left out: the line-by-line comparison does not apply
		}
		bl, gl := strings.Split(baseMD, "\n"), strings.Split(gotMD, "\n")
		if len(bl) != len(gl) {
			t.Fatalf("%q changes the Markdown's line count: %d, plain %d", s, len(gl), len(bl))
		}
		for i := range bl {
			bp, _ := mdLine(bl[i])
			gp, raw := mdLine(gl[i])
			// Cell separators matter in table rows only (a list item
			// cannot become a table: no delimiter row follows it).
			if strings.HasPrefix(bl[i], "|") && bp != gp || raw != "" {
				t.Fatalf("%q: Markdown line %d has %d cell separators (plain %d), raw %q: %q", s, i+1, gp, bp, raw, gl[i])
			}
		}
	})
}
