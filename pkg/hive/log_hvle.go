package hive

import (
	"encoding/binary"
	"fmt"
)

// Layout of a transaction log of the new format (Windows 8.1 and later): a
// base block whose first 512 bytes are significant (file type 6), then log
// entries ("HvLE") one after the other from offset 512. Each entry is:
//
//	0x00 "HvLE"
//	0x04 Size          of the whole entry, a multiple of 512
//	0x08 Flags         bit 0 is carried to the base block's flags
//	0x0C Sequence      of the write the entry logs (the hive is at Sequence+1 after it)
//	0x10 HiveBinsSize  hive bins data size after this entry
//	0x14 DirtyPagesCount
//	0x18 Hash1         Marvin32 of bytes [0x28, Size)
//	0x20 Hash2         Marvin32 of bytes [0x00, 0x20) (so it covers Hash1)
//	0x28 DirtyPagesCount references {Offset uint32 (relative to the hive
//	     bins), Size uint32}, then the pages' bytes in the same order
const (
	logBaseBlockSize   = 512
	hvleHeaderSize     = 0x28
	hvleSizeAlign      = 512
	hvlePageRefSize    = 8
	hiveBinAlign       = 4096
	hvleSignature      = "HvLE"
	maxHiveBinsSizeWin = 0x80000000 // Windows refuses hives of 2 GiB or more
)

// dirtyPage is one page reference of a log entry: where its bytes go in the
// hive bins and how many there are.
type dirtyPage struct {
	Offset uint32 // relative to the start of the hive bins (file offset - 4096)
	Size   uint32
}

// hvleEntry is a parsed log entry of the new format. Offset and DataOffset
// are offsets in the log file; the pages' bytes lie consecutively from
// DataOffset in the order of DirtyPages.
type hvleEntry struct {
	Offset       int64
	Size         uint32
	Flags        uint32
	Sequence     uint32
	HiveBinsSize uint32
	DirtyPages   []dirtyPage
	Hash1        uint64
	Hash2        uint64
	DataOffset   int64
}

// entryStop classifies why parsing stopped at an offset of a log.
type entryStop int

const (
	stopNone  entryStop = iota
	stopEnd             // no entry here (end of the log's valid entries): normal
	stopStale           // a well-formed entry of an earlier cycle: normal end
	stopBad             // an entry that should have been next but is damaged: reported
)

// parseHvLEEntry decodes and validates the log entry at off, which must carry
// sequence number want. Every count and size is checked against the entry and
// the log before anything is allocated. On failure it says whether this is
// the ordinary end of the log (no entry, or a stale one) or a damaged entry,
// with the reason.
func parseHvLEEntry(log []byte, off int64, want uint32) (hvleEntry, entryStop, string) {
	var e hvleEntry
	le := binary.LittleEndian
	if off < 0 || off+hvleHeaderSize > int64(len(log)) {
		return e, stopEnd, ""
	}
	h := log[off:]
	if string(h[:4]) != hvleSignature {
		return e, stopEnd, ""
	}
	e.Offset = off
	e.Size = le.Uint32(h[0x04:])
	e.Flags = le.Uint32(h[0x08:])
	e.Sequence = le.Uint32(h[0x0C:])
	e.HiveBinsSize = le.Uint32(h[0x10:])
	count := le.Uint32(h[0x14:])
	e.Hash1 = le.Uint64(h[0x18:])
	e.Hash2 = le.Uint64(h[0x20:])

	// bad reports a damaged entry when it claims the expected sequence
	// number, and the ordinary end of the log otherwise (leftovers of an
	// earlier cycle, which the next write would have overwritten).
	bad := func(format string, args ...any) (hvleEntry, entryStop, string) {
		if e.Sequence != want {
			return hvleEntry{}, stopEnd, ""
		}
		return hvleEntry{}, stopBad, fmt.Sprintf("entry at log offset %#x (sequence %d): ", off, e.Sequence) + fmt.Sprintf(format, args...)
	}
	if e.Size < hvleSizeAlign || e.Size%hvleSizeAlign != 0 {
		return bad("size %d is not a positive multiple of 512", e.Size)
	}
	if int64(e.Size) > int64(len(log))-off {
		return bad("size %d runs past the end of the log (%d bytes left)", e.Size, int64(len(log))-off)
	}
	if e.HiveBinsSize < hiveBinAlign || e.HiveBinsSize%hiveBinAlign != 0 {
		return bad("hive bins size %#x is not a positive multiple of 4096", e.HiveBinsSize)
	}
	if count == 0 {
		return bad("no dirty pages")
	}
	refsEnd := uint64(hvleHeaderSize) + uint64(count)*hvlePageRefSize
	if refsEnd > uint64(e.Size) {
		return bad("%d dirty-page references do not fit in an entry of %d bytes", count, e.Size)
	}
	entry := h[:e.Size]
	if got := marvin32(entry[:0x20], marvinLogSeed); got != e.Hash2 {
		return bad("header hash (hash-2) %#016x, computed %#016x", e.Hash2, got)
	}
	if got := marvin32(entry[hvleHeaderSize:], marvinLogSeed); got != e.Hash1 {
		return bad("data hash (hash-1) %#016x, computed %#016x", e.Hash1, got)
	}
	if e.Sequence != want {
		if seqBefore(e.Sequence, want) {
			return hvleEntry{}, stopStale, ""
		}
		return hvleEntry{}, stopBad, fmt.Sprintf("entry at log offset %#x: sequence gap: entry has %d, expected %d", off, e.Sequence, want)
	}
	e.DirtyPages = make([]dirtyPage, count)
	total := refsEnd
	for i := range e.DirtyPages {
		r := entry[hvleHeaderSize+i*hvlePageRefSize:]
		p := dirtyPage{Offset: le.Uint32(r), Size: le.Uint32(r[4:])}
		total += uint64(p.Size)
		if total > uint64(e.Size) {
			return bad("dirty page %d (%d bytes) runs past the end of its entry", i, p.Size)
		}
		// Windows logs whole 4 KiB pages; a reference elsewhere would lay
		// the page over its neighbours' cells.
		if p.Offset%hiveBinAlign != 0 || p.Size == 0 || p.Size%hiveBinAlign != 0 {
			return bad("dirty page %d at hive-bins offset %#x (+%d bytes) is not whole 4096-byte pages", i, p.Offset, p.Size)
		}
		if uint64(p.Offset)+uint64(p.Size) > uint64(e.HiveBinsSize) {
			return bad("dirty page %d at hive-bins offset %#x (+%d bytes) is outside the hive bins (%#x bytes)", i, p.Offset, p.Size, e.HiveBinsSize)
		}
		e.DirtyPages[i] = p
	}
	e.DataOffset = off + int64(refsEnd)
	return e, stopNone, ""
}

// seqBefore reports whether sequence number a comes before b, allowing for
// 32-bit wrap-around (the numbers are compared on a circle: a is before b when
// b is less than 2^31 steps ahead of a).
func seqBefore(a, b uint32) bool { return a != b && b-a < 0x80000000 }
