package timeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/hive"
	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

var (
	t0 = time.Date(2025, 1, 2, 3, 4, 5, 600000000, time.UTC)
	t1 = time.Date(2025, 2, 3, 4, 5, 6, 700000000, time.UTC)
	t2 = time.Date(2025, 3, 4, 5, 6, 7, 800000000, time.UTC)
)

func demoPath(t *testing.T, parts ...string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	p := filepath.Join(append([]string{filepath.Dir(self), "..", "..", "testdata", "demo"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("demo collection not found: %v", err)
	}
	return p
}

func rowsOf(t *testing.T, src report.TimelineSource) []report.TimelineRow {
	t.Helper()
	var rows []report.TimelineRow
	if err := src.Rows(context.Background(), func(r report.TimelineRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestPrefixes_MatchRelativeAndFullNamesAtComponentBoundaries(t *testing.T) {
	tests := []struct {
		prefixes      Prefixes
		rel, full     string
		keep, descend bool
	}{
		{nil, "Software", `HKU\S-1\Software`, true, true},
		{Prefixes{"Environment"}, "Environment", `HKU\S-1\Environment`, true, true},
		{Prefixes{"environment"}, `Environment\Sub`, `HKU\S-1\Environment\Sub`, true, true},
		{Prefixes{"Environment"}, "EnvironmentX", `HKU\S-1\EnvironmentX`, false, false},
		{Prefixes{`Software\Microsoft`}, "Software", `HKU\S-1\Software`, false, true},
		{Prefixes{`Software\Microsoft`}, "", `HKU\S-1`, false, true},
		{Prefixes{`HKLM\SYSTEM\CurrentControlSet\Services`}, `ControlSet001\Services\x`, `HKLM\SYSTEM\CurrentControlSet\Services\x`, true, true},
		{Prefixes{`HKLM\SYSTEM\CurrentControlSet\Services`}, `ControlSet001`, `HKLM\SYSTEM\CurrentControlSet`, false, true},
		{Prefixes{`HKLM/SYSTEM/Select`}, `Select`, `HKLM\SYSTEM\Select`, true, true},
		{Prefixes{`Other`}, `Software`, `HKU\S-1\Software`, false, false},
		{Prefixes{`HKCU\Environment`}, `Environment`, `HKU\S-1\Environment`, true, true},
		{Prefixes{`hkcu\Software\Microsoft`}, `Software`, `HKU\S-1\Software`, false, true},
		{Prefixes{`HKCU\Environment`}, `Select`, `HKLM\SYSTEM\Select`, false, false},
	}
	for _, tc := range tests {
		keep, descend := tc.prefixes.match(tc.rel, tc.full)
		if keep != tc.keep || descend != tc.descend {
			t.Errorf("%v on %q / %q: keep %v descend %v, want %v %v", tc.prefixes, tc.rel, tc.full, keep, descend, tc.keep, tc.descend)
		}
	}
}

func testHive(t *testing.T) *hive.Hive {
	t.Helper()
	root := &ht.Key{Name: "ROOT", LastWrite: t0, Subkeys: []*ht.Key{
		{Name: "Environment", LastWrite: t2, Values: []ht.Value{ht.SZ("Path", `C:\x`)}},
		{Name: "Software", LastWrite: t0, Subkeys: []*ht.Key{{Name: "a|b\nc", LastWrite: t1}, {Name: "Microsoft", LastWrite: t1}}},
		{Name: "Zero"}, // no last-write time
	}}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Load("test.dat", data)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestKeys_OneRowPerKeyWithATime(t *testing.T) {
	h := testHive(t)
	rows := rowsOf(t, Keys{Hive: h, Root: `HKCU`, Host: "H", User: "u", File: "test.dat"})
	want := map[string]time.Time{`HKCU`: t0, `HKCU\Environment`: t2, `HKCU\Software`: t0, "HKCU\\Software\\a|b\nc": t1, `HKCU\Software\Microsoft`: t1}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d (the key without a time is left out)", len(rows), len(want))
	}
	for _, r := range rows {
		if w, ok := want[r.Key]; !ok || !r.Time.Equal(w) || r.Source != SourceRegistry || r.Kind != KindKeyLastWrite || r.Host != "H" || r.User != "u" || r.File != "test.dat" {
			t.Errorf("row %+v: want time %v", r, w)
		}
	}
	rows = rowsOf(t, Keys{Hive: h, Root: `HKCU`, Prefixes: Prefixes{`Software\Microsoft`, "Environment"}})
	if len(rows) != 2 {
		t.Errorf("with prefixes: %d rows, want Environment and Software\\Microsoft", len(rows))
	}
}

func TestKeys_HostileNamesKeepOneRecordPerLine(t *testing.T) {
	rows := rowsOf(t, Keys{Hive: testHive(t), Root: "HKCU"})
	for _, format := range []string{report.FormatBodyfile, report.FormatTLN} {
		var b bytes.Buffer
		w, err := report.NewTimelineWriter(format, &b)
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
		fields := map[string]int{report.FormatBodyfile: 11, report.FormatTLN: 5}[format]
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != len(rows) {
			t.Errorf("%s: %d lines for %d rows", format, len(lines), len(rows))
		}
		for _, l := range lines {
			if n := strings.Count(l, "|") + 1; n != fields {
				t.Errorf("%s: line has %d fields, want %d: %q", format, n, fields, l)
			}
		}
	}
}

func TestHistory_RowsForEachDatedChange(t *testing.T) {
	before := &ht.Key{Name: "ROOT", LastWrite: t0, Subkeys: []*ht.Key{{Name: "AppEvents"}, {Name: "Software"}, {Name: "Environment", LastWrite: t0, Values: []ht.Value{ht.SZ("Path", "a"), ht.SZ("Old", "x")}}}}
	mid := before.Clone()
	mid.Path("Environment").LastWrite = t1
	mid.Path("Environment").SetValue(ht.SZ("Path", "b"))
	after := mid.Clone()
	after.Path("Environment").LastWrite = t2
	after.Path("Environment").Values = []ht.Value{ht.SZ("Path", "b"), ht.SZ("New", "y")}
	d, err := ht.BuildDirty(before, []*ht.Key{mid, after})
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.WriteFiles(t.TempDir(), "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := history.States(context.Background(), history.Group{Files: []history.File{{Path: file}}}, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, History{History: hist, Root: `HKU\S-1-5-21-1`, Host: "H", User: "u"})
	type row struct {
		t          time.Time
		kind, name string
	}
	want := []row{
		{t0, KindValueFirstSeen, "Path"}, {t0, KindValueFirstSeen, "Old"},
		{t1, "value_modified", "Path"},
		{t2, "value_added", "New"}, {t2, "value_removed", "Old"},
	}
	if len(rows) != len(want) {
		for _, r := range rows {
			t.Logf("%v %s %s", r.Time, r.Kind, r.Key)
		}
		t.Fatalf("got %d rows, want %d (carved values have no time and no row)", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if !r.Time.Equal(w.t) || r.Kind != w.kind || r.Key != `HKU\S-1-5-21-1\Environment\`+w.name || r.Source != SourceHistory {
			t.Errorf("row %d = %v %s %s, want %v %s %s", i, r.Time, r.Kind, r.Key, w.t, w.kind, w.name)
		}
	}
}

func TestDiff_DemoServerCopyChangesAtTheServerTime(t *testing.T) {
	local, err := hive.Open(demoPath(t, "WS-DEV-07", "C", "Users", "alice", "NTUSER.DAT"))
	if err != nil {
		t.Fatal(err)
	}
	server, err := hive.Open(demoPath(t, "profiles", "alice.V6", "NTUSER.DAT"))
	if err != nil {
		t.Fatal(err)
	}
	var changes []profile.Change
	if _, err := profile.Diff(context.Background(), local, server, profile.Options{Key: "Environment"}, func(c profile.Change) error {
		changes = append(changes, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, Diff{Changes: changes, Root: `HKU\S`, ServerFile: "server", LocalFile: "local"})
	serverTime := time.Date(2025, 6, 11, 17, 45, 19, 876543200, time.UTC)
	got := map[string]bool{}
	for _, r := range rows {
		got[r.Key] = true
		if r.Source != SourceDiff || !r.Time.Equal(serverTime) || r.File != "server" {
			t.Errorf("row %+v: want a diff row at the server copy's Environment time %v", r, serverTime)
		}
	}
	for _, k := range []string{`HKU\S\Environment\Path`, `HKU\S\Environment\GOPATH`} {
		if !got[k] {
			t.Errorf("no row for %s", k)
		}
	}
}

func TestRun_DemoTimelineIsOrderedFilteredAndHasEverySource(t *testing.T) {
	from := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 6, 12, 9, 15, 3, 141592600, time.UTC)
	var rows []report.TimelineRow
	extra := report.TimelineRow{Time: time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC), Source: "test", Kind: "extra"}
	sum, err := Run(context.Background(), []string{demoPath(t, "WS-DEV-07")}, Options{
		Scan:   scan.Options{Roaming: []string{demoPath(t, "profiles")}, Jobs: 1},
		Filter: report.TimelineFilter{From: from, To: to},
		Keys:   Prefixes{"Environment"},
		Extra: func(*scan.Host) []report.TimelineSource {
			return []report.TimelineSource{Slice{extra, {Time: from.Add(-time.Hour), Source: "test", Kind: "too early"}}}
		},
	}, func(r report.TimelineRow) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := sum.Problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
	sources := map[string]bool{}
	for i, r := range rows {
		sources[r.Source+":"+r.Kind] = true
		if r.Time.Before(from) || r.Time.After(to) {
			t.Errorf("row at %v outside [%v, %v]", r.Time, from, to)
		}
		if i > 0 && r.Time.Before(rows[i-1].Time) {
			t.Errorf("row %d at %v before row %d at %v", i, r.Time, i-1, rows[i-1].Time)
		}
		if r.Source == SourceRegistry && !strings.HasSuffix(r.Key, `\Environment`) {
			t.Errorf("key row %s outside the --key prefix", r.Key)
		}
	}
	// From the demo's story (testdata/demo/README.md).
	for _, want := range []string{
		"registry:key_last_write", // bob's Environment after LOG1, 2025-06-12T09:15:03.1415926Z, the upper bound
		"profile:profile_unload",  // alice logs off 2025-06-10T18:02:44Z
		"diff:value_modified",     // alice's server copy, 2025-06-11T17:45:19.8765432Z
		"history:value_modified",  // bob's GOROOT, LOG1 entry 1, 2025-06-12T09:14:27.2718281Z
		"etw:SetValue",            // the traced reg.exe write, 2025-06-10T07:58:13.25Z
		"finding:high",            // the GPO script, 2025-06-10T07:58:12.5000001Z
		"test:extra",              // a source plugged in through Options.Extra
	} {
		if !sources[want] {
			t.Errorf("no %s row; have %v", want, sources)
		}
	}
	if sources["test:too early"] {
		t.Errorf("a row before --from was kept")
	}
}
