package rules

import (
	"strings"
	"unicode/utf8"
)

// Sigma wildcard values: '*' matches any run of characters (backslashes
// included), '?' exactly one character; '\*', '\?' and '\\' stand for the
// literal characters; a backslash before any other character is itself
// literal, so registry paths such as 'HKLM\SOFTWARE\Run' need no doubling.

// globTok is one token of a compiled wildcard pattern.
type globTok struct {
	kind byte   // 'l' literal run, '*' any run, '?' one character
	lit  string // for 'l'
}

// glob is a compiled Sigma wildcard pattern, matched against whole strings.
type glob struct {
	src  string // the pattern in Sigma notation, as compiled (lower-cased unless cased)
	toks []globTok
	// fast paths
	mode byte // '=' exact, '^' prefix, '$' suffix, '~' contains, 'g' general, '.' anything
	lit  string
}

// parseWildcards splits a Sigma value into tokens, resolving escapes.
func parseWildcards(v string) []globTok {
	var toks []globTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 < len(v) && (v[i+1] == '*' || v[i+1] == '?' || v[i+1] == '\\') {
				lit.WriteByte(v[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			if n := len(toks); n == 0 || toks[n-1].kind != '*' {
				toks = append(toks, globTok{kind: '*'})
			}
		case '?':
			flush()
			toks = append(toks, globTok{kind: '?'})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return toks
}

// hasWildcards reports whether a Sigma value holds an unescaped * or ?.
func hasWildcards(v string) bool {
	for _, t := range parseWildcards(v) {
		if t.kind != 'l' {
			return true
		}
	}
	return false
}

// unescapeLiteral returns the literal text of a value without wildcards.
func unescapeLiteral(v string) string {
	var b strings.Builder
	for _, t := range parseWildcards(v) {
		switch t.kind {
		case 'l':
			b.WriteString(t.lit)
		case '*':
			b.WriteByte('*')
		case '?':
			b.WriteByte('?')
		}
	}
	return b.String()
}

// escapeWildcards turns literal text into a Sigma value matching exactly it.
func escapeWildcards(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// renderSigma writes tokens back in Sigma notation, doubling a backslash
// only where Sigma would otherwise read it as an escape (before *, ? or
// another backslash), so registry paths read naturally.
func renderSigma(toks []globTok) string {
	var b strings.Builder
	for i, t := range toks {
		if t.kind != 'l' {
			b.WriteByte(t.kind)
			continue
		}
		for j := 0; j < len(t.lit); j++ {
			c := t.lit[j]
			switch c {
			case '*', '?':
				b.WriteByte('\\')
				b.WriteByte(c)
				continue
			case '\\':
				var next byte
				if j+1 < len(t.lit) {
					next = t.lit[j+1]
				} else if i+1 < len(toks) {
					next = toks[i+1].kind
				}
				b.WriteByte('\\')
				if next == '*' || next == '?' || next == '\\' {
					b.WriteByte('\\')
				}
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mergeStars collapses adjacent stars, which match the same as one.
func mergeStars(toks []globTok) []globTok {
	out := toks[:0:0]
	for _, t := range toks {
		if t.kind == '*' && len(out) > 0 && out[len(out)-1].kind == '*' {
			continue
		}
		out = append(out, t)
	}
	return out
}

// newGlob compiles tokens. The caller lower-cases literals for
// case-insensitive matching.
func newGlob(toks []globTok) *glob {
	g := &glob{toks: toks}
	g.src = renderSigma(toks)
	switch {
	case len(toks) == 0:
		g.mode, g.lit = '=', ""
	case len(toks) == 1 && toks[0].kind == 'l':
		g.mode, g.lit = '=', toks[0].lit
	case len(toks) == 1 && toks[0].kind == '*':
		g.mode = '.'
	case len(toks) == 2 && toks[0].kind == 'l' && toks[1].kind == '*':
		g.mode, g.lit = '^', toks[0].lit
	case len(toks) == 2 && toks[0].kind == '*' && toks[1].kind == 'l':
		g.mode, g.lit = '$', toks[1].lit
	case len(toks) == 3 && toks[0].kind == '*' && toks[1].kind == 'l' && toks[2].kind == '*':
		g.mode, g.lit = '~', toks[1].lit
	default:
		g.mode = 'g'
	}
	return g
}

// match reports whether s matches the whole pattern.
func (g *glob) match(s string) bool {
	switch g.mode {
	case '=':
		return s == g.lit
	case '^':
		return strings.HasPrefix(s, g.lit)
	case '$':
		return strings.HasSuffix(s, g.lit)
	case '~':
		return strings.Contains(s, g.lit)
	case '.':
		return true
	}
	return globMatch(g.toks, s)
}

// segMatch matches a star-free token run at the start of s and returns the
// number of bytes consumed.
func segMatch(seg []globTok, s string) (int, bool) {
	n := 0
	for _, t := range seg {
		if t.kind == 'l' {
			if !strings.HasPrefix(s[n:], t.lit) {
				return 0, false
			}
			n += len(t.lit)
			continue
		}
		if n >= len(s) {
			return 0, false
		}
		_, w := utf8.DecodeRuneInString(s[n:])
		n += w
	}
	return n, true
}

// globMatch matches tokens against s: the segments between stars are
// matched leftmost-first, which is exact for star patterns and runs in
// O(len(pattern) * len(s)) at worst.
func globMatch(toks []globTok, s string) bool {
	// Split into segments separated by stars.
	var segs [][]globTok
	start := 0
	leadingStar := len(toks) > 0 && toks[0].kind == '*'
	trailingStar := len(toks) > 0 && toks[len(toks)-1].kind == '*'
	for i, t := range toks {
		if t.kind == '*' {
			segs = append(segs, toks[start:i])
			start = i + 1
		}
	}
	segs = append(segs, toks[start:])
	if len(segs) == 1 { // no star
		n, ok := segMatch(segs[0], s)
		return ok && n == len(s)
	}
	pos := 0
	first, last := 0, len(segs)-1
	if !leadingStar {
		n, ok := segMatch(segs[0], s)
		if !ok {
			return false
		}
		pos = n
		first = 1
	} else {
		first = 1 // segs[0] is empty
	}
	if !trailingStar {
		// The last segment must match at the end: find where it would start.
		lastSeg := segs[last]
		minLen := 0
		for _, t := range lastSeg {
			if t.kind == 'l' {
				minLen += len(t.lit)
			} else {
				minLen++
			}
		}
		// Try every start position from the end (runes make lengths vary),
		// at character boundaries as decoding from the start finds them:
		// in invalid UTF-8 a stray continuation byte is a character of
		// its own.
		var bounds []bool
		if !utf8.ValidString(s) {
			bounds = make([]bool, len(s)+1)
			for i := 0; i < len(s); {
				bounds[i] = true
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
			}
			bounds[len(s)] = true
		}
		matchedEnd := -1
		for st := len(s) - minLen; st >= pos; st-- {
			if st < 0 {
				break
			}
			if bounds != nil {
				if !bounds[st] {
					continue
				}
			} else if st > 0 && st < len(s) && !utf8.RuneStart(s[st]) {
				continue
			}
			if n, ok := segMatch(lastSeg, s[st:]); ok && st+n == len(s) {
				matchedEnd = st
				// Leftmost-first for middle segments needs the latest start
				// for the last one: first hit from the end is that.
				break
			}
		}
		if matchedEnd < 0 {
			return false
		}
		s = s[:matchedEnd]
	} else {
		last++ // no final anchored segment; segs[last] is empty
	}
	for i := first; i < last && i < len(segs); i++ {
		seg := segs[i]
		if len(seg) == 0 {
			continue
		}
		// A segment needs at least its literal bytes plus one byte per
		// '?': once fewer bytes remain no later start can match.
		need := 0
		for _, t := range seg {
			if t.kind == 'l' {
				need += len(t.lit)
			} else {
				need++
			}
		}
		found := false
		for p := pos; p+need <= len(s); {
			if seg[0].kind == 'l' {
				k := strings.Index(s[p:], seg[0].lit)
				if k < 0 {
					return false
				}
				p += k
			}
			if n, ok := segMatch(seg, s[p:]); ok {
				pos = p + n
				found = true
				break
			}
			if p >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[p:])
			p += w
		}
		if !found {
			return false
		}
	}
	return pos <= len(s)
}

// canExtend reports whether some string that starts with prefix matches the
// pattern: it runs the pattern as an automaton over prefix and asks whether
// any state is still alive. The rule index uses it to tell a scanner which
// key subtrees no rule can match.
func (g *glob) canExtend(prefix string) bool {
	toks := g.toks
	// States are token indexes; a literal token is expanded to its runes.
	type st struct{ tok, off int }
	cur := map[st]bool{}
	var add func(s st)
	add = func(s st) {
		if cur[s] {
			return
		}
		cur[s] = true
		if s.tok < len(toks) && toks[s.tok].kind == '*' {
			add(st{s.tok + 1, 0})
		}
	}
	add(st{0, 0})
	for _, r := range prefix {
		next := map[st]bool{}
		for s := range cur {
			if s.tok >= len(toks) {
				continue
			}
			t := toks[s.tok]
			switch t.kind {
			case '*':
				next[s] = true
			case '?':
				next[st{s.tok + 1, 0}] = true
			case 'l':
				lr, w := utf8.DecodeRuneInString(t.lit[s.off:])
				if lr == r {
					if s.off+w >= len(t.lit) {
						next[st{s.tok + 1, 0}] = true
					} else {
						next[st{s.tok, s.off + w}] = true
					}
				}
			}
		}
		cur = map[st]bool{}
		for s := range next {
			add(s)
		}
		if len(cur) == 0 {
			return false
		}
	}
	return len(cur) > 0
}
