package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

const historyBob = demoHost + "/C/Users/bob/NTUSER.DAT"

// historyRows parses JSONL history output.
func historyRows(t *testing.T, out string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r map[string]string
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSONL line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestHistory_DemoBobGOROOTBeforeAndAfterLogEntry1(t *testing.T) {
	out, stderr, code := runCLI(t, "history", "--format", "jsonl", "--value", "GOROOT", historyBob)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := historyRows(t, out)
	want := []struct{ source, time, data, changed string }{
		{"primary", "2025-06-11T08:30:00.1000000Z", `C:\Program Files\Go`, "first"},
		{"log:NTUSER.DAT.LOG1#entry1 seq 93", "2025-06-12T09:14:27.2718281Z", `C:\Users\Public\go`, "modified"},
		{"log:NTUSER.DAT.LOG1#entry2 seq 94", "2025-06-12T09:15:03.1415926Z", `C:\Users\Public\go`, ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%s", len(rows), len(want), out)
	}
	for i, w := range want {
		r := rows[i]
		if r["source"] != w.source || r["time"] != w.time || r["data"] != w.data || r["changed"] != w.changed || r["key"] != "Environment" || r["type"] != "REG_SZ" {
			t.Errorf("row %d = %v, want %+v", i, r, w)
		}
	}
	for _, col := range historyColumns {
		if _, ok := rows[0][col]; !ok {
			t.Errorf("column %q missing from JSONL rows", col)
		}
	}
}

func TestHistory_DemoAliceFreeCellsHaveNoTime(t *testing.T) {
	out, stderr, code := runCLI(t, "history", "--format", "csv", demoHost+"/C/Users/alice/NTUSER.DAT")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`free cell @0x1020,unknown,Environment,Path,REG_EXPAND_SZ,%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;,carved`,
		`,unknown,Environment,GOPATH,REG_EXPAND_SZ,%USERPROFILE%\go,carved`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestHistory_GoldenOutput(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"history-demo.txt", []string{"history", demoHost}},
		{"history-bob.jsonl", []string{"history", "--format", "jsonl", historyBob}},
	} {
		out, stderr, code := runCLI(t, tc.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		checkGolden(t, tc.golden, out)
	}
}

func TestHistory_DirtyHiveWithoutLogsIsPartial(t *testing.T) {
	data, err := os.ReadFile(historyBob)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "history", "--format", "jsonl", p)
	if code != exitPartial || !strings.Contains(stderr, "no usable transaction log") {
		t.Errorf("exit %d, stderr %q; want exit 3 naming the missing logs", code, stderr)
	}
	if rows := historyRows(t, out); len(rows) == 0 || rows[0]["source"] != "primary" {
		t.Errorf("the primary state must still be printed; got %d rows", len(rows))
	}
}

func TestHistory_ExplicitLogsAndErrors(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"NTUSER.DAT", "NTUSER.DAT.LOG1"} {
		data, err := os.ReadFile(filepath.Join(demoHost, "C", "Users", "bob", n))
		if err != nil {
			t.Fatal(err)
		}
		name := map[string]string{"NTUSER.DAT": "bob.dat", "NTUSER.DAT.LOG1": "renamed-log"}[n]
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := runCLI(t, "history", "--format", "jsonl", "--value", "GOROOT", "--log", filepath.Join(dir, "renamed-log"), filepath.Join(dir, "bob.dat"))
	if code != exitOK || len(historyRows(t, out)) != 3 {
		t.Errorf("renamed log given with --log: exit %d, stderr %q, output:\n%s", code, stderr, out)
	}
	if _, _, code := runCLI(t, "history", "--key", `No\Such\Key`, historyBob); code != exitUsage {
		t.Errorf("missing key: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "history"); code != exitUsage {
		t.Errorf("no arguments: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "history", "--format", "xml", historyBob); code != exitUsage {
		t.Errorf("bad format: exit %d, want %d", code, exitUsage)
	}
}

func TestHistory_TextOutputEscapesHostileNamesAndData(t *testing.T) {
	root := &ht.Key{Name: "ROOT", Subkeys: []*ht.Key{
		{Name: "AppEvents"}, {Name: "Software"},
		{Name: "Environment", Values: []ht.Value{ht.SZ("Path\x1b[2J", "C:\\a\x1b]0;owned\x07\u202e;b\nc")}},
	}}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "history", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("text output passes control characters through:\n%q", out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("the value name is not shown escaped:\n%s", out)
	}
	out, _, _ = runCLI(t, "history", "--format", "csv", p)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "=") || strings.Contains(line, ",=") {
			t.Errorf("CSV cell starts a formula: %q", line)
		}
	}
}

func TestHistory_CollectionWithRegBackAndWindowsOld(t *testing.T) {
	sys := func(when time.Time, path string) *ht.Key {
		return &ht.Key{Name: "ROOT", LastWrite: when, Subkeys: []*ht.Key{
			{Name: "ControlSet001", LastWrite: when, Subkeys: []*ht.Key{{Name: "Control", Subkeys: []*ht.Key{{Name: "Session Manager", Subkeys: []*ht.Key{{
				Name: "Environment", LastWrite: when, Values: []ht.Value{ht.ExpandSZ("Path", path)},
			}}}}}}},
			{Name: "Select", Values: []ht.Value{ht.DWORD("Current", 1)}},
		}}
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "HOST7", "C")
	for rel, root := range map[string]*ht.Key{
		"Windows.old/Windows/System32/config/SYSTEM": sys(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), `%SystemRoot%\system32`),
		"Windows/System32/config/RegBack/SYSTEM":     sys(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), `C:\tools;%SystemRoot%\system32`),
		"Windows/System32/config/SYSTEM":             sys(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), `C:\Users\Public\bin;%SystemRoot%\system32`),
	} {
		data, err := ht.Build(root)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(c, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := runCLI(t, "history", "--format", "jsonl", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := historyRows(t, out)
	want := []struct{ source, data, changed string }{
		{"Windows.old", `%SystemRoot%\system32`, "first"},
		{"RegBack", `C:\tools;%SystemRoot%\system32`, "modified"},
		{"primary", `C:\Users\Public\bin;%SystemRoot%\system32`, "modified"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), out)
	}
	for i, w := range want {
		r := rows[i]
		if r["source"] != w.source || r["data"] != w.data || r["changed"] != w.changed || r["hive"] != "SYSTEM" || r["host"] != "HOST7" {
			t.Errorf("row %d = %v, want %+v", i, r, w)
		}
	}
}
