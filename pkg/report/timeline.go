package report

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// TimelineRow is one dated fact for `envhunt timeline`.
type TimelineRow struct {
	// Time is when it happened, at full 100 ns precision.
	Time time.Time
	// Source names the kind of evidence: "registry", "etw", "evtx",
	// "profile", "history", "diff", "finding".
	Source string
	// Kind names what the time means: "key_last_write", "SetValue",
	// "profile_load", a rule's title for a finding, ...
	Kind string
	// Host and User (DOMAIN\name or SID) the row belongs to, when known.
	Host, User string
	// Key is the registry key or value path, or the object the row is about.
	Key string
	// Description says what happened, in one line.
	Description string
	// File is the evidence file the row was read from.
	File string
}

// TimelineSource produces timeline rows; registry, trace, event-log,
// profile and finding sources implement it, so a new source plugs into
// `envhunt timeline` without changing the writers or the merge. Rows calls
// emit from one goroutine at a time, stops when ctx is done, and returns
// emit's error as soon as emit fails.
type TimelineSource interface {
	Rows(ctx context.Context, emit func(TimelineRow) error) error
}

// TimelineFunc adapts a function to TimelineSource.
type TimelineFunc func(ctx context.Context, emit func(TimelineRow) error) error

// Rows calls f.
func (f TimelineFunc) Rows(ctx context.Context, emit func(TimelineRow) error) error {
	return f(ctx, emit)
}

// TimelineFilter keeps the rows between From and To, both inclusive; a zero
// bound is open. Rows without a time are kept only when both bounds are open.
type TimelineFilter struct {
	From, To time.Time
}

// Keep reports whether a row at t passes the filter.
func (f TimelineFilter) Keep(t time.Time) bool {
	if t.IsZero() {
		return f.From.IsZero() && f.To.IsZero()
	}
	if !f.From.IsZero() && t.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && t.After(f.To) {
		return false
	}
	return true
}

// compareRows orders rows by time, then source, kind, host, user, key,
// description and file, so equal times come out in a stable order.
func compareRows(a, b TimelineRow) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	for _, p := range [][2]string{
		{a.Source, b.Source}, {a.Kind, b.Kind}, {a.Host, b.Host}, {a.User, b.User},
		{a.Key, b.Key}, {a.Description, b.Description}, {a.File, b.File},
	} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

// SortTimeline reads every source, keeps the rows the filter passes, sorts
// them by time (ties in a fixed order of the other fields) and emits them.
// It holds every kept row in memory: use it when the sources are not in
// time order (a hive walk is in key order), and MergeTimeline when they are.
//
// A source that fails does not stop the others: its rows so far are kept
// and its error is returned, joined with the others', after all rows were
// emitted, so a caller can print the partial timeline and report what
// failed. An emit error or a cancelled ctx stops at once.
func SortTimeline(ctx context.Context, sources []TimelineSource, filter TimelineFilter, emit func(TimelineRow) error) error {
	var rows []TimelineRow
	var errs []error
	for i, s := range sources {
		err := s.Rows(ctx, func(r TimelineRow) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if filter.Keep(r.Time) {
				rows = append(rows, r)
			}
			return nil
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("timeline source %d: %w", i+1, err))
		}
	}
	slices.SortStableFunc(rows, compareRows)
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// ErrUnordered is returned (wrapped) by MergeTimeline when a source emits a
// row earlier than its previous one.
var ErrUnordered = errors.New("timeline source is not in time order")

// MergeTimeline merges sources that each emit rows in time order into one
// time-ordered stream, holding only a few rows per source (bounded memory,
// one goroutine per source). A row earlier than its source's previous row
// stops the merge with ErrUnordered. Source errors are handled as in
// SortTimeline: the other sources go on, the errors are returned at the end.
func MergeTimeline(ctx context.Context, sources []TimelineSource, filter TimelineFilter, emit func(TimelineRow) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type feed struct {
		ch   chan TimelineRow
		err  error
		last time.Time
	}
	feeds := make([]*feed, len(sources))
	var wg sync.WaitGroup
	for i, s := range sources {
		f := &feed{ch: make(chan TimelineRow, 64)}
		feeds[i] = f
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(f.ch)
			f.err = s.Rows(ctx, func(r TimelineRow) error {
				if !filter.Keep(r.Time) {
					return nil
				}
				select {
				case f.ch <- r:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}()
	}
	stop := func(err error) error {
		cancel()
		for _, f := range feeds {
			for range f.ch {
			}
		}
		wg.Wait()
		return err
	}
	h := &rowHeap{}
	pull := func(i int) error {
		r, ok := <-feeds[i].ch
		if !ok {
			return nil
		}
		if r.Time.Before(feeds[i].last) {
			return fmt.Errorf("timeline source %d: row at %s after %s: %w", i+1,
				wintime.Format(r.Time), wintime.Format(feeds[i].last), ErrUnordered)
		}
		feeds[i].last = r.Time
		heap.Push(h, headRow{r, i})
		return nil
	}
	for i := range feeds {
		if err := pull(i); err != nil {
			return stop(err)
		}
	}
	for h.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return stop(err)
		}
		top := heap.Pop(h).(headRow)
		if err := emit(top.row); err != nil {
			return stop(err)
		}
		if err := pull(top.src); err != nil {
			return stop(err)
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	for i, f := range feeds {
		if f.err != nil {
			errs = append(errs, fmt.Errorf("timeline source %d: %w", i+1, f.err))
		}
	}
	return errors.Join(errs...)
}

type headRow struct {
	row TimelineRow
	src int
}

type rowHeap []headRow

func (h rowHeap) Len() int { return len(h) }
func (h rowHeap) Less(i, j int) bool {
	if c := compareRows(h[i].row, h[j].row); c != 0 {
		return c < 0
	}
	return h[i].src < h[j].src
}
func (h rowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)   { *h = append(*h, x.(headRow)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TimelineWriter writes timeline rows in one format.
type TimelineWriter interface {
	WriteRow(r TimelineRow) error
	Flush() error
	Close() error
}

// Timeline formats accepted by NewTimelineWriter (besides FormatCSV and
// FormatJSONL).
const (
	FormatBodyfile = "bodyfile"
	FormatTLN      = "tln"
)

// TimelineColumns are the CSV header and JSONL keys of timeline rows.
var TimelineColumns = []string{"time", "source", "kind", "host", "user", "key", "description", "file"}

// NewTimelineWriter returns the timeline writer for a --format name:
//
//   - "csv": header TimelineColumns, one row per line, SafeCSVCell cells.
//   - "jsonl": one object per row with TimelineColumns as keys.
//   - "bodyfile": Sleuth Kit 3.x body format for mactime,
//     MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime,
//     with the row's time in whole epoch seconds (0 for times before 1970)
//     in all four time fields, so mactime lists each row once, and the full
//     7-digit time at the start of name. mactime skips rows whose times are
//     all 0 (rows without a time).
//   - "tln": Time|Source|Host|User|Description with Time in epoch seconds
//     and the full 7-digit time at the start of Description.
//
// In bodyfile and TLN every field goes through SafeLine: | and newlines in
// the data are escaped, so each row is exactly one line with its fields.
func NewTimelineWriter(format string, w io.Writer) (TimelineWriter, error) {
	switch format {
	case FormatCSV, FormatJSONL:
		t, err := NewTableWriter(format, w, TimelineColumns, TextOptions{})
		if err != nil {
			return nil, err
		}
		return tableTimeline{t}, nil
	case FormatBodyfile:
		return &lineTimeline{w: bufio.NewWriter(w), line: bodyfileLine}, nil
	case FormatTLN:
		return &lineTimeline{w: bufio.NewWriter(w), line: tlnLine}, nil
	}
	return nil, fmt.Errorf("unknown timeline format %q: want csv, jsonl, bodyfile or tln", format)
}

type tableTimeline struct{ t TableWriter }

func (t tableTimeline) WriteRow(r TimelineRow) error {
	return t.t.WriteRow(wintime.Format(r.Time), r.Source, r.Kind, r.Host, r.User, r.Key, r.Description, r.File)
}
func (t tableTimeline) Flush() error { return t.t.Flush() }
func (t tableTimeline) Close() error { return t.t.Close() }

type lineTimeline struct {
	w    *bufio.Writer
	line func(TimelineRow) string
	err  error
}

func (l *lineTimeline) WriteRow(r TimelineRow) error {
	if l.err == nil {
		_, l.err = l.w.WriteString(l.line(r) + "\n")
	}
	return l.err
}

func (l *lineTimeline) Flush() error {
	if l.err == nil {
		l.err = l.w.Flush()
	}
	return l.err
}

func (l *lineTimeline) Close() error { return l.Flush() }

func epochSeconds(t time.Time) string {
	if t.IsZero() || t.Unix() < 0 {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// TimelineName is the one-line description of a row that the bodyfile
// (name) and TLN (Description) formats carry, before SafeLine: the 7-digit
// time, [source:kind], the key, the description, and host, user and file.
func TimelineName(r TimelineRow) string {
	var b strings.Builder
	if t := wintime.Format(r.Time); t != "" {
		b.WriteString(t)
	} else {
		b.WriteString("(no time)")
	}
	b.WriteString(" [" + r.Source + ":" + r.Kind + "]")
	if r.Key != "" {
		b.WriteString(" " + r.Key)
	}
	if r.Description != "" {
		if r.Key != "" {
			b.WriteString(":")
		}
		b.WriteString(" " + r.Description)
	}
	var ctx []string
	if r.Host != "" {
		ctx = append(ctx, "host "+r.Host)
	}
	if r.User != "" {
		ctx = append(ctx, "user "+r.User)
	}
	if r.File != "" {
		ctx = append(ctx, "file "+r.File)
	}
	if len(ctx) > 0 {
		b.WriteString(" (" + strings.Join(ctx, ", ") + ")")
	}
	return b.String()
}

func bodyfileLine(r TimelineRow) string {
	// MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
	// One time per row: it goes in all four time fields, so mactime lists
	// the row once (as "macb") instead of adding a year-0 line for each
	// empty field. What the time means is the [source:kind] in the name.
	t := epochSeconds(r.Time)
	return "0|" + SafeLine(TimelineName(r)) + "|0|0|0|0|0|" + t + "|" + t + "|" + t + "|" + t
}

func tlnLine(r TimelineRow) string {
	// Time|Source|Host|User|Description
	src := r.Source
	if r.Kind != "" {
		src += ":" + r.Kind
	}
	desc := TimelineName(TimelineRow{Time: r.Time, Source: r.Source, Kind: r.Kind, Key: r.Key, Description: r.Description, File: r.File})
	return epochSeconds(r.Time) + "|" + SafeLine(src) + "|" + SafeLine(r.Host) + "|" + SafeLine(r.User) + "|" + SafeLine(desc)
}

// ParseTimeBound parses a --from/--to value: RFC 3339 with or without
// fractional seconds (up to 7 digits), "2006-01-02T15:04:05" taken as UTC,
// or a date "2006-01-02". For a date, end selects the last 100 ns tick of
// that day (so --to 2024-03-05 includes the whole day) instead of its start.
func ParseTimeBound(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.9999999", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			t = t.Add(24*time.Hour - 100*time.Nanosecond)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2024-03-05T10:11:12.1234567Z) or a date (2024-03-05)", s)
}
