package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/evtx/evtxtest"
)

// evtxFixture writes a small Sysmon-like log with hostile values and
// returns its path.
func evtxFixture(t *testing.T, mutate func([]byte)) string {
	t.Helper()
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)
	recs := []evtxtest.Record{
		{Provider: "Microsoft-Windows-Sysmon", EventID: 13, Time: at, RecordID: 7, ProcessID: 2044,
			Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "=HYPERLINK(\"http://x\")", UserSID: evtxtest.SID(1, 5, 18),
			Data: []evtxtest.Data{
				{Name: "EventType", Value: "SetValue"},
				{Name: "TargetObject", Value: `HKU\S-1-5-21-1-2-3-1001\Environment\Path`},
				{Name: "Details", Value: "red\x1b[31m\ttab\r\nnewline"},
				{Name: "ProcessId", Value: uint32(4242)},
				{Name: "Hashes", Value: []string{"SHA1=AA", "MD5=BB"}},
			}},
		{Provider: "Microsoft-Windows-Sysmon", EventID: 1, Time: at.Add(time.Second), RecordID: 8, ProcessID: 2044,
			Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "WS01",
			Data: []evtxtest.Data{
				{Name: "Image", Value: `C:\Windows\System32\setx.exe`},
				{Name: "CommandLine", Value: `setx GOPATH C:\Users\Public\go`},
			}},
		{Provider: "Microsoft-Windows-Security-Auditing", EventID: 4688, Time: at.Add(2 * time.Second), RecordID: 9,
			Channel: "Security", Computer: "WS01",
			Data: []evtxtest.Data{{Name: "NewProcessName", Value: `C:\Windows\System32\reg.exe`}}},
	}
	data := evtxtest.File(recs, 0)
	if mutate != nil {
		mutate(data)
	}
	p := filepath.Join(t.TempDir(), "Sysmon.evtx")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvtx_OutputFormatsMatchGoldenFiles(t *testing.T) {
	path := evtxFixture(t, nil)
	for _, format := range []string{"jsonl", "csv", "text", "xml"} {
		t.Run(format, func(t *testing.T) {
			out, stderr, code := runCLI(t, "evtx", "--format", format, path)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out = strings.ReplaceAll(out, path, "Sysmon.evtx")
			checkGolden(t, "evtx."+format, out)
		})
	}
}

func TestEvtx_JSONLIsValidAndKeepsTypes(t *testing.T) {
	out, _, _ := runCLI(t, "evtx", evtxFixture(t, nil))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	data := rec["EventData"].(map[string]any)
	if rec["EventID"] != float64(13) || rec["EventRecordID"] != float64(7) || data["ProcessId"] != float64(4242) ||
		data["Details"] != "red\x1b[31m\ttab\r\nnewline" || len(data["Hashes"].([]any)) != 2 || rec["TimeCreated"] != "2024-05-06T07:08:09.1234567Z" {
		t.Errorf("record: %v", rec)
	}
}

func TestEvtx_FiltersByIDAndProvider(t *testing.T) {
	path := evtxFixture(t, nil)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--id", "13"}, 1},
		{[]string{"--id", "1,4688"}, 2},
		{[]string{"--provider", "microsoft-windows-sysmon"}, 2},
		{[]string{"--provider", "Microsoft-Windows-Sysmon", "--id", "4688"}, 0},
	} {
		out, _, code := runCLI(t, append(append([]string{"evtx"}, tc.args...), path)...)
		if n := strings.Count(out, "\n"); code != exitOK || n != tc.want {
			t.Errorf("%v: %d records (exit %d), want %d", tc.args, n, code, tc.want)
		}
	}
}

func TestEvtx_SummaryFields(t *testing.T) {
	out, _, code := runCLI(t, "evtx", "--summary", evtxFixture(t, nil))
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	for _, k := range []string{"file", "records", "chunks", "event_ids", "providers", "first", "last", "anomalies"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	ids := s["event_ids"].(map[string]any)
	if s["records"] != float64(3) || s["chunks"] != float64(1) || ids["13"] != float64(1) || ids["4688"] != float64(1) ||
		s["first"] != "2024-05-06T07:08:09.1234567Z" || s["last"] != "2024-05-06T07:08:11.1234567Z" {
		t.Errorf("summary %v", s)
	}
}

func TestEvtx_DamagedLogIsPartial(t *testing.T) {
	path := evtxFixture(t, func(b []byte) { b[4096+124] ^= 0xff })
	out, stderr, code := runCLI(t, "evtx", "--summary", path)
	if code != exitPartial || !strings.Contains(stderr, "checksum") || !strings.Contains(out, `"records":3`) {
		t.Errorf("exit %d, stderr %q, out %s", code, stderr, out)
	}
}

func TestEvtx_UnreadableInputIsUsageError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "x.evtx")
	os.WriteFile(bad, bytes.Repeat([]byte("garbage!"), 1000), 0o644)
	_, stderr, code := runCLI(t, "evtx", bad, filepath.Join(t.TempDir(), "missing.evtx"))
	if code != exitUsage || !strings.Contains(stderr, "not an EVTX file") || !strings.Contains(stderr, "missing.evtx") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, _, code = runCLI(t, "evtx")
	if code != exitUsage {
		t.Errorf("no files: exit %d", code)
	}
	// One good file and one bad: the good one is read, the exit says partial.
	_, _, code = runCLI(t, "evtx", "--summary", evtxFixture(t, nil), bad)
	if code != exitPartial {
		t.Errorf("mixed input: exit %d", code)
	}
}

func TestEvtx_FolderArgumentReadsTheLogsInIt(t *testing.T) {
	dir := filepath.Dir(evtxFixture(t, nil))
	sub := filepath.Join(dir, "winevt", "Logs")
	os.MkdirAll(sub, 0o755)
	data, _ := os.ReadFile(filepath.Join(dir, "Sysmon.evtx"))
	os.WriteFile(filepath.Join(sub, "Security.EVTX"), data, 0o644)
	os.WriteFile(filepath.Join(sub, "notes.txt"), []byte("x"), 0o644)
	out, stderr, code := runCLI(t, "evtx", "--summary", dir)
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, "Security.EVTX") {
		t.Errorf("exit %d, stderr %q, out %s", code, stderr, out)
	}
	_, stderr, code = runCLI(t, "evtx", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "no .evtx files") {
		t.Errorf("empty folder: exit %d, stderr %q", code, stderr)
	}
}

func TestEvtx_SlackRecordsAreCountedAndMarked(t *testing.T) {
	path := corpusPath(t, "evtx", "PanacheSysmon_vs_AtomicRedTeam01.evtx")
	// EXPECTED.md §7: 565 records, 31 recovered, all 31 rendered by
	// evtxexport as XML.
	out, _, code := runCLI(t, "evtx", "--summary", path)
	if code != exitOK || !strings.Contains(out, `"records":565`) || !strings.Contains(out, `"recovered":31,"recovered_rendered":31,"recovered_partial":0`) {
		t.Errorf("exit %d: %s", code, out)
	}
	out, _, _ = runCLI(t, "evtx", "--slack", path)
	if n := strings.Count(out, "\n"); n != 565+31 || strings.Count(out, `"recovered":true`) != 31 {
		t.Errorf("%d lines, %d recovered", n, strings.Count(out, `"recovered":true`))
	}
}

func TestEvtxAppendJSONString_ValidForAnyInput(t *testing.T) {
	for _, s := range []string{"", "plain", `C:\Users\"x"`, "tab\there\nline\r\x00\x1b[31m\x7f", "caf\u00e9 \u2028 \U0001F600", "bad\xff\xfeutf8", strings.Repeat("a\\", 100)} {
		b := evtxAppendJSONString(nil, s)
		if !json.Valid(b) {
			t.Errorf("%q: invalid JSON %s", s, b)
			continue
		}
		var back string
		json.Unmarshal(b, &back)
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want && !strings.Contains(s, "\xff") {
			t.Errorf("%q: round trip gives %q", s, back)
		}
	}
}
