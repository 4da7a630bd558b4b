package rules_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/rules"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// benchEvents returns hive-state registry_set events shaped like a SOFTWARE
// and an NTUSER hive's values.
func benchEvents(n int) []*event.Event {
	keys := []string{
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run`,
		`HKLM\SOFTWARE\Classes\CLSID\{00000000-0000-0000-0000-%06d}\InprocServer32`,
		`HKU\S-1-5-21-1-2-3-1001\Environment`,
		`HKLM\SYSTEM\CurrentControlSet\Services\svc%d\Parameters`,
		`HKU\S-1-5-21-1-2-3-1001\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\%d`,
	}
	out := make([]*event.Event, n)
	for i := range out {
		k := keys[i%len(keys)]
		if i%len(keys) != 0 && i%len(keys) != 2 {
			k = fmt.Sprintf(k, i)
		}
		out[i] = event.New(event.RegistrySet, time.Time{}).
			Set("EventType", "SetValue").
			Set("TargetObject", k+fmt.Sprintf(`\Value%d`, i)).
			Set("Details", fmt.Sprintf(`C:\Program Files\Vendor\app%d.exe /background`, i)).
			Set("ValueType", "REG_SZ").
			Set("KeyPath", k).
			Set("Hive", "SOFTWARE")
	}
	return out
}

func benchRuleSet(b *testing.B) *rules.RuleSet {
	rs, err := builtinrules.Load()
	if err != nil {
		b.Fatal(err)
	}
	sigma, err := rules.LoadDir(filepath.Join(testcorpus.Dir(b), "sigma", "rules"))
	if err != nil {
		b.Fatal(err)
	}
	return rs.With(sigma)
}

// BenchmarkRuleSet_Match: built-in plus the 247 SigmaHQ registry rules
// against hive values; reported per event.
func BenchmarkRuleSet_Match(b *testing.B) {
	rs := benchRuleSet(b)
	evs := benchEvents(1000)
	b.ResetTimer()
	matches := 0
	for i := 0; i < b.N; i++ {
		matches += len(rs.Match(evs[i%len(evs)]))
	}
	b.ReportMetric(float64(rs.Len()), "rules")
}

// BenchmarkInterest_MayMatch: the scanner's pre-filter, per value.
func BenchmarkInterest_MayMatch(b *testing.B) {
	rs, err := builtinrules.Load()
	if err != nil {
		b.Fatal(err)
	}
	var in rules.Interest
	for _, x := range rs.Needs() {
		if x.Category == event.RegistrySet {
			in = x
		}
	}
	evs := benchEvents(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.MayMatch(evs[i%len(evs)].String("TargetObject"))
	}
}

// BenchmarkLoadDir_SigmaHQ: loading and compiling the 247 SigmaHQ registry
// rules.
func BenchmarkLoadDir_SigmaHQ(b *testing.B) {
	dir := filepath.Join(testcorpus.Dir(b), "sigma", "rules")
	for i := 0; i < b.N; i++ {
		if _, err := rules.LoadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRuleSet_MatchBuiltin: the built-in rules only.
func BenchmarkRuleSet_MatchBuiltin(b *testing.B) {
	rs, err := builtinrules.Load()
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rs.Match(evs[i%len(evs)])
	}
	b.ReportMetric(float64(rs.Len()), "rules")
}
