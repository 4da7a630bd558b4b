package gpo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// utf16File writes text as Windows does (UTF-16LE, BOM, CRLF), built here
// without EncodeUTF16Text so the decoder is checked on its own.
func utf16File(text string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, r := range strings.ReplaceAll(text, "\n", "\r\n") {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func scriptLines(s *Scripts) string {
	var out []string
	for _, e := range s.Scripts {
		out = append(out, fmt.Sprintf("%s/%d %q %q ps=%v", e.Phase, e.Index, e.CmdLine, e.Parameters, e.PowerShell))
	}
	return strings.Join(out, "\n")
}

func TestLoadScripts_EncodingsAndPhases(t *testing.T) {
	text := "\n[Logon]\n0CmdLine=setpath.cmd\n0Parameters=/quiet\n1CmdLine=\\\\corp.example\\NETLOGON\\map.cmd\n1Parameters=\n[Logoff]\n0Parameters=late\n0CmdLine=bye.cmd\n[Startup]\n0CmdLine=C:\\Windows\\System32\\setx.exe\n0Parameters=/M PATH C:\\x\n"
	want := strings.Join([]string{
		`Logon/0 "setpath.cmd" "/quiet" ps=false`,
		`Logon/1 "\\\\corp.example\\NETLOGON\\map.cmd" "" ps=false`,
		`Logoff/0 "bye.cmd" "late" ps=false`,
		`Startup/0 "C:\\Windows\\System32\\setx.exe" "/M PATH C:\\x" ps=false`,
	}, "\n")
	latin1 := []byte(strings.ReplaceAll(text, "setpath", "s\xe9tpath")) // ANSI é
	for _, c := range []struct {
		name    string
		data    []byte
		unicode bool
		want    string
	}{
		{"UTF-16LE with BOM", utf16File(text), true, want},
		{"ANSI", []byte(text), false, want},
		{"UTF-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, text...), false, want},
		{"ANSI Latin-1", latin1, false, strings.Replace(want, "setpath", "sétpath", 1)},
		{"UTF-16LE with NUL padding", append(utf16File(text), 0, 0, 0, 0), true, want},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadScripts("scripts.ini", c.data, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := scriptLines(s); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if s.Unicode != c.unicode {
				t.Errorf("Unicode = %v", s.Unicode)
			}
		})
	}
}

func TestLoadScripts_PSScriptsConfigKept(t *testing.T) {
	text := "[ScriptsConfig]\nStartExecutePSFirst=true\n[Logon]\n0CmdLine=env.ps1\n0Parameters=-NoProfile\n"
	s, err := LoadScripts("psscripts.ini", utf16File(text), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := scriptLines(s); got != `Logon/0 "env.ps1" "-NoProfile" ps=true` {
		t.Errorf("got %s", got)
	}
	if s.Config["ScriptsConfig.StartExecutePSFirst"] != "true" {
		t.Errorf("config %v", s.Config)
	}
}

func TestMarshalScripts_RoundTrips(t *testing.T) {
	in := []Script{{Phase: Logon, Index: 0, CmdLine: "a.cmd", Parameters: "x"}, {Phase: Shutdown, Index: 3, CmdLine: "b.cmd"}}
	s, err := LoadScripts("scripts.ini", MarshalScripts(in), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := scriptLines(s); got != "Logon/0 \"a.cmd\" \"x\" ps=false\nShutdown/3 \"b.cmd\" \"\" ps=false" {
		t.Errorf("got %s", got)
	}
}

func TestLoadScripts_MalformedFilesNameTheLine(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"key outside a section", "0CmdLine=a.cmd\n", 1, "outside any section"},
		{"not key=value", "[Logon]\njunk\n", 2, "not a key=value line"},
		{"unknown key in a phase", "[Logon]\n0Command=a\n", 2, "want NCmdLine or NParameters"},
		{"no index", "[Logon]\nCmdLine=a\n", 2, "does not start with a script index"},
		{"index too large", "[Logon]\n123456CmdLine=a\n", 2, "index too large"},
		{"parameters without cmdline", "[Logon]\n0CmdLine=a\n1Parameters=b\n", 3, "1Parameters in [Logon] without 1CmdLine"},
		{"repeated key", "[Logon]\n0CmdLine=a\n0cmdline=b\n", 3, "repeated"},
		{"unclosed section", "[Logon\n", 1, "without ']'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadScripts("scripts.ini", utf16File(c.text), false)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FormatError, got %v", err)
			}
			if fe.Line != c.line || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("got line %d %q, want line %d %q", fe.Line, fe.Msg, c.line, c.msg)
			}
		})
	}
}
