package builtinrules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/rules"
)

// Every built-in rule loads, has an envhunt block with a pattern, ATT&CK
// tags, an explain sentence, at least one case that must match and one that
// must not, and passes them all.
func TestBuiltinRules_LoadAndPassTheirTests(t *testing.T) {
	rs, err := Load()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			t.Error(line)
		}
	}
	if rs.Len() == 0 {
		t.Fatal("no built-in rules embedded")
	}
	for _, r := range rs.Rules() {
		if r.Pattern == "" {
			t.Errorf("%s: built-in rule %s has no envhunt pattern", r.File, r.ID)
		}
		if len(r.Attack()) == 0 {
			t.Errorf("%s: built-in rule %s has no attack.tNNNN tag", r.File, r.ID)
		}
		for _, w := range r.Warnings {
			t.Error(w)
		}
		if r.ExplainTemplate == "" {
			t.Errorf("%s: built-in rule %s has no explain", r.File, r.ID)
		}
		pos, neg := r.TestCounts()
		if pos == 0 || neg == 0 {
			t.Errorf("%s: built-in rule %s needs at least one match and one nomatch test (has %d and %d)", r.File, r.ID, pos, neg)
		}
		for _, res := range r.RunTests() {
			if !res.Passed && !res.Skipped {
				t.Error(res.String())
			}
		}
	}
}

// Built-in rules sit in a folder named after their pattern (env/ holds the
// environment-value rules of several patterns).
func TestBuiltinRules_FolderMatchesPattern(t *testing.T) {
	rs, _ := Load()
	for _, r := range rs.Rules() {
		dir, _, ok := strings.Cut(r.File, "/")
		if !ok {
			t.Errorf("%s: built-in rules go in a folder per pattern", r.File)
			continue
		}
		if dir != string(r.Pattern) && dir != "env" {
			t.Errorf("%s: pattern %q but folder %q", r.File, r.Pattern, dir)
		}
	}
}

func ExampleLoad() {
	rs, err := Load()
	if err != nil {
		fmt.Println(err) // a built-in rule that does not load is a defect
		return
	}
	high := rs.Filter(func(r *rules.Rule) bool { return r.Level >= rules.High })
	fmt.Println(rs.Len() > 0, high.Len() > 0, len(rs.Needs()) > 0)
	// Output: true true true
}
