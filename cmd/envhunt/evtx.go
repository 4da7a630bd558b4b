package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "evtx", summary: "print the records of Windows event logs (.evtx), or a summary of each log", run: runEvtx})
}

func runEvtx(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("evtx", "evtx FILE|DIR... [--summary] [--slack] [--id N]... [--provider P] [--format jsonl|csv|text|xml] [--output FILE]", stdout)
	var of outputFlags
	summary := fs.Bool("summary", false, "print one JSON object per log (records, chunks, event_ids, providers, first, last, recovered, anomalies) instead of the records")
	slack := fs.Bool("slack", false, "also print the records carved from chunk slack (stale copies, leftovers of other logs), marked recovered")
	ids := fs.UintSlice("id", nil, "only records with this EventID (repeatable or comma-separated)")
	provider := fs.String("provider", "", "only records of this provider (System/Provider Name, case-insensitive)")
	of.add(fs, "jsonl", "jsonl", "csv", "text", "xml")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("evtx: give at least one .evtx file or a folder holding some")
	}
	want := func(r *evtx.Record) bool {
		if *provider != "" && !strings.EqualFold(r.System.ProviderName, *provider) {
			return false
		}
		if len(*ids) == 0 {
			return true
		}
		for _, id := range *ids {
			if uint(r.System.EventID) == id {
				return true
			}
		}
		return false
	}
	out, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The live heap is one chunk per worker and the output buffer, so
		// collecting less often costs little memory and saves about a
		// third of the CPU time.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	w := bufio.NewWriterSize(out, 256<<10)
	var rw evtxRecordWriter
	switch {
	case *summary:
	case of.format == "csv":
		rw = newEvtxCSV(w)
	case of.format == "text":
		rw = &evtxText{w: w}
	case of.format == "xml":
		rw = &evtxXML{w: w}
	default:
		rw = &evtxJSONL{w: w}
	}
	paths, failed := evtxExpand(fs.Args())
	var partial []error
	read := 0
	for _, path := range paths {
		anomalies, err := evtxOne(ctx, path, want, rw, w, *summary, *slack)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			w.Flush()
			closeOut()
			return err
		}
		if err != nil {
			var fe *evtx.FormatError
			if !errors.As(err, &fe) {
				err = fmt.Errorf("%s: %w", path, dumpUnwrapPath(err))
			}
			failed = append(failed, err)
			continue
		}
		read++
		if len(anomalies) > 0 {
			partial = append(partial, fmt.Errorf("%s: read in part (%d anomalies; the first: %v)", path, len(anomalies), anomalies[0]))
		}
	}
	if rw != nil {
		if err := rw.flush(); err != nil {
			failed = append(failed, err)
		}
	}
	flushErr := w.Flush()
	closeErr := closeOut()
	if err := errors.Join(flushErr, closeErr); err != nil {
		return fmt.Errorf("evtx: writing output: %w", err)
	}
	switch {
	case read == 0:
		return inputError(errors.Join(failed...))
	case len(failed) > 0 || len(partial) > 0:
		return partialError(errors.Join(append(failed, partial...)...))
	}
	return nil
}

// evtxExpand replaces each folder argument by the .evtx files under it
// (any depth, names compared case-insensitively, sorted); files are kept as
// given. A folder without any is reported.
func evtxExpand(args []string) ([]string, []error) {
	var out []string
	var errs []error
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		walkErr := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, dumpUnwrapPath(err)))
				return nil
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".evtx") {
				found = append(found, p)
			}
			return nil
		})
		if walkErr != nil {
			errs = append(errs, walkErr)
		}
		if len(found) == 0 {
			errs = append(errs, fmt.Errorf("%s: no .evtx files in this folder", a))
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, errs
}

// evtxSummary is the --summary object of one log.
type evtxSummary struct {
	File       string         `json:"file"`
	Version    string         `json:"version"`
	Dirty      bool           `json:"dirty"`
	Full       bool           `json:"full"`
	Records    int            `json:"records"`
	Chunks     int            `json:"chunks"`
	ChunkSlots int            `json:"chunk_slots"`
	EventIDs   map[string]int `json:"event_ids"`
	Providers  map[string]int `json:"providers"`
	First      string         `json:"first"`
	Last       string         `json:"last"`
	// Recovered counts the records carved from chunk slack (as libevtx
	// counts them); of them, RecoveredRendered rendered whole and
	// RecoveredPartial without their event data.
	Recovered         int      `json:"recovered"`
	RecoveredRendered int      `json:"recovered_rendered"`
	RecoveredPartial  int      `json:"recovered_partial"`
	Anomalies         []string `json:"anomalies"`
}

func isEvtxContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// evtxOne reads one log: it writes its records (or its summary) and returns
// the anomalies met. An error means the file could not be read at all.
func evtxOne(ctx context.Context, path string, want func(*evtx.Record) bool, rw evtxRecordWriter, w io.Writer, summary, slack bool) ([]error, error) {
	f, err := evtx.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := evtxSummary{
		File: path, Version: fmt.Sprintf("%d.%d", f.Header.MajorVersion, f.Header.MinorVersion),
		Dirty: f.Header.Dirty(), Full: f.Header.Full(), ChunkSlots: f.ChunkSlots(),
		EventIDs: map[string]int{}, Providers: map[string]int{}, Anomalies: []string{},
	}
	var first, last time.Time
	var anomalies []error
	for rec, err := range f.RecordsParallel(ctx, runtime.GOMAXPROCS(0)) {
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return anomalies, err
			}
			anomalies = append(anomalies, err)
			s.Anomalies = append(s.Anomalies, err.Error())
			continue
		}
		if !want(rec) {
			continue
		}
		if !summary {
			if err := rw.write(path, rec); err != nil {
				return anomalies, err
			}
			continue
		}
		s.Records++
		s.EventIDs[strconv.Itoa(int(rec.System.EventID))]++
		s.Providers[rec.System.ProviderName]++
		if t := rec.System.TimeCreated; !t.IsZero() {
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
	}
	// Records carved from slack: counted for the summary, printed with
	// --slack. Those that cannot be rendered are expected (stale bytes) and
	// are not anomalies of the log.
	if summary || slack {
		for rec, err := range f.Slack(ctx) {
			if err != nil && isEvtxContextErr(err) {
				return anomalies, err
			}
			if summary {
				switch {
				case err != nil && !strings.Contains(err.Error(), "without its event data"):
					s.Recovered++
				case err == nil:
					s.Recovered++
					if rec.Partial {
						s.RecoveredPartial++
					} else {
						s.RecoveredRendered++
					}
				}
				continue
			}
			if err == nil && want(rec) {
				if err := rw.write(path, rec); err != nil {
					return anomalies, err
				}
			}
		}
	}
	if summary {
		s.Chunks = f.SignedChunks()
		s.First, s.Last = wintime.Format(first), wintime.Format(last)
		b, err := json.Marshal(s)
		if err != nil {
			return anomalies, err
		}
		if _, err := w.Write(report.EscapeInvisibleJSON(append(b, '\n'))); err != nil {
			return anomalies, err
		}
	}
	return anomalies, nil
}

// evtxRecordWriter writes records in one output format.
type evtxRecordWriter interface {
	write(file string, r *evtx.Record) error
	flush() error
}

// evtxSystemFields lists the System header as output fields, in order.
func evtxSystemFields(r *evtx.Record) []evtxField {
	s := &r.System
	out := []evtxField{
		{"Provider_Name", s.ProviderName, false},
		{"Provider_Guid", s.ProviderGUID, false},
		{"EventID", strconv.FormatUint(uint64(s.EventID), 10), true},
	}
	if s.HasQualifiers {
		out = append(out, evtxField{"Qualifiers", strconv.FormatUint(uint64(s.Qualifiers), 10), true})
	}
	if s.EventSourceName != "" {
		out = append(out, evtxField{"EventSourceName", s.EventSourceName, false})
	}
	out = append(out,
		evtxField{"Version", strconv.Itoa(int(s.Version)), true},
		evtxField{"Level", strconv.Itoa(int(s.Level)), true},
		evtxField{"Task", strconv.Itoa(int(s.Task)), true},
		evtxField{"Opcode", strconv.Itoa(int(s.Opcode)), true},
		evtxField{"Keywords", "0x" + strconv.FormatUint(s.Keywords, 16), false},
		evtxField{"TimeCreated", wintime.Format(s.TimeCreated), false},
		evtxField{"EventRecordID", strconv.FormatUint(s.EventRecordID, 10), true},
		evtxField{"ActivityID", s.ActivityID, false},
		evtxField{"RelatedActivityID", s.RelatedActivityID, false},
		evtxField{"ProcessID", strconv.FormatUint(uint64(s.ProcessID), 10), true},
		evtxField{"ThreadID", strconv.FormatUint(uint64(s.ThreadID), 10), true},
		evtxField{"Channel", s.Channel, false},
		evtxField{"Computer", s.Computer, false},
		evtxField{"UserID", s.UserID, false},
	)
	return out
}

type evtxField struct {
	name, value string
	number      bool
}

// evtxIsNumber reports value types written as JSON numbers.
func evtxIsNumber(v evtx.Value) bool {
	switch v.Type {
	case evtx.Int8Type, evtx.UInt8Type, evtx.Int16Type, evtx.UInt16Type, evtx.Int32Type, evtx.UInt32Type, evtx.Int64Type, evtx.UInt64Type:
		return true
	}
	return false
}

// evtxJSONL writes one JSON object per record.
type evtxJSONL struct {
	w   io.Writer
	buf []byte
}

func (j *evtxJSONL) write(file string, r *evtx.Record) error {
	b := j.buf[:0]
	b = append(b, `{"file":`...)
	b = evtxAppendJSONString(b, file)
	b = append(b, `,"record":`...)
	b = strconv.AppendUint(b, r.Identifier, 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	if r.Uncommitted {
		b = append(b, `,"uncommitted":true`...)
	}
	if r.Recovered {
		b = append(b, `,"recovered":true`...)
	}
	if r.Partial {
		b = append(b, `,"partial":true`...)
	}
	for _, f := range evtxSystemFields(r) {
		b = append(b, ',')
		b = evtxAppendJSONString(b, f.name)
		b = append(b, ':')
		if f.number {
			b = append(b, f.value...)
		} else {
			b = evtxAppendJSONString(b, f.value)
		}
	}
	if r.DataSection != "" {
		b = append(b, ',')
		b = evtxAppendJSONString(b, r.DataSection)
		b = append(b, ":{"...)
		for i, d := range r.Data {
			if i > 0 {
				b = append(b, ',')
			}
			b = evtxAppendJSONString(b, d.Name)
			b = append(b, ':')
			switch {
			case evtxIsNumber(d.Value):
				b = append(b, d.Value.String()...)
			case d.Value.Type&evtx.ArrayFlag != 0:
				b = append(b, '[')
				for k, s := range d.Value.Strings() {
					if k > 0 {
						b = append(b, ',')
					}
					b = evtxAppendJSONString(b, s)
				}
				b = append(b, ']')
			default:
				b = evtxAppendJSONString(b, d.Value.String())
			}
		}
		b = append(b, '}')
	}
	b = append(b, "}\n"...)
	j.buf = b
	_, err := j.w.Write(report.EscapeInvisibleJSON(b))
	return err
}

func (j *evtxJSONL) flush() error { return nil }

// evtxAppendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD and control characters are escaped.
func evtxAppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		// Copy the run of characters that need no escaping at once.
		j := i
		for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' && s[j] != '\\' {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, fmt.Sprintf(`\u%04x`, c)...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == 0x2028 || r == 0x2029 {
			b = append(b, fmt.Sprintf(`\u%04x`, r)...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// evtxCell makes a CSV or text cell safe: control characters made visible,
// and a leading character a spreadsheet would take for a formula prefixed
// with '.
func evtxCell(s string) string {
	s = visible(s)
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			s = "'" + s
		}
	}
	return s
}

// evtxDataText renders the data section as Name=Value pairs.
func evtxDataText(r *evtx.Record, sep string) string {
	var b strings.Builder
	for i, d := range r.Data {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(d.Name)
		b.WriteByte('=')
		b.WriteString(d.Value.String())
	}
	return b.String()
}

// evtxCSV writes one row per record.
type evtxCSV struct {
	c      *csv.Writer
	header bool
}

func newEvtxCSV(w io.Writer) *evtxCSV { return &evtxCSV{c: csv.NewWriter(w)} }

var evtxCSVHeader = []string{"file", "record", "TimeCreated", "Provider_Name", "EventID", "EventRecordID", "Level", "Channel", "Computer", "UserID", "ProcessID", "ThreadID", "data", "state"}

// evtxState says how a record was found: "" (allocated), "uncommitted",
// "recovered" or "recovered, partial".
func evtxState(r *evtx.Record) string {
	switch {
	case r.Recovered && r.Partial:
		return "recovered, partial"
	case r.Recovered:
		return "recovered"
	case r.Uncommitted:
		return "uncommitted"
	}
	return ""
}

func (c *evtxCSV) write(file string, r *evtx.Record) error {
	if !c.header {
		c.header = true
		if err := c.c.Write(evtxCSVHeader); err != nil {
			return err
		}
	}
	s := &r.System
	row := []string{file, strconv.FormatUint(r.Identifier, 10), wintime.Format(s.TimeCreated), s.ProviderName,
		strconv.FormatUint(uint64(s.EventID), 10), strconv.FormatUint(s.EventRecordID, 10), strconv.Itoa(int(s.Level)),
		s.Channel, s.Computer, s.UserID, strconv.FormatUint(uint64(s.ProcessID), 10), strconv.FormatUint(uint64(s.ThreadID), 10),
		evtxDataText(r, "; "), evtxState(r)}
	for i := range row {
		row[i] = evtxCell(row[i])
	}
	return c.c.Write(row)
}

func (c *evtxCSV) flush() error {
	c.c.Flush()
	return c.c.Error()
}

// evtxText writes one line per record for reading in a terminal.
type evtxText struct{ w io.Writer }

func (t *evtxText) write(file string, r *evtx.Record) error {
	s := &r.System
	var b strings.Builder
	b.WriteString(wintime.Format(s.TimeCreated))
	b.WriteString("  ")
	b.WriteString(visible(s.ProviderName))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(uint64(s.EventID), 10))
	b.WriteString("  #")
	b.WriteString(strconv.FormatUint(s.EventRecordID, 10))
	b.WriteString("  ")
	b.WriteString(visible(s.Computer))
	if st := evtxState(r); st != "" {
		b.WriteString("  [" + st + "]")
	}
	for _, d := range r.Data {
		b.WriteString("  ")
		b.WriteString(visible(d.Name))
		b.WriteByte('=')
		b.WriteString(visible(d.Value.String()))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *evtxText) flush() error { return nil }

// evtxXML writes each record as event XML, as Windows renders it, in an
// XML 1.1 <Events> document (control characters become character
// references, which XML 1.0 cannot carry).
type evtxXML struct {
	w       io.Writer
	started bool
}

func (x *evtxXML) write(file string, r *evtx.Record) error {
	if !x.started {
		x.started = true
		if _, err := io.WriteString(x.w, "<?xml version=\"1.1\" encoding=\"utf-8\"?>\n<Events>\n"); err != nil {
			return err
		}
	}
	if st := evtxState(r); st != "" {
		if _, err := io.WriteString(x.w, "<!-- "+st+" -->\n"); err != nil {
			return err
		}
	}
	return r.WriteXML(x.w)
}

func (x *evtxXML) flush() error {
	if !x.started {
		return nil
	}
	_, err := io.WriteString(x.w, "</Events>\n")
	return err
}
