package scan

import (
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/rules"
)

// ruleFilter wants only what the loaded rules can match: their categories,
// and within registry categories the keys whose TargetObject some rule's
// pattern can match, so the registry walk skips whole subtrees.
type ruleFilter struct {
	interest map[event.Category]*rules.Interest
}

func newRuleFilter(rs *rules.RuleSet) *ruleFilter {
	f := &ruleFilter{interest: map[event.Category]*rules.Interest{}}
	for _, in := range rs.Needs() {
		in := in
		f.interest[in.Category] = &in
	}
	return f
}

func (f *ruleFilter) WantCategory(c event.Category) bool { return f.interest[c] != nil }

// Descend is asked by the registry walk: it looks at the registry
// categories only.
func (f *ruleFilter) Descend(keyName string) bool {
	for _, c := range []event.Category{event.RegistrySet, event.RegistryKey} {
		if in := f.interest[c]; in != nil && (in.AnyTarget || in.MayMatchUnder(keyName)) {
			return true
		}
	}
	return false
}

func (f *ruleFilter) Want(c event.Category, target string) bool {
	in := f.interest[c]
	if in == nil {
		return false
	}
	return in.AnyTarget || in.MayMatch(target)
}
