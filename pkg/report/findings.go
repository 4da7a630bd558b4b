package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// FindingWriter writes findings one at a time as they arrive.
//
// WriteFinding writes (or buffers) one finding; Flush pushes everything
// written so far to the underlying writer (call it per host, or whenever a
// reader should see progress); Close writes the format's trailer, if any,
// and flushes. None of them closes the underlying io.Writer.
type FindingWriter interface {
	WriteFinding(f *Finding) error
	Flush() error
	Close() error
}

// Formats accepted by NewFindingWriter.
const (
	FormatText  = "text"
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// TextOptions configures the text writers.
type TextOptions struct {
	// Color turns on ANSI colours for levels. The caller decides, usually
	// from whether the output is a terminal; the default is no colour.
	Color bool
	// NoSummary leaves out the closing "N findings: ..." line.
	NoSummary bool
	// MaxData caps how many bytes of a finding's data the text report
	// shows (a Path can be kilobytes, binary data more); the rest is
	// replaced by a note saying how much was left out. 0 means
	// DefaultMaxData; negative means no limit. JSONL and CSV always carry
	// all of it.
	MaxData int
}

// DefaultMaxData is the text report's default TextOptions.MaxData.
const DefaultMaxData = 2048

func (o TextOptions) maxData() int {
	if o.MaxData == 0 {
		return DefaultMaxData
	}
	return o.MaxData
}

// NewFindingWriter returns the findings writer for a --format name: "text",
// "jsonl" or "csv".
func NewFindingWriter(format string, w io.Writer, opts TextOptions) (FindingWriter, error) {
	switch format {
	case FormatText:
		return NewTextWriter(w, opts), nil
	case FormatJSONL:
		return NewJSONLWriter(w), nil
	case FormatCSV:
		return NewCSVWriter(w), nil
	}
	return nil, fmt.Errorf("unknown findings format %q: want text, jsonl or csv", format)
}

// JSONLWriter writes one JSON object per finding per line (see
// Finding.MarshalJSON). Every line is valid JSON on its own, whatever bytes
// the finding holds.
type JSONLWriter struct {
	w   *bufio.Writer
	err error
}

// NewJSONLWriter returns a JSON Lines findings writer on w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: bufio.NewWriter(w)}
}

// WriteFinding writes f as one line.
func (j *JSONLWriter) WriteFinding(f *Finding) error {
	if j.err != nil {
		return j.err
	}
	b, _ := f.MarshalJSON()
	b = append(b, '\n')
	_, j.err = j.w.Write(b)
	return j.err
}

// Flush writes buffered lines to the underlying writer.
func (j *JSONLWriter) Flush() error {
	if j.err != nil {
		return j.err
	}
	j.err = j.w.Flush()
	return j.err
}

// Close flushes; JSON Lines has no trailer.
func (j *JSONLWriter) Close() error { return j.Flush() }

// FindingColumns are the CSV header of the findings CSV, in order: the JSON
// field names.
var FindingColumns = []string{
	"rule_id", "title", "level", "pattern", "attack", "host", "user_sid", "user", "source",
	"key", "value", "data", "last_write", "time", "explain", "remediation", "recovered", "event",
}

// CSVWriter writes findings as RFC 4180 CSV with a header row
// (FindingColumns). attack is joined with ";", event is the event's fields
// as a JSON object, times use the 7-digit UTC layout. Cells are
// formula-neutralized (SafeCSVCell).
type CSVWriter struct {
	w      *bufio.Writer
	header bool
	err    error
}

// NewCSVWriter returns a CSV findings writer on w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: bufio.NewWriter(w)}
}

func (c *CSVWriter) writeHeader() {
	if !c.header {
		c.header = true
		c.err = csvLine{c.w}.write(FindingColumns)
	}
}

// WriteFinding writes f as one record (after the header, on first use).
func (c *CSVWriter) WriteFinding(f *Finding) error {
	if c.err != nil {
		return c.err
	}
	c.writeHeader()
	if c.err != nil {
		return c.err
	}
	event := "{}"
	if f.Event != nil {
		event = string(MarshalValue(f.Event))
	}
	recovered := "false"
	if f.Recovered {
		recovered = "true"
	}
	c.err = csvLine{c.w}.write([]string{
		f.RuleID, f.Title, f.Level.String(), f.Pattern, strings.Join(f.Attack, ";"), f.Host, f.UserSID,
		f.User, f.Source, f.Key, f.Value, f.Data, wintime.Format(f.LastWrite), wintime.Format(f.Time),
		f.Explain, f.Remediation, recovered, event,
	})
	return c.err
}

// Flush writes buffered records to the underlying writer.
func (c *CSVWriter) Flush() error {
	if c.err != nil {
		return c.err
	}
	c.err = c.w.Flush()
	return c.err
}

// Close writes the header if no finding was written, then flushes, so an
// empty result is still a valid CSV file with its columns.
func (c *CSVWriter) Close() error {
	if c.err == nil {
		c.writeHeader()
	}
	return c.Flush()
}
