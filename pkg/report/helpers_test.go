package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test -update after review)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// hostile are strings an attacker can plant in key names, value names and
// data: terminal escapes, controls, invalid UTF-8, a lone surrogate as a
// UTF-16 decoder that keeps it leaves it (WTF-8), bidirectional overrides,
// field separators, newlines, spreadsheet formula prefixes and script
// injection.
var hostile = []string{
	"\x1b[31mred\x1b[0m",
	"\x1b]0;owned title\x07",
	"\x1b[2J\x1b[Hclear",
	"nul\x00byte",
	"tab\there",
	"new\nline",
	"cr\rreturn",
	"line1\r\nline2",
	"del\x7f",
	"c1 csi\u009b31m",
	"\xff\xfe invalid",
	"\xed\xa0\x80 lone surrogate",
	"exe.\u202etxt",
	"\u2066isolate\u2069 \u202aLRE\u202c \u202dLRO",
	"lrm\u200e rlm\u200f",
	"zero\u200bwidth\ufeff",
	"para\u2028graph\u2029",
	"pipe|field||",
	"=1+1",
	"+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(A1:A2)",
	"\t=tab",
	"\r=cr",
	"'; Remove-Item C:\\ -Recurse #",
	"$(calc)",
	"${env:PATH}",
	"`backtick` `$x",
	"quote\"s and 'single'",
	"smart\u2018quotes\u2019 \u201alow\u201b",
	"back\\slash \\x1b",
	"]bracket[",
	"emoji 😀 and text",
}

// sampleFindings returns a plain finding and one finding per hostile string
// (the string in every text field).
func sampleFindings() []*Finding {
	t0 := time.Date(2024, 3, 5, 10, 11, 12, 123456700, time.UTC)
	ev := ordereddict.NewDict().
		Set("EventType", "SetValue").
		Set("TargetObject", `HKU\S-1-5-21-1-2-3-1001\Environment\GOROOT`).
		Set("Details", `C:\Users\Public\go`).
		Set("ValueType", "REG_EXPAND_SZ").
		Set("LastWrite", t0).
		Set("Recovered", false)
	out := []*Finding{{
		RuleID: "0b7f2a64-1c55-4c1e-9a3b-0d7c5a0e2f11", Title: "GOROOT points to a public directory",
		Level: LevelHigh, Pattern: "path", Attack: []string{"T1574.007", "T1112"},
		Host: "WS01", UserSID: "S-1-5-21-1-2-3-1001", User: `CORP\alice`,
		Source: "/cases/ws01/C/Users/alice/NTUSER.DAT", Key: `HKU\S-1-5-21-1-2-3-1001\Environment`,
		Value: "GOROOT", Data: `C:\Users\Public\go`, LastWrite: t0, Time: t0,
		Explain:     `HKU\S-1-5-21-1-2-3-1001\Environment\GOROOT is C:\Users\Public\go, a directory every user can write.`,
		Remediation: "Restore GOROOT to the Go installation directory.",
		Event:       ev,
	}, {
		RuleID: "5d3c9e10-0000-4000-8000-000000000002", Title: "Machine PATHEXT changed",
		Level: LevelMedium, Pattern: "persistence", Attack: []string{"T1112"},
		Host: "WS01", Source: "/cases/ws01/C/Windows/System32/config/SYSTEM",
		Key: `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, Value: "PATHEXT",
		Data: ".COM;.EXE;.PS1", LastWrite: t0.Add(-time.Hour), Time: t0.Add(-time.Hour), Recovered: true,
		Explain: "PATHEXT holds .PS1.",
	}}
	for i, h := range hostile {
		ev := ordereddict.NewDict().Set("TargetObject", h).Set("Details", h).Set("List", []string{"ok", h}).Set("N", i)
		out = append(out, &Finding{
			RuleID: h, Title: h, Level: Levels()[i%5], Pattern: "path", Attack: []string{h},
			Host: "HOSTILE", UserSID: "S-1-5-21-9-9-9-500", User: h, Source: h, Key: h, Value: h, Data: h,
			LastWrite: t0, Time: t0.Add(time.Duration(i) * time.Second), Explain: h, Remediation: h, Event: ev,
		})
	}
	return out
}

// assertTerminalSafe fails when s holds anything a terminal could act on
// other than newlines: controls, C1, format characters, invalid UTF-8.
func assertTerminalSafe(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: output is not valid UTF-8", what)
	}
	for i, r := range s {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) ||
			r == 0x3164 || r == 0x115f || r == 0x1160 || r == 0xffa0 || r == 0x034f {
			lo := max(0, i-20)
			t.Errorf("%s: hidden character %U at byte %d: %q", what, r, i, s[lo:min(len(s), i+20)])
			return
		}
	}
}

func stripOurColors(s string) string {
	for _, c := range levelColor {
		s = strings.ReplaceAll(s, c, "")
	}
	s = strings.ReplaceAll(s, ansiBold, "")
	return strings.ReplaceAll(s, ansiReset, "")
}
