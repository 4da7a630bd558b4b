package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleTimeline() []TimelineRow {
	t0 := time.Date(2024, 3, 5, 10, 11, 12, 123456700, time.UTC)
	rows := []TimelineRow{
		{Time: t0, Source: "registry", Kind: "key_last_write", Host: "WS01", User: `CORP\alice`,
			Key: `HKU\S-1-5-21-1-2-3-1001\Environment`, Description: "key last written", File: "/cases/ws01/C/Users/alice/NTUSER.DAT"},
		{Time: t0.Add(100), Source: "etw", Kind: "SetValue", Host: "WS01", User: "S-1-5-21-1-2-3-1001",
			Key: `HKU\S-1-5-21-1-2-3-1001\Environment\Path`, Description: `C:\Windows\System32\reg.exe set Path`, File: "/cases/ws01/trace.etl"},
		{Time: t0.Add(-time.Hour), Source: "profile", Kind: "profile_load", Host: "WS01", User: `CORP\alice`, Description: "profile loaded"},
	}
	for i, h := range hostile {
		rows = append(rows, TimelineRow{Time: t0.Add(time.Duration(i+1) * time.Minute), Source: "registry", Kind: "key_last_write",
			Host: h, User: h, Key: h, Description: h, File: h})
	}
	return rows
}

func writeTimeline(t *testing.T, format string, rows []TimelineRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewTimelineWriter(format, &buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTimelineWriters_MatchGoldenFiles(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatJSONL, FormatBodyfile, FormatTLN} {
		t.Run(format, func(t *testing.T) {
			golden(t, "timeline."+format, writeTimeline(t, format, sampleTimeline()))
		})
	}
}

func TestTimelineLineFormats_OneRecordPerLineWithAllFields(t *testing.T) {
	rows := sampleTimeline()
	for _, tc := range []struct {
		format string
		fields int
	}{{FormatBodyfile, 11}, {FormatTLN, 5}} {
		out := string(writeTimeline(t, tc.format, rows))
		assertTerminalSafe(t, tc.format, out)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(rows) {
			t.Fatalf("%s: %d lines for %d rows", tc.format, len(lines), len(rows))
		}
		for i, l := range lines {
			if n := len(strings.Split(l, "|")); n != tc.fields {
				t.Errorf("%s line %d has %d fields, want %d: %q", tc.format, i, n, tc.fields, l)
			}
		}
	}
}

func TestBodyfile_AcceptedByMactime(t *testing.T) {
	mactime, err := exec.LookPath("mactime")
	if err != nil {
		t.Skip("mactime (Debian sleuthkit) not installed")
	}
	rows := sampleTimeline()
	path := filepath.Join(t.TempDir(), "body.txt")
	if err := os.WriteFile(path, writeTimeline(t, FormatBodyfile, rows), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mactime, "-b", path, "-d", "-y", "-z", "UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mactime failed: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("mactime complained: %s", stderr.String())
	}
	// mactime -d prints a CSV header, then one line per row (all four times
	// are the row's time, so it is listed once, as macb).
	recs, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatalf("mactime output is not CSV: %v", err)
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("mactime printed %d rows, want %d\n%v", len(recs)-1, len(rows), recs)
	}
	got := map[string]string{}
	for _, rec := range recs[1:] {
		if len(rec) != 8 || rec[2] != "macb" {
			t.Errorf("mactime row %q: want 8 columns with type macb", rec)
			continue
		}
		got[rec[7]] = rec[0]
	}
	for _, r := range rows {
		name := SafeLine(TimelineName(r))
		when, ok := got[name]
		if !ok {
			t.Errorf("mactime output lacks row %q", name)
			continue
		}
		if want := r.Time.UTC().Format("2006-01-02T15:04:05Z"); when != want {
			t.Errorf("mactime row %q at %s, want %s", name, when, want)
		}
	}
}

type sliceSource []TimelineRow

func (s sliceSource) Rows(ctx context.Context, emit func(TimelineRow) error) error {
	for _, r := range s {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func collect(t *testing.T, merge func(context.Context, []TimelineSource, TimelineFilter, func(TimelineRow) error) error,
	srcs []TimelineSource, f TimelineFilter) ([]TimelineRow, error) {
	t.Helper()
	var got []TimelineRow
	err := merge(context.Background(), srcs, f, func(r TimelineRow) error { got = append(got, r); return nil })
	return got, err
}

func TestSortAndMergeTimeline_OrderByTimeAcrossSources(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := sliceSource{{Time: t0.Add(1), Source: "a"}, {Time: t0.Add(3), Source: "a"}, {Time: t0.Add(5), Source: "a"}}
	b := sliceSource{{Time: t0, Source: "b"}, {Time: t0.Add(3), Source: "b"}, {Time: t0.Add(4), Source: "b"}}
	for name, merge := range map[string]func(context.Context, []TimelineSource, TimelineFilter, func(TimelineRow) error) error{
		"sort": SortTimeline, "merge": MergeTimeline,
	} {
		got, err := collect(t, merge, []TimelineSource{a, b}, TimelineFilter{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var order []string
		for _, r := range got {
			order = append(order, r.Time.Sub(t0).String()+r.Source)
		}
		if want := "0sb,1nsa,3nsa,3nsb,4nsb,5nsa"; strings.Join(order, ",") != want {
			t.Errorf("%s: order %s, want %s", name, strings.Join(order, ","), want)
		}
		got, _ = collect(t, merge, []TimelineSource{a, b}, TimelineFilter{From: t0.Add(3), To: t0.Add(4)})
		if len(got) != 3 {
			t.Errorf("%s: filter kept %d rows, want 3", name, len(got))
		}
	}
}

func TestMergeTimeline_RejectsUnorderedSource(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := sliceSource{{Time: t0.Add(2)}, {Time: t0.Add(1)}}
	_, err := collect(t, MergeTimeline, []TimelineSource{bad, sliceSource{{Time: t0}}}, TimelineFilter{})
	if !errors.Is(err, ErrUnordered) {
		t.Fatalf("got %v, want ErrUnordered", err)
	}
}

func TestSortAndMergeTimeline_FailedSourceKeepsOtherRows(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	boom := errors.New("damaged trace")
	failing := TimelineFunc(func(ctx context.Context, emit func(TimelineRow) error) error {
		if err := emit(TimelineRow{Time: t0.Add(5), Source: "etw"}); err != nil {
			return err
		}
		return boom
	})
	good := sliceSource{{Time: t0, Source: "registry"}, {Time: t0.Add(9), Source: "registry"}}
	for name, merge := range map[string]func(context.Context, []TimelineSource, TimelineFilter, func(TimelineRow) error) error{
		"sort": SortTimeline, "merge": MergeTimeline,
	} {
		got, err := collect(t, merge, []TimelineSource{failing, good}, TimelineFilter{})
		if !errors.Is(err, boom) || len(got) != 3 {
			t.Errorf("%s: got %d rows and %v, want 3 rows and the source's error", name, len(got), err)
		}
	}
}

func TestMergeTimeline_StopsOnEmitError(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var many sliceSource
	for i := range 1000 {
		many = append(many, TimelineRow{Time: t0.Add(time.Duration(i))})
	}
	full := errors.New("disk full")
	n := 0
	err := MergeTimeline(context.Background(), []TimelineSource{many, many}, TimelineFilter{}, func(TimelineRow) error {
		n++
		if n == 10 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || n != 10 {
		t.Errorf("got %v after %d rows", err, n)
	}
}
