package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
)

// detection is a compiled detection section: the condition tree over
// compiled selections.
type detection struct {
	cond cond
}

// fieldText is one field of the event being matched, rendered once per
// event and shared by every rule that reads it.
type fieldText struct {
	name    string
	value   any
	present bool
	raw     []string
	lower   []string
	lowered bool
	// one and oneLower back raw and lower for single values, so the common
	// case allocates nothing but the lower-cased text.
	one, oneLower [1]string
}

// evalCtx is the state of matching one event; it caches field renderings.
// Contexts are pooled: Match takes one and returns it.
type evalCtx struct {
	ev      *event.Event
	inline  [8]fieldText
	n       int
	more    []*fieldText // fields beyond the inline ones
	matched []string
}

var ctxPool = sync.Pool{New: func() any { return new(evalCtx) }}

// newCtx returns a cleared context for ev.
func newCtx(ev *event.Event) *evalCtx {
	c := ctxPool.Get().(*evalCtx)
	c.ev = ev
	return c
}

// release clears the context (dropping references to the event) and pools
// it.
func (c *evalCtx) release() {
	for i := 0; i < c.n; i++ {
		c.inline[i] = fieldText{}
	}
	c.n = 0
	clear(c.more) // drop the event's values
	c.more = c.more[:0]
	c.matched = c.matched[:0]
	c.ev = nil
	ctxPool.Put(c)
}

func (c *evalCtx) get(name string) *fieldText {
	for i := 0; i < c.n; i++ {
		if c.inline[i].name == name {
			return &c.inline[i]
		}
	}
	for _, f := range c.more {
		if f.name == name {
			return f
		}
	}
	var f *fieldText
	if c.n < len(c.inline) {
		f = &c.inline[c.n]
		c.n++
	} else {
		f = &fieldText{}
		c.more = append(c.more, f)
	}
	f.name = name
	if v, ok := c.ev.Get(name); ok && v != nil {
		f.present = true
		f.value = v
		switch x := v.(type) {
		case string:
			f.one[0] = x
			f.raw = f.one[:]
		case []string:
			f.raw = x
		default:
			f.one[0] = event.FormatValue(v)
			f.raw = f.one[:]
		}
	}
	return f
}

func (f *fieldText) lowerVals() []string {
	if !f.lowered {
		if len(f.raw) == 1 {
			f.oneLower[0] = strings.ToLower(f.raw[0])
			f.lower = f.oneLower[:]
		} else {
			f.lower = make([]string, len(f.raw))
			for i, s := range f.raw {
				f.lower[i] = strings.ToLower(s)
			}
		}
		f.lowered = true
	}
	return f.lower
}

// empty reports whether the field is absent or holds only empty text (what
// a Sigma null matches).
func (f *fieldText) empty() bool {
	if !f.present {
		return true
	}
	for _, s := range f.raw {
		if s != "" {
			return false
		}
	}
	return true
}

func (c *evalCtx) eval(n cond, collect bool) bool {
	switch x := n.(type) {
	case *condSel:
		return c.evalSel(x.s, collect)
	case *condNot:
		return !c.eval(x.x, false)
	case *condAnd:
		mark := len(c.matched)
		for _, y := range x.xs {
			if !c.eval(y, collect) {
				c.matched = c.matched[:mark]
				return false
			}
		}
		return true
	case *condOr:
		for _, y := range x.xs {
			if c.eval(y, collect) {
				return true
			}
		}
		return false
	}
	return false
}

func (c *evalCtx) evalSel(s *selection, collect bool) bool {
	for _, g := range s.groups {
		mark := len(c.matched)
		ok := true
		for _, m := range g {
			if !c.evalField(m, collect) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
		c.matched = c.matched[:mark]
	}
	return false
}

func (c *evalCtx) evalField(m *fieldMatcher, collect bool) bool {
	if m.field == "" {
		for _, name := range c.ev.Names() {
			f := c.get(name)
			if f.present && m.matchStrings(f) {
				if collect {
					c.matched = append(c.matched, name)
				}
				return true
			}
		}
		return false
	}
	f := c.get(m.field)
	var ok bool
	switch m.kind {
	case kindNull:
		return f.empty()
	case kindExists:
		return f.present == m.exists
	case kindString:
		ok = (f.present && m.matchStrings(f)) || (m.orNull && f.empty())
	case kindCompare:
		ok = f.present && m.compare(f)
	case kindRegexp:
		ok = f.present && m.matchRegexp(f)
	case kindCIDR:
		ok = f.present && m.matchCIDR(f)
	case kindFieldref:
		ok = f.present && m.matchRef(c, f)
	case kindTimePart:
		ok = f.present && m.matchTimePart(f)
	}
	if ok && collect && f.present {
		c.matched = append(c.matched, m.field)
	}
	return ok
}

func (m *fieldMatcher) matchStrings(f *fieldText) bool {
	vals := f.raw
	if !m.cased {
		vals = f.lowerVals()
	}
	for _, s := range vals {
		if m.matchOne(s) {
			return true
		}
	}
	return false
}

// matchOne matches one text against the value groups.
func (m *fieldMatcher) matchOne(s string) bool {
	for _, g := range m.groups {
		hit := false
		for _, gl := range g {
			if gl.match(s) {
				hit = true
				break
			}
		}
		if m.all && !hit {
			return false
		}
		if !m.all && hit {
			return true
		}
	}
	return m.all
}

func (m *fieldMatcher) matchRegexp(f *fieldText) bool {
	for _, s := range f.raw {
		all := true
		for _, re := range m.res {
			if re.MatchString(s) {
				if !m.all {
					return true
				}
			} else {
				all = false
			}
		}
		if m.all && all {
			return true
		}
	}
	return false
}

func (m *fieldMatcher) matchCIDR(f *fieldText) bool {
	for _, s := range f.raw {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		a = a.Unmap()
		all := true
		for _, p := range m.prefixes {
			if p.Contains(a) {
				if !m.all {
					return true
				}
			} else {
				all = false
			}
		}
		if m.all && all {
			return true
		}
	}
	return false
}

// number reads a field value as a number: integers as they are, text as a
// decimal or 0x number, or Sysmon's "DWORD (0x...)" / "QWORD (0x...-0x...)"
// rendering of registry data.
func number(v any, s string) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "DWORD (0x") && strings.HasSuffix(s, ")") {
		u, err := strconv.ParseUint(s[9:len(s)-1], 16, 32)
		return float64(u), err == nil
	}
	if strings.HasPrefix(s, "QWORD (0x") && strings.HasSuffix(s, ")") {
		hi, lo, ok := strings.Cut(s[9:len(s)-1], "-0x")
		if !ok {
			return 0, false
		}
		h, err1 := strconv.ParseUint(hi, 16, 32)
		l, err2 := strconv.ParseUint(lo, 16, 32)
		return float64(h<<32 | l), err1 == nil && err2 == nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(u), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func (m *fieldMatcher) compare(f *fieldText) bool {
	var nums []float64
	if len(f.raw) == 1 {
		if n, ok := number(f.value, f.raw[0]); ok {
			nums = append(nums, n)
		}
	} else {
		for _, s := range f.raw {
			if n, ok := number(nil, s); ok {
				nums = append(nums, n)
			}
		}
	}
	for _, n := range nums {
		for _, v := range m.cmpVal {
			var ok bool
			switch m.cmpOp {
			case "gt":
				ok = n > v
			case "gte":
				ok = n >= v
			case "lt":
				ok = n < v
			case "lte":
				ok = n <= v
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func (m *fieldMatcher) matchRef(c *evalCtx, f *fieldText) bool {
	mine := f.raw
	if !m.cased {
		mine = f.lowerVals()
	}
	one := func(ref string) bool {
		o := c.get(ref)
		if !o.present {
			return false
		}
		theirs := o.raw
		if !m.cased {
			theirs = o.lowerVals()
		}
		for _, a := range mine {
			for _, b := range theirs {
				var ok bool
				switch m.refMode {
				case '=':
					ok = a == b
				case '^':
					ok = strings.HasPrefix(a, b)
				case '$':
					ok = strings.HasSuffix(a, b)
				case '~':
					ok = strings.Contains(a, b)
				}
				if ok {
					return true
				}
			}
		}
		return false
	}
	for _, ref := range m.refs {
		ok := one(ref)
		if m.all && !ok {
			return false
		}
		if !m.all && ok {
			return true
		}
	}
	return m.all
}

// matchTimePart compares one part of a time field (a time.Time, or text in
// RFC 3339) with the wanted values.
func (m *fieldMatcher) matchTimePart(f *fieldText) bool {
	var times []time.Time
	if t, ok := f.value.(time.Time); ok {
		times = append(times, t)
	} else {
		for _, s := range f.raw {
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
				times = append(times, t)
			}
		}
	}
	for _, t := range times {
		t = t.UTC()
		var got int64
		switch m.timePart {
		case "minute":
			got = int64(t.Minute())
		case "hour":
			got = int64(t.Hour())
		case "day":
			got = int64(t.Day())
		case "week":
			_, w := t.ISOWeek()
			got = int64(w)
		case "month":
			got = int64(t.Month())
		case "year":
			got = int64(t.Year())
		}
		for _, want := range m.parts {
			if got == want {
				return true
			}
		}
	}
	return false
}

// Match is one rule matching one event.
type Match struct {
	Rule  *Rule
	Event *event.Event
	// Fields names the event's fields that the matching selections tested,
	// in the order they were tested, without duplicates (fields under "not"
	// are not included).
	Fields []string
}

// Explain renders the rule's explain template for the matched event.
func (m *Match) Explain() string { return m.Rule.Explain(m.Event) }

// Remediation renders the rule's remediation template for the matched
// event.
func (m *Match) Remediation() string { return m.Rule.Remediation(m.Event) }

// Reads reports whether the rule reads events of category c.
func (r *Rule) Reads(c event.Category) bool {
	for _, x := range r.categories {
		if x == c {
			return true
		}
	}
	return false
}

// Match matches one event against the rule and returns the match, or nil.
// Events of a category the rule does not read never match.
func (r *Rule) Match(ev *event.Event) *Match {
	if ev == nil || ev.Fields == nil || r.det == nil || !r.Reads(ev.Category) {
		return nil
	}
	c := newCtx(ev)
	defer c.release()
	return r.match(c)
}

func (r *Rule) match(c *evalCtx) *Match {
	c.matched = c.matched[:0]
	if !c.eval(r.det.cond, true) {
		return nil
	}
	var fields []string
	for _, f := range c.matched {
		dup := false
		for _, g := range fields {
			if g == f {
				dup = true
				break
			}
		}
		if !dup {
			fields = append(fields, f)
		}
	}
	return &Match{Rule: r, Event: c.ev, Fields: fields}
}
