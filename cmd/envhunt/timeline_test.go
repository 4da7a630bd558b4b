package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// timelineMactime runs Sleuth Kit's mactime over a bodyfile and returns its
// data lines (the header left out); the test is skipped without mactime.
func timelineMactime(t *testing.T, body string) []string {
	t.Helper()
	mactime, err := exec.LookPath("mactime")
	if err != nil {
		t.Skip("mactime (Debian sleuthkit) is not installed")
	}
	f := filepath.Join(t.TempDir(), "body.txt")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(mactime, "-b", f, "-d", "-z", "UTC")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("mactime: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "Date,") {
		t.Fatalf("mactime printed no header: %q", out)
	}
	return lines[1:]
}

func timelineLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestTimeline_CorpusBodyfileGoesThroughMactime(t *testing.T) {
	ntuser := corpusPath(t, "hives", "regipy", "NTUSER.DAT")
	// Key last writes only: one row per key, 1812 keys (EXPECTED.md, agreed
	// by libregfi, hivex, libregf and yarp).
	out, stderr, code := runCLI(t, "timeline", "--format", "bodyfile", "--no-history", "--no-findings", "--no-traces", ntuser)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	body := timelineLines(out)
	if len(body) != 1812 {
		t.Errorf("%d bodyfile lines, want 1812 (one per key)", len(body))
	}
	if rows := timelineMactime(t, out); len(rows) != len(body) {
		t.Errorf("mactime listed %d rows of %d", len(rows), len(body))
	}
	// Everything: every row still comes out of mactime once.
	out, stderr, code = runCLI(t, "timeline", "--format", "bodyfile", ntuser)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	body = timelineLines(out)
	if len(body) <= 1812 {
		t.Errorf("%d rows with history and findings, want more than the 1812 keys", len(body))
	}
	if rows := timelineMactime(t, out); len(rows) != len(body) {
		t.Errorf("mactime listed %d rows of %d", len(rows), len(body))
	}
}

func TestTimeline_HostileNamesKeepOneRecordPerLine(t *testing.T) {
	when := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	root := &ht.Key{Name: "ROOT", LastWrite: when, Subkeys: []*ht.Key{
		{Name: "AppEvents", LastWrite: when},
		{Name: "Software", LastWrite: when, Subkeys: []*ht.Key{{Name: "evil|name\nwith\rbreaks\x1b[31m", LastWrite: when}}},
		{Name: "Environment", LastWrite: when, Values: []ht.Value{ht.SZ("Path|x\ny", "C:\\a|b\nc")}},
	}}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	hivePath := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(hivePath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	jsonl, stderr, code := runCLI(t, "timeline", "--format", "jsonl", hivePath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	n := len(timelineLines(jsonl))
	if n < 5 {
		t.Fatalf("only %d rows:\n%s", n, jsonl)
	}
	for format, fields := range map[string]int{"bodyfile": 11, "tln": 5} {
		out, stderr, code := runCLI(t, "timeline", "--format", format, hivePath)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		lines := timelineLines(out)
		if len(lines) != n {
			t.Errorf("%s: %d lines for %d rows", format, len(lines), n)
		}
		for _, l := range lines {
			if got := strings.Count(l, "|") + 1; got != fields || strings.ContainsAny(l, "\r\x1b") {
				t.Errorf("%s: %d fields (want %d) or a control character in %q", format, got, fields, l)
			}
		}
		if format == "bodyfile" {
			if rows := timelineMactime(t, out); len(rows) != n {
				t.Errorf("mactime listed %d rows of %d", len(rows), n)
			}
		}
	}
}

func TestTimeline_FromToKeepsRowsInRange(t *testing.T) {
	out, stderr, code := runCLI(t, "timeline", "--format", "jsonl", "--from", "2025-06-10T07:58:12Z", "--to", "2025-06-11", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	from := time.Date(2025, 6, 10, 7, 58, 12, 0, time.UTC)
	to := time.Date(2025, 6, 12, 0, 0, 0, 0, time.UTC)
	kinds := map[string]bool{}
	lines := timelineLines(out)
	var prev time.Time
	for _, l := range lines {
		var r map[string]string
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad JSONL %q: %v", l, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, r["time"])
		if err != nil {
			t.Fatalf("row time %q: %v", r["time"], err)
		}
		if ts.Before(from) || !ts.Before(to) {
			t.Errorf("row at %s outside the range", r["time"])
		}
		if ts.Before(prev) {
			t.Errorf("row at %s after one at %s", r["time"], prev)
		}
		prev = ts
		kinds[r["source"]+":"+r["kind"]] = true
	}
	// From the demo's story: alice logs off 2025-06-10T18:02:44Z; the GPO
	// script runs 2025-06-10T07:58:12.5000001Z; bob's planted AutoRun key is
	// written 2025-06-11T08:30:00.1Z.
	for _, want := range []string{"profile:profile_unload", "finding:high", "registry:key_last_write"} {
		if !kinds[want] {
			t.Errorf("no %s row in range", want)
		}
	}
	if _, _, code := runCLI(t, "timeline", "--from", "yesterday", demoHost); code != exitUsage {
		t.Errorf("bad --from: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "timeline", "--from", "2025-06-11", "--to", "2025-06-10", demoHost); code != exitUsage {
		t.Errorf("--to before --from: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "timeline"); code != exitUsage {
		t.Errorf("no PATH: exit %d, want %d", code, exitUsage)
	}
}

func TestTimeline_GoldenDemoEnvironment(t *testing.T) {
	out, stderr, code := runCLI(t, "timeline", "--key", "Environment", "--key", `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, "--no-findings", "--no-traces", "--roaming", "../../testdata/demo/profiles", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "timeline-demo-environment.csv", out)
}

func TestTimeline_EventLogRowsOnePerRegistryAndProcessRecord(t *testing.T) {
	// EXPECTED.md: Sysmon 12/13/14 and Sysmon 1 records of each file, as
	// python-evtx, evtxinfo and evtxexport count them.
	for _, tc := range []struct {
		file string
		rows int
	}{
		{"lm_remote_registry_sysmon_1_13_3.evtx", 2 + 1},
		{"persistence_SilentProcessExit_ImageHijack_sysmon_13_1.evtx", 3 + 10},
		{"sysmon_uacbypass_CDSSync_schtask_hijack_byeintegrity5.evtx", 3 + 3},
		{"persistence_pendingGPO_sysmon_13.evtx", 4},
	} {
		out, stderr, code := runCLI(t, "timeline", "--format", "jsonl", "--no-findings", corpusPath(t, "evtx", tc.file))
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.file, code, stderr)
		}
		n := 0
		for _, l := range timelineLines(out) {
			var r map[string]string
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			if r["source"] == "evtx" {
				n++
				if r["host"] == "" || r["host"] == "loose" {
					t.Errorf("%s: row without the record's computer name: %v", tc.file, r)
				}
			}
		}
		if n != tc.rows {
			t.Errorf("%s: %d evtx rows, want %d", tc.file, n, tc.rows)
		}
	}
}
