package rules

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"gopkg.in/yaml.v3"
)

// Modifiers lists every field modifier the engine knows, with what it does.
// "expand" is recognised so that its error can say it is unsupported.
var Modifiers = map[string]string{
	"contains":     "the value may appear anywhere in the field (wraps it in *)",
	"startswith":   "the field starts with the value",
	"endswith":     "the field ends with the value",
	"all":          "every value of the list must match (default: any)",
	"re":           "the value is a Go RE2 regular expression, case-sensitive, unanchored",
	"i":            "after re: case-insensitive",
	"m":            "after re: ^ and $ match at line breaks",
	"s":            "after re: . matches line breaks",
	"base64":       "match the base64 encoding of the value",
	"base64offset": "match the base64 encoding of the value at any of the three byte offsets (use with contains)",
	"wide":         "before base64/base64offset: encode the value as UTF-16LE first",
	"utf16le":      "same as wide",
	"utf16be":      "before base64/base64offset: encode the value as UTF-16BE first",
	"utf16":        "before base64/base64offset: encode the value as UTF-16LE with a byte-order mark first",
	"windash":      "a dash starting a command-line option also matches /, en dash, em dash and horizontal bar",
	"cidr":         "the field is an IP address inside the value's network",
	"exists":       "value true: the field is present; false: it is absent",
	"gt":           "the field is a number greater than the value",
	"gte":          "the field is a number greater than or equal to the value",
	"lt":           "the field is a number less than the value",
	"lte":          "the field is a number less than or equal to the value",
	"fieldref":     "the value names another field whose value this field must equal (or contain/start/end with)",
	"cased":        "case-sensitive matching",
	"expand":       "not supported: placeholders are resolved by a Sigma pipeline, which envhunt does not have",
	"ignorecase":   "same as i",
	"multiline":    "same as m",
	"dotall":       "same as s",
	"minute":       "the field is a time whose minute (UTC) is the value",
	"hour":         "the field is a time whose hour (UTC) is the value",
	"day":          "the field is a time whose day of the month (UTC) is the value",
	"week":         "the field is a time whose ISO week (UTC) is the value",
	"month":        "the field is a time whose month (UTC, 1-12) is the value",
	"year":         "the field is a time whose year (UTC) is the value",
}

// modifierAliases are pySigma's long names of the re sub-modifiers.
var modifierAliases = map[string]string{"ignorecase": "i", "multiline": "m", "dotall": "s"}

// timeParts are the modifiers that compare one part of a time field.
var timeParts = []string{"minute", "hour", "day", "week", "month", "year"}

// Matcher kinds.
const (
	kindString   = 's'
	kindNull     = 'n'
	kindExists   = 'e'
	kindCompare  = 'c'
	kindRegexp   = 'r'
	kindCIDR     = 'i'
	kindFieldref = 'f'
	kindTimePart = 't'
)

// fieldMatcher is one "Field|modifiers: values" entry of a selection,
// compiled.
type fieldMatcher struct {
	field string // "" for a keyword search over every field
	mods  []string
	kind  byte
	all   bool
	cased bool

	// kindString: each group is the alternatives one rule value expanded
	// to (base64offset and windash give several); with all every group
	// must match, else any.
	groups [][]*glob
	orNull bool // a null in the value list: absent or empty also matches

	exists bool // kindExists

	cmpOp  string // kindCompare
	cmpVal []float64

	res []*regexp.Regexp // kindRegexp

	prefixes []netip.Prefix // kindCIDR

	refs    []string // kindFieldref
	refMode byte     // '=', '^', '$', '~'

	timePart string  // kindTimePart: minute, hour, ...
	parts    []int64 // kindTimePart: the wanted values

	line, col int
}

// ruleValue is one scalar of a detection value.
type ruleValue struct {
	text   string // Sigma notation for strings; canonical text for numbers and bools
	isStr  bool
	isNum  bool
	isBool bool
	null   bool
	node   *yaml.Node
}

func scalarValue(n *yaml.Node) (ruleValue, bool) {
	if n.Kind != yaml.ScalarNode {
		return ruleValue{}, false
	}
	v := ruleValue{node: n}
	switch n.ShortTag() {
	case "!!null":
		v.null = true
	case "!!int":
		// Numbers compare as the text written in the rule: 00000429 (a
		// keyboard layout) stays 00000429, as Sigma's own YAML reading
		// keeps it.
		v.isNum = true
		v.text = n.Value
	case "!!float":
		v.isNum = true
		v.text = n.Value
	case "!!bool":
		v.isBool = true
		var b bool
		_ = n.Decode(&b)
		v.text = strconv.FormatBool(b)
	default:
		v.isStr = true
		v.text = n.Value
	}
	return v, true
}

// fieldSpec is one selection entry being compiled: "Field|mods: values".
type fieldSpec struct {
	key       string // as written, for messages
	keyNode   *yaml.Node
	valNode   *yaml.Node
	vals      []ruleValue
	has       map[string]bool
	placement string // "", "contains", "startswith" or "endswith"
}

// compileField compiles one selection entry. key is "Field|mod|mod";
// fieldless entries are keyword searches over every field.
func (l *loader) compileField(keyNode, valNode *yaml.Node, fieldless bool) *fieldMatcher {
	key := keyNode.Value
	parts := strings.Split(key, "|")
	if fieldless && !strings.HasPrefix(key, "|") {
		parts = []string{""} // a plain list of keywords
	}
	m := &fieldMatcher{field: parts[0], mods: parts[1:], line: keyNode.Line, col: keyNode.Column}
	if fieldless {
		m.field = ""
	} else if m.field == "" {
		l.errorf(keyNode, "empty field name in %q", key)
		return nil
	} else if !l.fieldKnown(m.field) {
		l.unknownField(keyNode, m.field)
		return nil
	}
	sp := &fieldSpec{key: key, keyNode: keyNode, valNode: valNode}
	if !l.fieldValues(sp) || !l.fieldModifiers(sp, m) {
		return nil
	}
	has := sp.has
	var ok bool
	switch {
	case has["exists"]:
		ok = l.compileExists(sp, m)
	case has["gt"] || has["gte"] || has["lt"] || has["lte"]:
		ok = l.compileCompare(sp, m)
	case has["cidr"]:
		ok = l.compileCIDR(sp, m)
	case has["re"]:
		ok = l.compileRegexp(sp, m)
	case has["fieldref"]:
		ok = l.compileFieldref(sp, m)
	case has["minute"] || has["hour"] || has["day"] || has["week"] || has["month"] || has["year"]:
		ok = l.compileTimePart(sp, m)
	default:
		if fieldless && sp.placement == "" {
			sp.placement = "contains" // keywords search inside every field
		}
		ok = l.compileStrings(sp, m)
	}
	if !ok {
		return nil
	}
	return m
}

// fieldValues reads the value or list of values of an entry.
func (l *loader) fieldValues(sp *fieldSpec) bool {
	switch n := sp.valNode; n.Kind {
	case yaml.ScalarNode:
		v, _ := scalarValue(n)
		sp.vals = append(sp.vals, v)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			l.errorf(n, "%s: empty list of values", sp.key)
			return false
		}
		for _, c := range n.Content {
			v, ok := scalarValue(c)
			if !ok {
				l.errorf(c, "%s: a value must be a string, number, boolean or null, not a %s", sp.key, kindName(c))
				return false
			}
			sp.vals = append(sp.vals, v)
		}
	default:
		l.errorf(n, "%s: a value must be a string, number, boolean, null or a list of them, not a %s", sp.key, kindName(n))
		return false
	}
	return true
}

// fieldModifiers checks the modifiers of an entry: known, not repeated,
// one placement at most, no null value with modifiers.
func (l *loader) fieldModifiers(sp *fieldSpec, m *fieldMatcher) bool {
	sp.has = map[string]bool{}
	for i, mod := range m.mods {
		if a, ok := modifierAliases[mod]; ok {
			m.mods[i] = a
		}
	}
	for _, mod := range m.mods {
		if _, ok := Modifiers[mod]; !ok {
			if hint := didYouMean(mod, modifierNames()); hint != "" {
				l.errorf(sp.keyNode, "%s: unknown modifier %q%s", sp.key, mod, hint)
			} else {
				l.errorf(sp.keyNode, "%s: unknown modifier %q (known: %s)", sp.key, mod, strings.Join(modifierNames(), ", "))
			}
			return false
		}
		if sp.has[mod] {
			l.errorf(sp.keyNode, "%s: modifier %q given twice", sp.key, mod)
			return false
		}
		sp.has[mod] = true
	}
	if sp.has["expand"] {
		l.errorf(sp.keyNode, "%s: modifier \"expand\" is not supported: its placeholders are filled by a Sigma processing pipeline, which envhunt does not run; replace the placeholder with the values", sp.key)
		return false
	}
	m.all = sp.has["all"]
	m.cased = sp.has["cased"]
	for _, p := range []string{"contains", "startswith", "endswith"} {
		if sp.has[p] {
			if sp.placement != "" {
				l.errorf(sp.keyNode, "%s: modifiers %q and %q exclude each other", sp.key, sp.placement, p)
				return false
			}
			sp.placement = p
		}
	}
	for _, v := range sp.vals {
		if v.null && len(m.mods) > 0 {
			l.errorf(v.node, "%s: null (field absent or empty) cannot be used with modifiers", sp.key)
			return false
		}
	}
	return true
}

// allowOnly reports an error for any modifier of m besides what and
// allowed.
func (l *loader) allowOnly(sp *fieldSpec, m *fieldMatcher, what string, allowed ...string) bool {
	ok := map[string]bool{what: true}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, mod := range m.mods {
		if !ok[mod] {
			l.errorf(sp.keyNode, "%s: modifier %q cannot be combined with %q", sp.key, mod, what)
			return false
		}
	}
	return true
}

func (l *loader) compileExists(sp *fieldSpec, m *fieldMatcher) bool {
	if !l.allowOnly(sp, m, "exists") {
		return false
	}
	if len(sp.vals) != 1 || !sp.vals[0].isBool {
		l.errorf(sp.valNode, "%s: exists takes true or false", sp.key)
		return false
	}
	m.kind = kindExists
	m.exists = sp.vals[0].text == "true"
	return true
}

func (l *loader) compileCompare(sp *fieldSpec, m *fieldMatcher) bool {
	op := ""
	for _, o := range []string{"gt", "gte", "lt", "lte"} {
		if sp.has[o] {
			op = o
		}
	}
	if !l.allowOnly(sp, m, op) {
		return false
	}
	m.kind, m.cmpOp = kindCompare, op
	for _, v := range sp.vals {
		f, err := strconv.ParseFloat(v.text, 64)
		if !v.isNum || err != nil || math.IsNaN(f) {
			l.errorf(v.node, "%s: %s takes a number, not %q", sp.key, op, v.text)
			return false
		}
		m.cmpVal = append(m.cmpVal, f)
	}
	return true
}

func (l *loader) compileCIDR(sp *fieldSpec, m *fieldMatcher) bool {
	if !l.allowOnly(sp, m, "cidr", "all") {
		return false
	}
	m.kind = kindCIDR
	for _, v := range sp.vals {
		p, err := netip.ParsePrefix(strings.TrimSpace(v.text))
		if err != nil {
			l.errorf(v.node, "%s: %q is not a network in CIDR notation (%v)", sp.key, v.text, err)
			return false
		}
		m.prefixes = append(m.prefixes, p.Masked())
	}
	return true
}

func (l *loader) compileRegexp(sp *fieldSpec, m *fieldMatcher) bool {
	if !l.allowOnly(sp, m, "re", "i", "m", "s", "all") {
		return false
	}
	m.kind = kindRegexp
	flags := ""
	for _, f := range []string{"i", "m", "s"} {
		if sp.has[f] {
			flags += f
		}
	}
	for _, v := range sp.vals {
		if !v.isStr {
			l.errorf(v.node, "%s: a regular expression must be a string", sp.key)
			return false
		}
		if len(v.text) > maxRegexpLen {
			l.errorf(v.node, "%s: regular expression longer than %d bytes", sp.key, maxRegexpLen)
			return false
		}
		src := v.text
		if flags != "" {
			src = "(?" + flags + ")" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			l.errorf(v.node, "%s: bad regular expression %q: %v (Go RE2 syntax: no look-around or back-references)", sp.key, v.text, err)
			return false
		}
		m.res = append(m.res, re)
	}
	return true
}

func (l *loader) compileFieldref(sp *fieldSpec, m *fieldMatcher) bool {
	if !l.allowOnly(sp, m, "fieldref", "contains", "startswith", "endswith", "all", "cased") {
		return false
	}
	m.kind = kindFieldref
	m.refMode = map[string]byte{"": '=', "startswith": '^', "endswith": '$', "contains": '~'}[sp.placement]
	for _, v := range sp.vals {
		if !v.isStr || v.text == "" {
			l.errorf(v.node, "%s: fieldref takes the name of another field", sp.key)
			return false
		}
		if !l.fieldKnown(v.text) {
			l.unknownField(v.node, v.text)
			return false
		}
		m.refs = append(m.refs, v.text)
	}
	return true
}

func (l *loader) compileTimePart(sp *fieldSpec, m *fieldMatcher) bool {
	for _, p := range timeParts {
		if sp.has[p] {
			m.timePart = p
			break
		}
	}
	if !l.allowOnly(sp, m, m.timePart) {
		return false
	}
	m.kind = kindTimePart
	for _, v := range sp.vals {
		n, err := strconv.ParseInt(v.text, 10, 64)
		if !v.isNum || err != nil {
			l.errorf(v.node, "%s: %s takes a whole number, not %q", sp.key, m.timePart, v.text)
			return false
		}
		m.parts = append(m.parts, n)
	}
	return true
}

// compileStrings compiles plain, wildcard, encoded and windash values into
// wildcard patterns.
func (l *loader) compileStrings(sp *fieldSpec, m *fieldMatcher) bool {
	has, key := sp.has, sp.key
	for _, f := range []string{"i", "m", "s"} {
		if has[f] {
			l.errorf(sp.keyNode, "%s: modifier %q only applies after re", key, f)
			return false
		}
	}
	enc := ""
	for _, e := range []string{"wide", "utf16le", "utf16be", "utf16"} {
		if has[e] {
			if enc != "" {
				l.errorf(sp.keyNode, "%s: modifiers %q and %q exclude each other", key, enc, e)
				return false
			}
			enc = e
		}
	}
	b64 := ""
	if has["base64"] && has["base64offset"] {
		l.errorf(sp.keyNode, "%s: modifiers \"base64\" and \"base64offset\" exclude each other", key)
		return false
	}
	if has["base64"] {
		b64 = "base64"
	} else if has["base64offset"] {
		b64 = "base64offset"
	}
	if enc != "" && b64 == "" {
		l.errorf(sp.keyNode, "%s: modifier %q needs base64 or base64offset after it", key, enc)
		return false
	}
	if b64 != "" && has["windash"] {
		l.errorf(sp.keyNode, "%s: modifiers \"windash\" and %q cannot be combined", key, b64)
		return false
	}
	m.kind = kindString
	if sp.vals[0].null && len(sp.vals) == 1 {
		m.kind = kindNull
		return true
	}
	for _, v := range sp.vals {
		if v.null {
			m.orNull = true
			continue
		}
		text := v.text
		if v.isNum && m.field == "Details" && len(m.mods) == 0 && !hasSysmonNumber(sp.vals) {
			l.warnf(v.node, "%s: Details holds registry data as Sysmon prints it, so the number %s matches only text values, never a DWORD; write 'DWORD (0x%08x)' too, or test the typed field Data", key, v.text, parseIntOr0(v.text))
		}
		if !v.isStr {
			text = escapeWildcards(text)
		} else if escapesWildcard(text) {
			l.warnf(v.node, "%s: '%s' holds \\* or \\? which Sigma reads as a literal * or ?; for a backslash followed by a wildcard write \\\\* (or \\\\?)", key, text)
		}
		var alts []string
		switch {
		case b64 != "":
			if hasWildcards(text) {
				l.errorf(v.node, "%s: wildcards cannot be base64-encoded; escape * and ? as \\* and \\?", key)
				return false
			}
			raw := encodeText(unescapeLiteral(text), enc)
			if b64 == "base64" {
				alts = []string{escapeWildcards(base64.StdEncoding.EncodeToString(raw))}
			} else {
				for _, a := range base64Offsets(raw) {
					alts = append(alts, escapeWildcards(a))
				}
			}
			m.cased = true // base64 text is case-sensitive by nature
		case has["windash"]:
			var ok bool
			alts, ok = windashVariants(text)
			if !ok {
				l.errorf(v.node, "%s: windash: too many dashes to expand (at most %d)", key, maxWindash)
				return false
			}
		default:
			alts = []string{text}
		}
		l.patterns += len(alts)
		if l.patterns > maxPatternsPerRule {
			l.errorf(v.node, "%s: more than %d values after expansion in one rule", key, maxPatternsPerRule)
			return false
		}
		m.groups = append(m.groups, placedGlobs(alts, sp.placement, m.cased))
	}
	if m.orNull && m.all {
		l.errorf(sp.valNode, "%s: null cannot be used in a list with the all modifier", key)
		return false
	}
	return true
}

// placedGlobs compiles values in Sigma notation with their placement.
func placedGlobs(alts []string, placement string, cased bool) []*glob {
	var group []*glob
	star := globTok{kind: '*'}
	for _, a := range alts {
		if !cased {
			a = strings.ToLower(a)
		}
		// Placement wraps the parsed tokens, not the text: a trailing
		// backslash must not escape the added star.
		toks := parseWildcards(a)
		if placement == "contains" || placement == "endswith" {
			toks = append([]globTok{star}, toks...)
		}
		if placement == "contains" || placement == "startswith" {
			toks = append(toks, star)
		}
		group = append(group, newGlob(mergeStars(toks)))
	}
	return group
}

const (
	maxRegexpLen = 8 << 10
	maxWindash   = 5 // dashes per value: 5^5 variants at most
	// maxPatternsPerRule bounds the compiled values of one rule (windash
	// and base64offset multiply them).
	maxPatternsPerRule = 100_000
)

func modifierNames() []string {
	out := make([]string, 0, len(Modifiers))
	for k := range Modifiers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hasSysmonNumber reports whether a value list already spells a number the
// way Sysmon prints registry integers.
func hasSysmonNumber(vals []ruleValue) bool {
	for _, v := range vals {
		if strings.HasPrefix(v.text, "DWORD (") || strings.HasPrefix(v.text, "QWORD (") {
			return true
		}
	}
	return false
}

func parseIntOr0(s string) uint64 {
	u, _ := strconv.ParseUint(s, 10, 32)
	return u
}

// escapesWildcard reports whether a value escapes a wildcard (\* or \?),
// which in a path is almost always meant as a backslash and a wildcard.
func escapesWildcard(v string) bool {
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '\\' {
			continue
		}
		switch v[i+1] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

// encodeText encodes s in the byte encoding a modifier asks for.
func encodeText(s, enc string) []byte {
	var u []uint16
	switch enc {
	case "":
		return []byte(s)
	case "utf16":
		u = append([]uint16{0xfeff}, utf16.Encode([]rune(s))...)
	default:
		u = utf16.Encode([]rune(s))
	}
	out := make([]byte, 2*len(u))
	for i, c := range u {
		if enc == "utf16be" {
			binary.BigEndian.PutUint16(out[2*i:], c)
		} else {
			binary.LittleEndian.PutUint16(out[2*i:], c)
		}
	}
	return out
}

// base64Offsets returns the three base64 renderings of b as it appears
// inside a longer encoded text at byte offsets 0, 1 and 2, with the
// characters that depend on the surrounding bytes cut off (Sigma's
// base64offset).
func base64Offsets(b []byte) []string {
	start := [3]int{0, 2, 3}
	endCut := [3]int{0, 3, 2}
	var out []string
	for i := 0; i < 3; i++ {
		padded := append([]byte(strings.Repeat(" ", i)), b...)
		enc := base64.StdEncoding.EncodeToString(padded)
		e := len(enc) - endCut[(len(b)+i)%3]
		if start[i] > e {
			continue
		}
		out = append(out, enc[start[i]:e])
	}
	return out
}

var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// windashVariants expands every dash or slash that starts an option (a
// non-word character or the start before it, a word character after it)
// into the five characters Windows programs accept as option prefixes.
func windashVariants(v string) ([]string, bool) {
	var pos []int
	for i := 0; i < len(v); i++ {
		if v[i] != '-' && v[i] != '/' {
			continue
		}
		before := i == 0 || !isWordByte(v[i-1])
		after := i+1 < len(v) && isWordByte(v[i+1])
		if before && after {
			pos = append(pos, i)
		}
	}
	if len(pos) > maxWindash {
		return nil, false
	}
	out := []string{""}
	last := 0
	for _, p := range pos {
		var next []string
		for _, o := range out {
			for _, c := range windashChars {
				next = append(next, o+v[last:p]+c)
			}
		}
		out = next
		last = p + 1
	}
	for i := range out {
		out[i] += v[last:]
	}
	return out, true
}
