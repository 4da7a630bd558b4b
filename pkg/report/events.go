package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// EventWriter writes events (what `envhunt events` prints for rule authors)
// one at a time.
type EventWriter interface {
	WriteEvent(e *event.Event) error
	Flush() error
	Close() error
}

// EventOptions configures the event writers.
type EventOptions struct {
	TextOptions
	// Columns fixes the CSV field columns (after the base columns
	// EventBaseColumns); fields not listed go to the "extra" column. When
	// nil, the columns are the union of the field names, in first-seen order,
	// of the first EventCSVBuffer events (see EventColumns for a category's
	// declared fields).
	Columns []string
}

// EventCSVBuffer is how many events the CSV event writer holds to learn its
// columns when EventOptions.Columns is nil; later events with new field
// names carry them in the "extra" column.
const EventCSVBuffer = 10000

// EventBaseColumns are the first columns of the events CSV; "extra" (a JSON
// object of the fields without a column of their own) is always the last.
var EventBaseColumns = []string{"category", "time", "host", "file", "offset"}

// NewEventWriter returns the event writer for a --format name: "jsonl",
// "text" or "csv".
//
// JSON Lines: one object per event with "category", "time" (7-digit UTC, ""
// when unknown), "source" {"host", "file", "offset" (null when none)} and
// "fields" (the event's fields in order, "<field>_raw" beside invalid text).
func NewEventWriter(format string, w io.Writer, opts EventOptions) (EventWriter, error) {
	switch format {
	case FormatJSONL:
		return &jsonlEvents{w: bufio.NewWriter(w)}, nil
	case FormatText:
		return &textEvents{w: bufio.NewWriter(w)}, nil
	case FormatCSV:
		c := &csvEvents{w: bufio.NewWriter(w)}
		if opts.Columns != nil {
			c.setColumns(opts.Columns)
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown events format %q: want jsonl, text or csv", format)
}

// EventColumns returns the field names events of the given categories may
// carry, as declared in pkg/event: the common fields, then each category's
// fields in declaration order, without repeats. Use it as
// EventOptions.Columns when printing one category.
func EventColumns(cats ...event.Category) []string {
	var out []string
	seen := map[string]bool{}
	add := func(fs []event.Field) {
		for _, f := range fs {
			if !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	add(event.CommonFields)
	for _, c := range cats {
		if spec, ok := event.Lookup(c); ok {
			add(spec.Fields)
		}
	}
	return out
}

func marshalEvent(e *event.Event) []byte {
	var o jsonObject
	o.begin()
	o.str("category", string(e.Category), nil)
	o.str("time", wintime.Format(e.Time), nil)
	o.key("source")
	var s jsonObject
	s.buf = o.buf
	s.begin()
	s.str("host", e.Source.Host, nil)
	s.str("file", e.Source.File, nil)
	s.key("offset")
	if e.Source.Offset < 0 {
		s.buf = append(s.buf, "null"...)
	} else {
		s.value(e.Source.Offset, 0)
	}
	s.end()
	o.buf = s.buf
	o.key("fields")
	if e.Fields == nil {
		o.buf = append(o.buf, "{}"...)
	} else {
		o.value(e.Fields, 0)
	}
	o.end()
	return o.buf
}

type jsonlEvents struct {
	w   *bufio.Writer
	err error
}

func (j *jsonlEvents) WriteEvent(e *event.Event) error {
	if j.err != nil {
		return j.err
	}
	b := append(marshalEvent(e), '\n')
	_, j.err = j.w.Write(b)
	return j.err
}

func (j *jsonlEvents) Flush() error {
	if j.err == nil {
		j.err = j.w.Flush()
	}
	return j.err
}

func (j *jsonlEvents) Close() error { return j.Flush() }

// textEvents writes one block per event: a line with time, category, host
// and file@offset, then one indented "Name  value" line per field.
type textEvents struct {
	w   *bufio.Writer
	n   int
	err error
}

func (t *textEvents) WriteEvent(e *event.Event) error {
	if t.err != nil {
		return t.err
	}
	if t.n > 0 {
		t.w.WriteByte('\n')
	}
	t.n++
	head := []string{wintime.Format(e.Time), SafeTerminal(string(e.Category))}
	if head[0] == "" {
		head[0] = "(no time)"
	}
	if e.Source.Host != "" {
		head = append(head, SafeTerminal(e.Source.Host))
	}
	if e.Source.File != "" {
		loc := SafeTerminal(e.Source.File)
		if e.Source.Offset >= 0 {
			loc += "@0x" + strconv.FormatInt(e.Source.Offset, 16)
		}
		head = append(head, loc)
	}
	t.w.WriteString(strings.Join(head, "  ") + "\n")
	if e.Fields != nil {
		names := e.Fields.Keys()
		width := 0
		for _, n := range names {
			width = max(width, len(SafeTerminal(n)))
		}
		for _, it := range e.Fields.Items() {
			name := SafeTerminal(it.Key)
			t.w.WriteString("    " + name + strings.Repeat(" ", width-len(name)+2) + SafeTerminal(CellText(it.Value)) + "\n")
		}
	}
	return t.err
}

func (t *textEvents) Flush() error {
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

func (t *textEvents) Close() error { return t.Flush() }

// csvEvents writes events as CSV: EventBaseColumns, one column per field,
// and "extra". Without fixed columns it buffers up to EventCSVBuffer events
// to learn the union of their field names.
type csvEvents struct {
	w       *bufio.Writer
	cols    []string // field columns; nil while learning
	index   map[string]int
	pending []*event.Event
	err     error
}

func (c *csvEvents) setColumns(cols []string) {
	c.cols = []string{}
	c.index = map[string]int{}
	for _, n := range cols {
		if _, dup := c.index[n]; !dup {
			c.index[n] = len(c.cols)
			c.cols = append(c.cols, n)
		}
	}
	header := append(append(append([]string{}, EventBaseColumns...), c.cols...), "extra")
	c.err = csvLine{c.w}.write(header)
}

func (c *csvEvents) learn() {
	var cols []string
	seen := map[string]bool{}
	for _, e := range c.pending {
		if e.Fields == nil {
			continue
		}
		for _, n := range e.Fields.Keys() {
			if !seen[n] {
				seen[n] = true
				cols = append(cols, n)
			}
		}
	}
	c.setColumns(cols)
	pending := c.pending
	c.pending = nil
	for _, e := range pending {
		if c.err != nil {
			return
		}
		c.write(e)
	}
}

func (c *csvEvents) write(e *event.Event) {
	row := make([]string, len(EventBaseColumns)+len(c.cols)+1)
	row[0] = string(e.Category)
	row[1] = wintime.Format(e.Time)
	row[2] = e.Source.Host
	row[3] = e.Source.File
	if e.Source.Offset >= 0 {
		row[4] = strconv.FormatInt(e.Source.Offset, 10)
	}
	var extra *ordereddict.Dict
	if e.Fields != nil {
		for _, it := range e.Fields.Items() {
			if i, ok := c.index[it.Key]; ok {
				row[len(EventBaseColumns)+i] = CellText(it.Value)
				continue
			}
			if extra == nil {
				extra = ordereddict.NewDict()
			}
			extra.Set(it.Key, it.Value)
		}
	}
	if extra != nil {
		row[len(row)-1] = string(MarshalValue(extra))
	}
	c.err = csvLine{c.w}.write(row)
}

func (c *csvEvents) WriteEvent(e *event.Event) error {
	if c.err != nil {
		return c.err
	}
	if c.cols == nil {
		c.pending = append(c.pending, e)
		if len(c.pending) >= EventCSVBuffer {
			c.learn()
		}
		return c.err
	}
	c.write(e)
	return c.err
}

// Flush writes what is buffered; while columns are still being learned, it
// fixes them from the events seen so far.
func (c *csvEvents) Flush() error {
	if c.err == nil && c.cols == nil && len(c.pending) > 0 {
		c.learn()
	}
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

func (c *csvEvents) Close() error {
	if c.err == nil && c.cols == nil {
		c.learn()
	}
	return c.Flush()
}
