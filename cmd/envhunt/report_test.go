package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/scan"
)

const (
	reportDemoHost    = "../../testdata/demo/WS-DEV-07"
	reportDemoRoaming = "../../testdata/demo/profiles"
)

// reportCopyTree copies a folder, so a test can change or watch it.
func reportCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reportTreeState lists every entry under dir with its size, mode and
// modification time.
func reportTreeState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %v %d", p, st.Size(), st.Mode(), st.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestReport_DemoMarkdownToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "case.md")
	stdout, stderr, code := runCLI(t, "report", reportDemoHost, "--roaming", reportDemoRoaming, "--output", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(data)
	for _, want := range []string{
		"# envhunt case report\n",
		"| Command line | `envhunt report ../../testdata/demo/WS-DEV-07 --roaming ../../testdata/demo/profiles --output " + out + "` |",
		"| Tool | envhunt " + Version + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ") |",
		"## Host WS-DEV-07\n",
		"### What was not checked, and why\n",
		"profiles/alice.V6/NTUSER.DAT` | roaming copy |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReport_FormatFromOutputNameOrFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		file   string
		prefix string
	}{
		{[]string{"--output", filepath.Join(dir, "a.html")}, "a.html", "<!DOCTYPE html>"},
		{[]string{"--output", filepath.Join(dir, "b.MD")}, "b.MD", "# envhunt case report"},
		{[]string{"--format", "md", "--output", filepath.Join(dir, "c.txt")}, "c.txt", "# envhunt case report"},
		{[]string{"--no-history"}, "", "<!DOCTYPE html>"},
	} {
		args := append([]string{"report", reportDemoHost}, c.args...)
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		got := stdout
		if c.file != "" {
			data, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			got = string(data)
		}
		if !strings.HasPrefix(got, c.prefix) {
			t.Errorf("%v: output starts %.40q, want %q", c.args, got, c.prefix)
		}
	}
}

func TestReport_UsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"report"},
		{"report", "--format", "pdf", reportDemoHost},
		{"report", "--no-logs", "--log", "x.LOG1", reportDemoHost},
		{"report", "--min-level", "urgent", reportDemoHost},
		{"report", filepath.Join(t.TempDir(), "nothing-here")},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, stderr)
		}
	}
}

func TestReport_LeavesEvidenceUntouched(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "WS-DEV-07")
	reportCopyTree(t, reportDemoHost, host)
	before := reportTreeState(t, dir)
	out := filepath.Join(t.TempDir(), "case.html")
	if _, stderr, code := runCLI(t, "report", host, "--output", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after := reportTreeState(t, dir)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("the evidence folder changed:\nbefore\n%s\nafter\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

func TestReport_DirtyHiveWithoutLogsIsPartialAndSaysSo(t *testing.T) {
	host := filepath.Join(t.TempDir(), "WS-DEV-07")
	reportCopyTree(t, reportDemoHost, host)
	for _, log := range []string{"NTUSER.DAT.LOG1", "NTUSER.DAT.LOG2"} {
		if err := os.Remove(filepath.Join(host, "C", "Users", "bob", log)); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := runCLI(t, "report", host, "--format", "md")
	if code != exitPartial || !strings.Contains(stderr, "bob") {
		t.Fatalf("exit %d, stderr %q: want 3 naming bob's hive", code, stderr)
	}
	if !strings.Contains(stdout, "| NTUSER.DAT of bob dirty and its logs missing or unusable | newest writes may be absent |") {
		t.Errorf("the not-checked list does not name bob's dirty hive:\n%s", stdout)
	}
}

// TestWriteCaseReport_ForScanReport is the call scan --report makes.
func TestWriteCaseReport_ForScanReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "case.md")
	err := writeCaseReport(context.Background(), out, []string{reportDemoHost}, scan.Options{Roaming: []string{reportDemoRoaming}}, &ruleFlags{}, "envhunt scan --report case.md testdata/demo/WS-DEV-07")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "`envhunt scan --report case.md testdata/demo/WS-DEV-07`") || !strings.Contains(string(data), "Roaming Profile Server Copy Overwrites") {
		t.Errorf("scan's case report lacks its command line or the roaming finding")
	}
}

func TestReportQuote_QuotesWhatAShellWouldSplit(t *testing.T) {
	got := reportQuote([]string{"report", "C:/x y", "it's", "--format=md", ""})
	if want := `report 'C:/x y' 'it'\''s' --format=md ''`; got != want {
		t.Errorf("reportQuote = %q, want %q", got, want)
	}
}

func TestReport_SplitWritesOneDocumentPerHost(t *testing.T) {
	batch := t.TempDir()
	reportCopyTree(t, reportDemoHost, filepath.Join(batch, "site1", "WS-DEV-07"))
	reportCopyTree(t, reportDemoHost, filepath.Join(batch, "site2", "WS-DEV-07"))
	out := filepath.Join(t.TempDir(), "reports")
	if _, stderr, code := runCLI(t, "report", batch, "--format", "md", "--split", out, "--jobs", "2"); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "WS-DEV-07-2.md,WS-DEV-07.md" {
		t.Fatalf("files = %v, want one per host, the second name made unique", names)
	}
	for i, name := range []string{"WS-DEV-07.md", "WS-DEV-07-2.md"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		md := string(data)
		site := []string{"site1", "site2"}[i]
		other := []string{"site2", "site1"}[i]
		if strings.Count(md, "\n## Host ") != 1 || !strings.Contains(md, site+"/WS-DEV-07/C/Windows/System32/config/SYSTEM") || strings.Contains(md, other+"/") {
			t.Errorf("%s: want one host section listing only %s's evidence", name, site)
		}
	}
	if _, _, code := runCLI(t, "report", batch, "--split", out, "--output", "x.html"); code != exitUsage {
		t.Errorf("--split with --output: exit %d, want 2", code)
	}
}

func TestReportFileName_SafeForAnyHostName(t *testing.T) {
	for in, want := range map[string]string{
		"WS-DEV-07":        "WS-DEV-07",
		"../../etc/passwd": "_.._etc_passwd",
		"<script>":         "_script_",
		"":                 "host",
		"...":              "host",
	} {
		if got := reportFileName(in); got != want {
			t.Errorf("reportFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteCaseReport_LeavesEvidenceProblemsToTheScan: scan reports
// unreadable evidence with its own exit code; the report only names it.
func TestWriteCaseReport_LeavesEvidenceProblemsToTheScan(t *testing.T) {
	host := filepath.Join(t.TempDir(), "WS-DEV-07")
	reportCopyTree(t, reportDemoHost, host)
	if err := os.Remove(filepath.Join(host, "C", "Users", "bob", "NTUSER.DAT.LOG1")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "case.html")
	called := false
	opts := scan.Options{OnHost: func(*scan.HostSummary) { called = true }}
	if err := writeCaseReport(context.Background(), out, []string{host}, opts, &ruleFlags{}, "envhunt scan"); err != nil {
		t.Fatalf("writeCaseReport: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "NTUSER.DAT of bob dirty and its logs missing or unusable") {
		t.Error("the report does not name bob's dirty hive")
	}
	if called {
		t.Error("the scan's progress callback was called by the report")
	}
}
