package hive

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/wintime"
	"www.velocidex.com/golang/regparser"
)

// The figures below come from the shared corpus's EXPECTED.md §1 and §2
// (yarp's recovery, corroborated by regipy's test suite and by the hives
// Windows itself recovered).

func logReadCorpus(t *testing.T, elem ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(testcorpus.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// logReplayCorpus replays the logs found beside a corpus hive and checks that
// the primary bytes were not modified.
func logReplayCorpus(t *testing.T, elem ...string) ([]byte, []byte, []LogReport) {
	t.Helper()
	path := testcorpus.Path(t, elem...)
	primary := logReadCorpus(t, elem...)
	before := sha1.Sum(primary)
	var logs []logInput
	for _, p := range discoverLogs(path) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, logInput{name: filepath.Base(p), data: data})
	}
	img, reports, err := replayLogs(path, primary, logs, nil)
	if err != nil {
		t.Fatalf("replayLogs: %v", err)
	}
	if sha1.Sum(primary) != before {
		t.Fatal("replayLogs modified the primary bytes")
	}
	return primary, img, reports
}

func TestReplay_NewDirtyHiveEqualsWindows10Recovery(t *testing.T) {
	_, img, reports := logReplayCorpus(t, "hives", "yarp", "NewDirtyHive1", "NewDirtyHive")
	want := logReadCorpus(t, "hives", "yarp", "NewDirtyHive1", "RecoveredHive_Windows10")
	if len(img) != len(want) {
		t.Fatalf("recovered image is %d bytes, Windows 10's recovery is %d", len(img), len(want))
	}
	// Byte for byte, base block included: Windows' recovery and ours agree
	// on every field (sequence numbers 6/6, one past the last entry).
	if !bytes.Equal(img, want) {
		for i := range img {
			if img[i] != want[i] {
				t.Fatalf("recovered image differs from Windows 10's recovery, first at file offset %#x", i)
			}
		}
	}
	logCheckReports(t, reports, map[string]logWantReport{
		"NewDirtyHive.LOG1": {applied: true},
		"NewDirtyHive.LOG2": {applied: true},
	}, 4, -1)
	if got, want := logListing(t, img), logListing(t, want); got != want {
		t.Errorf("key tree differs from Windows 10's recovery")
	}
	// Windows left the recovered hive at sequence 6/6 after the last entry (5).
	bb, err := ParseBaseBlock(img)
	wbb, _ := ParseBaseBlock(want)
	if err != nil || bb.Dirty() || bb.FileType != FileTypePrimary || bb.PrimarySeq != wbb.PrimarySeq || bb.HiveBinsSize != wbb.HiveBinsSize || bb.RootCell != wbb.RootCell {
		t.Errorf("recovered base block: %+v, %v: want a clean primary with Windows' sequence %d, hive bins size and root cell", bb, err, wbb.PrimarySeq)
	}
}

func TestReplay_OldDirtyHiveMatchesWindows7KeyTree(t *testing.T) {
	_, img, reports := logReplayCorpus(t, "hives", "yarp", "OldDirtyHive", "OldDirtyHive")
	logCheckReports(t, reports, map[string]logWantReport{
		"OldDirtyHive.LOG1": {applied: true, format: LogFormatOld, pages: 64},
		"OldDirtyHive.LOG2": {format: LogFormatUnknown, reason: "empty"},
	}, -1, -1)
	want := logReadCorpus(t, "hives", "yarp", "OldDirtyHive", "RecoveredHive_Windows7")
	if got, want := logListing(t, img), logListing(t, want); got != want {
		t.Errorf("recovered key tree differs from Windows 7's recovery:\n%s", logFirstDiff(got, want))
	}
	bb, _ := ParseBaseBlock(img)
	if bb.PrimarySeq != 5 || bb.SecondarySeq != 5 || !bb.ChecksumOK {
		t.Errorf("recovered base block: sequences %d/%d checksum ok %v, want 5/5 and a good checksum", bb.PrimarySeq, bb.SecondarySeq, bb.ChecksumOK)
	}
}

func TestReplay_CorpusCountsAfterRecovery(t *testing.T) {
	tests := []struct {
		path           []string
		reports        map[string]logWantReport
		entries, pages int
		keys, values   int
		rootLastWrite  string // as EXPECTED.md gives it (yarp's microseconds)
	}{
		{
			path: []string{"hives", "regipy", "SYSTEM_B"},
			reports: map[string]logWantReport{
				"SYSTEM_B.LOG1": {applied: true}, "SYSTEM_B.LOG2": {applied: true},
			},
			entries: 24, pages: 315, keys: 35595, values: 78901,
			rootLastWrite: "2018-03-27T21:45:39.557160",
		},
		{
			path: []string{"hives", "regipy", "transactions_NTUSER.DAT"},
			reports: map[string]logWantReport{
				"transactions_ntuser.dat.log1": {applied: true},
				"transactions_ntuser.dat.log2": {reason: "not eligible"},
			},
			entries: 23, pages: 132, keys: 3105, values: 4695,
			rootLastWrite: "2019-02-13T21:01:24.116364",
		},
		{
			path: []string{"hives", "yarp", "BadBaseBlockHive", "BadBaseBlockHive"},
			reports: map[string]logWantReport{
				"BadBaseBlockHive.LOG1": {applied: true, format: LogFormatOld, pages: 64},
				"BadBaseBlockHive.LOG2": {format: LogFormatUnknown, reason: "empty"},
			},
			entries: -1, pages: -1, keys: 5003, values: 1,
			rootLastWrite: "2017-03-04T14:50:13.083388",
		},
		{
			path: []string{"hives", "yarp", "NewDirtyHive1", "NewDirtyHive"},
			reports: map[string]logWantReport{
				"NewDirtyHive.LOG1": {applied: true}, "NewDirtyHive.LOG2": {applied: true},
			},
			entries: 4, pages: 4, keys: 5, values: 1,
			rootLastWrite: "2017-03-04T20:54:05.112338",
		},
	}
	for _, tt := range tests {
		t.Run(tt.path[len(tt.path)-1], func(t *testing.T) {
			_, img, reports := logReplayCorpus(t, tt.path...)
			logCheckReports(t, reports, tt.reports, tt.entries, tt.pages)
			keys, values, root := logCountTree(t, img)
			if keys != tt.keys || values != tt.values {
				t.Errorf("after recovery: %d keys / %d values, want %d / %d", keys, values, tt.keys, tt.values)
			}
			// yarp computes microseconds in floating point, which at today's
			// FILETIME magnitudes is only good to 2 µs.
			want, err := time.Parse("2006-01-02T15:04:05.000000", tt.rootLastWrite)
			if err != nil {
				t.Fatal(err)
			}
			got := wintime.FromFiletime(root)
			if d := got.Sub(want); d < -2*time.Microsecond || d > 2*time.Microsecond {
				t.Errorf("root last write %s, want %s (±2 µs)", wintime.Format(got), tt.rootLastWrite)
			}
		})
	}
}

// The primary hives as found on disk: EXPECTED.md §1 notes their base-block
// state.
func TestParseBaseBlock_CorpusDirtyState(t *testing.T) {
	tests := []struct {
		path       []string
		seq1, seq2 uint32
		checksumOK bool
	}{
		{[]string{"hives", "yarp", "NewDirtyHive1", "NewDirtyHive"}, 3, 2, true},
		{[]string{"hives", "yarp", "OldDirtyHive", "OldDirtyHive"}, 5, 4, true},
		{[]string{"hives", "yarp", "NewDirtyHive1", "RecoveredHive_Windows10"}, 0, 0, true},
		{[]string{"hives", "yarp", "GarbageHive"}, 0, 0, false},
		{[]string{"hives", "yarp", "BadBaseBlockHive", "BadBaseBlockHive"}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.path[len(tt.path)-1], func(t *testing.T) {
			bb, err := ParseBaseBlock(logReadCorpus(t, tt.path...))
			if err != nil {
				t.Fatal(err)
			}
			if bb.ChecksumOK != tt.checksumOK {
				t.Errorf("ChecksumOK = %v, want %v (stored %#x, computed %#x)", bb.ChecksumOK, tt.checksumOK, bb.Checksum, bb.ComputedChecksum)
			}
			if tt.seq1 != 0 && (bb.PrimarySeq != tt.seq1 || bb.SecondarySeq != tt.seq2) {
				t.Errorf("sequences %d/%d, want %d/%d", bb.PrimarySeq, bb.SecondarySeq, tt.seq1, tt.seq2)
			}
			wantDirty := tt.seq1 != tt.seq2 || !tt.checksumOK
			if bb.Dirty() != wantDirty {
				t.Errorf("Dirty() = %v, want %v", bb.Dirty(), wantDirty)
			}
		})
	}
	// BadBaseBlockHive: checksum field 'INVL' and minor version 1 (EXPECTED.md §5).
	bb, err := ParseBaseBlock(logReadCorpus(t, "hives", "yarp", "BadBaseBlockHive", "BadBaseBlockHive"))
	if err != nil {
		t.Fatal(err)
	}
	if bb.Checksum != 0x4c564e49 || bb.Minor != 1 {
		t.Errorf("BadBaseBlockHive: checksum %#x minor %d, want 0x4c564e49 ('INVL') and 1", bb.Checksum, bb.Minor)
	}
}

type logWantReport struct {
	applied bool
	format  string // default LogFormatNew
	pages   int    // 0: not checked
	reason  string // substring of Reason; "" with applied: Reason must be empty
}

// logCheckReports compares reports with want (by file name) and, when >= 0,
// the total entries and pages applied over all logs.
func logCheckReports(t *testing.T, reports []LogReport, want map[string]logWantReport, entries, pages int) {
	t.Helper()
	if len(reports) != len(want) {
		t.Errorf("%d log reports, want %d: %+v", len(reports), len(want), reports)
	}
	var ne, np int
	for _, r := range reports {
		ne += r.Entries
		np += r.Pages
		pages := 0
		for _, e := range r.AppliedEntries {
			pages += e.Pages
		}
		if len(r.AppliedEntries) != r.Entries || pages != r.Pages {
			t.Errorf("%s: %d entries / %d pages listed, report says %d / %d", r.File, len(r.AppliedEntries), pages, r.Entries, r.Pages)
		}
		w, ok := want[r.File]
		if !ok {
			t.Errorf("unexpected report %+v", r)
			continue
		}
		format := w.format
		if format == "" {
			format = LogFormatNew
		}
		if r.Applied != w.applied || r.Format != format {
			t.Errorf("%s: applied %v format %s (reason %q), want applied %v format %s", r.File, r.Applied, r.Format, r.Reason, w.applied, format)
		}
		if w.pages != 0 && r.Pages != w.pages {
			t.Errorf("%s: %d pages, want %d", r.File, r.Pages, w.pages)
		}
		if w.reason != "" && !strings.Contains(r.Reason, w.reason) {
			t.Errorf("%s: reason %q, want it to mention %q", r.File, r.Reason, w.reason)
		}
		if w.applied && w.reason == "" && r.Reason != "" {
			t.Errorf("%s: applied with reason %q, want none", r.File, r.Reason)
		}
	}
	if entries >= 0 && ne != entries {
		t.Errorf("%d entries applied, want %d", ne, entries)
	}
	if pages >= 0 && np != pages {
		t.Errorf("%d dirty pages applied, want %d", np, pages)
	}
}

// logCountTree counts keys and values of a hive image with regparser, guarded by
// a visited set (the corpus hives here are well formed). It returns the
// root's raw last-write FILETIME too.
func logCountTree(t *testing.T, img []byte) (keys, values int, rootLastWrite uint64) {
	t.Helper()
	logWalkTree(t, img, func(path string, nk *regparser.CM_KEY_NODE) {
		keys++
		values += len(nk.Values())
		if path == "" {
			rootLastWrite = regparser.ParseUint64(nk.Reader, nk.Offset+nk.Profile.Off_CM_KEY_NODE_LastWriteTime)
		}
	})
	return keys, values, rootLastWrite
}

// logListing renders every key (path, raw last write) and value (name, type,
// length, SHA-1 of the data) of a hive image, one per line.
func logListing(t *testing.T, img []byte) string {
	t.Helper()
	var b strings.Builder
	logWalkTree(t, img, func(path string, nk *regparser.CM_KEY_NODE) {
		fmt.Fprintf(&b, "K %q %d\n", path, regparser.ParseUint64(nk.Reader, nk.Offset+nk.Profile.Off_CM_KEY_NODE_LastWriteTime))
		for _, v := range nk.Values() {
			sum := sha1.Sum(v.ValueData().Data)
			fmt.Fprintf(&b, "V %q %q %d %d %s\n", path, v.ValueName(), v.Type(), v.DataLength(), hex.EncodeToString(sum[:]))
		}
	})
	return b.String()
}

func logWalkTree(t *testing.T, img []byte, fn func(path string, nk *regparser.CM_KEY_NODE)) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("regparser panicked walking the recovered image: %v", p)
		}
	}()
	reg, err := regparser.NewRegistry(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	root := reg.OpenKey("")
	if root == nil {
		t.Fatal("no root key")
	}
	type item struct {
		path string
		nk   *regparser.CM_KEY_NODE
	}
	seen := map[int64]bool{}
	stack := []item{{"", root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[it.nk.Offset] {
			continue
		}
		seen[it.nk.Offset] = true
		fn(it.path, it.nk)
		if it.nk.SubKeyCounts()[0] == 0 {
			continue
		}
		subs := it.nk.Subkeys()
		for i := len(subs) - 1; i >= 0; i-- {
			p := subs[i].Name()
			if it.path != "" {
				p = it.path + `\` + p
			}
			stack = append(stack, item{p, subs[i]})
		}
	}
}

func logFirstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

// BenchmarkReplay_SYSTEM_B measures recovering the 12 MB SYSTEM_B hive from
// its two logs (24 entries, 315 pages, 6.4 MB of log data hashed).
func BenchmarkReplay_SYSTEM_B(b *testing.B) {
	dir := testcorpus.Path(b, "hives", "regipy")
	read := func(n string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	primary := read("SYSTEM_B")
	logs := []logInput{{"SYSTEM_B.LOG1", read("SYSTEM_B.LOG1")}, {"SYSTEM_B.LOG2", read("SYSTEM_B.LOG2")}}
	b.SetBytes(int64(len(primary) + len(logs[0].data) + len(logs[1].data)))
	for b.Loop() {
		if _, _, err := replayLogs("SYSTEM_B", primary, logs, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Through Open: the logs are found beside the hive although their names
// differ in case (transactions_ntuser.dat.log1 beside
// transactions_NTUSER.DAT), replayed entry by entry, and reported.
func TestOpen_ReplaysDiscoveredLogsEntryByEntry(t *testing.T) {
	path := testcorpus.Path(t, "hives", "regipy", "transactions_NTUSER.DAT")
	var seqs []uint32
	h, err := Open(path, WithReplayObserver(func(s ReplayStep, v *Hive) error {
		if filepath.Base(s.Log) != "transactions_ntuser.dat.log1" || s.Entry != len(seqs) {
			t.Errorf("step %+v out of order", s)
		}
		seqs = append(seqs, s.Sequence)
		if _, err := v.Root(); err != nil {
			t.Errorf("step %+v: view has no root: %v", s, err)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Recovered() {
		t.Fatalf("not recovered: %+v", h.Logs())
	}
	// EXPECTED.md §2: 23 entries from log1; log2 (sequence 562) is stale.
	if len(seqs) != 23 {
		t.Fatalf("observer saw %d entries, want 23", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("sequences %v do not go up by one", seqs)
		}
	}
	logs := h.Logs()
	if len(logs) != 2 {
		t.Fatalf("logs %+v, want log1 and log2", logs)
	}
	byName := map[string]LogReport{}
	for _, l := range logs {
		byName[filepath.Base(l.File)] = l
	}
	l1, l2 := byName["transactions_ntuser.dat.log1"], byName["transactions_ntuser.dat.log2"]
	if !l1.Applied || l1.Entries != 23 || l1.Pages != 132 || l1.Sequence != seqs[len(seqs)-1]+1 {
		t.Errorf("log1 report %+v, want 23 entries / 132 pages to sequence %d", l1, seqs[len(seqs)-1]+1)
	}
	if l2.Applied || !strings.Contains(l2.Reason, "562") {
		t.Errorf("log2 report %+v, want not applied, naming its stale sequence 562", l2)
	}
}
