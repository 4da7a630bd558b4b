package report

import (
	"bufio"
	"io"

	"github.com/Velocidex/ordereddict"
)

// RecordWriter writes JSON Lines of ordered records with nested values, for
// commands whose JSON output is not a flat table (dump's key objects with a
// values list, diff's changes with local and server sides). It applies the
// same encoding as every other JSON writer: keys in order, valid UTF-8,
// "<field>_raw" hex beside invalid text, control and format characters
// escaped.
//
// A record that sets "<field>_raw" itself (a hive reader knows the original
// UTF-16LE bytes of a name with a lone surrogate; put them in as []byte) gets
// no automatic raw sibling for that field, so the key is never written twice.
type RecordWriter struct {
	w   *bufio.Writer
	err error
}

// NewRecordWriter returns a JSON Lines record writer on w.
func NewRecordWriter(w io.Writer) *RecordWriter {
	return &RecordWriter{w: bufio.NewWriter(w)}
}

// WriteRecord writes r as one line ({} for nil).
func (r *RecordWriter) WriteRecord(rec *ordereddict.Dict) error {
	if r.err != nil {
		return r.err
	}
	var b []byte
	if rec == nil {
		b = []byte("{}")
	} else {
		b = MarshalValue(rec)
	}
	b = append(b, '\n')
	_, r.err = r.w.Write(b)
	return r.err
}

// Flush writes buffered lines to the underlying writer.
func (r *RecordWriter) Flush() error {
	if r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}

// Close flushes.
func (r *RecordWriter) Close() error { return r.Flush() }
