package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/event"
)

// FuzzLoadRule feeds arbitrary YAML to the loader: it must never panic or
// hang, and a rule that loads must evaluate, explain and self-test safely.
func FuzzLoadRule(f *testing.F) {
	f.Add([]byte(ruleText("registry_set", "sel:\n    TargetObject|endswith: '\\Environment\\Path'\nfilter:\n    Details|contains|all: [a, b]\ncondition: sel and not 1 of filter*")))
	f.Add([]byte(ruleText("registry_event", "sel:\n    - Details|re|i: '^x+$'\n    - Details|base64offset|contains: http\n    - Details|wide|base64|contains: IEX\nkw:\n    - powershell\ncondition: 1 of them")))
	f.Add([]byte(ruleText("registry_set", "sel:\n    Details|windash|contains: ' -a -b -c'\n    Data|gt: 3\n    Image: null\n    ValueName|fieldref: Details\n    Details|cidr: 10.0.0.0/8\ncondition: (sel)")))
	f.Add([]byte(ruleText("registry_set", "sel:\n    Details|exists: true\n    ValueCount|gte: 1\ncondition: sel")))
	f.Add([]byte("title: &a x\nid: *a\n"))
	f.Add([]byte("action: global\n---\ntitle: x\n"))
	f.Add([]byte("action: global\nlevel: low\nlogsource: {category: registry_set}\ndetection: {condition: s}\n---\ntitle: a\nid: " + testID + "\ndetection: {s: {Details: x}}\n---\naction: repeat\ndetection: {s: {Details: y}}\n---\naction: reset\n"))
	f.Add([]byte("detection: {condition: 'a and (b or not (c', a: x}"))
	samples, _ := filepath.Glob(filepath.Join("testdata", "rules", "*", "*.yml"))
	for _, p := range samples {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	ev := setEvent("TargetObject", `HKU\S-1\Environment\Path`, "Details", "powershell -enc aHR0cDovLw==", "Data", []string{"a", "b"},
		"LastWrite", time.Unix(0, 0), "ValueName", "Path", "Image", `C:\x.exe`)
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseAll("fuzz.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range rules {
			fuzzExercise(r, ev)
		}
	})
}

// fuzzExercise runs everything a loaded rule offers on one event.
func fuzzExercise(r *Rule, ev *event.Event) {
	for _, c := range r.Categories() {
		e := *ev
		e.Category = c
		r.Match(&e)
	}
	r.Explain(ev)
	r.Remediation(ev)
	r.RunTests()
	rs := NewRuleSet(r)
	for _, in := range rs.Needs() {
		in.MayMatch(`HKLM\SOFTWARE\X`)
		in.MayMatchUnder(`HKLM\SOFTWARE`)
	}
	rs.Match(ev)
}

// globOracle compiles tokens to an anchored regular expression: an
// independent implementation of the same matching.
func globOracle(toks []globTok) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^`)
	for _, t := range toks {
		switch t.kind {
		case 'l':
			b.WriteString(regexp.QuoteMeta(t.lit))
		case '*':
			b.WriteString(`(?s:.*)`)
		case '?':
			b.WriteString(`(?s:.)`)
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// FuzzGlob checks the wildcard matcher against regular expressions, and
// that a pattern that matches a text can extend every prefix of it.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{`*\environment\*`, `hku\s\environment\path`},
		{`a?c*d`, `aéc--d`},
		{`*a*b?`, `xxaxxbxbz`},
		{`\\*\?x`, `\foo?x`},
		{`hklm\software\*\run\?*`, `hklm\software\wow\run\x`},
		{`*`, ``},
		{`?`, "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		if len(pattern) > 64 || len(text) > 256 || !utf8.ValidString(pattern) {
			return
		}
		toks := mergeStars(parseWildcards(pattern))
		g := newGlob(toks)
		got := g.match(text)
		want := globOracle(toks).MatchString(text)
		if got != want {
			t.Fatalf("pattern %q (tokens %v) on %q: glob %v, regexp %v", pattern, toks, text, got, want)
		}
		if got {
			for i := 0; i <= len(text); i++ {
				if i < len(text) && !utf8.RuneStart(text[i]) {
					continue // key paths are cut at backslashes, never inside a character
				}
				if !g.canExtend(text[:i]) {
					t.Fatalf("pattern %q matches %q but cannot extend its prefix %q", pattern, text, text[:i])
				}
			}
		}
	})
}

var _ = event.RegistrySet

// renderSigma is the inverse of parseWildcards.
func FuzzRenderSigma(f *testing.F) {
	for _, s := range []string{`a\\*b`, `\\\\x*`, `x\`, `\*\?\\`, `c:\users\*`, `\\\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		toks := mergeStars(parseWildcards(v))
		back := renderSigma(toks)
		again := mergeStars(parseWildcards(back))
		if len(again) != len(toks) {
			t.Fatalf("%q renders as %q, which parses differently", v, back)
		}
		for i := range toks {
			if toks[i] != again[i] {
				t.Fatalf("%q renders as %q, which parses differently", v, back)
			}
		}
	})
}
