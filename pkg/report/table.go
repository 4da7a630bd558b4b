package report

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"

	"github.com/envhunt/envhunt/pkg/event"
)

// TableWriter writes rows of cells with fixed column names, for commands
// whose output is a table (dump, etl, evtx, env, diff). Each row's values
// are strings, integers, bools, []string, []byte (written as hex),
// time.Time (7-digit UTC layout), *ordereddict.Dict or nil.
type TableWriter interface {
	// WriteRow writes one row: one value per column, in column order. Fewer
	// values leave the last columns empty; more is an error.
	WriteRow(values ...any) error
	Flush() error
	Close() error
}

// TableBlock is how many rows the text table holds before printing them
// aligned; the widths of later blocks only grow, so long output stays
// aligned without holding every row.
const TableBlock = 256

// NewTableWriter returns a table writer for a --format name: "text" (aligned
// columns, SafeTerminal cells), "csv" (header row, SafeCSVCell cells) or
// "jsonl" (one object per row with the column names as keys, typed values,
// "<column>_raw" beside invalid text).
func NewTableWriter(format string, w io.Writer, columns []string, opts TextOptions) (TableWriter, error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("table: no columns")
	}
	cols := append([]string(nil), columns...)
	switch format {
	case FormatText:
		return &textTable{w: bufio.NewWriter(w), cols: cols, widths: make([]int, len(cols))}, nil
	case FormatCSV:
		return &csvTable{w: bufio.NewWriter(w), cols: cols}, nil
	case FormatJSONL:
		return &jsonlTable{w: bufio.NewWriter(w), cols: cols}, nil
	}
	return nil, fmt.Errorf("unknown table format %q: want text, jsonl or csv", format)
}

// CellText renders a value as the text and CSV writers show it (before
// sanitizing): event.FormatValue's rendering, with []byte as lowercase hex
// and an *ordereddict.Dict as its JSON object.
func CellText(v any) string {
	if b, ok := v.([]byte); ok {
		return hex.EncodeToString(b)
	}
	if _, ok := v.(*ordereddict.Dict); ok {
		return string(MarshalValue(v))
	}
	return event.FormatValue(v)
}

func checkRow(cols []string, values []any) error {
	if len(values) > len(cols) {
		return fmt.Errorf("table: row has %d values for %d columns", len(values), len(cols))
	}
	return nil
}

type textTable struct {
	w       *bufio.Writer
	cols    []string
	widths  []int
	rows    [][]string
	printed bool
	err     error
}

func (t *textTable) WriteRow(values ...any) error {
	if t.err != nil {
		return t.err
	}
	if err := checkRow(t.cols, values); err != nil {
		return err
	}
	row := make([]string, len(t.cols))
	for i, v := range values {
		row[i] = SafeTerminal(CellText(v))
	}
	t.rows = append(t.rows, row)
	if len(t.rows) >= TableBlock {
		t.printBlock()
	}
	return t.err
}

func (t *textTable) printBlock() {
	measure := func(row []string) {
		for i, c := range row {
			if n := utf8.RuneCountInString(c); n > t.widths[i] {
				t.widths[i] = n
			}
		}
	}
	if !t.printed {
		measure(t.cols)
	}
	for _, r := range t.rows {
		measure(r)
	}
	if !t.printed {
		t.printed = true
		t.line(t.cols)
	}
	for _, r := range t.rows {
		t.line(r)
	}
	t.rows = t.rows[:0]
}

func (t *textTable) line(cells []string) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(c)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", t.widths[i]-utf8.RuneCountInString(c)))
		}
	}
	s := strings.TrimRight(b.String(), " ")
	_, t.err = t.w.WriteString(s + "\n")
}

func (t *textTable) Flush() error {
	if t.err != nil {
		return t.err
	}
	if len(t.rows) > 0 {
		t.printBlock()
	}
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

func (t *textTable) Close() error {
	if !t.printed && t.err == nil {
		t.printBlock() // the header, even for an empty table
	}
	return t.Flush()
}

type csvTable struct {
	w      *bufio.Writer
	cols   []string
	header bool
	err    error
}

func (c *csvTable) writeHeader() {
	if !c.header {
		c.header = true
		c.err = csvLine{c.w}.write(c.cols)
	}
}

func (c *csvTable) WriteRow(values ...any) error {
	if c.err != nil {
		return c.err
	}
	if err := checkRow(c.cols, values); err != nil {
		return err
	}
	c.writeHeader()
	row := make([]string, len(c.cols))
	for i, v := range values {
		row[i] = CellText(v)
	}
	if c.err == nil {
		c.err = csvLine{c.w}.write(row)
	}
	return c.err
}

func (c *csvTable) Flush() error {
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

func (c *csvTable) Close() error {
	if c.err == nil {
		c.writeHeader()
	}
	return c.Flush()
}

type jsonlTable struct {
	w    *bufio.Writer
	cols []string
	err  error
}

func (j *jsonlTable) WriteRow(values ...any) error {
	if j.err != nil {
		return j.err
	}
	if err := checkRow(j.cols, values); err != nil {
		return err
	}
	var o jsonObject
	o.begin()
	for i, c := range j.cols {
		var v any
		if i < len(values) {
			v = values[i]
		}
		o.field(c, v, 0)
	}
	o.end()
	o.buf = append(o.buf, '\n')
	_, j.err = j.w.Write(o.buf)
	return j.err
}

func (j *jsonlTable) Flush() error {
	if j.err == nil {
		j.err = j.w.Flush()
	}
	return j.err
}

func (j *jsonlTable) Close() error { return j.Flush() }
