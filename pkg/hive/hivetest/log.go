package hivetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Transaction-log layout (the "new" HvLE format of Windows 8.1 and later).
const (
	// LogBaseBlockSize is the size of a log file's base block; the first
	// entry follows it.
	LogBaseBlockSize = 512
	// LogEntryHeaderSize is the fixed part of an HvLE entry before its
	// dirty-page references.
	LogEntryHeaderSize = 40
	// LogFileTypeHvLE is the base-block file type of an HvLE log.
	LogFileTypeHvLE = 6
)

// DirtyPage is one run of hive-bins data carried by a log entry: Offset is
// relative to the start of the hive bins, Data a multiple of 4096 bytes.
type DirtyPage struct {
	Offset uint32
	Data   []byte
}

// LogEntry is one HvLE entry of a .LOG1/.LOG2 file, with the field names of
// the format: Size (the entry's total length, a multiple of 512), Flags (a
// copy of the base block's), Sequence, HiveBinsSize (of the hive after the
// entry is applied), the two Marvin32 hashes and the dirty pages in order.
type LogEntry struct {
	Size         uint32
	Flags        uint32
	Sequence     uint32
	HiveBinsSize uint32
	// Hash1 covers the entry from the dirty-page references to its end;
	// Hash2 the first 32 bytes (which include Hash1). ParseLogEntry keeps the
	// stored values; Marshal computes them.
	Hash1, Hash2 uint64
	Pages        []DirtyPage
	// Padding holds the bytes between the last page and Size as found by
	// ParseLogEntry (Windows writes zeros there); nil means zeros.
	Padding []byte
}

// ParseLogEntry reads the HvLE entry at the start of b (its Size field says
// how long it is). The hashes are kept as stored; use HashesValid to check
// them.
func ParseLogEntry(b []byte) (LogEntry, error) {
	le := binary.LittleEndian
	if len(b) < LogEntryHeaderSize || string(b[:4]) != "HvLE" {
		return LogEntry{}, errors.New("hivetest: no HvLE signature")
	}
	e := LogEntry{
		Size: le.Uint32(b[4:]), Flags: le.Uint32(b[8:]), Sequence: le.Uint32(b[12:]),
		HiveBinsSize: le.Uint32(b[16:]), Hash1: le.Uint64(b[24:]), Hash2: le.Uint64(b[32:]),
	}
	count := le.Uint32(b[20:])
	if e.Size < LogEntryHeaderSize || e.Size%512 != 0 || int64(e.Size) > int64(len(b)) {
		return LogEntry{}, fmt.Errorf("hivetest: log entry size %d invalid (%d bytes available)", e.Size, len(b))
	}
	ent := b[:e.Size]
	refsEnd := uint64(LogEntryHeaderSize) + 8*uint64(count)
	if refsEnd > uint64(len(ent)) {
		return LogEntry{}, fmt.Errorf("hivetest: %d dirty pages do not fit an entry of %d bytes", count, e.Size)
	}
	pos := refsEnd
	for i := range uint64(count) {
		ref := ent[LogEntryHeaderSize+8*i:]
		off, size := le.Uint32(ref), le.Uint32(ref[4:])
		if pos+uint64(size) > uint64(len(ent)) {
			return LogEntry{}, fmt.Errorf("hivetest: dirty page %d (%d bytes) runs past the entry", i, size)
		}
		e.Pages = append(e.Pages, DirtyPage{Offset: off, Data: ent[pos : pos+uint64(size)]})
		pos += uint64(size)
	}
	e.Padding = ent[pos:]
	return e, nil
}

// minSize is the entry's length without padding.
func (e LogEntry) minSize() int {
	n := LogEntryHeaderSize + 8*len(e.Pages)
	for _, p := range e.Pages {
		n += len(p.Data)
	}
	return n
}

// Marshal encodes the entry with freshly computed hashes. When Size is 0 the
// entry is padded with zeros to the next multiple of 512; otherwise to Size
// (with Padding's bytes when it has the right length).
func (e LogEntry) Marshal() ([]byte, error) {
	le := binary.LittleEndian
	n := e.minSize()
	size := int(e.Size)
	if size == 0 {
		size = (n + 511) / 512 * 512
	}
	if size < n || size%512 != 0 {
		return nil, fmt.Errorf("hivetest: entry size %d cannot hold %d bytes", size, n)
	}
	b := make([]byte, size)
	copy(b, "HvLE")
	le.PutUint32(b[4:], uint32(size))
	le.PutUint32(b[8:], e.Flags)
	le.PutUint32(b[12:], e.Sequence)
	le.PutUint32(b[16:], e.HiveBinsSize)
	le.PutUint32(b[20:], uint32(len(e.Pages)))
	pos := LogEntryHeaderSize + 8*len(e.Pages)
	for i, p := range e.Pages {
		le.PutUint32(b[LogEntryHeaderSize+8*i:], p.Offset)
		le.PutUint32(b[LogEntryHeaderSize+8*i+4:], uint32(len(p.Data)))
		copy(b[pos:], p.Data)
		pos += len(p.Data)
	}
	if len(e.Padding) == size-pos {
		copy(b[pos:], e.Padding)
	}
	le.PutUint64(b[24:], Marvin32(LogHashSeed, b[LogEntryHeaderSize:]))
	le.PutUint64(b[32:], Marvin32(LogHashSeed, b[:32]))
	return b, nil
}

// HashesValid reports whether the stored hashes of the entry encoded in b
// (as ParseLogEntry read it) are right.
func HashesValid(b []byte) bool {
	if len(b) < LogEntryHeaderSize {
		return false
	}
	size := binary.LittleEndian.Uint32(b[4:])
	if uint64(size) > uint64(len(b)) || size < LogEntryHeaderSize {
		return false
	}
	b = b[:size]
	return binary.LittleEndian.Uint64(b[24:]) == Marvin32(LogHashSeed, b[LogEntryHeaderSize:]) &&
		binary.LittleEndian.Uint64(b[32:]) == Marvin32(LogHashSeed, b[:32])
}

// BuildLog writes a log file: a 512-byte base block derived from the
// primary's (both sequence numbers set to the first entry's, file type 6,
// checksum recomputed), then the entries. Entries whose Size is 0 are padded
// so that each ends on a 4096-byte boundary of the file, as Windows lays
// them out.
func BuildLog(primaryBaseBlock []byte, entries []LogEntry) ([]byte, error) {
	if len(primaryBaseBlock) < LogBaseBlockSize {
		return nil, errors.New("hivetest: short base block")
	}
	out := make([]byte, LogBaseBlockSize)
	copy(out, primaryBaseBlock[:LogBaseBlockSize])
	le := binary.LittleEndian
	if len(entries) > 0 {
		le.PutUint32(out[4:], entries[0].Sequence)
		le.PutUint32(out[8:], entries[0].Sequence)
		le.PutUint32(out[40:], entries[0].HiveBinsSize)
	}
	le.PutUint32(out[28:], LogFileTypeHvLE)
	le.PutUint32(out[508:], Checksum(out))
	for _, e := range entries {
		if e.Size == 0 {
			end := len(out) + e.minSize()
			e.Size = uint32((end+PageSize-1)/PageSize*PageSize - len(out))
		}
		b, err := e.Marshal()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// Dirty is a dirty hive built by BuildDirty: the primary file holding the
// oldest state and the logs holding every later one.
type Dirty struct {
	// Primary is the hive file as left on disk: the first state's cells,
	// sequence numbers mismatched.
	Primary []byte
	// Log1 holds the entries (all of them unless WithLog2From split them).
	Log1 []byte
	// Log2 holds the later entries when split, else nil.
	Log2 []byte
	// Entries are the log entries in sequence order, one per later state.
	Entries []LogEntry
	// States are the clean hive files of every state (index 0 = the
	// primary's content, last = the state full recovery must reach), each
	// with matching sequence numbers; tests compare recovery against them.
	States [][]byte
}

// WriteFiles writes the primary as dir/name and its logs as
// dir/name.LOG1 (and dir/name.LOG2 when there is one), the layout hive
// readers discover logs in, and returns the primary's path.
func (d *Dirty) WriteFiles(dir, name string) (string, error) {
	primary := filepath.Join(dir, name)
	files := []struct {
		path string
		data []byte
	}{{primary, d.Primary}, {primary + ".LOG1", d.Log1}, {primary + ".LOG2", d.Log2}}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return "", err
		}
	}
	return primary, nil
}

// WithLog2From makes BuildDirty put entries from index i on (0-based) into
// the .LOG2 file instead of .LOG1, as Windows does when it switches logs.
func WithLog2From(i int) Option {
	return func(o *options) { o.log2From = i }
}

// BuildDirty builds a dirty hive: the primary file holds before's state
// with mismatched sequence numbers (secondary S, primary S+1, where S is the
// WithSequence secondary number, default 1), and the log holds one HvLE
// entry per element of after (sequence S, S+1, ...), each carrying the pages
// that differ from the previous state, with valid Marvin32 hashes. Applying
// every entry gives the hive bins of the last state byte for byte.
func BuildDirty(before *Key, after []*Key, opts ...Option) (*Dirty, error) {
	if len(after) == 0 {
		return nil, errors.New("hivetest: BuildDirty needs at least one later state")
	}
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	seq := o.second
	states := append([]*Key{before}, after...)
	d := &Dirty{}
	var bins [][]byte
	for i, st := range states {
		so := o
		so.primary, so.second = seq+uint32(i), seq+uint32(i)
		b, err := Build(st, func(p *options) { *p = so })
		if err != nil {
			return nil, fmt.Errorf("hivetest: state %d: %w", i, err)
		}
		d.States = append(d.States, b)
		bins = append(bins, b[BaseBlockSize:])
	}
	for i := 1; i < len(bins); i++ {
		e := LogEntry{Flags: o.flags, Sequence: seq + uint32(i-1), HiveBinsSize: uint32(len(bins[i]))}
		e.Pages = dirtyPages(bins[i-1], bins[i])
		d.Entries = append(d.Entries, e)
	}
	d.Primary = append([]byte(nil), d.States[0]...)
	le := binary.LittleEndian
	le.PutUint32(d.Primary[4:], seq+1)
	le.PutUint32(d.Primary[8:], seq)
	le.PutUint32(d.Primary[508:], Checksum(d.Primary))
	if o.checksum != nil {
		le.PutUint32(d.Primary[508:], *o.checksum)
	}
	split := len(d.Entries)
	if o.log2From >= 0 && o.log2From < len(d.Entries) {
		split = o.log2From
	}
	var err error
	if d.Log1, err = BuildLog(d.Primary, d.Entries[:split]); err != nil {
		return nil, err
	}
	if split < len(d.Entries) {
		if d.Log2, err = BuildLog(d.Primary, d.Entries[split:]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// dirtyPages lists the 4096-byte pages of next that differ from prev (or lie
// beyond it), merged into runs.
func dirtyPages(prev, next []byte) []DirtyPage {
	var pages []DirtyPage
	for off := 0; off < len(next); off += PageSize {
		page := next[off : off+PageSize]
		if off+PageSize <= len(prev) && bytes.Equal(prev[off:off+PageSize], page) {
			continue
		}
		if n := len(pages); n > 0 && int(pages[n-1].Offset)+len(pages[n-1].Data) == off {
			pages[n-1].Data = append(pages[n-1].Data, page...)
			continue
		}
		pages = append(pages, DirtyPage{Offset: uint32(off), Data: append([]byte(nil), page...)})
	}
	return pages
}

// ApplyEntries replays log entries onto a copy of a primary hive file the
// simple way (each page written at its offset, the hive bins resized to the
// entry's size). It is a reference for tests of the writer, not a
// validating reader: it trusts its input.
func ApplyEntries(primary []byte, entries []LogEntry) []byte {
	img := append([]byte(nil), primary...)
	for _, e := range entries {
		size := BaseBlockSize + int(e.HiveBinsSize)
		if len(img) < size {
			img = append(img, make([]byte, size-len(img))...)
		}
		img = img[:size]
		for _, p := range e.Pages {
			copy(img[BaseBlockSize+int(p.Offset):], p.Data)
		}
		binary.LittleEndian.PutUint32(img[40:], e.HiveBinsSize)
	}
	return img
}
