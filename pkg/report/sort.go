package report

import (
	"cmp"
	"slices"
)

// SortFindings orders findings as the text report groups them: by host, then
// user SID and user, then level (highest first), time, rule and key. The
// sort is stable.
func SortFindings(fs []*Finding) {
	slices.SortStableFunc(fs, func(a, b *Finding) int {
		return cmp.Or(
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.UserSID, b.UserSID),
			cmp.Compare(a.User, b.User),
			cmp.Compare(b.Level, a.Level),
			a.Time.Compare(b.Time),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Value, b.Value),
		)
	})
}
