package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
)

func TestLoad_ErrorsNameFileLineAndColumn(t *testing.T) {
	base := ruleText("registry_set", "sel:\n    Details: x\ncondition: sel")
	tests := []struct {
		name string
		text string
		want string // "line:col: substring"
	}{
		{"unknown top-level key", base + "severity: high\n", "11:1: unknown key \"severity\""},
		{"unknown modifier", ruleText("registry_set", "sel:\n    Details|contians: x\ncondition: sel"), "9:9: Details|contians: unknown modifier \"contians\""},
		{"unknown field", ruleText("registry_set", "sel:\n    Detail: x\ncondition: sel"), "9:9: field \"Detail\" does not exist in registry_set events"},
		{"field name case", ruleText("registry_set", "sel:\n    targetobject: x\ncondition: sel"), "did you mean \"TargetObject\""},
		{"field of another category", ruleText("registry_key", "sel:\n    Details: x\ncondition: sel"), "9:9: field \"Details\" does not exist in registry_key events"},
		{"unknown category", strings.Replace(base, "category: registry_set", "category: registry_value", 1), "6:15: logsource category \"registry_value\" has no events"},
		{"no category", strings.Replace(base, "    category: registry_set\n", "    service: security\n", 1), "logsource has no category"},
		{"undefined selection", ruleText("registry_set", "sel:\n    Details: x\ncondition: sel and not filter"), "10:28: condition: \"filter\" is not a selection"},
		{"malformed condition", ruleText("registry_set", "sel:\n    Details: x\ncondition: sel and"), "condition ends where"},
		{"unbalanced parenthesis", ruleText("registry_set", "sel:\n    Details: x\ncondition: (sel"), "10:20: condition: missing ')'"},
		{"stray word", ruleText("registry_set", "sel:\n    Details: x\ncondition: sel sel"), "10:20: condition: unexpected \"sel\""},
		{"quantifier matching nothing", ruleText("registry_set", "sel:\n    Details: x\ncondition: 1 of filter_*"), "\"filter_*\" matches no selection"},
		{"upper-case operator", ruleText("registry_set", "sel:\n    Details: x\ncondition: NOT sel"), "10:16: condition: \"NOT\": operators are written in lower case (not)"},
		{"time part needs a number", ruleText("registry_set", "sel:\n    LastWrite|hour: noon\ncondition: sel"), "hour takes a whole number"},
		{"time part alone", ruleText("registry_set", "sel:\n    LastWrite|hour|contains: 3\ncondition: sel"), "cannot be combined with \"hour\""},
		{"keyword as selection name", ruleText("registry_set", "them:\n    Details: x\ncondition: 1 of them"), "selection name \"them\" is a condition keyword"},
		{"number as selection name", ruleText("registry_set", "'1':\n    Details: x\ncondition: x"), "a number cannot name a selection"},
		{"2 of", ruleText("registry_set", "sel:\n    Details: x\ncondition: 2 of sel*"), "only '1 of' and 'all of'"},
		{"aggregation", ruleText("registry_set", "sel:\n    Details: x\ncondition: sel | count() > 5"), "pipe (aggregation)"},
		{"expand", ruleText("registry_set", "sel:\n    Details|expand: '%admins%'\ncondition: sel"), "\"expand\" is not supported"},
		{"i without re", ruleText("registry_set", "sel:\n    Details|contains|i: x\ncondition: sel"), "only applies after re"},
		{"bad regexp", ruleText("registry_set", "sel:\n    Details|re: '(?<=x)y'\ncondition: sel"), "9:21: Details|re: bad regular expression"},
		{"two placements", ruleText("registry_set", "sel:\n    Details|contains|endswith: x\ncondition: sel"), "exclude each other"},
		{"null with modifier", ruleText("registry_set", "sel:\n    Details|contains: null\ncondition: sel"), "null (field absent or empty) cannot be used with modifiers"},
		{"exists needs a bool", ruleText("registry_set", "sel:\n    Details|exists: yes\ncondition: sel"), "exists takes true or false"},
		{"gt needs a number", ruleText("registry_set", "sel:\n    Details|gt: ten\ncondition: sel"), "gt takes a number"},
		{"wide without base64", ruleText("registry_set", "sel:\n    Details|wide|contains: x\ncondition: sel"), "needs base64 or base64offset"},
		{"base64 of a wildcard", ruleText("registry_set", "sel:\n    Details|base64|contains: 'a*b'\ncondition: sel"), "wildcards cannot be base64-encoded"},
		{"empty selection", ruleText("registry_set", "sel: {}\ncondition: sel"), "selection sel is empty"},
		{"nested map value", ruleText("registry_set", "sel:\n    Details:\n        a: b\ncondition: sel"), "not a mapping"},
		{"duplicate key", ruleText("registry_set", "sel:\n    Details: x\n    Details: y\ncondition: sel"), "10:9: selection sel: key \"Details\" appears twice"},
		{"no condition", ruleText("registry_set", "sel:\n    Details: x"), "detection has no condition"},
		{"timeframe", ruleText("registry_set", "sel:\n    Details: x\ntimeframe: 5m\ncondition: sel"), "timeframe (correlation) is not supported"},
		{"bad id", strings.Replace(base, testID, "not-a-uuid", 1), "2:5: id \"not-a-uuid\" is not a UUID"},
		{"bad level", strings.Replace(base, "level: low", "level: severe", 1), "3:8: level \"severe\""},
		{"missing title", strings.Replace(base, "title: test rule\n", "", 1), "missing required key \"title\""},
		{"bad status", base + "status: production\n", "status \"production\""},
		{"bad date", base + "date: 01/02/2024\n", "date \"01/02/2024\": want YYYY-MM-DD"},
		{"bad tag", base + "tags:\n    - 'ATT&CK T1112'\n", "tag \"ATT&CK T1112\""},
		{"bad related type", base + "related:\n    - id: " + testID + "\n      type: cousin\n", "related type \"cousin\""},
		{"collection with incomplete rules", "action: global\ntitle: x\n---\ntitle: y\n", "missing required key \"id\""},
		{"global without rules", base + "action: global\n", "action: global but no rule after it"},
		{"unknown action", "action: merge\n" + base, "action \"merge\": want global, reset or repeat"},
		{"repeat first", "action: repeat\n" + base, "action: repeat needs a rule before it"},
		{"correlation", "title: c\ncorrelation:\n    type: event_count\n", "correlation rules are not supported"},
		{"two rules for Parse", base + "---\n" + strings.Replace(base, testID, "22222222-2222-3333-4444-555555555555", 1), "holds 2 rules"},
		{"yaml syntax", "title: [unclosed\n", "YAML:"},
		{"alias", "title: &t x\nid: *t\n", "YAML aliases"},
		{"not a mapping", "- just\n- a list\n", "a rule must be a mapping"},
		{"empty file", "", "empty file"},
		{"envhunt unknown key", base + "envhunt:\n    pattern: path\n    severity: 3\n", "13:5: envhunt: unknown key \"severity\""},
		{"envhunt bad pattern", base + "envhunt:\n    pattern: rootkit\n", "envhunt pattern \"rootkit\""},
		{"envhunt without pattern", base + "envhunt:\n    explain: x\n", "envhunt block has no pattern"},
		{"explain unknown placeholder", base + "envhunt:\n    pattern: path\n    explain: '{{Process}}'\n", "field \"Process\" does not exist"},
		{"explain unclosed placeholder", base + "envhunt:\n    pattern: path\n    explain: '{{Details'\n", "unclosed {{"},
		{"test without expect", base + "envhunt:\n    pattern: path\n    tests:\n        - event: {fields: {Details: x}}\n", "has no expect"},
		{"test bad expect", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: yes, event: {fields: {Details: x}}}\n", "test expect \"yes\""},
		{"test unknown field", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, event: {fields: {Detail: x}}}\n", "field \"Detail\" does not exist"},
		{"test wrong category", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, event: {category: registry_key, fields: {TargetObject: x}}}\n", "test event category \"registry_key\""},
		{"test two sources", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, fixture: a.hive, event: {fields: {Details: x}}}\n", "exactly one of event, events or fixture"},
		{"fixture outside the rule folder", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, fixture: ../../etc/passwd}\n", "must be a relative path"},
		{"absolute fixture", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, fixture: /etc/passwd}\n", "must be a relative path"},
		{"test bad time", base + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, event: {fields: {LastWrite: yesterday}}}\n", "field LastWrite is a time"},
		{"alias category test without category", ruleText("registry_event", "sel:\n    TargetObject: x\ncondition: sel") + "envhunt:\n    pattern: path\n    tests:\n        - {expect: match, event: {fields: {TargetObject: x}}}\n", "test event needs a category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yml", []byte(tt.text))
			if err == nil {
				t.Fatalf("loaded without error:\n%s", tt.text)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "bad.yml" {
				t.Fatalf("error is not a *FileError for bad.yml: %#v", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("no *Error inside %v", err)
			}
			if !strings.Contains(err.Error(), "bad.yml:"+tt.want) && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %v\ndoes not contain %q", err, tt.want)
			}
			if strings.Contains(tt.want, ":") && tt.want[0] >= '0' && tt.want[0] <= '9' && !strings.Contains(err.Error(), "bad.yml:"+tt.want) {
				t.Errorf("error\n  %v\ndoes not point at bad.yml:%s", err, tt.want)
			}
		})
	}
}

func TestLoadFS_KeepsGoodFilesAndReportsEachBadOne(t *testing.T) {
	good := ruleText("registry_set", "sel:\n    Details: x\ncondition: sel")
	other := strings.Replace(good, testID, "22222222-2222-3333-4444-555555555555", 1)
	fsys := fstest.MapFS{
		"a/good.yml":       {Data: []byte(good)},
		"a/bad_mod.yml":    {Data: []byte(strings.Replace(other, "Details:", "Details|frobnicate:", 1))},
		"b/other.yaml":     {Data: []byte(other)},
		"b/dup_id.yml":     {Data: []byte(good)},
		"b/notes.txt":      {Data: []byte("not a rule")},
		".git/x.yml":       {Data: []byte("garbage: [")},
		"c/.hidden.yml":    {Data: []byte("garbage: [")},
		"c/empty_cond.yml": {Data: []byte(strings.Replace(good, "condition: sel", "condition: ''", 1))},
	}
	rs, err := LoadFS(fsys, ".")
	var le LoadErrors
	if !errors.As(err, &le) {
		t.Fatalf("want LoadErrors, got %v", err)
	}
	var files []string
	for _, fe := range le {
		files = append(files, fe.File)
	}
	if got, want := strings.Join(files, " "), "a/bad_mod.yml b/dup_id.yml c/empty_cond.yml"; got != want {
		t.Errorf("bad files = %q, want %q\n%v", got, want, err)
	}
	if rs.Len() != 2 {
		t.Errorf("kept %d rules, want 2", rs.Len())
	}
	if !strings.Contains(err.Error(), "b/dup_id.yml:2:5: rule id 11111111-2222-3333-4444-555555555555 is already used by a/good.yml") {
		t.Errorf("duplicate id error: %v", err)
	}
}

func TestLoadDir_NamesFilesUnderTheDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte("title: x\nfoo: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad.yml")+":2:1: unknown key \"foo\"") {
		t.Errorf("got %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestLoad_BoundsWindashExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("sel:\n    Details|windash|contains:\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "        - ' -a%d -b -c -d -e'\n", i)
	}
	b.WriteString("condition: sel")
	_, err := Parse("big.yml", []byte(ruleText("registry_set", b.String())))
	if err == nil || !strings.Contains(err.Error(), "values after expansion") {
		t.Errorf("got %v", err)
	}
}

// The sample rules of testdata/rules load without warnings, cover both
// outcomes and pass their own tests.
func TestSampleRules_LoadAndPass(t *testing.T) {
	rs, err := LoadDir(filepath.Join("testdata", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() < 3 {
		t.Fatalf("%d sample rules", rs.Len())
	}
	for _, r := range rs.Rules() {
		for _, w := range r.Warnings {
			t.Error(w)
		}
		if pos, neg := r.TestCounts(); pos == 0 || neg == 0 {
			t.Errorf("%s: %d match and %d nomatch cases", r.File, pos, neg)
		}
		for _, res := range r.RunTests() {
			if !res.Passed {
				t.Error(res)
			}
		}
	}
}

func TestParse_ReportsProblemsInFileOrder(t *testing.T) {
	text := "title: ''\nid: nope\nstatus: bad\ndate: x\nmodified: y\nauthor: [a]\nlevel: z\n"
	_, err := Parse("bad.yml", []byte(text))
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	for i := 1; i < len(fe.Errs); i++ {
		a, b := fe.Errs[i-1], fe.Errs[i]
		if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
			t.Errorf("%v before %v", a, b)
		}
	}
	if len(fe.Errs) < 6 {
		t.Errorf("only %d problems reported:\n%v", len(fe.Errs), err)
	}
}

// A Sigma rule collection: the global document is merged into each rule,
// repeat builds on the rule before it, reset forgets the global part.
func TestParseAll_SigmaCollections(t *testing.T) {
	text := `action: global
title: Environment value set
status: test
level: medium
logsource:
    product: windows
    category: registry_set
detection:
    selection_key:
        TargetObject|contains: '\Environment\'
    condition: selection_key and selection_value
---
id: 11111111-0000-0000-0000-000000000001
detection:
    selection_value:
        TargetObject|endswith: '\GOFLAGS'
---
action: repeat
id: 11111111-0000-0000-0000-000000000002
title: Environment value set (GOPROXY)
detection:
    selection_value:
        TargetObject|endswith: '\GOPROXY'
---
action: reset
---
title: Standalone
id: 11111111-0000-0000-0000-000000000003
level: low
logsource: {category: registry_set}
detection:
    sel:
        Details: x
    condition: sel
`
	rules, err := ParseAll("collection.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules, want 3", len(rules))
	}
	goflags, goproxy, standalone := rules[0], rules[1], rules[2]
	if goflags.Title != "Environment value set" || goflags.Level != Medium || goproxy.Title != "Environment value set (GOPROXY)" {
		t.Errorf("titles/levels: %q %v %q", goflags.Title, goflags.Level, goproxy.Title)
	}
	ev := func(to string) *event.Event { return setEvent("TargetObject", to, "Details", "x") }
	for _, c := range []struct {
		r    *Rule
		to   string
		want bool
	}{
		{goflags, `HKU\S\Environment\GOFLAGS`, true},
		{goflags, `HKU\S\Environment\GOPROXY`, false},
		{goflags, `HKU\S\Software\GOFLAGS`, false}, // the global selection_key still applies
		{goproxy, `HKU\S\Environment\GOPROXY`, true},
		{goproxy, `HKU\S\Environment\GOFLAGS`, false},
		{standalone, `HKU\S\Software\x`, true}, // reset: no global condition
	} {
		if got := c.r.Match(ev(c.to)) != nil; got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.r.Title, c.to, got, c.want)
		}
	}
	if standalone.Level != Low || standalone.Status != "" {
		t.Errorf("reset did not forget the global part: level %v status %q", standalone.Level, standalone.Status)
	}
	// A directory loads every rule of the collection.
	rs, err := LoadFS(fstest.MapFS{"c.yml": {Data: []byte(text)}}, ".")
	if err != nil || rs.Len() != 3 {
		t.Errorf("LoadFS: %d rules, %v", rs.Len(), err)
	}
	// Two rules of one file with one id are an error.
	dup := strings.Replace(text, "11111111-0000-0000-0000-000000000002", "11111111-0000-0000-0000-000000000001", 1)
	if _, err := LoadFS(fstest.MapFS{"c.yml": {Data: []byte(dup)}}, "."); err == nil || !strings.Contains(err.Error(), "used twice in this file") {
		t.Errorf("duplicate id in a collection: %v", err)
	}
}

func TestLoad_SuggestsTheNameMeant(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{ruleText("registry_set", "sel:\n    TargetObject|endwith: x\ncondition: sel"), `unknown modifier "endwith" (did you mean "endswith"?)`},
		{ruleText("registry_set", "sel:\n    TargetObjekt: x\ncondition: sel"), `(did you mean "TargetObject"?)`},
		{ruleText("registry_set", "selection:\n    Details: x\ncondition: selektion"), `"selektion" is not a selection of this rule (did you mean "selection"?)`},
		{ruleText("registry_set", "sel:\n    Details: x\ncondition: sel") + "falsepositive: x\n", `unknown key "falsepositive" (did you mean "falsepositives"?)`},
		{ruleText("registry_set", "sel:\n    Details|frobnicate: x\ncondition: sel"), `unknown modifier "frobnicate" (known: all,`},
	} {
		_, err := Parse("t.yml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// The fields of an "envhunt events" line paste into a test event as they
// are (YAML reads JSON, times in the 7-digit form included).
func TestLoad_TestEventFieldsAcceptEventsOutput(t *testing.T) {
	line := `{"EventType":"SetValue","TargetObject":"HKU\\S-1-5-21-1\\Environment\\TEMP","Details":"%USERPROFILE%\\AppData\\Local\\Temp","ValueName":"TEMP","ValueType":"REG_EXPAND_SZ","Data":"%USERPROFILE%\\AppData\\Local\\Temp","KeyPath":"HKU\\S-1-5-21-1\\Environment","LastWrite":"2012-04-03T21:19:54.7800947Z","Hive":"NTUSER","Host":"loose","EvidenceFile":"/c/NTUSER.DAT","UserSid":"S-1-5-21-1","User":"vibranium"}`
	text := ruleText("registry_set", "sel:\n    TargetObject|endswith: '\\Environment\\TEMP'\n    LastWrite|year: 2012\ncondition: sel") +
		"envhunt:\n    pattern: misconfig\n    tests:\n        - name: pasted\n          expect: match\n          event:\n              fields: " + line + "\n"
	r := mustParse(t, text)
	for _, res := range r.RunTests() {
		if !res.Passed {
			t.Error(res)
		}
	}
	if v, _ := r.Tests[0].Events[0].Get("LastWrite"); v != time.Date(2012, 4, 3, 21, 19, 54, 780094700, time.UTC) {
		t.Errorf("LastWrite = %#v", v)
	}
}
