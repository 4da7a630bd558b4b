package report

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"
)

// FuzzOutputSafety puts arbitrary bytes in every text field and checks each
// writer's guarantee: terminal-safe text, valid lossless JSON, parseable and
// formula-free CSV, one line per timeline row, and scripts whose code is
// only envhunt's templates.
func FuzzOutputSafety(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("")
	f.Add("\xed\xb0\x80\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		t0 := time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)
		fd := &Finding{RuleID: s, Title: s, Level: LevelHigh, Pattern: s, Attack: []string{s}, Host: s, UserSID: s,
			User: s, Source: s, Key: `HKU\` + aliceSID + `\` + s, Value: s, Data: s, LastWrite: t0, Time: t0,
			Explain: s, Remediation: s, Event: ordereddict.NewDict().Set(s, s).Set("L", []string{s})}
		fd.Actions = []Action{
			{Kind: ActionSetValue, Key: fd.Key, Value: s, Type: "REG_EXPAND_SZ", Data: s},
			{Kind: ActionDeleteValue, Key: `HKCU\` + s, Value: s, Hive: s},
			{Kind: ActionResetACL, Key: fd.Key, SDDL: s},
			{Kind: ActionNote, Note: s, GPOID: s, GPOName: s},
		}

		var buf bytes.Buffer
		w := NewTextWriter(&buf, TextOptions{Color: true})
		w.WriteFinding(fd)
		w.Close()
		assertTerminalSafe(t, "text", stripOurColors(buf.String()))

		buf.Reset()
		j := NewJSONLWriter(&buf)
		j.WriteFinding(fd)
		j.Close()
		line := strings.TrimSuffix(buf.String(), "\n")
		if strings.Contains(line, "\n") || !json.Valid([]byte(line)) {
			t.Fatalf("JSONL not one valid line: %q", buf.String())
		}
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		got, _ := m["data"].(string)
		if raw, ok := m["data_raw"].(string); ok {
			b, _ := hex.DecodeString(raw)
			got = string(b)
		}
		if got != s {
			t.Fatalf("JSON data %q, want %q", got, s)
		}

		buf.Reset()
		c := NewCSVWriter(&buf)
		c.WriteFinding(fd)
		c.Close()
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("CSV: %d records, %v", len(recs), err)
		}
		for _, cell := range recs[1] {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("CSV cell starts a formula: %q", cell)
			}
		}

		row := TimelineRow{Time: t0, Source: s, Kind: s, Host: s, User: s, Key: s, Description: s, File: s}
		for format, fields := range map[string]int{FormatBodyfile: 11, FormatTLN: 5} {
			out := string(writeTimeline(t, format, []TimelineRow{row}))
			assertTerminalSafe(t, format, out)
			if strings.Count(out, "\n") != 1 || strings.Count(out, "|") != fields-1 {
				t.Fatalf("%s: not one line of %d fields: %q", format, fields, out)
			}
		}

		buf.Reset()
		p := NewPowerShellWriter(&buf, RemediationOptions{Evidence: []string{s}})
		p.WriteFinding(fd)
		p.Close()
		checkScript(t, buf.String())

		q, exact := PowerShellString(s)
		if units, rest := evalPowerShellString(t, q); rest != "" || (exact && !slicesEqual(units, wtf16(s))) {
			t.Fatalf("PowerShellString(%q) = %q does not evaluate to it", s, q)
		}
	})
}

// checkScript fails unless every code line of a PowerShell script is one of
// the writer's templates with only quoted expressions in the holes.
func checkScript(t *testing.T, out string) {
	t.Helper()
	for i, c := range []byte(out) {
		if (c < 0x20 && c != '\r' && c != '\n') || c >= 0x7f {
			t.Fatalf("script byte %d is %#x", i, c)
		}
	}
	for n, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF", n)
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		shape := quotedExpr.ReplaceAllStringFunc(l, func(q string) string {
			if _, rest := evalPowerShellString(t, q); rest != "" {
				t.Fatalf("line %d: malformed quoted expression %q", n, q)
			}
			return "Q"
		})
		known := false
		for _, re := range codeLines {
			if re.MatchString(shape) {
				known = true
				break
			}
		}
		if !known {
			t.Fatalf("line %d is not a known step:\n%s\nshape: %s", n, l, shape)
		}
	}
}

// FuzzPowerShellUTF16 checks that a name given as UTF-16LE bytes always
// becomes an ASCII expression evaluating to exactly those code units.
func FuzzPowerShellUTF16(f *testing.F) {
	f.Add([]byte{'P', 0, 0x00, 0xD8})
	f.Add([]byte{0x00, 0xDC, 0x00, 0xD8, '\'', 0, '\n', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		expr := PowerShellUTF16(b)
		for _, c := range []byte(expr) {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("not printable ASCII: %q", expr)
			}
		}
		got, rest := evalPowerShellString(t, expr)
		want := make([]uint16, len(b)/2)
		for i := range want {
			want[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		if rest != "" || !slicesEqual(got, want) {
			t.Fatalf("PowerShellUTF16(%x) = %q evaluates to %x", b, expr, got)
		}
	})
}
