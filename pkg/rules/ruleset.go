package rules

import (
	"sort"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
)

// RuleSet is a set of compiled rules indexed by event category, so that an
// event is only tried against the rules that can match its category. A
// RuleSet is immutable and safe for concurrent use.
type RuleSet struct {
	rules  []*Rule
	absent map[string]bool // fields the events never carry (see Without)
	byID   map[string]*Rule
	byCat  map[event.Category][]*Rule
	index  map[event.Category]*lastIndex
}

// lastIndex narrows the rules of a category by the key path components of
// an event's TargetObject: a rule whose every way to match requires
// TargetObject to end with "\name" is only tried on events whose
// TargetObject ends that way, and one that requires a component "\name\"
// somewhere only on events that have it.
type lastIndex struct {
	byLast map[string][]int // lower-cased last component -> positions in byCat
	byComp map[string][]int // lower-cased inner component -> positions in byCat
	always []int            // rules the index cannot narrow
}

// NewRuleSet builds a rule set. When two rules share an id (compared
// case-insensitively) the later one replaces the earlier, which is how a
// user's rule overrides a built-in one.
func NewRuleSet(rules ...*Rule) *RuleSet {
	return newRuleSet(nil, rules)
}

// Without returns the rule set for events that never carry the named
// fields: hive state, for example, has no Image, ProcessId or CommandLine.
// Rules that cannot match without one of them are left out of Match and
// Needs, and Needs becomes more precise. Rules() still lists every rule.
func (s *RuleSet) Without(fields ...string) *RuleSet {
	absent := map[string]bool{}
	for f := range s.absent {
		absent[f] = true
	}
	for _, f := range fields {
		absent[f] = true
	}
	return newRuleSet(absent, s.rules)
}

func newRuleSet(absent map[string]bool, rules []*Rule) *RuleSet {
	s := &RuleSet{absent: absent, byID: map[string]*Rule{}, byCat: map[event.Category][]*Rule{}}
	for _, r := range rules {
		if r == nil {
			continue
		}
		id := strings.ToLower(r.ID)
		if old, dup := s.byID[id]; dup {
			for i, x := range s.rules {
				if x == old {
					s.rules[i] = r
				}
			}
		} else {
			s.rules = append(s.rules, r)
		}
		s.byID[id] = r
	}
	for _, r := range s.rules {
		for _, c := range r.categories {
			if r.det != nil && possible(r.det.cond, s.availIn(c)) {
				s.byCat[c] = append(s.byCat[c], r)
			}
		}
	}
	s.index = map[event.Category]*lastIndex{}
	for c, rs := range s.byCat {
		idx := &lastIndex{byLast: map[string][]int{}, byComp: map[string][]int{}}
		add := func(m map[string][]int, keys []string, i int) {
			seen := map[string]bool{}
			for _, k := range keys {
				if !seen[k] {
					seen[k] = true
					m[k] = append(m[k], i)
				}
			}
		}
		for i, r := range rs {
			if keys, ok := ruleKeys(r.det.cond, s.availIn(c), lastComponent); ok {
				add(idx.byLast, keys, i)
			} else if keys, ok := ruleKeys(r.det.cond, s.availIn(c), innerComponent); ok {
				add(idx.byComp, keys, i)
			} else {
				idx.always = append(idx.always, i)
			}
		}
		s.index[c] = idx
	}
	return s
}

// lastComponent returns the part of a pattern's required ending after its
// last backslash, when the pattern ends in literal text holding a
// backslash.
func lastComponent(g *glob) (string, bool) {
	if len(g.toks) == 0 {
		return "", false
	}
	t := g.toks[len(g.toks)-1]
	if t.kind != 'l' {
		return "", false
	}
	i := strings.LastIndexByte(t.lit, '\\')
	if i < 0 {
		return "", false
	}
	return t.lit[i+1:], true
}

// innerComponent returns the longest key name a pattern requires between
// two backslashes (\name\ inside one literal run), which a matching
// TargetObject then has as one of its components.
func innerComponent(g *glob) (string, bool) {
	best := ""
	for _, t := range g.toks {
		if t.kind != 'l' {
			continue
		}
		parts := strings.Split(t.lit, `\`)
		for i := 1; i < len(parts)-1; i++ {
			if len(parts[i]) > len(best) {
				best = parts[i]
			}
		}
	}
	return best, best != ""
}

// ruleKeys returns index keys one of which every event matching the
// condition has (keyOf gives a pattern's key); ok is false when the
// condition does not pin them.
func ruleKeys(n cond, avail func(string) bool, keyOf func(*glob) (string, bool)) (keys []string, ok bool) {
	if !possible(n, avail) {
		return nil, true // never matches: no key needed
	}
	switch x := n.(type) {
	case *condSel:
		for _, g := range x.s.groups {
			var best []string
			found := false
			for _, m := range g {
				if m.field != "" && m.needsPresence() && !avail(m.field) {
					found, best = true, nil // this group never matches
					break
				}
				if m.field != "TargetObject" || m.kind != kindString || m.orNull || m.cased {
					continue
				}
				var gs []*glob
				if m.all {
					gs = m.groups[0]
				} else {
					for _, grp := range m.groups {
						gs = append(gs, grp...)
					}
				}
				var ks []string
				all := true
				for _, gl := range gs {
					k, ok := keyOf(gl)
					if !ok {
						all = false
						break
					}
					ks = append(ks, k)
				}
				if all && (!found || len(ks) < len(best)) {
					best, found = ks, true
				}
			}
			if !found {
				return nil, false
			}
			keys = append(keys, best...)
		}
		return keys, true
	case *condOr:
		for _, y := range x.xs {
			k, ok := ruleKeys(y, avail, keyOf)
			if !ok {
				return nil, false
			}
			keys = append(keys, k...)
		}
		return keys, true
	case *condAnd:
		found := false
		for _, y := range x.xs {
			k, ok := ruleKeys(y, avail, keyOf)
			if ok && (!found || len(k) < len(keys)) {
				keys, found = k, true
			}
		}
		return keys, found
	}
	return nil, false
}

// With returns a rule set holding s's rules and other's, other's replacing
// s's where the ids are equal.
func (s *RuleSet) With(other *RuleSet) *RuleSet {
	if other == nil {
		return s
	}
	return newRuleSet(s.absent, append(append([]*Rule(nil), s.rules...), other.rules...))
}

// Filter returns the rules for which keep returns true.
func (s *RuleSet) Filter(keep func(*Rule) bool) *RuleSet {
	var out []*Rule
	for _, r := range s.rules {
		if keep(r) {
			out = append(out, r)
		}
	}
	return newRuleSet(s.absent, out)
}

// Rules returns the rules in load order.
func (s *RuleSet) Rules() []*Rule { return append([]*Rule(nil), s.rules...) }

// Len returns the number of rules.
func (s *RuleSet) Len() int { return len(s.rules) }

// Lookup returns the rule with the given id.
func (s *RuleSet) Lookup(id string) (*Rule, bool) {
	r, ok := s.byID[strings.ToLower(id)]
	return r, ok
}

// Match returns the matches of every rule for one event, in rule order.
func (s *RuleSet) Match(ev *event.Event) []*Match {
	if ev == nil || ev.Fields == nil {
		return nil
	}
	rules := s.byCat[ev.Category]
	if len(rules) == 0 {
		return nil
	}
	c := newCtx(ev)
	defer c.release()
	var out []*Match
	try := func(r *Rule) {
		if m := r.match(c); m != nil {
			out = append(out, m)
		}
	}
	idx := s.index[ev.Category]
	to, ok := ev.Get("TargetObject")
	if _, isText := to.(string); !ok || !isText || idx == nil {
		for _, r := range rules {
			try(r)
		}
		return out
	}
	// Mark the rules that cannot be narrowed and those keyed by the
	// TargetObject's components, then try them in rule order.
	var small [8]uint64
	marks := small[:]
	if n := (len(rules) + 63) / 64; n > len(small) {
		marks = make([]uint64, n)
	}
	mark := func(is []int) {
		for _, i := range is {
			marks[i/64] |= 1 << (i % 64)
		}
	}
	mark(idx.always)
	target := c.get("TargetObject").lowerVals()[0]
	last := strings.LastIndexByte(target, '\\')
	mark(idx.byLast[target[last+1:]])
	if len(idx.byComp) > 0 {
		for rest := target; ; {
			comp, after, more := strings.Cut(rest, `\`)
			mark(idx.byComp[comp])
			if !more {
				break
			}
			rest = after
		}
	}
	for i, r := range rules {
		if marks[i/64]&(1<<(i%64)) != 0 {
			try(r)
		}
	}
	return out
}

// availIn returns whether events of category c may carry a field: the
// category declares it and the set was not told it is absent.
func (s *RuleSet) availIn(c event.Category) func(string) bool {
	return func(name string) bool { return !s.absent[name] && event.HasField(c, name) }
}

// needsPresence reports whether a matcher can only be true when its field
// is present.
func (m *fieldMatcher) needsPresence() bool {
	switch m.kind {
	case kindNull:
		return false
	case kindExists:
		return m.exists
	case kindString:
		return !m.orNull
	}
	return true
}

// refsAvailable reports whether a fieldref matcher can hold: with all
// every referenced field must exist, else one of them.
func (m *fieldMatcher) refsAvailable(avail func(string) bool) bool {
	n := 0
	for _, ref := range m.refs {
		if avail(ref) {
			n++
		}
	}
	if m.all {
		return n == len(m.refs)
	}
	return n > 0
}

// possible reports whether a condition can be true for an event whose
// fields are limited to those avail accepts: a selection that needs a field
// the category does not declare can never match.
func possible(n cond, avail func(string) bool) bool {
	switch x := n.(type) {
	case *condSel:
		for _, g := range x.s.groups {
			ok := true
			for _, m := range g {
				if m.field != "" && m.needsPresence() && !avail(m.field) {
					ok = false
					break
				}
				if m.kind == kindFieldref && !m.refsAvailable(avail) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	case *condNot:
		return true
	case *condAnd:
		for _, y := range x.xs {
			if !possible(y, avail) {
				return false
			}
		}
		return true
	case *condOr:
		for _, y := range x.xs {
			if possible(y, avail) {
				return true
			}
		}
		return false
	}
	return true
}

// Interest says what the rules of one category read, so that a scanner
// produces only the events some rule can match.
type Interest struct {
	Category event.Category
	// Rules is how many rules read this category.
	Rules int
	// AnyTarget is true when some rule does not constrain TargetObject (or
	// constrains it in a way the needles cannot express): every event of
	// the category must be produced.
	AnyTarget bool
	// TargetObjectNeedles are lower-cased Sigma wildcard patterns, matched
	// against the whole lower-cased TargetObject: when AnyTarget is false,
	// an event whose TargetObject matches none of them cannot match any
	// rule.
	TargetObjectNeedles []string
	// Fields are the fields the rules test, sorted.
	Fields []string
	// AllFields is true when some rule searches keywords, which reads every
	// field of the event.
	AllFields bool

	needles []*glob
	// byLast holds the needles that end in "\name", by name; others holds
	// the rest, so MayMatch tries only the needles that can match.
	byLast map[string][]*glob
	others []*glob
}

// MayMatch reports whether an event of this category with the given
// TargetObject can match some rule.
func (in *Interest) MayMatch(targetObject string) bool {
	if in.AnyTarget {
		return true
	}
	t := strings.ToLower(targetObject)
	if in.byLast == nil { // an Interest built by hand
		for _, g := range in.needles {
			if g.match(t) {
				return true
			}
		}
		return false
	}
	for _, g := range in.byLast[t[strings.LastIndexByte(t, '\\')+1:]] {
		if g.match(t) {
			return true
		}
	}
	for _, g := range in.others {
		if g.match(t) {
			return true
		}
	}
	return false
}

// MayMatchUnder reports whether an event for the key keyPath or anything
// below it (subkeys, values: TargetObjects that start with keyPath followed
// by a backslash) can match some rule. A scanner skips the subtree when it
// is false. Needles with a leading wildcard never allow skipping.
func (in *Interest) MayMatchUnder(keyPath string) bool {
	if in.AnyTarget {
		return true
	}
	k := strings.ToLower(keyPath)
	for _, g := range in.needles {
		switch g.mode {
		case '=', '^':
			if strings.HasPrefix(k, g.lit) {
				return true
			}
			if strings.HasPrefix(g.lit, k) && (len(g.lit) == len(k) || g.lit[len(k)] == '\\') {
				return true
			}
			continue
		case '.', '$', '~':
			return true
		}
		if len(g.toks) > 0 && g.toks[0].kind == '*' {
			return true
		}
		if g.canExtend(k) {
			return true
		}
	}
	return false
}

// Needs describes, per category, what the rules read. Categories no rule
// reads are absent.
func (s *RuleSet) Needs() []Interest {
	var out []Interest
	cats := make([]event.Category, 0, len(s.byCat))
	for c := range s.byCat {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i] < cats[j] })
	for _, c := range cats {
		in := Interest{Category: c, Rules: len(s.byCat[c])}
		avail := s.availIn(c)
		seenNeedle := map[string]bool{}
		fields := map[string]bool{}
		for _, r := range s.byCat[c] {
			collectFields(r.det.cond, fields)
			alts, any := targetAlts(r.det.cond, avail)
			if any {
				in.AnyTarget = true
			}
			for _, g := range alts {
				if !seenNeedle[g.src] {
					seenNeedle[g.src] = true
					in.needles = append(in.needles, g)
					in.TargetObjectNeedles = append(in.TargetObjectNeedles, g.src)
				}
			}
		}
		if in.AnyTarget {
			in.needles, in.TargetObjectNeedles = nil, nil
		}
		in.byLast = map[string][]*glob{}
		for _, g := range in.needles {
			if k, ok := lastComponent(g); ok {
				in.byLast[k] = append(in.byLast[k], g)
			} else {
				in.others = append(in.others, g)
			}
		}
		for f := range fields {
			if f == "" {
				in.AllFields = true
				continue
			}
			in.Fields = append(in.Fields, f)
		}
		sort.Strings(in.Fields)
		out = append(out, in)
	}
	return out
}

// collectFields gathers the field names a condition tests; a keyword
// search is recorded under "".
func collectFields(n cond, out map[string]bool) {
	switch x := n.(type) {
	case *condSel:
		for _, g := range x.s.groups {
			for _, m := range g {
				out[m.field] = true
				for _, r := range m.refs {
					out[r] = true
				}
			}
		}
	case *condNot:
		collectFields(x.x, out)
	case *condAnd:
		for _, y := range x.xs {
			collectFields(y, out)
		}
	case *condOr:
		for _, y := range x.xs {
			collectFields(y, out)
		}
	}
}

// anchored reports whether every pattern starts with literal text, which is
// what lets a scanner skip subtrees.
func anchored(gs []*glob) bool {
	for _, g := range gs {
		if len(g.toks) == 0 || g.toks[0].kind != 'l' {
			return false
		}
	}
	return true
}

// targetAlts computes necessary TargetObject patterns for a condition: an
// event can only match when its TargetObject matches one of alts. any is
// true when the condition does not constrain TargetObject that way.
func targetAlts(n cond, avail func(string) bool) (alts []*glob, any bool) {
	if !possible(n, avail) {
		return nil, false
	}
	switch x := n.(type) {
	case *condSel:
		for _, g := range x.s.groups {
			impossible := false
			var best []*glob
			for _, m := range g {
				if m.field != "" && m.needsPresence() && !avail(m.field) {
					impossible = true
					break
				}
				if m.field != "TargetObject" || m.kind != kindString || m.orNull || m.cased {
					continue
				}
				var gs []*glob
				if m.all {
					gs = m.groups[0]
				} else {
					for _, grp := range m.groups {
						gs = append(gs, grp...)
					}
				}
				if best == nil || (anchored(gs) && !anchored(best)) {
					best = gs
				}
			}
			if impossible {
				continue
			}
			if best == nil {
				return nil, true
			}
			alts = append(alts, best...)
		}
		return alts, false
	case *condNot:
		return nil, true
	case *condOr:
		for _, y := range x.xs {
			if !possible(y, avail) {
				continue
			}
			a, any := targetAlts(y, avail)
			if any {
				return nil, true
			}
			alts = append(alts, a...)
		}
		return alts, false
	case *condAnd:
		var best []*glob
		found := false
		for _, y := range x.xs {
			a, any := targetAlts(y, avail)
			if any {
				continue
			}
			if !found || (anchored(a) && !anchored(best)) || (anchored(a) == anchored(best) && len(a) < len(best)) {
				best, found = a, true
			}
		}
		if !found {
			return nil, true
		}
		return best, false
	}
	return nil, true
}
