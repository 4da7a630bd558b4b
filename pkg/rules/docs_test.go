package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The rule-writing guide documents every modifier and pattern the loader
// accepts, so it cannot fall behind the engine.
func TestGuide_DocumentsEveryModifierAndPattern(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide := string(raw)
	for m := range Modifiers {
		if !strings.Contains(guide, "`"+m+"`") && !strings.Contains(guide, "`re\\|"+m+"`") {
			t.Errorf("docs/rules.md does not document the modifier %q", m)
		}
	}
	for _, p := range Patterns {
		if !strings.Contains(guide, "`"+string(p)+"`") {
			t.Errorf("docs/rules.md does not document the pattern %q", p)
		}
	}
	for k := range topKeys {
		if !strings.Contains(guide, "`"+k+"`") {
			t.Errorf("docs/rules.md does not document the key %q", k)
		}
	}
}

// The guide's complete example rule is a valid rule that passes its tests.
func TestGuide_ExampleRuleLoadsAndPasses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "## A complete rule")
	if !ok {
		t.Fatal("no complete rule section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	r, err := Parse("docs/rules.md example", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if pos, neg := r.TestCounts(); pos == 0 || neg == 0 {
		t.Errorf("example has %d match and %d nomatch cases", pos, neg)
	}
	for _, res := range r.RunTests() {
		if !res.Passed {
			t.Error(res)
		}
	}
	if len(r.Warnings) > 0 {
		t.Error(r.Warnings)
	}
}

// Every detection snippet of the guide loads as a registry_set rule.
func TestGuide_DetectionSnippetsLoad(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(raw), "```yaml\n")[1:]
	n := 0
	for _, b := range blocks {
		b, _, _ = strings.Cut(b, "```")
		if !strings.HasPrefix(b, "detection:\n") {
			continue
		}
		n++
		text := "title: snippet\nid: " + testID + "\nlevel: low\nlogsource: {product: windows, category: registry_set}\n" + b
		r, err := Parse("docs/rules.md snippet", []byte(text))
		if err != nil {
			t.Errorf("%v\n%s", err, b)
			continue
		}
		for _, w := range r.Warnings {
			t.Error(w)
		}
	}
	if n == 0 {
		t.Error("no detection snippet found")
	}
}
