package rules_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/rules"
	builtinrules "github.com/envhunt/envhunt/rules"
	"gopkg.in/yaml.v3"
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

// sigmaValues collects the string values of one field from every SigmaHQ
// rule file, with wildcards replaced by sample text.
func sigmaValues(t *testing.T, dir, field string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yml") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var doc struct {
			Detection map[string]any `yaml:"detection"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return err
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, val := range x {
					if strings.SplitN(k, "|", 2)[0] == field {
						switch vv := val.(type) {
						case string:
							out = append(out, vv)
						case []any:
							for _, e := range vv {
								if s, ok := e.(string); ok {
									out = append(out, s)
								}
							}
						}
					} else {
						walk(val)
					}
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(doc.Detection)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(`\\`, `\`, `*`, "abc", `?`, "z")
	for i, v := range out {
		out[i] = r.Replace(v)
	}
	return out
}

// Events built from the SigmaHQ rules' own TargetObject and Details values
// (so that many rules fire) find the same rules through the indexes as by
// trying every rule.
func TestRuleSet_IndexesAgreeOnEventsBuiltFromSigmaHQValues(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "sigma", "rules")
	sigma, err := rules.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := builtinrules.Load()
	if err != nil {
		t.Fatal(err)
	}
	rs := builtin.With(sigma)
	interest := map[event.Category]rules.Interest{}
	for _, in := range rs.Needs() {
		interest[in.Category] = in
	}
	{
		targets := sigmaValues(t, dir, "TargetObject")
		details := sigmaValues(t, dir, "Details")
		matched, total := 0, 0
		for i, to := range targets {
			d := details[i%len(details)]
			for _, full := range []string{to, `HKLM\SOFTWARE` + to, `HKU\S-1-5-21-1` + to + `\Run`, to + `\x`} {
				for _, cat := range []event.Category{event.RegistrySet, event.RegistryKey} {
					ev := event.New(cat, time.Time{}).Set("TargetObject", full)
					if cat == event.RegistrySet {
						ev.Set("Details", d).Set("EventType", "SetValue")
					}
					total++
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
						t.Errorf("%s %q: index finds %v, every rule finds %v", cat, full, got, want)
					}
					if len(want) > 0 {
						matched++
						if in, ok := interest[cat]; !ok || !in.MayMatch(full) {
							t.Errorf("%s %q matches %v but the interest filter drops it", cat, full, want)
						}
					}
				}
			}
		}
		t.Logf("%d events, %d matched some rule", total, matched)
		if matched < 100 {
			t.Errorf("only %d events matched: the test proves little", matched)
		}
	}
}

// For the built-in rules alone (whose needles are precise, unlike SigmaHQ's
// unpinned rules), the scanner's pre-filters accept every test event that
// matches.
func TestInterest_BuiltinFiltersKeepEveryMatchingTestEvent(t *testing.T) {
	rs, err := builtinrules.Load()
	if err != nil {
		t.Fatal(err)
	}
	interest := map[event.Category]rules.Interest{}
	for _, in := range rs.Needs() {
		interest[in.Category] = in
	}
	pinned, checked := 0, 0
	for _, r := range rs.Rules() {
		for _, tc := range r.Tests {
			for _, ev := range tc.Events {
				if r.Match(ev) == nil {
					continue
				}
				in, ok := interest[ev.Category]
				if !ok {
					t.Errorf("%s: no interest in %s", r.ID, ev.Category)
					continue
				}
				checked++
				if in.AnyTarget {
					continue
				}
				pinned++
				to := ev.String("TargetObject")
				if !in.MayMatch(to) {
					t.Errorf("%s %q matches %s but MayMatch drops it", ev.Category, to, r.ID)
				}
				for k := to; strings.Contains(k, `\`); {
					k = k[:strings.LastIndexByte(k, '\\')]
					if !in.MayMatchUnder(k) {
						t.Errorf("%s %q matches %s but the walk would skip %q", ev.Category, to, r.ID, k)
					}
				}
			}
		}
	}
	t.Logf("%d matching test events, %d in pinned categories", checked, pinned)
	if pinned == 0 {
		t.Error("no pinned category: the test proves nothing")
	}
}
