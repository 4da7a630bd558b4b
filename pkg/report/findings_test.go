package report

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

func writeAll(t *testing.T, w FindingWriter, fs []*Finding) {
	t.Helper()
	for _, f := range fs {
		if err := w.WriteFinding(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFindingWriters_MatchGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		format, file string
		opts         TextOptions
	}{
		{FormatText, "findings.txt", TextOptions{}},
		{FormatText, "findings_color.txt", TextOptions{Color: true}},
		{FormatJSONL, "findings.jsonl", TextOptions{}},
		{FormatCSV, "findings.csv", TextOptions{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewFindingWriter(tc.format, &buf, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, sampleFindings())
			golden(t, tc.file, buf.Bytes())
		})
	}
}

func TestNewFindingWriter_RejectsUnknownFormat(t *testing.T) {
	if _, err := NewFindingWriter("xml", &bytes.Buffer{}, TextOptions{}); err == nil {
		t.Fatal("want error for format xml")
	}
}

func TestJSONLWriter_HostileFindingsStayValidAndLossless(t *testing.T) {
	var buf bytes.Buffer
	fs := sampleFindings()
	writeAll(t, NewJSONLWriter(&buf), fs)
	assertTerminalSafe(t, "jsonl", buf.String())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(fs) {
		t.Fatalf("got %d lines for %d findings", len(lines), len(fs))
	}
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("line %d is not valid JSON: %s", i, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		want := fs[i].Data
		got := m["data"].(string)
		if raw, ok := m["data_raw"]; ok {
			b, err := hex.DecodeString(raw.(string))
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if got != want {
			t.Errorf("line %d: data round trip %q, want %q", i, got, want)
		}
		ev, _ := m["event"].(map[string]any)
		if fs[i].Event != nil && ev == nil {
			t.Errorf("line %d: no event object", i)
		}
	}
}

func TestJSONLWriter_FieldNamesAndOrder(t *testing.T) {
	var buf bytes.Buffer
	writeAll(t, NewJSONLWriter(&buf), sampleFindings()[:1])
	dec := json.NewDecoder(&buf)
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(names, ",") != strings.Join(FindingColumns, ",") {
		t.Errorf("fields %v, want %v", names, FindingColumns)
	}
}

func TestFinding_JSONRoundTrip(t *testing.T) {
	f := sampleFindings()[0]
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var g Finding
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.RuleID != f.RuleID || g.Level != f.Level || !g.LastWrite.Equal(f.LastWrite) || !g.Time.Equal(f.Time) ||
		g.Data != f.Data || strings.Join(g.Attack, ",") != strings.Join(f.Attack, ",") {
		t.Errorf("round trip changed the finding:\n%+v\n%+v", g, *f)
	}
	if got := strings.Join(g.Event.Keys(), ","); got != strings.Join(f.Event.Keys(), ",") {
		t.Errorf("event fields %s, want %s", got, strings.Join(f.Event.Keys(), ","))
	}
}

func TestCSVWriter_HostileCellsNeutralizedOneRecordEach(t *testing.T) {
	var buf bytes.Buffer
	fs := sampleFindings()
	writeAll(t, NewCSVWriter(&buf), fs)
	r := csv.NewReader(&buf)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(recs) != len(fs)+1 {
		t.Fatalf("got %d records, want header + %d", len(recs), len(fs))
	}
	for i, rec := range recs {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("record %d column %s starts a formula: %q", i, recs[0][j], cell)
			}
		}
	}
	for i, f := range fs {
		// encoding/csv reads CRLF inside a quoted field as LF.
		want := strings.ReplaceAll(SafeCSVCell(f.Data), "\r\n", "\n")
		if got := recs[i+1][11]; got != want {
			t.Errorf("finding %d: data cell %q, want %q", i, got, want)
		}
	}
}

func TestCSVWriter_EmptyResultHasHeader(t *testing.T) {
	var buf bytes.Buffer
	writeAll(t, NewCSVWriter(&buf), nil)
	if got, want := buf.String(), strings.Join(FindingColumns, ",")+"\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTextWriter_HostileFindingsAreTerminalSafe(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		writeAll(t, NewTextWriter(&buf, TextOptions{Color: color}), sampleFindings())
		out := buf.String()
		if color {
			if !strings.Contains(out, levelColor[LevelHigh]) {
				t.Error("colour requested but no level colour written")
			}
			out = stripOurColors(out)
		} else if strings.Contains(out, "\x1b") {
			t.Error("colour off but ESC written")
		}
		assertTerminalSafe(t, "text", out)
	}
}

func TestTextWriter_GroupsByHostAndUser(t *testing.T) {
	fs := sampleFindings()
	SortFindings(fs)
	var buf bytes.Buffer
	writeAll(t, NewTextWriter(&buf, TextOptions{}), fs)
	groups := map[[3]string]bool{}
	for _, f := range fs {
		groups[[3]string{f.Host, f.UserSID, f.User}] = true
	}
	if n := strings.Count(buf.String(), "== host "); n != len(groups) {
		t.Errorf("got %d group headers, want %d\n%s", n, len(groups), buf.String())
	}
}

func TestSafeTerminal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain C:\\Windows", "plain C:\\Windows"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\tb\nc", `a\x09b\x0ac`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b", `c1\u009b`},
		{"exe.\u202etxt", `exe.\u202etxt`},
		{"\u2066x\u2069\u200e\u200f", `\u2066x\u2069\u200e\u200f`},
		{"\xff\xfe", `\xff\xfe`},
		{"\xed\xa0\x80", `\xed\xa0\x80`},
		{"Größe 😀", "Größe 😀"},
		{"Pa\u3164th\u00ad", `Pa\u3164th\u00ad`},
	} {
		if got := SafeTerminal(tc.in); got != tc.want {
			t.Errorf("SafeTerminal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@A1", "'@A1"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a\nb", "a\nb"},
		{"\x1b[31m", `\x1b[31m`},
		{"x\u202e", `x\u202e`},
		{"\xff", `\xff`},
		{"C:\\Path", "C:\\Path"},
	} {
		if got := SafeCSVCell(tc.in); got != tc.want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLevel_ParseAndOrder(t *testing.T) {
	prev := Level(0)
	for _, name := range []string{"informational", "low", "medium", "high", "critical"} {
		l, err := ParseLevel(strings.ToUpper(name))
		if err != nil {
			t.Fatal(err)
		}
		if l.String() != name || !l.AtLeast(prev) || prev.AtLeast(l) {
			t.Errorf("level %s: got %v, order wrong after %v", name, l, prev)
		}
		prev = l
	}
	if _, err := ParseLevel("severe"); err == nil {
		t.Error("ParseLevel accepted an unknown level")
	}
}

func TestAttackFromTags(t *testing.T) {
	got := AttackFromTags([]string{"attack.persistence", "attack.t1574.007", "attack.T1112", "attack.t1574.007", "cve.2021", "attack.t15", "attack.g0007"})
	if strings.Join(got, ",") != "T1574.007,T1112" {
		t.Errorf("got %v", got)
	}
}

func TestTally(t *testing.T) {
	var ta Tally
	for _, f := range sampleFindings()[:2] {
		ta.Add(f)
	}
	if ta.Max() != LevelHigh || ta.Total() != 2 || ta.String() != "2 findings: 1 high, 1 medium" {
		t.Errorf("tally %v max %v", ta.String(), ta.Max())
	}
}
