package rules

import (
	"reflect"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
)

func interestOf(t *testing.T, category, detection string) Interest {
	t.Helper()
	rs := NewRuleSet(mustParse(t, ruleText(category, detection)))
	needs := rs.Needs()
	if len(needs) != 1 {
		t.Fatalf("needs = %+v", needs)
	}
	return needs[0]
}

func TestNeeds_PrefixNeedlesLetTheWalkSkipSubtrees(t *testing.T) {
	in := interestOf(t, "registry_set", `sel:
    TargetObject|startswith:
        - 'HKLM\SYSTEM\CurrentControlSet\Control\CI\'
        - 'HKLM\SYSTEM\ControlSet00?\Services\'
condition: sel`)
	if in.AnyTarget {
		t.Fatal("AnyTarget for a rule pinned by prefixes")
	}
	want := []string{`hklm\system\currentcontrolset\control\ci\\*`, `hklm\system\controlset00?\services\\*`}
	if !reflect.DeepEqual(in.TargetObjectNeedles, want) {
		t.Errorf("needles = %q, want %q", in.TargetObjectNeedles, want)
	}
	for key, want := range map[string]bool{
		`HKLM`:                                  true,
		`HKLM\SYSTEM`:                           true,
		`HKLM\SYSTEM\CurrentControlSet\Control`: true,
		`HKLM\SYSTEM\CurrentControlSet\Control\CI`:     true,
		`HKLM\SYSTEM\CurrentControlSet\Control\CI\Cfg`: true,
		`HKLM\SYSTEM\CurrentControlSet\Control\CIX`:    false,
		`HKLM\SYSTEM\CurrentControlSet\Enum`:           false,
		`HKLM\SOFTWARE`:                                false,
		`HKU\S-1-5-21-1`:                               false,
		`HKLM\SYSTEM\ControlSet002`:                    true,
		`HKLM\SYSTEM\ControlSet002\Services\x`:         true,
		`HKLM\SYSTEM\ControlSet002\Enum`:               false,
		`HKLM\SYSTEM\Select`:                           false,
	} {
		if got := in.MayMatchUnder(key); got != want {
			t.Errorf("MayMatchUnder(%q) = %v, want %v", key, got, want)
		}
	}
	for to, want := range map[string]bool{
		`HKLM\SYSTEM\CurrentControlSet\Control\CI\Config\VulnerableDriverBlocklistEnable`: true,
		`hklm\system\controlset001\services\x\ImagePath`:                                  true,
		`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\Path`:          false,
	} {
		if got := in.MayMatch(to); got != want {
			t.Errorf("MayMatch(%q) = %v, want %v", to, got, want)
		}
	}
}

func TestNeeds_SuffixAndContainsNeedlesNeverSkipSubtrees(t *testing.T) {
	in := interestOf(t, "registry_set", "sel:\n    TargetObject|endswith: '\\Environment\\Path'\ncondition: sel")
	if in.AnyTarget || !in.MayMatchUnder(`HKLM\SOFTWARE\Classes`) || in.MayMatch(`HKLM\SOFTWARE\Classes\x`) || !in.MayMatch(`HKU\S\Environment\Path`) {
		t.Errorf("endswith interest wrong: %+v", in)
	}
}

func TestNeeds_UnpinnedRulesReadEverything(t *testing.T) {
	for name, det := range map[string]string{
		"no TargetObject":          "sel:\n    Details|contains: powershell\ncondition: sel",
		"TargetObject only in not": "sel:\n    Details: x\nfilter:\n    TargetObject|startswith: 'HKLM\\'\ncondition: sel and not filter",
		"one branch unpinned":      "a:\n    TargetObject|startswith: 'HKLM\\'\nb:\n    Details: x\ncondition: a or b",
		"keywords":                 "kw:\n    - evil\ncondition: kw",
		"regular expression":       "sel:\n    TargetObject|re: 'x'\ncondition: sel",
	} {
		in := interestOf(t, "registry_set", det)
		if !in.AnyTarget || !in.MayMatchUnder(`HKU\S`) || !in.MayMatch("anything") {
			t.Errorf("%s: %+v", name, in)
		}
	}
}

func TestNeeds_AndTakesThePinnedSide(t *testing.T) {
	in := interestOf(t, "registry_set", "a:\n    TargetObject|startswith: 'HKLM\\SOFTWARE\\'\nb:\n    Details: x\ncondition: b and a")
	if in.AnyTarget || !reflect.DeepEqual(in.TargetObjectNeedles, []string{`hklm\software\\*`}) {
		t.Errorf("%+v", in)
	}
	if !reflect.DeepEqual(in.Fields, []string{"Details", "TargetObject"}) {
		t.Errorf("fields = %v", in.Fields)
	}
}

func TestNeeds_RegistryEventRulesOnlyReadCategoriesWithTheirFields(t *testing.T) {
	rs := NewRuleSet(mustParse(t, ruleText("registry_event", "sel:\n    NewName|endswith: '\\Run'\ncondition: sel")))
	var cats []event.Category
	for _, in := range rs.Needs() {
		cats = append(cats, in.Category)
	}
	if !reflect.DeepEqual(cats, []event.Category{event.RegistryRename}) {
		t.Errorf("categories = %v, want only registry_rename (the only one with NewName)", cats)
	}
}

func TestRuleSet_WithoutDropsRulesThatNeedAbsentFields(t *testing.T) {
	needsImage := mustParse(t, ruleText("registry_set", "sel:\n    Image|endswith: '\\reg.exe'\n    TargetObject|endswith: '\\Run\\x'\ncondition: sel"))
	filtersImage := mustParse(t, strings.Replace(ruleText("registry_set", "sel:\n    TargetObject|endswith: '\\Run\\y'\nfilter:\n    Image|endswith: '\\msiexec.exe'\ncondition: sel and not filter"), testID, "22222222-2222-3333-4444-555555555555", 1))
	hive := NewRuleSet(needsImage, filtersImage).Without("Image", "ProcessId")
	needs := hive.Needs()
	if len(needs) != 1 || needs[0].Rules != 1 || !reflect.DeepEqual(needs[0].TargetObjectNeedles, []string{`*\run\y`}) {
		t.Errorf("needs = %+v", needs)
	}
	if got := len(hive.Match(setEvent("TargetObject", `HKLM\Run\y`))); got != 1 {
		t.Errorf("the filter rule matched %d times on hive state, want 1", got)
	}
	if hive.Len() != 2 {
		t.Errorf("Without dropped rules from the listing")
	}
	// With and Filter keep the absent fields.
	if got := hive.With(NewRuleSet()).Needs(); len(got) != 1 || got[0].Rules != 1 {
		t.Errorf("With lost Without: %+v", got)
	}
}

func TestNeeds_KeywordRulesReadAllFields(t *testing.T) {
	if in := interestOf(t, "registry_set", "kw:\n    - evil\nsel:\n    Details: x\ncondition: kw or sel"); !in.AllFields || !reflect.DeepEqual(in.Fields, []string{"Details"}) {
		t.Errorf("%+v", in)
	}
	if in := interestOf(t, "registry_set", "sel:\n    Details: x\ncondition: sel"); in.AllFields {
		t.Errorf("%+v", in)
	}
}
