package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
)

func TestMatch_SigmaValueSemantics(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		event     *event.Event
		want      bool
	}{
		{"exact value is case-insensitive", "sel:\n    Details: 'C:\\Windows\\System32\\cmd.exe'\ncondition: sel",
			setEvent("Details", `c:\windows\system32\CMD.EXE`), true},
		{"exact value must match the whole field", "sel:\n    Details: 'cmd.exe'\ncondition: sel",
			setEvent("Details", `C:\cmd.exe`), false},
		{"single backslash before a letter is literal", "sel:\n    TargetObject: 'HKLM\\SOFTWARE\\Run'\ncondition: sel",
			setEvent("TargetObject", `HKLM\SOFTWARE\Run`), true},
		{"double backslash is one backslash", "sel:\n    TargetObject|endswith: '\\Addins\\\\OneNote'\ncondition: sel",
			setEvent("TargetObject", `HKCU\Outlook\Addins\OneNote`), true},
		{"double backslash is not two", "sel:\n    TargetObject|endswith: '\\Addins\\\\OneNote'\ncondition: sel",
			setEvent("TargetObject", `HKCU\Outlook\Addins\\OneNote`), false},
		{"star wildcard crosses backslashes", "sel:\n    TargetObject: 'HKU\\\\*\\Environment\\Path'\ncondition: sel",
			setEvent("TargetObject", `HKU\S-1-5-21-1\Software\X\Environment\Path`), true},
		{"question mark is one character", "sel:\n    Details: 'a?c'\ncondition: sel",
			setEvent("Details", "abc"), true},
		{"question mark is exactly one character", "sel:\n    Details: 'a?c'\ncondition: sel",
			setEvent("Details", "abbc"), false},
		{"question mark counts a multi-byte character once", "sel:\n    Details: 'a?c'\ncondition: sel",
			setEvent("Details", "aéc"), true},
		{"backslash before a star escapes it", "sel:\n    TargetObject: 'HKU\\*\\Environment'\ncondition: sel",
			setEvent("TargetObject", `HKU\S-1\Environment`), false},
		{"escaped star is literal", "sel:\n    Details: 'a\\*c'\ncondition: sel",
			setEvent("Details", "a*c"), true},
		{"escaped star does not match other text", "sel:\n    Details: 'a\\*c'\ncondition: sel",
			setEvent("Details", "abc"), false},
		{"escaped backslash then wildcard", "sel:\n    Details: 'C:\\\\*'\ncondition: sel",
			setEvent("Details", `C:\Temp\x.exe`), true},
		{"backslash-star is a literal star", "sel:\n    Details: 'C:\\*'\ncondition: sel",
			setEvent("Details", `C:\Temp`), false},
		{"contains with a trailing backslash", "sel:\n    TargetObject|contains: '\\CurrentVersion\\Run\\'\ncondition: sel",
			setEvent("TargetObject", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\evil`), true},
		{"contains with a trailing backslash needs it", "sel:\n    TargetObject|contains: '\\CurrentVersion\\Run\\'\ncondition: sel",
			setEvent("TargetObject", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce\evil`), false},
		{"startswith", "sel:\n    Details|startswith: '\\\\\\\\'\ncondition: sel",
			setEvent("Details", `\\server\share\x.exe`), true},
		{"endswith", "sel:\n    TargetObject|endswith: '\\Environment\\Path'\ncondition: sel",
			setEvent("TargetObject", `HKU\S\Environment\PATH`), true},
		{"wildcards inside contains", "sel:\n    Details|contains: 'Users\\\\*\\AppData'\ncondition: sel",
			setEvent("Details", `C:\Users\bob\AppData\Local\x`), true},
		{"list of values is OR", "sel:\n    Details:\n        - a\n        - b\ncondition: sel",
			setEvent("Details", "B"), true},
		{"contains all needs every value", "sel:\n    Details|contains|all:\n        - powershell\n        - '-enc'\ncondition: sel",
			setEvent("Details", "powershell -nop"), false},
		{"contains all with every value", "sel:\n    Details|contains|all:\n        - powershell\n        - '-enc'\ncondition: sel",
			setEvent("Details", "PowerShell -Enc AAAA"), true},
		{"map is AND", "sel:\n    Details: a\n    ValueType: REG_SZ\ncondition: sel",
			setEvent("Details", "a", "ValueType", "REG_DWORD"), false},
		{"list of maps is OR", "sel:\n    - Details: a\n    - ValueType: REG_SZ\ncondition: sel",
			setEvent("Details", "x", "ValueType", "REG_SZ"), true},
		{"absent field does not match a value", "sel:\n    Image|endswith: '\\reg.exe'\ncondition: sel",
			setEvent("Details", "x"), false},
		{"not on an absent field is true", "sel:\n    Details: x\nfilter:\n    Image|endswith: '\\svchost.exe'\ncondition: sel and not filter",
			setEvent("Details", "x"), true},
		{"null matches an absent field", "sel:\n    Image: null\ncondition: sel",
			setEvent("Details", "x"), true},
		{"null matches an empty field", "sel:\n    Image: null\ncondition: sel",
			setEvent("Image", ""), true},
		{"null does not match a value", "sel:\n    Image: null\ncondition: sel",
			setEvent("Image", `C:\x.exe`), false},
		{"null in a list of values", "sel:\n    Details:\n        - null\n        - a\ncondition: sel",
			setEvent("ValueType", "REG_SZ"), true},
		{"empty string matches a present empty field", "sel:\n    Details: ''\ncondition: sel",
			setEvent("Details", ""), true},
		{"empty string does not match an absent field", "sel:\n    Details: ''\ncondition: sel",
			setEvent("ValueType", "REG_SZ"), false},
		{"number matches an integer field", "sel:\n    SubkeyCount: 3\ncondition: sel",
			catEvent(event.RegistryKey, "SubkeyCount", int64(3)), true},
		{"number matches its text", "sel:\n    EventID: 13\ncondition: sel",
			setEvent("EventID", "13"), true},
		{"number list", "sel:\n    EventID:\n        - 12\n        - 13\ncondition: sel",
			setEvent("EventID", uint64(13)), true},
		{"boolean", "sel:\n    Recovered: true\ncondition: sel",
			setEvent("Recovered", true), true},
		{"list field matches when any element does", "sel:\n    Data|contains: evil\ncondition: sel",
			setEvent("Data", []string{"good", "EVIL.exe"}), true},
		{"list field all applies per element", "sel:\n    Data|contains|all:\n        - a\n        - b\ncondition: sel",
			setEvent("Data", []string{"a", "b"}), false},
		{"time field as text", "sel:\n    LastWrite|startswith: '2024-05-01T'\ncondition: sel",
			setEvent("LastWrite", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)), true},
		{"cased modifier", "sel:\n    Details|cased: Path\ncondition: sel",
			setEvent("Details", "PATH"), false},
		{"cased contains", "sel:\n    Details|contains|cased: Path\ncondition: sel",
			setEvent("Details", "x Path y"), true},
		{"re is case-sensitive", "sel:\n    Details|re: '^powershell'\ncondition: sel",
			setEvent("Details", "PowerShell -enc"), false},
		{"re with i", "sel:\n    Details|re|i: '^powershell\\s+-e'\ncondition: sel",
			setEvent("Details", "PowerShell -enc"), true},
		{"re is unanchored", "sel:\n    Details|re: '-1[0-9]{3}\\\\Software\\\\Classes\\\\'\ncondition: sel",
			setEvent("Details", `HKU\S-1-5-21-1-1001\Software\Classes\x`), true},
		{"re with the long name of i", "sel:\n    Details|re|ignorecase: '^powershell'\ncondition: sel",
			setEvent("Details", "PowerShell -enc"), true},
		{"hour of a time field", "sel:\n    LastWrite|hour: 3\ncondition: sel",
			setEvent("LastWrite", time.Date(2024, 5, 1, 3, 59, 0, 0, time.UTC)), true},
		{"hour is UTC", "sel:\n    LastWrite|hour: 3\ncondition: sel",
			setEvent("LastWrite", time.Date(2024, 5, 1, 3, 0, 0, 0, time.FixedZone("x", 3600))), false},
		{"year list of a time field", "sel:\n    LastWrite|year:\n        - 2023\n        - 2024\ncondition: sel",
			setEvent("LastWrite", time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)), true},
		{"ISO week of time text", "sel:\n    UtcTime|week: 1\ncondition: sel",
			setEvent("UtcTime", "2024-12-30T10:00:00Z"), true},
		{"month of a missing time", "sel:\n    LastWrite|month: 5\ncondition: sel",
			setEvent("Details", "x"), false},
		{"exists true", "sel:\n    Image|exists: true\ncondition: sel",
			setEvent("Image", "x"), true},
		{"exists false on hive state", "sel:\n    Image|exists: false\ncondition: sel",
			setEvent("Details", "x"), true},
		{"gt on Sysmon DWORD text", "sel:\n    Details|gt: 1023\ncondition: sel",
			setEvent("Details", "DWORD (0x00001189)"), true},
		{"lte on an integer", "sel:\n    ValueCount|lte: 0\ncondition: sel",
			catEvent(event.RegistryKey, "ValueCount", int64(0)), true},
		{"gte fails below", "sel:\n    Data|gte: 10\ncondition: sel",
			setEvent("Data", int64(9)), false},
		{"lt on QWORD text", "sel:\n    Details|lt: 4294967296\ncondition: sel",
			setEvent("Details", "QWORD (0x00000001-0x00000000)"), false},
		{"base64 contains", "sel:\n    Details|base64|contains: 'http://'\ncondition: sel",
			setEvent("Details", "xx aHR0cDovLw== yy"), true},
		{"base64offset at offset 1", "sel:\n    Details|base64offset|contains: 'http://'\ncondition: sel",
			setEvent("Details", "powershell -e IGh0dHA6Ly9ldmls"), true},
		{"wide base64offset", "sel:\n    Details|wide|base64offset|contains: 'IEX'\ncondition: sel",
			setEvent("Details", "-enc SQBFAFgAIAAoAE4AZQB3AC0A"), true},
		{"windash matches a slash", "sel:\n    Details|windash|contains: ' -enc '\ncondition: sel",
			setEvent("Details", "powershell /enc AAAA"), true},
		{"windash matches an en dash", "sel:\n    Details|windash|contains: ' -enc '\ncondition: sel",
			setEvent("Details", "powershell \u2013enc AAAA"), true},
		{"windash leaves inner dashes alone", "sel:\n    Details|windash|contains: 'a-b'\ncondition: sel",
			setEvent("Details", "a/b"), false},
		{"cidr", "sel:\n    Details|cidr: 10.0.0.0/8\ncondition: sel",
			setEvent("Details", "10.1.2.3"), true},
		{"cidr outside", "sel:\n    Details|cidr: 10.0.0.0/8\ncondition: sel",
			setEvent("Details", "11.1.2.3"), false},
		{"fieldref equal", "sel:\n    ValueName|fieldref: Details\ncondition: sel",
			setEvent("ValueName", "Path", "Details", "path"), true},
		{"fieldref contains", "sel:\n    Details|fieldref|contains: ValueName\ncondition: sel",
			setEvent("ValueName", "Path", "Details", "x;PATH;y"), true},
		{"keyword searches every field", "keywords:\n    - powershell\ncondition: keywords",
			setEvent("TargetObject", "x", "Details", "C:\\PowerShell.exe"), true},
		{"keyword misses", "keywords:\n    - powershell\ncondition: keywords",
			setEvent("TargetObject", "x", "Details", "cmd"), false},
		{"keyword all", "keywords:\n    '|all':\n        - power\n        - shell\ncondition: keywords",
			setEvent("Details", "powershell"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, ruleText("registry_event", tt.detection))
			got := r.Match(tt.event) != nil
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCondition_OperatorsAndQuantifiers(t *testing.T) {
	sels := "a:\n    Details: a\nb:\n    ValueType: b\nsel_1:\n    ValueName: x\nsel_2:\n    KeyPath: y\n_hidden:\n    Hive: NTUSER\n"
	ev := func(kv ...any) *event.Event { return setEvent(kv...) }
	tests := []struct {
		cond string
		ev   *event.Event
		want bool
	}{
		{"a or b and not a", ev("Details", "a"), true},    // or binds loosest
		{"(a or b) and not a", ev("Details", "a"), false}, // parentheses
		{"not a and b", ev("ValueType", "b"), true},       // not binds tightest
		{"not (a and b)", ev("Details", "a", "ValueType", "b"), false},
		{"not not a", ev("Details", "a"), true},
		{"1 of sel_*", ev("KeyPath", "y"), true},
		{"all of sel_*", ev("KeyPath", "y"), false},
		{"all of sel_*", ev("KeyPath", "y", "ValueName", "x"), true},
		{"1 of them", ev("Hive", "NTUSER"), false}, // _hidden is not part of them
		{"1 of them", ev("ValueType", "b"), true},
		{"all of them", ev("Details", "a", "ValueType", "b", "ValueName", "x", "KeyPath", "y"), true},
		{"1 of sel*", ev("ValueName", "x"), true},
		{"_hidden", ev("Hive", "ntuser"), true},
	}
	for _, tt := range tests {
		r := mustParse(t, ruleText("registry_set", sels+"condition: "+tt.cond))
		if got := r.Match(tt.ev) != nil; got != tt.want {
			t.Errorf("%q on %v: got %v, want %v", tt.cond, tt.ev.Fields, got, tt.want)
		}
	}
	// A list of conditions is an OR.
	r := mustParse(t, ruleText("registry_set", sels+"condition:\n    - a\n    - b"))
	if r.Match(ev("ValueType", "b")) == nil {
		t.Error("condition list is not an OR")
	}
}

func TestMatch_ReportsTheFieldsThatMatched(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", `sel:
    TargetObject|endswith: '\Environment\Path'
alt:
    - ValueType: REG_SZ
    - Details|contains: temp
filter:
    Hive: SYSTEM
condition: sel and alt and not filter`))
	m := r.Match(setEvent("TargetObject", `HKU\S\Environment\Path`, "ValueType", "REG_EXPAND_SZ", "Details", `C:\Temp`, "Hive", "NTUSER"))
	if m == nil {
		t.Fatal("no match")
	}
	if want := []string{"TargetObject", "Details"}; !reflect.DeepEqual(m.Fields, want) {
		t.Errorf("fields = %v, want %v", m.Fields, want)
	}
}

func TestRuleSet_MatchOnlyTriesRulesOfTheEventCategory(t *testing.T) {
	set := mustParse(t, ruleText("registry_set", "sel:\n    TargetObject|contains: x\ncondition: sel"))
	keyText := strings.Replace(ruleText("registry_key", "sel:\n    TargetObject|contains: x\ncondition: sel"), testID, "22222222-2222-3333-4444-555555555555", 1)
	key := mustParse(t, keyText)
	// A registry_event rule that reads Details cannot match registry_key
	// events, which have no Details.
	evText := strings.Replace(ruleText("registry_event", "sel:\n    Details|contains: x\ncondition: sel"), testID, "33333333-2222-3333-4444-555555555555", 1)
	evRule := mustParse(t, evText)
	rs := NewRuleSet(set, key, evRule)

	got := func(ev *event.Event) []string {
		var ids []string
		for _, m := range rs.Match(ev) {
			ids = append(ids, m.Rule.ID[:8])
		}
		return ids
	}
	if ids := got(catEvent(event.RegistrySet, "TargetObject", "x", "Details", "x")); !reflect.DeepEqual(ids, []string{"11111111", "33333333"}) {
		t.Errorf("registry_set event matched %v", ids)
	}
	if ids := got(catEvent(event.RegistryKey, "TargetObject", "x")); !reflect.DeepEqual(ids, []string{"22222222"}) {
		t.Errorf("registry_key event matched %v", ids)
	}
	for _, in := range rs.Needs() {
		if in.Category == event.RegistryKey && in.Rules != 1 {
			t.Errorf("registry_key interest counts %d rules, want 1 (the registry_event rule reads Details)", in.Rules)
		}
	}
}

func TestRuleSet_WithReplacesRulesOfTheSameID(t *testing.T) {
	a := mustParse(t, ruleText("registry_set", "sel:\n    Details: a\ncondition: sel"))
	b := mustParse(t, strings.Replace(ruleText("registry_set", "sel:\n    Details: b\ncondition: sel"), "title: test rule", "title: override", 1))
	rs := NewRuleSet(a).With(NewRuleSet(b))
	if rs.Len() != 1 || rs.Rules()[0].Title != "override" {
		t.Fatalf("got %d rules, first %q", rs.Len(), rs.Rules()[0].Title)
	}
	if len(rs.Match(setEvent("Details", "a"))) != 0 || len(rs.Match(setEvent("Details", "b"))) != 1 {
		t.Error("the overriding rule is not the one that runs")
	}
}

func TestExplain_FillsPlaceholders(t *testing.T) {
	text := ruleText("registry_set", "sel:\n    Details: x\ncondition: sel") +
		"envhunt:\n    pattern: path\n    explain: '{{TargetObject}} = {{ Details }} by {{Image|no process (hive state)}} at {{LastWrite}}; {{ProcessId}}'\n    remediation: 'reg delete \"{{KeyPath}}\"'\n"
	r := mustParse(t, text)
	ev := setEvent("TargetObject", `HKU\S\Environment\X`, "Details", "x", "LastWrite", time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC), "KeyPath", `HKU\S\Environment`)
	want := `HKU\S\Environment\X = x by no process (hive state) at 2024-01-02T03:04:05.0000006Z; (unknown)`
	if got := r.Explain(ev); got != want {
		t.Errorf("explain = %q\nwant      %q", got, want)
	}
	if got := r.Remediation(ev); got != `reg delete "HKU\S\Environment"` {
		t.Errorf("remediation = %q", got)
	}
	long := strings.Repeat("é", 2000)
	if got := r.Explain(setEvent("Details", long)); !strings.Contains(got, "…") || len(got) > 1200 {
		t.Errorf("a long value is not cut: %d bytes", len(got))
	}
}

func TestAttack_TechniquesFromTags(t *testing.T) {
	r := &Rule{Tags: []string{"attack.persistence", "attack.t1037.001", "attack.T1112", "cve.2021-1", "attack.t1574"}}
	if got, want := r.Attack(), []string{"T1037.001", "T1112", "T1574"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLevel_ParseAndOrder(t *testing.T) {
	for _, s := range []string{"informational", "low", "medium", "high", "critical"} {
		l, err := ParseLevel(s)
		if err != nil || l.String() != s {
			t.Errorf("%s: %v %v", s, l, err)
		}
	}
	if !(Informational < Low && Low < Medium && Medium < High && High < Critical) {
		t.Error("levels are not ordered")
	}
	if _, err := ParseLevel("severe"); err == nil {
		t.Error("unknown level accepted")
	}
}

func TestLoad_WarnsWhenABackslashEscapesAWildcard(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    TargetObject: 'HKU\\*\\Environment'\ncondition: sel"))
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Error(), "test.yml:9:") {
		t.Errorf("warnings = %v", r.Warnings)
	}
	r = mustParse(t, ruleText("registry_set", "sel:\n    TargetObject: 'HKU\\\\*\\Environment'\ncondition: sel"))
	if len(r.Warnings) != 0 {
		t.Errorf("escaped backslash warned: %v", r.Warnings)
	}
}

func TestExplain_ListsStayOnOneLine(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Details: x\ncondition: sel")+"envhunt:\n    pattern: path\n    explain: 'data {{Data}}'\n")
	if got := r.Explain(setEvent("Data", []string{"a", "b"})); got != "data a; b" {
		t.Errorf("got %q", got)
	}
}

func TestRuleSet_FieldrefNeedsTheReferencedField(t *testing.T) {
	// NewName exists only in registry_rename events, so a fieldref to it
	// keeps the rule off registry_set.
	rs := NewRuleSet(mustParse(t, ruleText("registry_event", "sel:\n    TargetObject|fieldref: NewName\ncondition: sel")))
	for _, in := range rs.Needs() {
		if in.Category != event.RegistryRename {
			t.Errorf("rule indexed for %s", in.Category)
		}
	}
	if len(rs.Match(catEvent(event.RegistryRename, "TargetObject", `HKU\x`, "NewName", `hku\X`))) != 1 {
		t.Error("fieldref rename did not match")
	}
}

func TestLoad_WarnsAboutUnusedSelections(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Details: x\nfilter:\n    Details: y\ncondition: sel"))
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Error(), `test.yml:10:5: warning: selection "filter" is not used`) {
		t.Errorf("warnings = %v", r.Warnings)
	}
}

func TestRuleSet_MatchIsSafeForConcurrentUse(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    TargetObject|endswith: '\\Environment\\Path'\n    Details|re|i: 'temp'\ncondition: sel"))
	rs := NewRuleSet(r)
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			n := 0
			for i := 0; i < 200; i++ {
				n += len(rs.Match(setEvent("TargetObject", `HKU\S\Environment\Path`, "Details", `C:\Temp`)))
			}
			done <- n
		}()
	}
	for g := 0; g < 4; g++ {
		if n := <-done; n != 200 {
			t.Errorf("goroutine matched %d of 200", n)
		}
	}
}

func TestLoad_WarnsAboutNumbersComparedWithDetails(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Details: 1\ncondition: sel"))
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Error(), "write 'DWORD (0x00000001)' too") {
		t.Errorf("warnings = %v", r.Warnings)
	}
	if r.Match(setEvent("Details", "DWORD (0x00000001)")) != nil {
		t.Error("a number matched Sysmon's DWORD text")
	}
}

func TestMatch_NumbersCompareAsWritten(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Details|contains: 00000429\ncondition: sel")+
		"envhunt:\n    pattern: misconfig\n    tests:\n        - {expect: match, event: {fields: {Details: 00000429, Data: 0}}}\n        - {expect: nomatch, event: {fields: {Details: 429}}}\n")
	if len(r.Warnings) != 0 {
		t.Errorf("warnings: %v", r.Warnings)
	}
	for _, res := range r.RunTests() {
		if !res.Passed {
			t.Error(res)
		}
	}
	if v, _ := r.Tests[0].Events[0].Get("Details"); v != "00000429" {
		t.Errorf("test event Details = %#v, want the text 00000429", v)
	}
}

func TestMatch_EventsWithoutFieldsDoNotPanic(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Image: null\ncondition: sel"))
	for _, ev := range []*event.Event{nil, {Category: event.RegistrySet}} {
		if r.Match(ev) != nil || len(NewRuleSet(r).Match(ev)) != 0 {
			t.Errorf("%v matched", ev)
		}
		_ = r.Explain(ev)
	}
}

func TestLoad_NoNumberWarningWhenTheDWORDFormIsListedToo(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "sel:\n    Details:\n        - 0\n        - 'DWORD (0x00000000)'\ncondition: sel"))
	if len(r.Warnings) != 0 {
		t.Errorf("warnings = %v", r.Warnings)
	}
	if r.Match(setEvent("Details", "0")) == nil || r.Match(setEvent("Details", "DWORD (0x00000000)")) == nil {
		t.Error("a listed form does not match")
	}
}

func TestMatch_ManyFieldsBeyondTheInlineCache(t *testing.T) {
	r := mustParse(t, ruleText("registry_set", "kw:\n    - needle\nsel:\n    ValueName: v\ncondition: kw and sel"))
	ev := setEvent("EventType", "SetValue", "TargetObject", "t", "Details", "d", "ValueType", "REG_SZ", "Data", "x",
		"KeyPath", "k", "Hive", "NTUSER", "Host", "h", "EvidenceFile", "f", "UserSid", "s", "User", "u", "ValueName", "v", "PreviousDetails", "a needle")
	for i := 0; i < 3; i++ { // pooled contexts are reused cleanly
		m := NewRuleSet(r).Match(ev)
		if len(m) != 1 || !reflect.DeepEqual(m[0].Fields, []string{"PreviousDetails", "ValueName"}) {
			t.Fatalf("matches %v", m)
		}
		if NewRuleSet(r).Match(setEvent("ValueName", "v", "Details", "nothing")) != nil {
			t.Fatal("a reused context kept an earlier event's field")
		}
	}
}
