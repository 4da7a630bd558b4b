package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
)

const testID = "11111111-2222-3333-4444-555555555555"

// ruleText wraps a detection block (written at column 0, indented here) in
// a minimal rule of the given category.
func ruleText(category, detection string) string {
	var b strings.Builder
	b.WriteString("title: test rule\nid: " + testID + "\nlevel: low\nlogsource:\n    product: windows\n    category: " + category + "\ndetection:\n")
	for _, line := range strings.Split(strings.TrimRight(detection, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

func mustParse(t testing.TB, text string) *Rule {
	t.Helper()
	r, err := Parse("test.yml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return r
}

// setEvent builds a registry_set event from name/value pairs.
func setEvent(kv ...any) *event.Event {
	return catEvent(event.RegistrySet, kv...)
}

func catEvent(c event.Category, kv ...any) *event.Event {
	ev := event.New(c, time.Time{})
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Set(kv[i].(string), kv[i+1])
	}
	return ev
}
