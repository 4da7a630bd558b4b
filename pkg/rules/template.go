package rules

import (
	"strings"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/event"
	"gopkg.in/yaml.v3"
)

// template is a compiled explain or remediation text: literal text with
// {{Field}} and {{Field|fallback}} placeholders.
type template struct {
	segs []tseg
}

type tseg struct {
	lit      string
	field    string
	fallback string
	isField  bool
}

// maxPlaceholderLen bounds how much of one field value a rendered text
// shows; longer values are cut with an ellipsis.
const maxPlaceholderLen = 1024

// absentText stands for a field the event does not carry, when the
// placeholder gives no fallback.
const absentText = "(unknown)"

func (l *loader) parseTemplate(n *yaml.Node, s string) template {
	var t template
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				t.segs = append(t.segs, tseg{lit: s})
			}
			return t
		}
		if i > 0 {
			t.segs = append(t.segs, tseg{lit: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			l.errorf(n, "unclosed {{ in template")
			return t
		}
		inner := s[i+2 : i+j]
		name, fallback, hasFallback := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		if name == "" {
			l.errorf(n, "empty placeholder {{}} in template")
		} else if !l.fieldKnown(name) {
			l.unknownField(n, name)
		}
		seg := tseg{field: name, isField: true, fallback: absentText}
		if hasFallback {
			seg.fallback = fallback
		}
		t.segs = append(t.segs, seg)
		s = s[i+j+2:]
	}
}

func (t template) render(ev *event.Event) string {
	var b strings.Builder
	for _, s := range t.segs {
		if !s.isField {
			b.WriteString(s.lit)
			continue
		}
		v := ""
		if ev != nil && ev.Fields != nil {
			if x, ok := ev.Get(s.field); ok {
				if list, isList := x.([]string); isList {
					v = strings.Join(list, "; ") // one line, even for REG_MULTI_SZ
				} else {
					v = event.FormatValue(x)
				}
			}
		}
		if v == "" {
			v = s.fallback
		}
		if len(v) > maxPlaceholderLen {
			cut := maxPlaceholderLen
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			v = v[:cut] + "…"
		}
		b.WriteString(v)
	}
	return b.String()
}

// Explain renders the rule's explain template with the event's fields. For
// a rule without one it returns the title. The text holds evidence data
// as is: writers must escape it for their format.
func (r *Rule) Explain(ev *event.Event) string {
	if len(r.explain.segs) == 0 {
		return r.Title
	}
	return r.explain.render(ev)
}

// Remediation renders the rule's remediation template with the event's
// fields ("" when the rule has none).
func (r *Rule) Remediation(ev *event.Event) string {
	return r.remediation.render(ev)
}
