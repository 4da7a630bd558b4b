package rules

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// A condition compiles to a tree of these nodes.
type cond interface{}

type (
	condAnd struct{ xs []cond }
	condOr  struct{ xs []cond }
	condNot struct{ x cond }
	condSel struct{ s *selection }
)

type condTok struct {
	kind string // "(", ")", "and", "or", "not", "of", "all", "them", "num", "id"
	text string
	pos  int // byte offset in the condition
}

const (
	maxConditionLen   = 16 << 10
	maxConditionDepth = 64
)

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '*' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func lexCondition(s string) ([]condTok, *condError) {
	var toks []condTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, condTok{kind: string(c), text: string(c), pos: i})
			i++
		case c == '|':
			return nil, &condError{i, "the pipe (aggregation) syntax of old Sigma is not supported"}
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			w := s[i:j]
			kind := "id"
			switch w {
			case "and", "or", "not", "of", "all", "them":
				kind = w
			default:
				if strings.Trim(w, "0123456789") == "" {
					kind = "num"
				}
			}
			toks = append(toks, condTok{kind: kind, text: w, pos: i})
			i = j
		default:
			return nil, &condError{i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return toks, nil
}

type condError struct {
	pos int
	msg string
}

type condParser struct {
	toks  []condTok
	i     int
	end   int // length of the source, for errors at the end
	sels  map[string]*selection
	names []string // selection names in file order
	depth int
}

func (p *condParser) peek() *condTok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *condParser) fail(t *condTok, format string, a ...any) *condError {
	pos := p.end
	if t != nil {
		pos = t.pos
	}
	return &condError{pos, fmt.Sprintf(format, a...)}
}

func (p *condParser) parseOr() (cond, *condError) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	xs := []cond{x}
	for t := p.peek(); t != nil && t.kind == "or"; t = p.peek() {
		p.i++
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &condOr{xs}, nil
}

func (p *condParser) parseAnd() (cond, *condError) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	xs := []cond{x}
	for t := p.peek(); t != nil && t.kind == "and"; t = p.peek() {
		p.i++
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &condAnd{xs}, nil
}

func (p *condParser) parseNot() (cond, *condError) {
	t := p.peek()
	if t != nil && t.kind == "not" {
		p.i++
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, p.fail(t, "condition nested too deeply")
		}
		x, err := p.parseNot()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &condNot{x}, nil
	}
	return p.parsePrimary()
}

func (p *condParser) parsePrimary() (cond, *condError) {
	t := p.peek()
	if t == nil {
		return nil, p.fail(nil, "condition ends where a selection name, 'not', '(' or '1 of'/'all of' was expected")
	}
	switch t.kind {
	case "(":
		p.i++
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, p.fail(t, "condition nested too deeply")
		}
		x, err := p.parseOr()
		p.depth--
		if err != nil {
			return nil, err
		}
		c := p.peek()
		if c == nil || c.kind != ")" {
			return nil, p.fail(c, "missing ')' to close a '('")
		}
		p.i++
		return x, nil
	case "num", "all":
		if t.kind == "num" && t.text != "1" {
			return nil, p.fail(t, "%q of: only '1 of' and 'all of' are supported", t.text)
		}
		p.i++
		of := p.peek()
		if of == nil || of.kind != "of" {
			return nil, p.fail(of, "'%s' must be followed by 'of'", t.text)
		}
		p.i++
		target := p.peek()
		if target == nil || (target.kind != "them" && target.kind != "id") {
			return nil, p.fail(target, "'%s of' must be followed by a selection name pattern or 'them'", t.text)
		}
		p.i++
		var xs []cond
		for _, name := range p.names {
			if target.kind == "them" {
				if strings.HasPrefix(name, "_") {
					continue
				}
			} else if !newGlob(parseWildcards(target.text)).match(name) {
				continue
			}
			xs = append(xs, &condSel{p.sels[name]})
		}
		if len(xs) == 0 {
			return nil, p.fail(target, "%q matches no selection", target.text)
		}
		if len(xs) == 1 {
			return xs[0], nil
		}
		if t.kind == "all" {
			return &condAnd{xs}, nil
		}
		return &condOr{xs}, nil
	case "id":
		p.i++
		if strings.Contains(t.text, "*") {
			return nil, p.fail(t, "wildcard %q is only allowed after '1 of' or 'all of'", t.text)
		}
		s, ok := p.sels[t.text]
		if !ok {
			switch strings.ToLower(t.text) {
			case "and", "or", "not", "of", "all", "them":
				return nil, p.fail(t, "%q: operators are written in lower case (%s)", t.text, strings.ToLower(t.text))
			}
			if hint := didYouMean(t.text, p.names); hint != "" {
				return nil, p.fail(t, "%q is not a selection of this rule%s", t.text, hint)
			}
			return nil, p.fail(t, "%q is not a selection of this rule (have: %s)", t.text, strings.Join(p.names, ", "))
		}
		return &condSel{s}, nil
	default:
		return nil, p.fail(t, "unexpected %q", t.text)
	}
}

// compileCondition parses one condition string (the scalar node n).
func (l *loader) compileCondition(n *yaml.Node, sels map[string]*selection, names []string) cond {
	src := n.Value
	if len(src) > maxConditionLen {
		l.errorf(n, "condition longer than %d bytes", maxConditionLen)
		return nil
	}
	toks, cerr := lexCondition(src)
	if cerr == nil {
		p := &condParser{toks: toks, end: len(src), sels: sels, names: names}
		var x cond
		x, cerr = p.parseOr()
		if cerr == nil {
			if t := p.peek(); t != nil {
				cerr = p.fail(t, "unexpected %q after a complete condition (missing 'and'/'or'?)", t.text)
			} else {
				return x
			}
		}
	}
	line, col := n.Line, n.Column
	switch n.Style {
	case 0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if !strings.Contains(src, "\n") {
			col += cerr.pos
			if n.Style != 0 {
				col++
			}
		}
	}
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Col: col, Msg: "condition: " + cerr.msg})
	return nil
}
