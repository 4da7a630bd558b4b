package evtx

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Element is one XML element of a rendered record. Records of one chunk may
// share parts of their trees (attributes taken as they are from a
// template): treat elements as read-only.
type Element struct {
	Name    string
	Attrs   []Attr
	Content []Node
}

// Attr is one attribute.
type Attr struct {
	Name  string
	Value Value
	// parts holds the pieces of an attribute of a template definition that
	// contains substitutions; instantiation resolves them into Value.
	parts []Node
}

// Node is one piece of element content: a child element, or a text value.
type Node struct {
	Element *Element // a child element, or nil for text
	Value   Value    // the text, typed as stored, when Element is nil
	sub     *subst   // a substitution of a template definition
}

// subst is a substitution token of a template definition.
type subst struct {
	id       int
	typ      ValueType
	optional bool
}

// template is a parsed template definition.
type template struct {
	nodes []Node
	id    uint32 // first 4 bytes of the definition's GUID
}

// Binary XML tokens.
const (
	tokEOF            = 0x00
	tokOpenStart      = 0x01
	tokCloseStart     = 0x02
	tokCloseEmpty     = 0x03
	tokEndElement     = 0x04
	tokValue          = 0x05
	tokAttribute      = 0x06
	tokCDATA          = 0x07
	tokCharRef        = 0x08
	tokEntityRef      = 0x09
	tokPITarget       = 0x0a
	tokPIData         = 0x0b
	tokTemplate       = 0x0c
	tokNormalSubst    = 0x0d
	tokOptionalSubst  = 0x0e
	tokFragmentHeader = 0x0f
	flagMore          = 0x40
)

// parser decodes the Binary XML of one record inside its chunk. Offsets are
// chunk-relative, as the names and templates they point at are.
type parser struct {
	c          *Chunk
	data       []byte
	nodes      int
	chunkNodes int
	depth      int

	// Slabs the rendered trees are carved from, so a record costs a few
	// allocations rather than one per element.
	elemSlab []Element
	nodeSlab []Node
	attrSlab []Attr
	valStack []Value

	// strict requires every template instance to name the template it
	// finds (the identifier equals the first 4 bytes of the definition's
	// GUID): stale records carved from slack may point at offsets that now
	// hold another template.
	strict bool
	// partialErr is why a strict parse left a nested value out.
	partialErr error
}

func (p *parser) newElement(name string) *Element {
	if len(p.elemSlab) == cap(p.elemSlab) {
		p.elemSlab = make([]Element, 0, 128)
	}
	p.elemSlab = append(p.elemSlab, Element{Name: name})
	return &p.elemSlab[len(p.elemSlab)-1]
}

// nodeSlice returns an empty slice with room for n nodes; appending more
// reallocates, never overwrites a neighbour.
func (p *parser) nodeSlice(n int) []Node {
	if n > 256 {
		return make([]Node, 0, n)
	}
	if cap(p.nodeSlab)-len(p.nodeSlab) < n {
		p.nodeSlab = make([]Node, 0, 1024)
	}
	l := len(p.nodeSlab)
	p.nodeSlab = p.nodeSlab[:l+n]
	return p.nodeSlab[l : l : l+n]
}

func (p *parser) attrSlice(n int) []Attr {
	if n > 64 {
		return make([]Attr, 0, n)
	}
	if cap(p.attrSlab)-len(p.attrSlab) < n {
		p.attrSlab = make([]Attr, 0, 256)
	}
	l := len(p.attrSlab)
	p.attrSlab = p.attrSlab[:l+n]
	return p.attrSlab[l : l : l+n]
}

type binxmlError struct {
	off int
	msg string
}

func (e *binxmlError) Error() string { return e.msg }

func errAt(off int, format string, a ...any) error {
	return &binxmlError{off: off, msg: fmt.Sprintf(format, a...)}
}

// parseRecord decodes the Binary XML event of a record at [pos, end).
func (c *Chunk) parseRecord(pos, end int) (*Element, error) {
	if c.parser == nil {
		c.parser = &parser{c: c, data: c.data}
	}
	p := c.parser
	p.nodes, p.depth = 0, 0
	nodes, _, err := p.parse(pos, end)
	if err != nil {
		off := pos
		msg := err.Error()
		if be, ok := err.(*binxmlError); ok {
			off = be.off
		}
		return nil, c.anomaly(off, "record at chunk offset 0x%x: binary XML: %s", pos-24, msg)
	}
	for _, n := range nodes {
		if n.Element != nil {
			return n.Element, nil
		}
	}
	return nil, c.anomaly(pos, "record at chunk offset 0x%x: binary XML holds no element", pos-24)
}

func (p *parser) u8(pos, end int) (byte, error) {
	if pos+1 > end {
		return 0, errAt(pos, "truncated at offset 0x%x", pos)
	}
	return p.data[pos], nil
}

func (p *parser) u16(pos, end int) (uint16, error) {
	if pos+2 > end {
		return 0, errAt(pos, "truncated at offset 0x%x", pos)
	}
	return binary.LittleEndian.Uint16(p.data[pos:]), nil
}

func (p *parser) u32(pos, end int) (uint32, error) {
	if pos+4 > end {
		return 0, errAt(pos, "truncated at offset 0x%x", pos)
	}
	return binary.LittleEndian.Uint32(p.data[pos:]), nil
}

func (p *parser) count() error {
	p.nodes++
	p.chunkNodes++
	if p.nodes > MaxNodes {
		return errAt(0, "more than %d nodes in one record", MaxNodes)
	}
	if p.chunkNodes > MaxChunkNodes {
		return errChunkBudget
	}
	return nil
}

// errChunkBudget ends a chunk whose records render more than MaxChunkNodes.
var errChunkBudget = &binxmlError{msg: fmt.Sprintf("the chunk's records render more than %d nodes", MaxChunkNodes)}

// nameAt reads the name structure at chunk offset off, with its length.
func (p *parser) nameAt(off int) (string, int, error) {
	if off < 0 || off+8 > len(p.data) {
		return "", 0, errAt(off, "name offset 0x%x outside the chunk", off)
	}
	n := int(binary.LittleEndian.Uint16(p.data[off+6:]))
	size := 8 + 2*n + 2
	if off+size > len(p.data) {
		return "", 0, errAt(off, "name at 0x%x of %d characters runs past the chunk", off, n)
	}
	if p.strict {
		// A stale record's name references may point at bytes that have
		// been overwritten since: accept only a terminated name whose
		// stored hash matches it.
		end := off + 8 + 2*n
		if p.data[end] != 0 || p.data[end+1] != 0 || binary.LittleEndian.Uint16(p.data[off+4:]) != nameHash(p.data[off+8:end]) {
			return "", 0, errAt(off, "no valid name at 0x%x", off)
		}
	}
	if s, ok := p.c.names[uint32(off)]; ok {
		return s, size, nil
	}
	s := decodeUTF16(p.data[off+8 : off+8+2*n])
	if p.c.names == nil {
		p.c.names = make(map[uint32]string)
	}
	if len(p.c.names) < MaxTemplates*4 {
		p.c.names[uint32(off)] = s
	}
	return s, size, nil
}

// nameHash is the hash a name structure stores: the low 16 bits of
// h = h*65599 + c over its UTF-16 code units.
func nameHash(b []byte) uint16 {
	var h uint32
	for i := 0; i+1 < len(b); i += 2 {
		h = h*65599 + uint32(binary.LittleEndian.Uint16(b[i:]))
	}
	return uint16(h)
}

// name reads a name reference at pos (a 4-byte chunk offset, with the name
// itself following when it is stored inline) and returns the position after
// it.
func (p *parser) name(pos, end int) (string, int, error) {
	off, err := p.u32(pos, end)
	if err != nil {
		return "", 0, err
	}
	pos += 4
	s, size, err := p.nameAt(int(off))
	if err != nil {
		return "", 0, err
	}
	if int(off) == pos {
		if pos+size > end {
			return "", 0, errAt(pos, "inline name runs past the data")
		}
		pos += size
	}
	return s, pos, nil
}

// plausibleName reports whether a name offset read at field position at
// can be a name reference: inline (right after the field) or earlier in the
// chunk, with a terminated name there.
func (p *parser) plausibleName(off uint32, after, start int) bool {
	o := int(off)
	if o != after && (o >= start || o < ChunkHeaderSize) {
		return false
	}
	if o+8 > len(p.data) {
		return false
	}
	n := int(binary.LittleEndian.Uint16(p.data[o+6:]))
	end := o + 8 + 2*n
	return end+2 <= len(p.data) && p.data[end] == 0 && p.data[end+1] == 0
}

// utf16String reads a counted UTF-16 string (2-byte character count).
func (p *parser) utf16String(pos, end int) (string, int, error) {
	n, err := p.u16(pos, end)
	if err != nil {
		return "", 0, err
	}
	pos += 2
	if pos+2*int(n) > end {
		return "", 0, errAt(pos, "string of %d characters runs past the data", n)
	}
	return decodeUTF16(p.data[pos : pos+2*int(n)]), pos + 2*int(n), nil
}

// parse decodes Binary XML at [pos, end) up to its end-of-file token.
// Template instances are resolved; substitutions (inside a template
// definition) are kept as placeholders.
func (p *parser) parse(pos, end int) ([]Node, int, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, pos, errAt(pos, "binary XML nested deeper than %d", MaxDepth)
	}
	root := &Element{}
	stack := []*Element{root}
	top := func() *Element { return stack[len(stack)-1] }
	for pos < end {
		tok := p.data[pos]
		switch tok &^ flagMore {
		case tokEOF:
			if tok != tokEOF {
				return nil, pos, errAt(pos, "unknown token 0x%02x", tok)
			}
			return joinText(root.Content), pos + 1, nil
		case tokFragmentHeader:
			pos += 4
		case tokTemplate:
			nodes, next, err := p.templateInstance(pos, end)
			if err != nil {
				return nil, pos, err
			}
			top().Content = append(top().Content, nodes...)
			pos = next
		case tokOpenStart:
			if len(stack) > MaxDepth {
				return nil, pos, errAt(pos, "elements nested deeper than %d", MaxDepth)
			}
			e, next, err := p.openElement(pos, end)
			if err != nil {
				return nil, pos, err
			}
			if err := p.count(); err != nil {
				return nil, pos, err
			}
			t := top()
			t.Content = append(t.Content, Node{Element: e})
			stack = append(stack, e)
			pos = next
		case tokCloseStart:
			if tok != tokCloseStart {
				return nil, pos, errAt(pos, "unknown token 0x%02x", tok)
			}
			pos++
		case tokCloseEmpty, tokEndElement:
			if tok&flagMore != 0 {
				return nil, pos, errAt(pos, "unknown token 0x%02x", tok)
			}
			if len(stack) == 1 {
				return nil, pos, errAt(pos, "end of element without an open element")
			}
			top().Content = joinText(top().Content)
			stack = stack[:len(stack)-1]
			pos++
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst:
			n, next, err := p.piece(pos, end)
			if err != nil {
				return nil, pos, err
			}
			if err := p.count(); err != nil {
				return nil, pos, err
			}
			t := top()
			t.Content = appendNode(t.Content, n)
			pos = next
		case tokPITarget:
			_, next, err := p.name(pos+1, end)
			if err != nil {
				return nil, pos, err
			}
			pos = next
		case tokPIData:
			_, next, err := p.utf16String(pos+1, end)
			if err != nil {
				return nil, pos, err
			}
			pos = next
		default:
			return nil, pos, errAt(pos, "unknown token 0x%02x", tok)
		}
	}
	if len(stack) > 1 {
		return nil, pos, errAt(pos, "binary XML ends inside element <%s>", top().Name)
	}
	return joinText(root.Content), pos, nil
}

// appendNode appends a content piece. Adjacent text pieces are joined later,
// in one pass, by joinText.
func appendNode(content []Node, n Node) []Node {
	return append(content, n)
}

// joinText joins runs of adjacent text pieces into one string value (a run
// of one keeps its type) and drops NULL values next to other text, in
// linear time.
func joinText(content []Node) []Node {
	isText := func(n *Node) bool { return n.Element == nil && n.sub == nil && n.Value.Type&ArrayFlag == 0 }
	// Fast path: no two text pieces side by side.
	adjacent := false
	for i := 1; i < len(content); i++ {
		if isText(&content[i]) && isText(&content[i-1]) {
			adjacent = true
			break
		}
	}
	if !adjacent {
		return content
	}
	out := content[:0]
	for i := 0; i < len(content); {
		if !isText(&content[i]) {
			out = append(out, content[i])
			i++
			continue
		}
		j := i
		var first Value
		count := 0
		for j < len(content) && isText(&content[j]) {
			if !content[j].Value.IsNull() {
				if count == 0 {
					first = content[j].Value
				}
				count++
			}
			j++
		}
		switch count {
		case 0:
			out = append(out, Node{})
		case 1:
			out = append(out, Node{Value: first})
		default:
			var b strings.Builder
			for _, m := range content[i:j] {
				b.WriteString(m.Value.String())
			}
			out = append(out, Node{Value: StringValue(b.String())})
		}
		i = j
	}
	return out
}

// piece reads one text piece: a value, CDATA section, character or entity
// reference, or a substitution.
func (p *parser) piece(pos, end int) (Node, int, error) {
	tok := p.data[pos]
	switch tok &^ flagMore {
	case tokValue:
		if _, err := p.u8(pos+1, end); err != nil {
			return Node{}, pos, err
		}
		s, next, err := p.utf16String(pos+2, end)
		return Node{Value: StringValue(s)}, next, err
	case tokCDATA:
		s, next, err := p.utf16String(pos+1, end)
		return Node{Value: StringValue(s)}, next, err
	case tokCharRef:
		v, err := p.u16(pos+1, end)
		if err != nil {
			return Node{}, pos, err
		}
		return Node{Value: StringValue(string(utf16.Decode([]uint16{v})))}, pos + 3, nil
	case tokEntityRef:
		name, next, err := p.name(pos+1, end)
		if err != nil {
			return Node{}, pos, err
		}
		s, ok := map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "apos": "'"}[name]
		if !ok {
			s = "&" + name + ";"
		}
		return Node{Value: StringValue(s)}, next, nil
	case tokNormalSubst, tokOptionalSubst:
		if tok&flagMore != 0 {
			return Node{}, pos, errAt(pos, "unknown token 0x%02x", tok)
		}
		id, err := p.u16(pos+1, end)
		if err != nil {
			return Node{}, pos, err
		}
		t, err := p.u8(pos+3, end)
		if err != nil {
			return Node{}, pos, err
		}
		return Node{sub: &subst{id: int(id), typ: ValueType(t), optional: tok == tokOptionalSubst}}, pos + 4, nil
	}
	return Node{}, pos, errAt(pos, "token 0x%02x is not a value", tok)
}

// openElement reads an open-start-element token and its attributes.
func (p *parser) openElement(start, end int) (*Element, int, error) {
	tok := p.data[start]
	// The dependency identifier is absent in some nested Binary XML values;
	// take the layout whose name reference is plausible.
	pos := start + 1 + 2
	off, err := p.u32(pos+4, end)
	if err != nil {
		return nil, start, err
	}
	if !p.plausibleName(off, pos+8, start) {
		if off2, err := p.u32(start+1+4, end); err == nil && p.plausibleName(off2, start+9, start) {
			pos = start + 1
		}
	}
	pos += 4 // data size
	name, pos, err := p.name(pos, end)
	if err != nil {
		return nil, start, err
	}
	e := &Element{Name: name}
	if tok&flagMore == 0 {
		return e, pos, nil
	}
	if _, err := p.u32(pos, end); err != nil { // attribute list size
		return nil, start, err
	}
	pos += 4
	for pos < end && p.data[pos]&^flagMore == tokAttribute {
		an, next, err := p.name(pos+1, end)
		if err != nil {
			return nil, start, err
		}
		pos = next
		if err := p.count(); err != nil {
			return nil, start, err
		}
		var parts []Node
		for pos < end {
			switch p.data[pos] &^ flagMore {
			case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst:
				n, next, err := p.piece(pos, end)
				if err != nil {
					return nil, start, err
				}
				parts = append(parts, n)
				pos = next
				continue
			}
			break
		}
		a := Attr{Name: an}
		switch {
		case len(parts) > 0:
			parts = joinText(parts)
			if len(parts) == 1 && parts[0].sub == nil {
				a.Value = parts[0].Value
			} else {
				a.parts = parts
			}
		}
		e.Attrs = append(e.Attrs, a)
	}
	return e, pos, nil
}

// templateInstance reads a template instance: the definition (inline or a
// reference to an earlier one in the chunk) and its substitution values,
// and returns the instantiated content.
func (p *parser) templateInstance(start, end int) ([]Node, int, error) {
	pos := start + 2
	tid, err := p.u32(pos, end) // template identifier
	if err != nil {
		return nil, start, err
	}
	defOff, err := p.u32(pos+4, end)
	if err != nil {
		return nil, start, err
	}
	pos += 8
	if int(defOff) == pos {
		size, err := p.u32(pos+20, end)
		if err != nil {
			return nil, start, err
		}
		if int64(pos)+24+int64(size) > int64(end) {
			return nil, start, errAt(pos, "template definition of %d bytes runs past the data", size)
		}
		pos += 24 + int(size)
	}
	t, err := p.template(int(defOff))
	if err != nil {
		return nil, start, err
	}
	if p.strict && t.id != tid {
		return nil, start, errAt(start, "template instance names template 0x%08x, the definition at 0x%x is 0x%08x", tid, defOff, t.id)
	}
	n, err := p.u32(pos, end)
	if err != nil {
		return nil, start, err
	}
	pos += 4
	if n > MaxValues || int64(pos)+4*int64(n) > int64(end) {
		return nil, start, errAt(pos-4, "template instance with %d values does not fit", n)
	}
	desc := pos
	pos += 4 * int(n)
	// Values live on a stack reused from record to record: the tree copies
	// them, and nested instances push above and pop back.
	base := len(p.valStack)
	for range n {
		p.valStack = append(p.valStack, Value{})
	}
	defer func() { p.valStack = p.valStack[:base] }()
	vals := p.valStack[base : base+int(n) : base+int(n)]
	for i := range vals {
		size := int(binary.LittleEndian.Uint16(p.data[desc+4*i:]))
		typ := ValueType(p.data[desc+4*i+2])
		if pos+size > end {
			return nil, start, errAt(pos, "substitution value %d of %d bytes runs past the data", i, size)
		}
		raw := p.data[pos : pos+size]
		switch {
		case typ == BinXMLType:
			vals[i] = Value{Type: BinXMLType, raw: raw, off: int32(pos)}
		case size == 0 && typ&ArrayFlag == 0 && typ != StringType && typ != AnsiStringType:
			// An empty value of a fixed-size type: nothing was logged.
		default:
			v, err := newValue(typ, raw)
			if err != nil {
				// Keep the bytes, shown as hex, rather than lose the record.
				v = Value{Type: BinaryType, raw: raw}
			}
			vals[i] = v
		}
		pos += size
	}
	out, err := p.instantiate(t.nodes, vals, nil)
	if err != nil {
		return nil, start, err
	}
	return out, pos, nil
}

// template returns the parsed template definition at chunk offset off.
func (p *parser) template(off int) (*template, error) {
	if t, ok := p.c.templates[uint32(off)]; ok {
		if t == nil {
			return nil, errAt(off, "template definition at 0x%x refers to itself", off)
		}
		return t, nil
	}
	if off < ChunkHeaderSize || off+24 > len(p.data) {
		return nil, errAt(off, "template definition offset 0x%x outside the chunk", off)
	}
	size := int(binary.LittleEndian.Uint32(p.data[off+20:]))
	start := off + 24
	if size < 0 || start+size > len(p.data) {
		return nil, errAt(off, "template definition at 0x%x of %d bytes runs past the chunk", off, size)
	}
	if p.c.templates == nil {
		p.c.templates = make(map[uint32]*template)
	}
	cache := len(p.c.templates) < MaxTemplates
	if cache {
		p.c.templates[uint32(off)] = nil // guards against a definition that instantiates itself
	}
	// A definition is parsed with a fresh node budget: it is cached and
	// shared by every record of the chunk.
	saved := p.nodes
	p.nodes = 0
	nodes, _, err := p.parse(start, start+size)
	p.nodes = saved
	if err != nil {
		if cache {
			delete(p.c.templates, uint32(off))
		}
		return nil, err
	}
	t := &template{nodes: nodes, id: binary.LittleEndian.Uint32(p.data[off+4:])}
	if cache {
		p.c.templates[uint32(off)] = t
	}
	return t, nil
}

// instantiate copies template nodes, replacing substitutions with values.
func (p *parser) instantiate(nodes []Node, vals []Value, out []Node) ([]Node, error) {
	for _, n := range nodes {
		if err := p.count(); err != nil {
			return nil, err
		}
		switch {
		case n.Element != nil:
			e := p.newElement(n.Element.Name)
			if staticAttrs(n.Element.Attrs) {
				// Attributes without substitutions are shared with the
				// template (read-only), as <Data Name="..."> are.
				e.Attrs = n.Element.Attrs
			} else {
				e.Attrs = p.attrSlice(len(n.Element.Attrs))
				for _, a := range n.Element.Attrs {
					if a.parts == nil {
						e.Attrs = append(e.Attrs, a)
						continue
					}
					v, keep := resolveAttr(a.parts, vals)
					if keep {
						e.Attrs = append(e.Attrs, Attr{Name: a.Name, Value: v})
					}
				}
			}
			var err error
			if len(n.Element.Content) > 0 {
				e.Content, err = p.instantiate(n.Element.Content, vals, p.nodeSlice(len(n.Element.Content)))
				if err != nil {
					return nil, err
				}
				e.Content = joinText(e.Content)
			}
			out = append(out, Node{Element: e})
		case n.sub != nil:
			var v Value
			if n.sub.id < len(vals) {
				v = vals[n.sub.id]
			}
			if v.Type == BinXMLType {
				nested, err := p.nested(v)
				if err != nil {
					if !p.strict || p.depth > 1 || err == errChunkBudget {
						return nil, err
					}
					// A stale record whose outer template is intact but whose
					// nested value (its EventData) names a template or names
					// that are gone: keep what is sound, say what is missing.
					p.partialErr = err
					continue
				}
				out = append(out, nested...)
				continue
			}
			if v.IsNull() {
				continue
			}
			out = appendNode(out, Node{Value: v})
		default:
			out = appendNode(out, n)
		}
	}
	return out, nil
}

// nested decodes a Binary XML substitution value.
func (p *parser) nested(v Value) ([]Node, error) {
	if len(v.raw) == 0 {
		return nil, nil
	}
	off := int(v.off)
	nodes, _, err := p.parse(off, off+len(v.raw))
	return nodes, err
}

// staticAttrs reports attributes that need no substitution.
func staticAttrs(attrs []Attr) bool {
	for i := range attrs {
		if attrs[i].parts != nil {
			return false
		}
	}
	return true
}

// resolveAttr resolves an attribute's pieces; an attribute made only of
// NULL substitutions is dropped, as Windows drops it.
func resolveAttr(parts []Node, vals []Value) (Value, bool) {
	if len(parts) == 1 && parts[0].sub != nil {
		var v Value
		if id := parts[0].sub.id; id < len(vals) {
			v = vals[id]
		}
		if v.IsNull() || v.Type == BinXMLType {
			return Value{}, false
		}
		return v, true
	}
	var got []Value
	for _, n := range parts {
		if n.sub == nil {
			got = append(got, n.Value)
			continue
		}
		var v Value
		if n.sub.id < len(vals) {
			v = vals[n.sub.id]
		}
		if v.IsNull() || v.Type == BinXMLType {
			continue
		}
		got = append(got, v)
	}
	switch len(got) {
	case 0:
		return Value{}, false
	case 1:
		return got[0], true
	}
	var b strings.Builder
	for _, v := range got {
		b.WriteString(v.String())
	}
	return StringValue(b.String()), true
}
