package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

const etlTestSID = "S-1-5-21-1111111111-2222222222-3333333333-1001"

// etlFixture writes a trace in which C:\Users\Public\x.exe (with a hostile
// command line) writes HKU\<SID>\Environment\Path, and returns its path.
func etlFixture(t *testing.T, mutate func([]byte) []byte) string {
	t.Helper()
	b := etltest.WriteTrace(etltest.Write{
		Time: time.Date(2024, 2, 3, 4, 5, 6, 1234500, time.UTC), PID: 4321, PPID: 1000, UserSID: etlTestSID,
		Image: "x.exe", CommandLine: "C:\\Users\\Public\\x.exe \x1b[31m=cmd|' /C calc'!A0",
		Key: `\REGISTRY\USER\` + etlTestSID + `\Environment`, Value: "Path", Type: etltest.RegExpandSZ,
		Data: etltest.UTF16Data(`C:\Users\Public;%PATH%`),
	})
	if mutate != nil {
		b = mutate(b)
	}
	p := filepath.Join(t.TempDir(), "trace.etl")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestETL_OutputFormatsMatchGoldenFiles(t *testing.T) {
	p := etlFixture(t, nil)
	dir := filepath.Dir(p)
	for _, format := range []string{"jsonl", "csv", "text"} {
		t.Run(format, func(t *testing.T) {
			out, stderr, code := runCLI(t, "etl", "--format", format, p)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out = strings.ReplaceAll(out, dir, "DIR")
			checkGolden(t, "etl."+format, out)
			if strings.Contains(out, "\x1b") {
				t.Error("an escape character reached the output")
			}
			if format == "csv" && strings.Contains(out, ",=cmd") {
				t.Error("a CSV cell starts a formula")
			}
		})
	}
}

func TestETL_RegistryAndProcessFilters(t *testing.T) {
	p := etlFixture(t, nil)
	for _, c := range []struct {
		flags []string
		want  []string // event names, in order
	}{
		{[]string{"--registry"}, []string{"OpenKey", "SetValueKey", "CloseKey"}},
		{[]string{"--process"}, []string{"Start"}},
		{[]string{"--provider", "Microsoft-Windows-Kernel-Registry", "--registry"}, []string{"OpenKey", "SetValueKey", "CloseKey"}},
		{[]string{"--provider", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c"}, []string{"Start"}},
	} {
		out, stderr, code := runCLI(t, append(append([]string{"etl"}, c.flags...), p)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.flags, code, stderr)
		}
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%v: %v in %q", c.flags, err, line)
			}
			names = append(names, m["event"].(string))
			if m["event"] == "SetValueKey" {
				if m["key"] != `\REGISTRY\USER\`+etlTestSID+`\Environment` || m["key_resolution"] != "handle" || m["process"] != "x.exe" || m["pid"] != float64(4321) || m["ValueName"] != "Path" {
					t.Errorf("SetValueKey row: %v", m)
				}
			}
		}
		if strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("%v: events %v, want %v", c.flags, names, c.want)
		}
	}
}

func TestETL_SummaryFieldsAndFigures(t *testing.T) {
	p := etlFixture(t, nil)
	out, stderr, code := runCLI(t, "etl", "--summary", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"file", "size", "buffers", "compressed_buffers", "events", "by_header_type", "providers", "start_time", "end_time", "first_event", "last_event", "pointer_size", "cpus", "events_lost", "buffers_lost"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	// The fixture: header buffer + one buffer per CPU (0: process and
	// thread, 1: registry); header event + 5 events.
	if m["buffers"] != float64(3) || m["events"] != float64(6) || m["compressed_buffers"] != float64(0) {
		t.Errorf("summary figures: %v", m)
	}
	bh := m["by_header_type"].(map[string]any)
	if bh["SYSTEM64"] != float64(3) || bh["EVENT_HEADER64"] != float64(3) {
		t.Errorf("by_header_type %v", bh)
	}
}

func TestETL_SummaryOfCorpusTraces(t *testing.T) {
	dir := corpusPath(t, "etl")
	out, stderr, code := runCLI(t, "etl", "--summary", filepath.Join(dir, "perfview-SelfDescribingSingleEvent.etl"), filepath.Join(dir, "AMSITrace.etl"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d summaries, want 2", len(lines))
	}
	// Figures from EXPECTED.md §6.
	var s struct {
		Buffers, CompressedBuffers, Events int
		FirstEvent                         string `json:"first_event"`
		LastEvent                          string `json:"last_event"`
		EventsLost                         int    `json:"events_lost"`
	}
	json.Unmarshal([]byte(lines[0]), &s)
	var raw map[string]any
	json.Unmarshal([]byte(lines[0]), &raw)
	if raw["buffers"] != float64(3) || raw["compressed_buffers"] != float64(2) || raw["events"] != float64(23) ||
		!strings.HasPrefix(s.FirstEvent, "2022-04-20T21:27:15.272243") || !strings.HasPrefix(s.LastEvent, "2022-04-20T21:27:18.637703") {
		t.Errorf("perfview summary: %s", lines[0])
	}
	json.Unmarshal([]byte(lines[1]), &raw)
	if raw["events_lost"] != float64(3) || raw["events"] != float64(21) {
		t.Errorf("AMSI summary: %s", lines[1])
	}
}

func TestETL_ExitCodes(t *testing.T) {
	good := etlFixture(t, nil)
	truncated := etlFixture(t, func(b []byte) []byte { return b[:len(b)-300] })
	notETL := filepath.Join(t.TempDir(), "x.etl")
	os.WriteFile(notETL, []byte("regf and nothing else"), 0o600)
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"etl"}, exitUsage, "give at least one"},
		{[]string{"etl", "--format", "xml", good}, exitUsage, "--format"},
		{[]string{"etl", filepath.Join(t.TempDir(), "missing.etl")}, exitUsage, "missing.etl"},
		{[]string{"etl", notETL}, exitUsage, "too small"},
		{[]string{"etl", good, notETL}, exitPartial, "x.etl"},
		{[]string{"etl", truncated}, exitPartial, "file ends inside buffer"},
		{[]string{"etl", "--summary", truncated}, exitPartial, "file ends inside buffer"},
	} {
		_, stderr, code := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.err) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.err)
		}
	}
}

func TestETL_SummaryTextAndCSV(t *testing.T) {
	p := etlFixture(t, nil)
	out, stderr, code := runCLI(t, "etl", "--summary", "--format", "csv", p, p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "file,size,buffers,compressed_buffers,events,by_header_type,providers,") {
		t.Fatalf("csv summary:\n%s", out)
	}
	out, _, code = runCLI(t, "etl", "--summary", "--format", "text", p)
	if code != exitOK || !strings.Contains(out, "events_lost:") || !strings.Contains(out, "buffers:            3") {
		t.Errorf("text summary:\n%s", out)
	}
}

func TestETL_DirectoryArgumentsFindTraces(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(etlFixture(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "WMI", "RtBackup"), 0o755)
	os.WriteFile(filepath.Join(dir, "WMI", "a.etl"), b, 0o600)
	os.WriteFile(filepath.Join(dir, "WMI", "RtBackup", "B.ETL"), b, 0o600)
	os.WriteFile(filepath.Join(dir, "WMI", "notes.txt"), []byte("x"), 0o600)
	out, stderr, code := runCLI(t, "etl", "--summary", dir)
	if code != exitOK || strings.Count(out, "\n") != 2 {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, stderr, out)
	}
	_, stderr, code = runCLI(t, "etl", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "no .etl files") {
		t.Errorf("empty directory: exit %d, stderr %q", code, stderr)
	}
}
