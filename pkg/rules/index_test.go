package rules_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/rules"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// The category and last-component indexes of a rule set never lose a
// match: on every test event of the built-in rules (and variants of them),
// RuleSet.Match finds exactly the rules that match when each is tried, and
// the scanner's pre-filters accept every event that matches.
func TestRuleSet_IndexesFindWhatEveryRuleFinds(t *testing.T) {
	rs, err := builtinrules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if dir := filepath.Join(testcorpus.Dir(t), "sigma", "rules"); dir != "" {
		sigma, err := rules.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		rs = rs.With(sigma)
	}
	interest := map[event.Category]rules.Interest{}
	for _, in := range rs.Needs() {
		interest[in.Category] = in
	}
	var evs []*event.Event
	for _, r := range rs.Rules() {
		for _, tc := range r.Tests {
			for _, ev := range tc.Events {
				evs = append(evs, ev)
				// Upper-cased, and with the value name changed.
				up := *ev
				up.Fields = ev.Fields.Copy()
				if to, ok := ev.Get("TargetObject"); ok {
					up.Set("TargetObject", strings.ToUpper(event.FormatValue(to)))
				}
				evs = append(evs, &up)
				other := *ev
				other.Fields = ev.Fields.Copy()
				other.Set("TargetObject", ev.String("TargetObject")+`\X`)
				evs = append(evs, &other)
			}
		}
	}
	matched := 0
	for _, ev := range evs {
		var got, want []string
		for _, m := range rs.Match(ev) {
			got = append(got, m.Rule.ID)
		}
		for _, r := range rs.Rules() {
			if r.Match(ev) != nil {
				want = append(want, r.ID)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s %v: index finds %v, every rule finds %v", ev.Category, ev.Fields, got, want)
		}
		if len(want) > 0 {
			matched++
			in, ok := interest[ev.Category]
			to := ev.String("TargetObject")
			if !ok || !in.MayMatch(to) {
				t.Errorf("%s %q matches %v but the interest filter drops it", ev.Category, to, want)
			}
			for k := to; ; {
				i := strings.LastIndexByte(k, '\\')
				if i < 0 {
					break
				}
				k = k[:i]
				if !in.MayMatchUnder(k) {
					t.Errorf("%s %q matches %v but the walk would skip %q", ev.Category, to, want, k)
				}
			}
		}
	}
	t.Logf("%d events, %d matched some of %d rules", len(evs), matched, rs.Len())
	if matched == 0 {
		t.Fatal("no event matched: the test proves nothing")
	}
}
