package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

const rulesTestRule = `title: Test rule
id: 0b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e
level: medium
logsource:
    product: windows
    category: registry_set
detection:
    selection:
        TargetObject|endswith: '\Environment\GOFLAGS'
    condition: selection
envhunt:
    pattern: path
    explain: '{{TargetObject}} = {{Details}}'
    tests:
        - name: set
          expect: match
          event: {fields: {TargetObject: 'HKU\S-1\Environment\GOFLAGS', Details: '-toolexec=x'}}
        - name: other
          expect: WANT
          event: {fields: {TargetObject: 'HKU\S-1\Environment\GOPATH', Details: 'C:\go'}}
`

func rulesTestDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesValidate_BadFileGivesFileLineColAndExit2(t *testing.T) {
	good := strings.Replace(rulesTestRule, "WANT", "nomatch", 1)
	bad := strings.Replace(strings.Replace(good, "0b5f3f2e", "1b5f3f2e", 1), "TargetObject|endswith", "TargetObject|endwith", 1)
	dir := rulesTestDir(t, map[string]string{"path/good.yml": good, "path/bad.yml": bad})
	stdout, stderr, code := runCLI(t, "rules", "validate", dir)
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	want := filepath.Join(dir, "path", "bad.yml") + `:9:9: TargetObject|endwith: unknown modifier "endwith"`
	if !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr = %q, want a line starting %q", stderr, want)
	}
	if !strings.Contains(stdout, "1 rules loaded, 1 files failed, 0 rules with warnings") {
		t.Errorf("stdout = %q", stdout)
	}
}

func TestRulesValidate_BuiltinRulesAreValid(t *testing.T) {
	stdout, stderr, code := runCLI(t, "rules", "validate")
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "built-in rules:") {
		t.Errorf("stdout = %q", stdout)
	}
}

func TestRulesTest_FailingCaseExits1AndNamesTheCase(t *testing.T) {
	dir := rulesTestDir(t, map[string]string{"r.yml": strings.Replace(rulesTestRule, "WANT", "match", 1)})
	stdout, _, code := runCLI(t, "rules", "test", dir)
	if code != exitFindings {
		t.Errorf("exit %d, want 1", code)
	}
	want := filepath.Join(dir, "r.yml") + ":18:11: 0b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e other: FAIL: expected a match, none of 1 event(s) matched"
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout = %q\nwant %q", stdout, want)
	}
	if !strings.Contains(stdout, "1 rules, 2 cases: 1 passed, 1 failed, 0 skipped") {
		t.Errorf("summary missing: %q", stdout)
	}
}

func TestRulesTest_PassingCasesExit0(t *testing.T) {
	dir := rulesTestDir(t, map[string]string{"r.yml": strings.Replace(rulesTestRule, "WANT", "nomatch", 1)})
	stdout, _, code := runCLI(t, "rules", "test", "--verbose", dir)
	if code != 0 || strings.Count(stdout, ": ok") != 2 {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func TestRulesTest_BuiltinRulesPass(t *testing.T) {
	stdout, _, code := runCLI(t, "rules", "test")
	if code != 0 || !strings.Contains(stdout, " 0 failed") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

func TestRulesList_JSONLFields(t *testing.T) {
	dir := rulesTestDir(t, map[string]string{"r.yml": strings.Replace(rulesTestRule, "WANT", "nomatch", 1)})
	stdout, _, code := runCLI(t, "rules", "list", "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	for k, want := range map[string]any{"id": "0b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e", "level": "medium", "pattern": "path", "title": "Test rule", "logsource": "registry_set", "tests": 2.0, "status": "", "file": filepath.Join(dir, "r.yml")} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"attack", "tags", "categories"} {
		if _, ok := got[k].([]any); !ok {
			t.Errorf("%s = %#v, want a list", k, got[k])
		}
	}
	if len(got) != 11 {
		t.Errorf("%d fields, the documented 11 are id, title, level, status, pattern, attack, tags, logsource, categories, tests, file: %v", len(got), got)
	}
}

func TestRulesList_TextHasOneRowPerRule(t *testing.T) {
	stdout, _, code := runCLI(t, "rules", "list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if !strings.HasPrefix(lines[0], "ID") || len(lines) < 2 {
		t.Errorf("unexpected listing:\n%s", stdout)
	}
}

func TestRules_UsageErrors(t *testing.T) {
	for _, args := range [][]string{{"rules"}, {"rules", "frob"}, {"rules", "list", "a", "b"}, {"rules", "list", "--format", "xml"}, {"rules", "test", "/no/such/dir"}} {
		if _, _, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// A fixture case reads its hive with the scanner: a planted value fires the
// rule and a clean hive keeps it quiet.
func TestRulesTest_FixtureCasesReadHives(t *testing.T) {
	dir := t.TempDir()
	writeHive := func(name string, vals []hivetest.Value) {
		sd, err := hivetest.UserKeySD("S-1-5-21-1111111111-2222222222-3333333333-1001")
		if err != nil {
			t.Fatal(err)
		}
		env := &hivetest.Key{Name: "Environment", Values: vals, Security: sd}
		root := &hivetest.Key{Name: "ROOT", Security: sd, Subkeys: []*hivetest.Key{env, {Name: "AppEvents"}, {Name: "Console"}}}
		b, err := hivetest.Build(root, hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeHive("planted.dat", []hivetest.Value{hivetest.SZ("GOFLAGS", "-toolexec=C:\\Users\\Public\\t.exe")})
	writeHive("clean.dat", []hivetest.Value{hivetest.SZ("GOPATH", "C:\\Users\\alice\\go")})
	rule := strings.Replace(rulesTestRule, `        - name: set
          expect: match
          event: {fields: {TargetObject: 'HKU\S-1\Environment\GOFLAGS', Details: '-toolexec=x'}}
        - name: other
          expect: WANT
          event: {fields: {TargetObject: 'HKU\S-1\Environment\GOPATH', Details: 'C:\go'}}
`, `        - name: planted hive
          expect: match
          fixture: planted.dat
        - name: clean hive
          expect: nomatch
          fixture: clean.dat
`, 1)
	if err := os.WriteFile(filepath.Join(dir, "r.yml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := runCLI(t, "rules", "test", "--verbose", dir)
	if code != 0 || !strings.Contains(stdout, "2 cases: 2 passed, 0 failed, 0 skipped") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	// The same rule expecting the clean hive to match fails.
	if err := os.WriteFile(filepath.Join(dir, "r.yml"), []byte(strings.Replace(rule, "expect: nomatch", "expect: match", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, _, code := runCLI(t, "rules", "test", dir); code != exitFindings || !strings.Contains(stdout, "clean hive: FAIL") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

func TestRulesValidate_StrictFailsOnWarnings(t *testing.T) {
	warned := strings.Replace(strings.Replace(rulesTestRule, "WANT", "nomatch", 1), `TargetObject|endswith: '\Environment\GOFLAGS'`, `TargetObject: 'HKU\*\Environment\GOFLAGS'`, 1)
	dir := rulesTestDir(t, map[string]string{"w.yml": warned})
	_, stderr, code := runCLI(t, "rules", "validate", dir)
	if code != 0 || !strings.Contains(stderr, "w.yml:9:23: warning:") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, _, code := runCLI(t, "rules", "validate", "--strict", dir); code != exitUsage {
		t.Errorf("--strict: exit %d, want 2", code)
	}
}

func TestRulesTest_JSONLHasOneObjectPerCase(t *testing.T) {
	dir := rulesTestDir(t, map[string]string{"r.yml": strings.Replace(rulesTestRule, "WANT", "match", 1)})
	stdout, _, code := runCLI(t, "rules", "test", "--format", "jsonl", dir)
	if code != exitFindings {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), stdout)
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["status"] != "pass" || first["case"] != "set" || first["expect"] != "match" || first["rule_id"] != "0b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e" {
		t.Errorf("first = %v", first)
	}
	if second["status"] != "fail" || second["line"] != 18.0 || second["col"] != 11.0 || second["message"] == nil {
		t.Errorf("second = %v", second)
	}
}

func TestRulesList_SigmaCollectionFile(t *testing.T) {
	collection := `action: global
level: low
logsource: {product: windows, category: registry_set}
detection:
    condition: selection
---
title: First
id: 1b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e
detection:
    selection: {Details: a}
---
title: Second
id: 2b5f3f2e-8a43-4c51-9f0e-7d1a2b3c4d5e
detection:
    selection: {Details: b}
`
	dir := rulesTestDir(t, map[string]string{"c.yml": collection})
	stdout, stderr, code := runCLI(t, "rules", "list", filepath.Join(dir, "c.yml"))
	if code != 0 || !strings.Contains(stdout, "First") || !strings.Contains(stdout, "Second") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
