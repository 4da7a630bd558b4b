package evtx

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Record is one event record: its header, its rendered XML tree, and the
// fields decoded from it.
type Record struct {
	// Identifier is the event record identifier of the record header (the
	// "record number" evtxexport prints). Logs exported by Windows are
	// renumbered from 1; System.EventRecordID keeps the source's number.
	Identifier uint64
	// Written is the record header's written time. In exported logs it is
	// not the event time: use System.TimeCreated.
	Written time.Time
	// Offset is the record's byte offset in the file; Chunk its chunk slot.
	Offset int64
	Chunk  int
	// Uncommitted marks a record of a dirty log found after its chunk's
	// free-space offset, continuing the chunk's record numbering: written,
	// but not yet committed to the chunk header.
	Uncommitted bool
	// Recovered marks a record carved from a chunk's slack (Chunk.Slack):
	// a stale copy of an older record, or of the log the file was cut from.
	Recovered bool
	// Partial marks a recovered record rendered without a nested value (its
	// EventData) whose template or names are no longer in the chunk.
	Partial bool

	// Root is the rendered <Event> element.
	Root *Element
	// System holds the System header.
	System System
	// DataSection is "EventData" or "UserData" (or "" when the event has
	// neither); Data holds its values by name, in order. Unnamed
	// <Data> values are named Data[0], Data[1], ...; UserData values are
	// named after their elements.
	DataSection string
	Data        []Field
}

// Field is one named value of EventData or UserData.
type Field struct {
	Name  string
	Value Value
}

// System is the System header of an event.
type System struct {
	ProviderName    string
	ProviderGUID    string
	EventSourceName string
	EventID         uint32
	// Qualifiers is the EventID's Qualifiers attribute (classic event
	// sources); HasQualifiers tells whether it is present.
	Qualifiers    uint32
	HasQualifiers bool
	Version       uint8
	Level         uint8
	Task          uint16
	Opcode        uint8
	Keywords      uint64
	TimeCreated   time.Time
	EventRecordID uint64
	// ActivityID and RelatedActivityID are the Correlation attributes.
	ActivityID        string
	RelatedActivityID string
	ProcessID         uint32
	ThreadID          uint32
	Channel           string
	Computer          string
	// UserID is the Security element's UserID SID.
	UserID string
}

// Child returns the first child element with the given name.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	for _, n := range e.Content {
		if n.Element != nil && n.Element.Name == name {
			return n.Element
		}
	}
	return nil
}

// Attr returns the named attribute's value.
func (e *Element) Attr(name string) (Value, bool) {
	if e == nil {
		return Value{}, false
	}
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return Value{}, false
}

// Elements returns the child elements.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, n := range e.Content {
		if n.Element != nil {
			out = append(out, n.Element)
		}
	}
	return out
}

// Text returns the element's content as one value: the typed value when the
// content is a single value, else the text of every piece (child elements
// rendered as XML) joined.
func (e *Element) Text() Value {
	if e == nil || len(e.Content) == 0 {
		return Value{}
	}
	if len(e.Content) == 1 && e.Content[0].Element == nil {
		return e.Content[0].Value
	}
	var b strings.Builder
	for _, n := range e.Content {
		if n.Element != nil {
			writeElement(&b, n.Element, -1)
		} else {
			b.WriteString(n.Value.String())
		}
	}
	return StringValue(b.String())
}

func num(e *Element) uint64 {
	n, _ := e.Text().Uint64()
	return n
}

func attrString(e *Element, name string) string {
	v, _ := e.Attr(name)
	return v.String()
}

// fill decodes System and the data section from Root.
func (r *Record) fill() {
	ev := r.Root
	if sys := ev.Child("System"); sys != nil {
		s := &r.System
		if p := sys.Child("Provider"); p != nil {
			s.ProviderName = attrString(p, "Name")
			s.ProviderGUID = attrString(p, "Guid")
			s.EventSourceName = attrString(p, "EventSourceName")
		}
		if id := sys.Child("EventID"); id != nil {
			s.EventID = uint32(num(id))
			if q, ok := id.Attr("Qualifiers"); ok && !q.IsNull() {
				n, ok := q.Uint64()
				s.Qualifiers, s.HasQualifiers = uint32(n), ok
			}
		}
		s.Version = uint8(num(sys.Child("Version")))
		s.Level = uint8(num(sys.Child("Level")))
		s.Task = uint16(num(sys.Child("Task")))
		s.Opcode = uint8(num(sys.Child("Opcode")))
		s.Keywords = num(sys.Child("Keywords"))
		if tc := sys.Child("TimeCreated"); tc != nil {
			if v, ok := tc.Attr("SystemTime"); ok {
				if t, ok := v.Time(); ok {
					s.TimeCreated = t
				} else if t, err := time.Parse(time.RFC3339Nano, v.String()); err == nil {
					s.TimeCreated = t.UTC()
				}
			}
		}
		s.EventRecordID = num(sys.Child("EventRecordID"))
		if c := sys.Child("Correlation"); c != nil {
			s.ActivityID = attrString(c, "ActivityID")
			s.RelatedActivityID = attrString(c, "RelatedActivityID")
		}
		if x := sys.Child("Execution"); x != nil {
			if v, ok := x.Attr("ProcessID"); ok {
				n, _ := v.Uint64()
				s.ProcessID = uint32(n)
			}
			if v, ok := x.Attr("ThreadID"); ok {
				n, _ := v.Uint64()
				s.ThreadID = uint32(n)
			}
		}
		s.Channel = ev.Child("System").Child("Channel").Text().String()
		s.Computer = sys.Child("Computer").Text().String()
		if sec := sys.Child("Security"); sec != nil {
			s.UserID = attrString(sec, "UserID")
		}
	}
	if ed := ev.Child("EventData"); ed != nil {
		r.DataSection = "EventData"
		unnamed := 0
		r.Data = make([]Field, 0, len(ed.Content))
		for _, n := range ed.Content {
			c := n.Element
			if c == nil {
				continue
			}
			name := c.Name
			if c.Name == "Data" {
				if v, ok := c.Attr("Name"); ok && v.String() != "" {
					name = v.String()
				} else {
					name = "Data[" + strconv.Itoa(unnamed) + "]"
					unnamed++
				}
			}
			r.Data = append(r.Data, Field{Name: name, Value: c.Text()})
		}
	} else if ud := ev.Child("UserData"); ud != nil {
		r.DataSection = "UserData"
		seen := map[string]int{}
		for _, c := range ud.Elements() {
			r.flattenUserData(c, seen, 0)
		}
	}
}

// flattenUserData adds the leaf elements under e as fields named after
// them; a repeated name gets a [n] suffix.
func (r *Record) flattenUserData(e *Element, seen map[string]int, depth int) {
	for _, n := range e.Content {
		c := n.Element
		if c == nil {
			continue
		}
		if hasChildElement(c) && depth < MaxDepth {
			r.flattenUserData(c, seen, depth+1)
			continue
		}
		name := c.Name
		if k := seen[c.Name]; k > 0 {
			name += "[" + strconv.Itoa(k) + "]"
		}
		seen[c.Name]++
		r.Data = append(r.Data, Field{Name: name, Value: c.Text()})
	}
}

func hasChildElement(e *Element) bool {
	for _, n := range e.Content {
		if n.Element != nil {
			return true
		}
	}
	return false
}

// Get returns the named EventData or UserData value.
func (r *Record) Get(name string) (Value, bool) {
	for _, f := range r.Data {
		if f.Name == name {
			return f.Value, true
		}
	}
	return Value{}, false
}

// XML renders the record as indented event XML, as Windows would show it.
func (r *Record) XML() string {
	var b strings.Builder
	r.WriteXML(&b)
	return b.String()
}

// WriteXML writes the record's XML to w.
func (r *Record) WriteXML(w io.Writer) error {
	var b strings.Builder
	if r.Root != nil {
		writeElement(&b, r.Root, 0)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeElement writes e at indentation level depth (-1: no indentation).
func writeElement(b *strings.Builder, e *Element, depth int) {
	// An element whose only content is an array value is repeated once per
	// item.
	if len(e.Content) == 1 && e.Content[0].Element == nil && e.Content[0].Value.Type&ArrayFlag != 0 {
		for _, s := range e.Content[0].Value.Strings() {
			c := *e
			c.Content = []Node{{Value: StringValue(s)}}
			writeElement(b, &c, depth)
		}
		return
	}
	indent := func(d int) {
		if depth >= 0 {
			b.WriteString(strings.Repeat("  ", d))
		}
	}
	nl := func() {
		if depth >= 0 {
			b.WriteByte('\n')
		}
	}
	indent(depth)
	b.WriteByte('<')
	b.WriteString(e.Name)
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escapeXML(b, a.Value.String(), true)
		b.WriteByte('"')
	}
	if emptyContent(e) {
		b.WriteString("/>")
		nl()
		return
	}
	hasElem := false
	for _, n := range e.Content {
		if n.Element != nil {
			hasElem = true
		}
	}
	b.WriteByte('>')
	if !hasElem {
		for _, n := range e.Content {
			escapeXML(b, n.Value.String(), false)
		}
	} else {
		nl()
		for _, n := range e.Content {
			if n.Element != nil {
				d := depth + 1
				if depth < 0 {
					d = -1
				}
				writeElement(b, n.Element, d)
			} else {
				indent(depth + 1)
				escapeXML(b, n.Value.String(), false)
				nl()
			}
		}
		indent(depth)
	}
	b.WriteString("</")
	b.WriteString(e.Name)
	b.WriteByte('>')
	nl()
}

func emptyContent(e *Element) bool {
	for _, n := range e.Content {
		if n.Element != nil || n.Value.String() != "" {
			return false
		}
	}
	return true
}

// escapeXML writes s escaped for XML text or attribute values. Control
// characters become character references (well-formed in XML 1.1, as
// python-evtx declares its output), so that nothing from the log can break
// the document or drive a terminal; NUL, U+FFFE and U+FFFF, which no XML
// version allows, become U+FFFD.
func escapeXML(b *strings.Builder, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == 0 || r == 0xfffe || r == 0xffff:
			// No XML version can carry these, even as references.
			b.WriteRune(0xfffd)
		case (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || (attr && (r == '\n' || r == '\t')),
			r >= 0xa0 && unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			// Invisible format characters (bidirectional overrides,
			// zero-width characters) as references too: they would reorder
			// or hide text on a terminal.
			b.WriteString("&#x")
			b.WriteString(strconv.FormatInt(int64(r), 16))
			b.WriteByte(';')
		default:
			b.WriteRune(r)
		}
	}
}
