package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const demoHost = "../../testdata/demo/WS-DEV-07"

// findingLines reduces JSONL findings to one reviewed line each: level,
// pattern, title, key, value and user, sorted.
func findingLines(t *testing.T, jsonl string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var f map[string]any
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("invalid JSONL line %q: %v", line, err)
		}
		out = append(out, fmt.Sprintf("%s | %s | %s | %s | %s | %s", f["level"], f["pattern"], f["title"], f["key"], f["value"], f["user"]))
	}
	sort.Strings(out)
	return out
}

func TestScan_DemoFindingsAreTheReviewedList(t *testing.T) {
	out, stderr, code := runCLI(t, "scan", "--format", "jsonl", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	lines := findingLines(t, out)
	checkGolden(t, "scan-demo-findings.txt", strings.Join(lines, "\n")+"\n")
	for _, l := range lines {
		if strings.HasSuffix(l, "| carol") {
			t.Errorf("the clean user has a finding: %s", l)
		}
	}
}

func TestScan_JSONLFieldNames(t *testing.T) {
	out, _, _ := runCLI(t, "scan", "--format", "jsonl", demoHost)
	first := strings.SplitN(out, "\n", 2)[0]
	var f map[string]json.RawMessage
	if err := json.Unmarshal([]byte(first), &f); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rule_id", "title", "level", "pattern", "attack", "host", "user_sid", "user", "source", "key", "value", "data", "last_write", "time", "explain", "event"} {
		if _, ok := f[name]; !ok {
			t.Errorf("finding lacks %q: %s", name, first)
		}
	}
}

func TestScan_ExitCodes(t *testing.T) {
	if _, _, code := runCLI(t, "scan", "--fail-level", "high", demoHost); code != exitFindings {
		t.Errorf("--fail-level high: exit %d, want %d", code, exitFindings)
	}
	if _, _, code := runCLI(t, "scan", "--fail-level", "critical", demoHost); code != exitOK {
		t.Errorf("--fail-level critical: exit %d, want 0", code)
	}
	if _, stderr, code := runCLI(t, "scan", filepath.Join(t.TempDir(), "missing")); code != exitUsage || stderr == "" {
		t.Errorf("missing input: exit %d (%q), want 2 with a message", code, stderr)
	}
	if _, _, code := runCLI(t, "scan", "--min-level", "severe", demoHost); code != exitUsage {
		t.Errorf("bad --min-level: exit %d", code)
	}
	// bob's hive is dirty; without its log the newest writes are missing:
	// the scan says so and exits 3, after reporting what it read.
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(demoHost, "C/Users/bob/NTUSER.DAT"))
	if err != nil {
		t.Fatal(err)
	}
	lone := filepath.Join(dir, "NTUSER.DAT")
	if err := os.WriteFile(lone, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "scan", "--format", "jsonl", lone)
	if code != exitPartial || !strings.Contains(stderr, "dirty") {
		t.Errorf("dirty hive without logs: exit %d, stderr %q; want 3 naming the problem", code, stderr)
	}
	if !strings.Contains(out, "UserInitMprLogonScript") {
		t.Error("what could be read must still be reported")
	}
	if strings.Contains(out, "COR_PROFILER") {
		t.Error("the profiler values exist only in the log; they must not appear without it")
	}
	// With the log given explicitly under another name, the profiler appears.
	log := filepath.Join(dir, "renamed-by-collector.bin")
	logData, err := os.ReadFile(filepath.Join(demoHost, "C/Users/bob/NTUSER.DAT.LOG1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, logData, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = runCLI(t, "scan", "--format", "jsonl", "--log", log, lone)
	if code != exitOK || !strings.Contains(out, "COR_PROFILER") {
		t.Errorf("with --log: exit %d, stderr %q, profiler found %v", code, stderr, strings.Contains(out, "COR_PROFILER"))
	}
}

func TestScan_CSVIsFormulaSafe(t *testing.T) {
	out, _, code := runCLI(t, "scan", "--format", "csv", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out, "rule_id,") {
		t.Fatalf("CSV header: %q", strings.SplitN(out, "\n", 2)[0])
	}
}

func TestScan_RemediationScript(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fix.ps1")
	if _, stderr, code := runCLI(t, "scan", "--remediate", p, demoHost); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `HKEY_USERS\S-1-5-21-1111111111-2222222222-3333333333-1002`) || strings.Contains(s, "HKCU:") {
		t.Errorf("remediation must target the user's hive by SID, never HKCU:\n%s", s)
	}
}

func TestScan_RulesOnlyAndBadRuleFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("title: x\nid: 1\nlogsource:\n  category: registry_set\ndetection:\n  sel:\n    Nope|contains: a\n  condition: sel\nlevel: high\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "scan", "--rules-only", dir, demoHost)
	if code != exitUsage || !strings.Contains(stderr, "bad.yml:") {
		t.Errorf("a rules folder with only a bad rule: exit %d, stderr %q", code, stderr)
	}
}

func TestEvents_CategoryFilter(t *testing.T) {
	out, stderr, code := runCLI(t, "events", "--category", "windows_service", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, `"category":"windows_service"`) {
			t.Fatalf("event of another category: %s", line)
		}
	}
	if _, _, code := runCLI(t, "events", "--category", "nope", demoHost); code != exitUsage {
		t.Errorf("unknown category: exit %d", code)
	}
}

func TestEnv_JSONShape(t *testing.T) {
	out, stderr, code := runCLI(t, "env", "--format", "json", demoHost)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var users []struct {
		SID       string `json:"sid"`
		User      string `json:"user"`
		Variables []struct {
			Name, Value, Expanded string
			Origin                map[string]any
		} `json:"variables"`
		Path []struct {
			Position      int
			Raw, Expanded string
			Origin        map[string]any
			Flags         []string
		} `json:"path"`
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 {
		t.Fatalf("users = %d", len(users))
	}
	bob := users[1]
	if bob.User != "bob" || len(bob.Path) == 0 || bob.Path[0].Expanded != `C:\Users\Public\bin` || bob.Path[0].Origin["scope"] != "machine" {
		t.Errorf("bob = %+v", bob)
	}
}

// TestScan_CorpusFindingsAreTheReviewedList pins what each corpus hive
// produces (rule, key, value, level), so neither a lost detection nor a new
// false positive nor a silently changed level passes; real hives must give
// no high or critical finding.
func TestScan_CorpusFindingsAreTheReviewedList(t *testing.T) {
	c := corpusPath(t)
	sets := map[string][]string{
		"regipy-SYSTEM":                  {"hives/regipy/SYSTEM"},
		"regipy-SYSTEM_B":                {"hives/regipy/SYSTEM_B"},
		"regipy-NTUSER":                  {"hives/regipy/NTUSER.DAT"},
		"regipy-NTUSER_modified":         {"hives/regipy/NTUSER_modified.DAT"},
		"regipy-transactions_NTUSER":     {"hives/regipy/transactions_NTUSER.DAT"},
		"regipy-ntuser_software_partial": {"hives/regipy/ntuser_software_partial"},
		"regipy-SAM-SECURITY":            {"hives/regipy/SAM", "hives/regipy/SECURITY"},
		"velocidex-NTUSER":               {"hives/velocidex/velocidex_NTUSER.DAT"},
	}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			args := []string{"scan", "--format", "jsonl"}
			for _, f := range files {
				args = append(args, filepath.Join(c, f))
			}
			out, stderr, code := runCLI(t, args...)
			if code != exitOK && code != exitPartial {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := findingLines(t, out)
			for _, l := range lines {
				if strings.HasPrefix(l, "high") || strings.HasPrefix(l, "critical") {
					t.Errorf("high or critical finding on a real hive: %s", l)
				}
			}
			// The corpus path is not part of the reviewed list.
			checkGolden(t, "corpus-"+name+".txt", strings.ReplaceAll(strings.Join(lines, "\n")+"\n", c, "CORPUS"))
		})
	}
}

func TestLimitFlags_NameTheLimit(t *testing.T) {
	bob := filepath.Join(demoHost, "C/Users/bob/NTUSER.DAT")
	if _, stderr, code := runCLI(t, "dump", "--max-hive-size", "1000", bob); code != exitUsage || !strings.Contains(stderr, "MaxHiveSize") {
		t.Errorf("dump over --max-hive-size: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "scan", "-q", "--max-value-size", "10", demoHost); code != exitPartial || !strings.Contains(stderr, "MaxValueSize") {
		t.Errorf("scan over --max-value-size: exit %d, stderr %q", code, stderr)
	}
	if _, _, code := runCLI(t, "scan", "--max-depth", "0", demoHost); code != exitUsage {
		t.Errorf("--max-depth 0: exit %d, want a usage error", code)
	}
}
