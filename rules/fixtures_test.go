package builtinrules_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/scan"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// Built-in test cases that name a fixture file (a hive, trace or event log
// beside the rule) pass when the scanner reads that file.
func TestBuiltinRules_FixtureCasesPass(t *testing.T) {
	rs, err := builtinrules.Load()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	n := 0
	load := func(r *rules.Rule, fixture string) ([]*event.Event, error) {
		data, err := fs.ReadFile(builtinrules.FS(), path.Join(path.Dir(r.File), fixture))
		if err != nil {
			return nil, err
		}
		n++
		dir := filepath.Join(tmp, fmt.Sprint(n))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, path.Base(fixture))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		var evs []*event.Event
		sum, err := scan.Events(context.Background(), []string{p}, scan.Options{Jobs: 1}, func(ev *event.Event) error {
			evs = append(evs, ev)
			return nil
		})
		if err == nil && sum.Partial() {
			err = fmt.Errorf("read only in part: %s", strings.Join(sum.Problems(), "; "))
		}
		return evs, err
	}
	for _, r := range rs.Rules() {
		for _, res := range r.RunTestsWith(load) {
			if res.Case.Fixture != "" && !res.Passed {
				t.Error(res.String())
			}
		}
	}
	if n == 0 {
		t.Skip("no built-in rule has a fixture case yet")
	}
	t.Logf("%d fixture cases", n)
}
