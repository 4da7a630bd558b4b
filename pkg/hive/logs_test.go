package hive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixtures: a primary image whose hive bins are a byte pattern (replay works
// on bytes, so the cells need not be valid), and logs written from the
// layouts in log_hvle.go and log_dirt.go.

const rtBins = 4 * hiveBinAlign // hive bins size of the test primaries

// rtBaseBlock fills a base block in b (512 or 4096 bytes).
func rtBaseBlock(b []byte, fileType, seq1, seq2, hbins uint32, lastWritten uint64) {
	le := binary.LittleEndian
	copy(b, "regf")
	le.PutUint32(b[offPrimarySeq:], seq1)
	le.PutUint32(b[offSecondarySeq:], seq2)
	le.PutUint64(b[offLastWritten:], lastWritten)
	le.PutUint32(b[offMajor:], 1)
	le.PutUint32(b[offMinor:], 5)
	le.PutUint32(b[offFileType:], fileType)
	le.PutUint32(b[offFileFormat:], 1)
	le.PutUint32(b[offRootCell:], 0x20)
	le.PutUint32(b[offHiveBinsSize:], hbins)
	le.PutUint32(b[offClustering:], 1)
	copy(b[offFileName:], []byte{'T', 0, 'E', 0, 'S', 0, 'T', 0})
	fixBaseBlockChecksum(b)
}

// rtPrimary is a dirty (seq1 != seq2) or clean primary of rtBins bytes of
// hive bins filled with 0xAA.
func rtPrimary(seq1, seq2 uint32) []byte {
	p := make([]byte, BaseBlockSize+rtBins)
	rtBaseBlock(p, FileTypePrimary, seq1, seq2, rtBins, 1000)
	for i := BaseBlockSize; i < len(p); i++ {
		p[i] = 0xAA
	}
	copy(p[BaseBlockSize:], "hbin")
	return p
}

type rtPage struct {
	off  uint32
	fill byte
	size int // default 4096
}

type rtEntry struct {
	seq     uint32
	flags   uint32
	hbins   uint32 // default rtBins
	pages   []rtPage
	badHash bool
}

// rtEntryBytes lays out one HvLE entry with correct hashes (unless badHash).
func rtEntryBytes(e rtEntry) []byte {
	le := binary.LittleEndian
	if e.hbins == 0 {
		e.hbins = rtBins
	}
	size := hvleHeaderSize + len(e.pages)*hvlePageRefSize
	for _, p := range e.pages {
		if p.size == 0 {
			p.size = 4096
		}
		size += p.size
	}
	size = int(alignUp(int64(size), hvleSizeAlign))
	b := make([]byte, size)
	copy(b, hvleSignature)
	le.PutUint32(b[0x04:], uint32(size))
	le.PutUint32(b[0x08:], e.flags)
	le.PutUint32(b[0x0C:], e.seq)
	le.PutUint32(b[0x10:], e.hbins)
	le.PutUint32(b[0x14:], uint32(len(e.pages)))
	data := hvleHeaderSize + len(e.pages)*hvlePageRefSize
	for i, p := range e.pages {
		if p.size == 0 {
			p.size = 4096
		}
		le.PutUint32(b[hvleHeaderSize+i*8:], p.off)
		le.PutUint32(b[hvleHeaderSize+i*8+4:], uint32(p.size))
		for j := 0; j < p.size; j++ {
			b[data+j] = p.fill
		}
		data += p.size
	}
	rtHash(b)
	if e.badHash {
		b[len(b)-1] ^= 0xFF
	}
	return b
}

// rtHash sets both hashes of an entry laid out in b.
func rtHash(b []byte) {
	binary.LittleEndian.PutUint64(b[0x18:], marvin32(b[hvleHeaderSize:], marvinLogSeed))
	binary.LittleEndian.PutUint64(b[0x20:], marvin32(b[:0x20], marvinLogSeed))
}

// rtLog is a new-format log whose base block carries seq.
func rtLog(seq uint32, entries ...rtEntry) []byte {
	b := make([]byte, logBaseBlockSize)
	rtBaseBlock(b, FileTypeLogNew, seq, seq, rtBins, 2000)
	for _, e := range entries {
		b = append(b, rtEntryBytes(e)...)
	}
	return b
}

// rtDirtLog is an old-format log marking the given 512-byte sectors dirty,
// each filled with its fill byte.
func rtDirtLog(seq uint32, lastWritten uint64, sectors map[int]byte) []byte {
	b := make([]byte, logBaseBlockSize)
	rtBaseBlock(b, FileTypeLog, seq, seq, rtBins, lastWritten)
	vec := make([]byte, rtBins/hiveBinAlign)
	n := 0
	for s := range sectors {
		vec[s/8] |= 1 << (s % 8)
		n++
	}
	b = append(b, dirtSignature...)
	b = append(b, vec...)
	b = append(b, make([]byte, alignUp(int64(len(b)), sectorSize)-int64(len(b)))...)
	for s := 0; s < rtBins/sectorSize; s++ {
		if fill, ok := sectors[s]; ok {
			b = append(b, bytes.Repeat([]byte{fill}, sectorSize)...)
		}
	}
	return b
}

// rtPageAt returns the 4096 bytes of the image at hive-bins offset off.
func rtPageAt(img []byte, off int) []byte {
	return img[BaseBlockSize+off : BaseBlockSize+off+4096]
}

func rtReplay(t *testing.T, primary []byte, logs ...logInput) ([]byte, []LogReport) {
	t.Helper()
	orig := bytes.Clone(primary)
	img, reports, err := replayLogs("primary", primary, logs, nil)
	if err != nil {
		t.Fatalf("replayLogs: %v", err)
	}
	if !bytes.Equal(orig, primary) {
		t.Fatal("replayLogs modified the primary")
	}
	if len(reports) != len(logs) {
		t.Fatalf("%d reports for %d logs", len(reports), len(logs))
	}
	return img, reports
}

func isFilled(b []byte, fill byte) bool {
	return len(b) > 0 && bytes.Count(b, []byte{fill}) == len(b)
}

func TestReplay_AppliesEntriesAndFixesBaseBlock(t *testing.T) {
	primary := rtPrimary(11, 10)
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0x1000, fill: 1}}},
		rtEntry{seq: 11, flags: 1, pages: []rtPage{{off: 0x2000, fill: 2}, {off: 0x1000, fill: 3}}},
	)
	img, reports := rtReplay(t, primary, logInput{"p.LOG1", log})
	r := reports[0]
	if !r.Applied || r.Format != LogFormatNew || r.Entries != 2 || r.Pages != 3 || r.Sequence != 12 || r.Reason != "" {
		t.Fatalf("report %+v, want applied, 2 entries, 3 pages, resulting sequence 12, no reason", r)
	}
	wantEntries := []LogEntryReport{
		{Offset: 0x200, Sequence: 10, Pages: 1, HiveBinsSize: rtBins},
		{Offset: 0x200 + 0x1200, Sequence: 11, Pages: 2, HiveBinsSize: rtBins, Flags: 1},
	}
	if len(r.AppliedEntries) != 2 || r.AppliedEntries[0] != wantEntries[0] || r.AppliedEntries[1] != wantEntries[1] {
		t.Errorf("applied entries %+v, want %+v", r.AppliedEntries, wantEntries)
	}
	if !isFilled(rtPageAt(img, 0x1000), 3) || !isFilled(rtPageAt(img, 0x2000), 2) || !isFilled(rtPageAt(img, 0x3000), 0xAA) {
		t.Error("pages not applied in entry order, or an untouched page changed")
	}
	bb, err := ParseBaseBlock(img)
	if err != nil {
		t.Fatal(err)
	}
	if bb.PrimarySeq != 12 || bb.SecondarySeq != 12 || !bb.ChecksumOK || bb.Dirty() || bb.Flags&1 != 1 || bb.HiveBinsSize != rtBins {
		t.Errorf("recovered base block %+v: want sequences 12/12 (one past the last entry), good checksum, flag bit 0 carried from the entry", bb)
	}
}

func TestReplay_StopsAtSequenceGap(t *testing.T) {
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 11, pages: []rtPage{{off: 0x1000, fill: 2}}},
		rtEntry{seq: 13, pages: []rtPage{{off: 0x2000, fill: 3}}},
	)
	img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if r := reports[0]; r.Entries != 2 || r.Sequence != 12 || !strings.Contains(r.Reason, "sequence gap") {
		t.Fatalf("report %+v, want 2 entries applied and a sequence-gap reason", r)
	}
	if !isFilled(rtPageAt(img, 0x2000), 0xAA) {
		t.Error("the entry after the gap was applied")
	}
}

func TestReplay_StaleEntryEndsLogQuietly(t *testing.T) {
	// An entry of an earlier cycle (lower sequence) after the valid ones is
	// the ordinary end of a log, not damage.
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 4, pages: []rtPage{{off: 0x1000, fill: 2}}},
	)
	_, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if r := reports[0]; r.Entries != 1 || r.Reason != "" {
		t.Fatalf("report %+v, want 1 entry and no reason", r)
	}
}

func TestReplay_StopsAtBadHash(t *testing.T) {
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 11, pages: []rtPage{{off: 0x1000, fill: 2}}, badHash: true},
		rtEntry{seq: 12, pages: []rtPage{{off: 0x2000, fill: 3}}},
	)
	img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if r := reports[0]; r.Entries != 1 || !strings.Contains(r.Reason, "hash-1") {
		t.Fatalf("report %+v, want 1 entry and a hash-1 reason", r)
	}
	if !isFilled(rtPageAt(img, 0x1000), 0xAA) || !isFilled(rtPageAt(img, 0x2000), 0xAA) {
		t.Error("an entry with a bad hash, or one after it, was applied")
	}
	// A damaged header hash is caught too.
	e := rtEntryBytes(rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}})
	e[0x21] ^= 1
	log = append(rtLog(10), e...)
	_, reports = rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if r := reports[0]; r.Applied || !strings.Contains(r.Reason, "hash-2") {
		t.Fatalf("report %+v, want nothing applied and a hash-2 reason", r)
	}
}

func TestReplay_SecondLogMustContinueFirst(t *testing.T) {
	first := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 11, pages: []rtPage{{off: 0x1000, fill: 2}}},
	)
	tests := []struct {
		name      string
		secondSeq uint32
		applied   bool
	}{
		{"continues", 12, true},
		{"leaves a gap", 13, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			second := rtLog(tt.secondSeq, rtEntry{seq: tt.secondSeq, pages: []rtPage{{off: 0x2000, fill: 3}}})
			img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", first}, logInput{"p.LOG2", second})
			if !reports[0].Applied || reports[0].Entries != 2 {
				t.Fatalf("first log: %+v, want 2 entries applied", reports[0])
			}
			if reports[1].Applied != tt.applied {
				t.Fatalf("second log: %+v, want applied %v", reports[1], tt.applied)
			}
			if !tt.applied && !strings.Contains(reports[1].Reason, "does not continue") {
				t.Errorf("second log reason %q, want it to say it does not continue the first", reports[1].Reason)
			}
			want := byte(0xAA)
			if tt.applied {
				want = 3
			}
			if !isFilled(rtPageAt(img, 0x2000), want) {
				t.Errorf("page of the second log: want fill %#x", want)
			}
		})
	}
}

func TestReplay_OrdersLogsWithWrapAround(t *testing.T) {
	// LOG1 starts at 0xFFFFFFFF and wraps to 0; LOG2 continues at 1. Given
	// in the "wrong" order and with LOG2's number smaller, LOG1 still goes
	// first.
	log1 := rtLog(0xFFFFFFFF,
		rtEntry{seq: 0xFFFFFFFF, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 0, pages: []rtPage{{off: 0x1000, fill: 2}}},
	)
	log2 := rtLog(1, rtEntry{seq: 1, pages: []rtPage{{off: 0x1000, fill: 3}}})
	img, reports := rtReplay(t, rtPrimary(0xFFFFFFFF, 0xFFFFFFFE), logInput{"p.LOG2", log2}, logInput{"p.LOG1", log1})
	if !reports[0].Applied || !reports[1].Applied || reports[1].Entries != 2 || reports[0].Sequence != 2 {
		t.Fatalf("reports %+v, want LOG1 (2 entries) then LOG2 (to sequence 2)", reports)
	}
	if !isFilled(rtPageAt(img, 0x1000), 3) {
		t.Error("LOG2's page must overwrite LOG1's: it is the newer write")
	}
	if bb, _ := ParseBaseBlock(img); bb.PrimarySeq != 2 || bb.SecondarySeq != 2 {
		t.Errorf("recovered sequences %d/%d, want 2/2", bb.PrimarySeq, bb.SecondarySeq)
	}
}

func TestReplay_IneligibleLogIsSkipped(t *testing.T) {
	// The older log predates the primary's last complete write (secondary
	// sequence 20): only the newer one applies.
	old := rtLog(15, rtEntry{seq: 15, pages: []rtPage{{off: 0x2000, fill: 1}}})
	cur := rtLog(20, rtEntry{seq: 20, pages: []rtPage{{off: 0x1000, fill: 2}}})
	img, reports := rtReplay(t, rtPrimary(21, 20), logInput{"p.LOG1", old}, logInput{"p.LOG2", cur})
	if reports[0].Applied || !strings.Contains(reports[0].Reason, "not eligible") || !reports[1].Applied {
		t.Fatalf("reports %+v, want LOG1 not eligible and LOG2 applied", reports)
	}
	if !isFilled(rtPageAt(img, 0x2000), 0xAA) || !isFilled(rtPageAt(img, 0x1000), 2) {
		t.Error("wrong pages applied")
	}
}

func TestReplay_InvalidPrimaryUsesNewestLogOnly(t *testing.T) {
	primary := rtPrimary(5, 5)
	copy(primary[offChecksum:], "INVL")
	older := rtLog(30, rtEntry{seq: 30, pages: []rtPage{{off: 0, fill: 1}}})
	newer := rtLog(31, rtEntry{seq: 31, pages: []rtPage{{off: 0x1000, fill: 2}}})
	img, reports := rtReplay(t, primary, logInput{"p.LOG1", older}, logInput{"p.LOG2", newer})
	if reports[0].Applied || !reports[1].Applied {
		t.Fatalf("reports %+v, want only the newest log applied", reports)
	}
	bb, err := ParseBaseBlock(img)
	if err != nil || !bb.ChecksumOK || bb.PrimarySeq != 32 || bb.FileType != FileTypePrimary {
		t.Fatalf("base block %+v (%v): want the log's, fixed up: sequence 32, primary, good checksum", bb, err)
	}
}

func TestReplay_RefusesPageOutsideHiveBins(t *testing.T) {
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 11, pages: []rtPage{{off: rtBins, fill: 2}}}, // just past the entry's hive bins
	)
	img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if r := reports[0]; r.Entries != 1 || !strings.Contains(r.Reason, "outside the hive bins") {
		t.Fatalf("report %+v, want 1 entry and an outside-the-hive-bins reason", r)
	}
	if len(img) != BaseBlockSize+rtBins {
		t.Errorf("image grew to %d bytes", len(img))
	}
}

func TestReplay_GrowsHiveWhenEntrySaysSo(t *testing.T) {
	log := rtLog(10, rtEntry{seq: 10, hbins: rtBins + 0x1000, pages: []rtPage{{off: rtBins, fill: 7}}})
	img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", log})
	if !reports[0].Applied {
		t.Fatalf("report %+v", reports[0])
	}
	if len(img) != BaseBlockSize+rtBins+0x1000 || !isFilled(rtPageAt(img, rtBins), 7) {
		t.Fatalf("image is %d bytes, want the new page appended", len(img))
	}
	if bb, _ := ParseBaseBlock(img); bb.HiveBinsSize != rtBins+0x1000 {
		t.Errorf("hive bins size %#x, want the entry's %#x", bb.HiveBinsSize, rtBins+0x1000)
	}
}

func TestReplay_HostileCountsAndOffsetsAreBounded(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		patch  func(e []byte)
		reason string
	}{
		{"dirty page count 0x7FFFFFFF", func(e []byte) { le.PutUint32(e[0x14:], 0x7FFFFFFF) }, "do not fit"},
		{"page size 0xFFFFFFFF", func(e []byte) { le.PutUint32(e[hvleHeaderSize+4:], 0xFFFFFFFF) }, "past the end of its entry"},
		{"entry size 0xFFFFFE00", func(e []byte) { le.PutUint32(e[0x04:], 0xFFFFFE00) }, "past the end of the log"},
		{"page 3 GiB into a 4 GiB hive", func(e []byte) {
			le.PutUint32(e[0x10:], 0xFFFFF000)
			le.PutUint32(e[hvleHeaderSize:], 0xC0000000)
		}, "beyond the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rtEntryBytes(rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}})
			tt.patch(e)
			rtHash(e)
			img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"p.LOG1", append(rtLog(10), e...)})
			if r := reports[0]; r.Applied || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("report %+v, want nothing applied and a reason mentioning %q", r, tt.reason)
			}
			if len(img) != BaseBlockSize+rtBins {
				t.Errorf("image is %d bytes", len(img))
			}
		})
	}
}

func TestReplay_CleanHiveIsLeftAlone(t *testing.T) {
	primary := rtPrimary(10, 10)
	log := rtLog(10, rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}})
	img, reports := rtReplay(t, primary, logInput{"p.LOG1", log})
	if &img[0] != &primary[0] || reports[0].Applied || !strings.Contains(reports[0].Reason, "clean") {
		t.Fatalf("report %+v: want the primary itself back and a 'clean' reason", reports[0])
	}
}

func TestReplay_ReportsUnusableLogs(t *testing.T) {
	dirtyLog := rtLog(10)
	binary.LittleEndian.PutUint32(dirtyLog[offSecondarySeq:], 9)
	fixBaseBlockChecksum(dirtyLog)
	badSum := rtLog(10)
	badSum[offChecksum] ^= 1
	primaryAsLog := rtPrimary(3, 3)
	tests := []struct {
		name, reason, format string
		data                 []byte
	}{
		{"empty", "empty file", LogFormatUnknown, nil},
		{"garbage", "not a registry transaction log", LogFormatUnknown, bytes.Repeat([]byte{'x'}, 4096)},
		{"primary", "primary hive file", LogFormatUnknown, primaryAsLog},
		{"dirty log", "dirty", LogFormatNew, dirtyLog},
		{"bad checksum", "checksum", LogFormatNew, badSum},
		{"too short", "too short", LogFormatNew, rtLog(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, reports := rtReplay(t, rtPrimary(11, 10), logInput{"x.LOG1", tt.data})
			r := reports[0]
			if r.Applied || r.Format != tt.format || !strings.Contains(r.Reason, tt.reason) {
				t.Fatalf("report %+v, want format %s, not applied, reason mentioning %q", r, tt.format, tt.reason)
			}
			if len(img) != BaseBlockSize+rtBins {
				t.Error("image changed")
			}
		})
	}
}

func TestReplay_ObserverSeesEachEntry(t *testing.T) {
	log := rtLog(10,
		rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}},
		rtEntry{seq: 11, pages: []rtPage{{off: 0, fill: 2}}},
	)
	var steps []ReplayStep
	var fills []byte
	_, _, err := replayLogs("p", rtPrimary(11, 10), []logInput{{"p.LOG1", log}}, func(s ReplayStep, img []byte) error {
		steps = append(steps, s)
		fills = append(fills, rtPageAt(img, 0)[0])
		if bb, err := ParseBaseBlock(img); err != nil || bb.PrimarySeq != s.Sequence+1 || !bb.ChecksumOK {
			t.Errorf("step %+v: base block not updated (%+v, %v)", s, bb, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ReplayStep{{"p.LOG1", 0, 10}, {"p.LOG1", 1, 11}}
	if len(steps) != 2 || steps[0] != want[0] || steps[1] != want[1] || !bytes.Equal(fills, []byte{1, 2}) {
		t.Fatalf("steps %+v fills %v, want %+v and fills [1 2]", steps, fills, want)
	}
	stop := errors.New("stop")
	_, _, err = replayLogs("p", rtPrimary(11, 10), []logInput{{"p.LOG1", log}}, func(ReplayStep, []byte) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("observer error: got %v", err)
	}
}

func TestReplay_OldFormatAppliesDirtyVector(t *testing.T) {
	primary := rtPrimary(5, 4)
	log := rtDirtLog(5, 1000, map[int]byte{0: 1, 9: 2, 31: 3})
	img, reports := rtReplay(t, primary, logInput{"p.LOG", log})
	r := reports[0]
	if !r.Applied || r.Format != LogFormatOld || r.Pages != 3 || r.Entries != 1 || r.Sequence != 5 {
		t.Fatalf("report %+v, want old format applied, 3 sectors, sequence 5", r)
	}
	for s, fill := range map[int]byte{0: 1, 9: 2, 31: 3, 8: 0xAA, 10: 0xAA} {
		off := BaseBlockSize + s*sectorSize
		if !isFilled(img[off:off+sectorSize], fill) {
			t.Errorf("sector %d: want fill %#x", s, fill)
		}
	}
	if bb, _ := ParseBaseBlock(img); bb.Dirty() || bb.PrimarySeq != 5 {
		t.Errorf("recovered base block %+v: want clean, sequence 5", bb)
	}
}

func TestReplay_OldFormatRules(t *testing.T) {
	t.Run("older than the hive", func(t *testing.T) {
		_, reports := rtReplay(t, rtPrimary(5, 4), logInput{"p.LOG", rtDirtLog(5, 999, map[int]byte{0: 1})})
		if reports[0].Applied || !strings.Contains(reports[0].Reason, "not eligible") {
			t.Fatalf("report %+v, want not eligible", reports[0])
		}
	})
	t.Run("truncated", func(t *testing.T) {
		log := rtDirtLog(5, 1000, map[int]byte{0: 1, 1: 2})
		_, reports := rtReplay(t, rtPrimary(5, 4), logInput{"p.LOG", log[:len(log)-1]})
		if reports[0].Applied || !strings.Contains(reports[0].Reason, "truncated") {
			t.Fatalf("report %+v, want a truncation reason", reports[0])
		}
	})
	t.Run("hive bins size larger than the log can describe", func(t *testing.T) {
		log := rtDirtLog(5, 1000, map[int]byte{0: 1})
		binary.LittleEndian.PutUint32(log[offHiveBinsSize:], 0xFFFFF000) // a 1 MiB bitmap in a 1.5 KiB log
		fixBaseBlockChecksum(log[:logBaseBlockSize])
		_, reports := rtReplay(t, rtPrimary(5, 4), logInput{"p.LOG", log})
		if reports[0].Applied || !strings.Contains(reports[0].Reason, "too short") {
			t.Fatalf("report %+v, want a too-short reason", reports[0])
		}
	})
	t.Run("dirty sector far beyond the hive", func(t *testing.T) {
		// A 2 GiB hive-bins size with only its last sector dirty: the bitmap
		// fits in the log, but the image would have to grow by 2 GiB.
		const bins = 0x7FFFF000
		log := make([]byte, logBaseBlockSize)
		rtBaseBlock(log, FileTypeLog, 5, 5, bins, 1000)
		log = append(log, dirtSignature...)
		vec := make([]byte, bins/hiveBinAlign)
		vec[len(vec)-1] = 0x80
		log = append(log, vec...)
		log = append(log, make([]byte, alignUp(int64(len(log)), sectorSize)-int64(len(log))+sectorSize)...)
		img, reports := rtReplay(t, rtPrimary(5, 4), logInput{"p.LOG", log})
		if reports[0].Applied || !strings.Contains(reports[0].Reason, "beyond the") || len(img) != BaseBlockSize+rtBins {
			t.Fatalf("report %+v (image %d bytes), want refused by the growth bound", reports[0], len(img))
		}
	})
	t.Run("new format preferred", func(t *testing.T) {
		newLog := rtLog(4, rtEntry{seq: 4, pages: []rtPage{{off: 0, fill: 9}}})
		img, reports := rtReplay(t, rtPrimary(5, 4), logInput{"p.LOG", rtDirtLog(5, 1000, map[int]byte{0: 1})}, logInput{"p.LOG1", newLog})
		if reports[0].Applied || !reports[1].Applied || !isFilled(rtPageAt(img, 0), 9) {
			t.Fatalf("reports %+v, want only the new-format log applied", reports)
		}
	})
	t.Run("newest of two", func(t *testing.T) {
		img, reports := rtReplay(t, rtPrimary(5, 4),
			logInput{"p.LOG1", rtDirtLog(5, 1500, map[int]byte{0: 1})},
			logInput{"p.LOG2", rtDirtLog(5, 1200, map[int]byte{0: 2})})
		if !reports[0].Applied || reports[1].Applied || img[BaseBlockSize+100] != 1 {
			t.Fatalf("reports %+v, want the later-written LOG1 applied", reports)
		}
	})
}

func TestDiscoverLogs_CaseInsensitive(t *testing.T) {
	dir := t.TempDir()
	files := map[string]int{
		"transactions_NTUSER.DAT":      10,
		"transactions_ntuser.dat.log1": 10,
		"TRANSACTIONS_NTUSER.DAT.LOG2": 0,
		"transactions_NTUSER.DAT.log":  10,
		"transactions_NTUSER.DAT.LOG3": 10,
		"other.DAT.LOG1":               10,
	}
	for name, size := range files {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A directory with a log's name is never taken for a log.
	if err := os.Mkdir(filepath.Join(dir, "transactions_NTUSER.DAT.LOG"), 0o700); err != nil {
		t.Fatal(err)
	}
	got := discoverLogs(filepath.Join(dir, "transactions_NTUSER.DAT"))
	want := []string{"transactions_NTUSER.DAT.log", "transactions_ntuser.dat.log1", "TRANSACTIONS_NTUSER.DAT.LOG2"}
	if len(got) != len(want) {
		t.Fatalf("discoverLogs = %v, want %v", got, want)
	}
	for i := range want {
		if filepath.Base(got[i]) != want[i] {
			t.Errorf("log %d = %s, want %s", i, filepath.Base(got[i]), want[i])
		}
	}
	if logs := discoverLogs(filepath.Join(dir, "missing", "SYSTEM")); len(logs) != 0 {
		t.Errorf("logs for a hive in a missing directory: %v", logs)
	}
}
