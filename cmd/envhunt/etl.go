package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "etl", summary: "read ETW trace files: events (registry, process, any provider) or a summary", run: runETL})
}

// etlColumns are the CSV columns of `etl` event output.
var etlColumns = []string{"file", "time", "provider", "provider_guid", "event", "id", "opcode", "version", "pid", "tid", "cpu", "process", "key", "key_resolution", "data", "fields"}

func runETL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("etl", "etl FILE|DIR... [--summary] [--provider GUID|NAME]... [--registry] [--process] [--format jsonl|csv|text] [--output FILE]", stdout)
	var of outputFlags
	summary := fs.Bool("summary", false, "print one summary per file (buffers, events by header type and provider, time range, lost events) instead of events")
	providers := fs.StringArray("provider", nil, "only events of this provider: GUID or name (repeatable)")
	registry := fs.Bool("registry", false, "only registry events (Microsoft-Windows-Kernel-Registry and the kernel logger's Registry class)")
	process := fs.Bool("process", false, "only process events (Microsoft-Windows-Kernel-Process and the kernel logger's Process class)")
	fileOrder := fs.Bool("file-order", false, "print events in file order instead of merging the CPUs' buffers into time order")
	of.add(fs, "jsonl", "jsonl", "csv", "text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("etl: give at least one .etl file")
	}
	sel := &etlSelect{registry: *registry, process: *process}
	for _, p := range *providers {
		g, ok := etl.LookupProvider(p)
		if ok {
			sel.guids = append(sel.guids, g)
		} else {
			sel.names = append(sel.names, p) // TraceLogging providers name themselves
		}
	}
	out, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 256<<10)
	ew := newETLWriter(of.format, w)
	paths, inputErrs := etlExpand(fs.Args())
	var partErrs []error
	read := 0
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			break
		}
		f, err := etl.Open(path)
		if err != nil {
			var fe *etl.FormatError
			if !errors.As(err, &fe) {
				err = fmt.Errorf("%s: %w", path, etlUnwrapPath(err))
			}
			inputErrs = append(inputErrs, err)
			continue
		}
		read++
		var rerr error
		if *summary {
			var s *etl.Summary
			s, rerr = etl.Summarize(ctx, f)
			ew.summary(s)
		} else {
			rerr = etlEvents(ctx, f, sel, !*fileOrder, ew)
		}
		f.Close()
		if rerr != nil {
			partErrs = append(partErrs, rerr)
		}
		if ew.err != nil {
			break
		}
	}
	ew.flush()
	flushErr := w.Flush()
	closeErr := closeOut()
	if err := errors.Join(ew.err, flushErr, closeErr); err != nil {
		return fmt.Errorf("etl: writing output: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case read == 0:
		return inputError(errors.Join(inputErrs...))
	case len(inputErrs)+len(partErrs) > 0:
		return partialError(errors.Join(append(inputErrs, partErrs...)...))
	}
	return nil
}

// etlExpand replaces each directory argument by the .etl files under it
// (any case, sorted); files are kept as given, whatever their name.
func etlExpand(args []string) ([]string, []error) {
	var out []string
	var errs []error
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // opening it reports the problem
			continue
		}
		var found []string
		werr := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, etlUnwrapPath(err)))
				return nil
			}
			if d.Type().IsRegular() && strings.EqualFold(filepath.Ext(p), ".etl") {
				found = append(found, p)
			}
			return nil
		})
		if werr != nil {
			errs = append(errs, werr)
		}
		if len(found) == 0 {
			errs = append(errs, fmt.Errorf("%s: no .etl files in this directory", a))
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, errs
}

// etlUnwrapPath drops the *PathError wrapper, whose text repeats the path.
func etlUnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// etlSelect says which events to print.
type etlSelect struct {
	registry, process bool
	guids             []etl.GUID
	names             []string
}

func (s *etlSelect) want(e *etl.Event) bool {
	if len(s.guids)+len(s.names) > 0 {
		ok := false
		for _, g := range s.guids {
			if e.Provider == g {
				ok = true
			}
		}
		if !ok && len(s.names) > 0 {
			n := e.ProviderName()
			for _, want := range s.names {
				if strings.EqualFold(n, want) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	if !s.registry && !s.process {
		return true
	}
	switch e.Provider {
	case etl.KernelRegistryGUID, etl.RegistryClassGUID:
		return s.registry
	case etl.KernelProcessGUID, etl.ProcessClassGUID:
		return s.process
	}
	return false
}

// etlEvents prints the selected events of f.
func etlEvents(ctx context.Context, f *etl.File, sel *etlSelect, ordered bool, ew *etlWriter) error {
	st := etl.NewState()
	prescanErr := st.Prescan(ctx, f)
	events := f.All(ctx)
	if ordered {
		events = f.Timeline(ctx)
	}
	var readErr error
	for e, err := range events {
		if err != nil {
			readErr = err
			break
		}
		var d *etl.Decoded
		var op *etl.RegistryOp
		switch e.Provider {
		case etl.KernelRegistryGUID, etl.RegistryClassGUID, etl.ProcessClassGUID, etl.KernelProcessGUID, etl.ThreadClassGUID:
			d = etl.Decode(e)
			op = st.Observe(e, d)
		}
		if !sel.want(e) {
			continue
		}
		if d == nil {
			d = etl.Decode(e)
		}
		ew.event(f, st, e, d, op)
		if ew.err != nil {
			return nil
		}
	}
	if readErr == nil {
		readErr = prescanErr
	}
	return readErr
}

// etlWriter writes summaries and events in one format.
type etlWriter struct {
	format string
	w      *bufio.Writer
	csv    *csv.Writer
	buf    []byte
	err    error
	// csvHeader is set once the CSV header row is written.
	csvHeader bool
}

func newETLWriter(format string, w *bufio.Writer) *etlWriter {
	ew := &etlWriter{format: format, w: w}
	if format == "csv" {
		ew.csv = csv.NewWriter(w)
	}
	return ew
}

func (ew *etlWriter) flush() {
	if ew.csv != nil {
		ew.csv.Flush()
		if err := ew.csv.Error(); err != nil && ew.err == nil {
			ew.err = err
		}
	}
}

// etlRow is one output row: ordered names and values.
type etlRow struct {
	names  []string
	values []any
}

func (r *etlRow) add(name string, v any) {
	r.names = append(r.names, name)
	r.values = append(r.values, v)
}

func (ew *etlWriter) summary(s *etl.Summary) {
	var r etlRow
	r.add("file", s.File)
	r.add("size", s.Size)
	r.add("buffers", int64(s.Buffers))
	r.add("compressed_buffers", int64(s.CompressedBuffers))
	r.add("events", int64(s.Events))
	bh := ordereddict.NewDict()
	for _, k := range etlSortedKeys(s.ByHeaderType) {
		bh.Set(k, int64(s.ByHeaderType[k]))
	}
	r.add("by_header_type", bh)
	var provs []any
	for _, p := range s.Providers {
		provs = append(provs, ordereddict.NewDict().Set("guid", p.GUID).Set("name", p.Name).Set("events", int64(p.Events)))
	}
	if provs == nil {
		provs = []any{}
	}
	r.add("providers", provs)
	r.add("start_time", s.StartTime)
	r.add("end_time", s.EndTime)
	r.add("first_event", s.FirstEvent)
	r.add("last_event", s.LastEvent)
	r.add("pointer_size", int64(s.PointerSize))
	r.add("cpus", int64(s.CPUs))
	r.add("events_lost", int64(s.EventsLost))
	r.add("buffers_lost", int64(s.BuffersLost))
	r.add("lost_buffer_flags", int64(s.LostBufferFlags))
	r.add("logger_name", s.LoggerName)
	r.add("log_file_name", s.LogFileName)
	r.add("log_file_mode", "0x"+strconv.FormatUint(uint64(s.LogFileMode), 16))
	r.add("clock_type", int64(s.ClockType))
	r.add("build", int64(s.Build))
	r.add("version", s.Version)
	switch ew.format {
	case "csv":
		// A summary is one row per file; nested values as JSON.
		if !ew.csvHeader {
			ew.csvHeader = true
			ew.writeCSV(append([]string(nil), r.names...))
		}
		cells := make([]string, len(r.values))
		for i, v := range r.values {
			cells[i] = etlCellText(v)
		}
		ew.writeCSV(cells)
	case "text":
		for i, n := range r.names {
			ew.printf("%-19s %s\n", n+":", report.SafeTerminal(etlCellText(r.values[i])))
		}
		ew.printf("\n")
	default:
		ew.writeJSON(&r)
	}
}

func etlSortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && (m[keys[j]] > m[keys[j-1]] || m[keys[j]] == m[keys[j-1]] && keys[j] < keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// etlValue converts a decoded value to what the writers render.
func etlValue(v any) any {
	switch x := v.(type) {
	case etl.GUID:
		return x.String()
	case []etl.Field:
		d := ordereddict.NewDict()
		for _, f := range x {
			d.Set(f.Name, etlValue(f.Value))
		}
		return d
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = etlValue(e)
		}
		return out
	}
	return v
}

func etlCellText(v any) string {
	switch x := v.(type) {
	case []any:
		return string(report.MarshalValue(x))
	case nil:
		return ""
	}
	return report.CellText(v)
}

func (ew *etlWriter) event(f *etl.File, st *etl.State, e *etl.Event, d *etl.Decoded, op *etl.RegistryOp) {
	var r etlRow
	r.add("file", f.Name())
	r.add("time", e.Time)
	name := e.ProviderName()
	if name == "" {
		name = e.Provider.String()
	}
	r.add("provider", name)
	r.add("provider_guid", e.Provider.String())
	r.add("header_type", e.HeaderType.String())
	if d.Name != "" {
		r.add("event", d.Name)
	}
	if e.IsKernel() {
		r.add("opcode", int64(e.Opcode))
	} else {
		r.add("id", int64(e.ID))
		r.add("opcode", int64(e.Opcode))
	}
	r.add("version", int64(e.Version))
	if e.HeaderType == etl.HeaderEvent32 || e.HeaderType == etl.HeaderEvent64 {
		r.add("level", int64(e.Level))
		r.add("keywords", "0x"+strconv.FormatUint(e.Keywords, 16))
	}
	pid, hasPID := st.PID(e)
	if hasPID {
		r.add("pid", int64(pid))
	}
	if e.HasPID && e.TID != 0xFFFFFFFF {
		r.add("tid", int64(e.TID))
	}
	r.add("cpu", int64(e.CPU))
	if hasPID {
		if p := st.Process(pid, e.Time); p != nil && p.Image != "" {
			r.add("process", p.Image)
		}
	}
	if op != nil {
		if op.Key != "" {
			r.add("key", op.Key)
			r.add("key_resolution", op.How)
		} else {
			r.add("key_resolution", "ambiguous")
		}
		if op.HasData {
			// The captured data as Sysmon renders value data.
			r.add("data", analyze.Details(hive.DecodeData(hive.ValueType(op.Type), op.Data)))
		}
		if op.HasPreviousData {
			r.add("previous_data", analyze.Details(hive.DecodeData(hive.ValueType(op.PreviousType), op.PreviousData)))
		}
	}
	nFixed := len(r.names)
	for _, fl := range d.Fields {
		r.add(fl.Name, etlValue(fl.Value))
	}
	if d.Source == "" && len(e.Payload) > 0 {
		r.add("payload", hex.EncodeToString(e.Payload))
	}
	if d.Err != nil {
		r.add("decode_error", d.Err.Error())
	}
	switch ew.format {
	case "csv":
		if !ew.csvHeader {
			ew.csvHeader = true
			ew.writeCSV(append([]string(nil), etlColumns...))
		}
		cells := make([]string, len(etlColumns))
		var rest []string
		for i, n := range r.names {
			col := -1
			for j, c := range etlColumns {
				if c == n {
					col = j
				}
			}
			if col >= 0 && i < nFixed {
				cells[col] = etlCellText(r.values[i])
			} else if i >= nFixed || col < 0 {
				if n == "header_type" || n == "level" || n == "keywords" {
					continue
				}
				rest = append(rest, n+"="+etlCellText(r.values[i]))
			}
		}
		cells[len(cells)-1] = strings.Join(rest, "; ")
		ew.writeCSV(cells)
	case "text":
		var b strings.Builder
		b.WriteString(wintime.Format(e.Time))
		b.WriteString(" " + name)
		if d.Name != "" {
			b.WriteString(" " + d.Name)
		}
		for i := 4; i < len(r.names); i++ {
			switch r.names[i] {
			case "event", "provider_guid":
				continue
			}
			b.WriteString(" " + r.names[i] + "=" + etlCellText(r.values[i]))
		}
		ew.printf("%s\n", report.SafeTerminal(b.String()))
	default:
		ew.writeJSON(&r)
	}
}

func (ew *etlWriter) writeCSV(cells []string) {
	if ew.err != nil {
		return
	}
	for i := range cells {
		cells[i] = report.SafeCSVCell(cells[i])
	}
	ew.err = ew.csv.Write(cells)
}

func (ew *etlWriter) writeJSON(r *etlRow) {
	if ew.err != nil {
		return
	}
	b := ew.buf[:0]
	b = append(b, '{')
	for i, n := range r.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, report.MarshalValue(n)...)
		b = append(b, ':')
		b = append(b, report.MarshalValue(r.values[i])...)
	}
	b = append(b, '}', '\n')
	ew.buf = b
	_, ew.err = ew.w.Write(b)
}

func (ew *etlWriter) printf(format string, a ...any) {
	if ew.err != nil {
		return
	}
	_, ew.err = fmt.Fprintf(ew.w, format, a...)
}
