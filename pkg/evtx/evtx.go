// Package evtx reads Windows XML Event Log (.evtx) files offline: the file
// header, the 64 KiB chunks with their string and template tables, the event
// records and their Binary XML (templates with substitution values of every
// type), rendered into ordered fields (the System header and the
// EventData/UserData values by name) and, for comparisons, into XML.
//
// The layout follows the public format descriptions (libyal's "Windows XML
// Event Log (EVTX)" and Microsoft's [MS-EVEN6] Binary XML). Records are read
// chunk by chunk, so memory holds one chunk (64 KiB) and its parsed
// templates, never the whole file.
//
// Values are rendered as Windows renders them: GUIDs in upper case with
// braces, hexadecimal integers (HexInt32, HexInt64, SizeT) without leading
// zeros ("0x3e7"), booleans as "true"/"false", FILETIME and SYSTEMTIME as
// RFC 3339 UTC with 7 fractional digits, binary data as upper-case hex.
//
// # Damaged files
//
// A bad file-header or chunk checksum, a chunk slot without the chunk
// signature, a record whose size or signature is wrong and a record whose
// Binary XML cannot be decoded are reported as anomalies (*FormatError values
// yielded by Records, naming the file and offset) and reading goes on: with
// the rest of a chunk whose checksums are wrong (a dirty, partly written log
// is still read), with the next intact record after a broken one (or the
// next chunk when there is none).
//
// Only the allocated records of a chunk are read (those before its
// free-space offset); the stale copies in chunk slack are not reported as
// records. In a dirty log (or a chunk whose header checksum fails, as while
// it is written), the records after the free-space offset that continue the
// chunk's record numbering exactly are read too, marked Uncommitted, with an
// anomaly.
//
// # Security
//
// Every length, count and offset read from the file is checked against the
// chunk it lives in before use. Bounds enforced:
//   - chunk slots are 64 KiB; records are read only inside their chunk, and a
//     record must be at least 28 bytes and fit before the free-space offset;
//   - Binary XML nesting (elements, nested Binary XML values, template
//     instances inside values) is limited to MaxDepth levels;
//   - a record renders at most MaxNodes elements and values, and the records
//     of a chunk at most MaxChunkNodes, so small records that instantiate
//     large templates many times cannot amplify memory or time;
//   - a template instance holds at most MaxValues substitution values, and a
//     chunk caches at most MaxTemplates parsed templates;
//   - names and strings are read only within the chunk and are at most the
//     chunk's size.
//
// Iteration honours context cancellation between records.
package evtx

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Sizes and bounds of the format and of this reader.
const (
	// FileHeaderSize is the size of the file header block before the first
	// chunk.
	FileHeaderSize = 4096
	// ChunkSize is the size of every chunk.
	ChunkSize = 65536
	// ChunkHeaderSize is the size of the chunk header, string table and
	// template table before the first record.
	ChunkHeaderSize = 512
	// MaxDepth bounds the nesting of Binary XML elements and values.
	MaxDepth = 48
	// MaxNodes bounds the elements and values one record renders.
	MaxNodes = 65536
	// MaxChunkNodes bounds the elements and values all records of one chunk
	// render (real chunks render a few thousand).
	MaxChunkNodes = 1 << 20
	// MaxValues bounds the substitution values of one template instance.
	MaxValues = 4096
	// MaxTemplates bounds the parsed templates cached for one chunk.
	MaxTemplates = 4096
)

var (
	fileSignature  = []byte("ElfFile\x00")
	chunkSignature = []byte("ElfChnk\x00")
)

// FormatError reports damaged or unexpected data: the file, the byte offset
// in the file and what was wrong. Records yields it for anomalies and goes
// on reading.
type FormatError struct {
	File   string // file name ("" for a reader without a name)
	Offset int64  // byte offset in the file, -1 when not known
	Chunk  int    // chunk slot index, -1 for the file header
	Msg    string
}

// Error names the file, the offset and the problem.
func (e *FormatError) Error() string {
	name := e.File
	if name == "" {
		name = "evtx"
	}
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %s", name, e.Msg)
	}
	return fmt.Sprintf("%s: at offset 0x%x: %s", name, e.Offset, e.Msg)
}

// FileHeader is the file header, fields named as in the format
// description.
type FileHeader struct {
	FirstChunkNumber     uint64
	LastChunkNumber      uint64
	NextRecordIdentifier uint64
	HeaderSize           uint32
	MinorVersion         uint16
	MajorVersion         uint16
	HeaderBlockSize      uint16
	NumberOfChunks       uint16
	FileFlags            uint32
	Checksum             uint32
	// ChecksumValid is true when Checksum equals the CRC32 of the header's
	// first 120 bytes.
	ChecksumValid bool
}

// File flags.
const (
	FlagDirty = 0x1
	FlagFull  = 0x2
)

// Dirty reports the dirty flag: the log was not closed cleanly, and the
// header's counts may lag behind the chunks.
func (h FileHeader) Dirty() bool { return h.FileFlags&FlagDirty != 0 }

// Full reports the full flag.
func (h FileHeader) Full() bool { return h.FileFlags&FlagFull != 0 }

// ChunkHeader is a chunk's header, fields named as in the format
// description.
type ChunkHeader struct {
	FirstEventRecordNumber     uint64
	LastEventRecordNumber      uint64
	FirstEventRecordIdentifier uint64
	LastEventRecordIdentifier  uint64
	HeaderSize                 uint32
	LastEventRecordDataOffset  uint32
	FreeSpaceOffset            uint32
	EventRecordsChecksum       uint32
	Flags                      uint32
	Checksum                   uint32
	// CommonStringOffsets and TemplatePointers are the chunk's string and
	// template tables (chunk offsets of the first name and template
	// definition of each hash bucket, 0 when empty). Records refer to names
	// and templates by offset, so reading does not need them.
	CommonStringOffsets [64]uint32
	TemplatePointers    [32]uint32
	// HeaderChecksumValid and RecordsChecksumValid compare the stored
	// checksums with the CRC32 of the header (bytes 0-120 and 128-512) and
	// of the records (512 up to FreeSpaceOffset).
	HeaderChecksumValid  bool
	RecordsChecksumValid bool
}

// File is an open event log.
type File struct {
	Header FileHeader
	// Name is the file name used in errors.
	Name string

	r      io.ReaderAt
	size   int64
	closer io.Closer
	// headerErr is the anomaly of a damaged file header that still let
	// reading go on; Records yields it first.
	headerErr *FormatError
}

// Open opens the named file.
func Open(name string) (*File, error) {
	// Check before opening: opening a named pipe or a device blocks until
	// something writes to it.
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ef, err := newReader(f, st.Size(), name)
	if err != nil {
		f.Close()
		return nil, err
	}
	ef.closer = f
	return ef, nil
}

// NewReader reads an event log of the given size from r. name is used in
// errors and may be empty.
func NewReader(r io.ReaderAt, size int64, name string) (*File, error) {
	return newReader(r, size, name)
}

func newReader(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{Name: name, r: r, size: size}
	if size < 128 {
		return nil, &FormatError{File: name, Offset: 0, Chunk: -1, Msg: fmt.Sprintf("file of %d bytes is too small for an EVTX file header", size)}
	}
	var b [128]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return nil, &FormatError{File: name, Offset: 0, Chunk: -1, Msg: "reading the file header: " + err.Error()}
	}
	le := binary.LittleEndian
	h := &f.Header
	h.FirstChunkNumber = le.Uint64(b[8:])
	h.LastChunkNumber = le.Uint64(b[16:])
	h.NextRecordIdentifier = le.Uint64(b[24:])
	h.HeaderSize = le.Uint32(b[32:])
	h.MinorVersion = le.Uint16(b[36:])
	h.MajorVersion = le.Uint16(b[38:])
	h.HeaderBlockSize = le.Uint16(b[40:])
	h.NumberOfChunks = le.Uint16(b[42:])
	h.FileFlags = le.Uint32(b[120:])
	h.Checksum = le.Uint32(b[124:])
	h.ChecksumValid = crc32.ChecksumIEEE(b[:120]) == h.Checksum
	if string(b[:8]) != string(fileSignature) {
		// A log whose header block was overwritten may still hold chunks.
		var c [8]byte
		if size >= FileHeaderSize+ChunkHeaderSize {
			r.ReadAt(c[:], FileHeaderSize)
		}
		if string(c[:]) != string(chunkSignature) {
			return nil, &FormatError{File: name, Offset: 0, Chunk: -1, Msg: fmt.Sprintf("not an EVTX file: signature %q", b[:8])}
		}
		f.headerErr = &FormatError{File: name, Offset: 0, Chunk: -1, Msg: "file header signature is damaged; reading the chunks"}
		return f, nil
	}
	if !h.ChecksumValid {
		f.headerErr = &FormatError{File: name, Offset: 124, Chunk: -1, Msg: fmt.Sprintf("file header checksum 0x%08x does not match its data (0x%08x)", h.Checksum, crc32.ChecksumIEEE(b[:120]))}
	}
	return f, nil
}

// Close closes the file opened with Open; it does nothing for NewReader.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Size returns the file size.
func (f *File) Size() int64 { return f.size }

// ChunkSlots returns the number of 64 KiB chunk slots after the header
// block (the last one may be partial in a truncated file).
func (f *File) ChunkSlots() int {
	if f.size <= FileHeaderSize {
		return 0
	}
	return int((f.size - FileHeaderSize + ChunkSize - 1) / ChunkSize)
}

// SignedChunks counts the chunk slots that start with the chunk signature
// (a truncated last chunk included). It reads 8 bytes per slot.
func (f *File) SignedChunks() int {
	n := 0
	var sig [8]byte
	for i := 0; i < f.ChunkSlots(); i++ {
		off := int64(FileHeaderSize) + int64(i)*ChunkSize
		if m, _ := f.r.ReadAt(sig[:], off); m == len(sig) && string(sig[:]) == string(chunkSignature) {
			n++
		}
	}
	return n
}

// Chunk is one chunk read into memory: its header, and the parsed names and
// templates its records share.
type Chunk struct {
	Header ChunkHeader
	// Index is the chunk's slot number (0 for the first chunk after the file
	// header).
	Index int
	// Offset is the chunk's byte offset in the file.
	Offset int64

	file      *File
	data      []byte
	names     map[uint32]string
	templates map[uint32]*template
	parser    *parser
}

// ErrEmptyChunk is returned by ReadChunk for an all-zero chunk slot (an
// unused slot at the end of a log).
var ErrEmptyChunk = errors.New("empty chunk slot")

// ReadChunk reads chunk slot i. It returns ErrEmptyChunk for an unused
// (all-zero) slot and a *FormatError for a slot without a chunk signature or
// a truncated one. A chunk whose checksums do not match is returned with the
// Header's checksum flags false.
func (f *File) ReadChunk(i int) (*Chunk, error) {
	off := int64(FileHeaderSize) + int64(i)*ChunkSize
	if i < 0 || off >= f.size {
		return nil, &FormatError{File: f.Name, Offset: off, Chunk: i, Msg: fmt.Sprintf("chunk %d is beyond the end of the file", i)}
	}
	n := int64(ChunkSize)
	if off+n > f.size {
		n = f.size - off
	}
	data := make([]byte, n)
	if m, err := f.r.ReadAt(data, off); m < int(n) {
		return nil, &FormatError{File: f.Name, Offset: off, Chunk: i, Msg: fmt.Sprintf("reading chunk %d: %v", i, err)}
	}
	if string(data[:min(8, len(data))]) != string(chunkSignature) {
		if allZero(data) {
			return nil, ErrEmptyChunk
		}
		return nil, &FormatError{File: f.Name, Offset: off, Chunk: i, Msg: fmt.Sprintf("chunk %d has no chunk signature", i)}
	}
	if len(data) < ChunkHeaderSize {
		return nil, &FormatError{File: f.Name, Offset: off, Chunk: i, Msg: fmt.Sprintf("chunk %d is truncated to %d bytes", i, len(data))}
	}
	c := &Chunk{Index: i, Offset: off, file: f, data: data}
	le := binary.LittleEndian
	h := &c.Header
	h.FirstEventRecordNumber = le.Uint64(data[8:])
	h.LastEventRecordNumber = le.Uint64(data[16:])
	h.FirstEventRecordIdentifier = le.Uint64(data[24:])
	h.LastEventRecordIdentifier = le.Uint64(data[32:])
	h.HeaderSize = le.Uint32(data[40:])
	h.LastEventRecordDataOffset = le.Uint32(data[44:])
	h.FreeSpaceOffset = le.Uint32(data[48:])
	h.EventRecordsChecksum = le.Uint32(data[52:])
	h.Flags = le.Uint32(data[120:])
	h.Checksum = le.Uint32(data[124:])
	for k := range h.CommonStringOffsets {
		h.CommonStringOffsets[k] = le.Uint32(data[128+4*k:])
	}
	for k := range h.TemplatePointers {
		h.TemplatePointers[k] = le.Uint32(data[384+4*k:])
	}
	crc := crc32.Update(crc32.ChecksumIEEE(data[:120]), crc32.IEEETable, data[128:512])
	h.HeaderChecksumValid = crc == h.Checksum
	if fs := int(h.FreeSpaceOffset); fs >= ChunkHeaderSize && fs <= len(data) {
		h.RecordsChecksumValid = crc32.ChecksumIEEE(data[ChunkHeaderSize:fs]) == h.EventRecordsChecksum
	}
	return c, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// anomaly builds a FormatError at chunk offset off.
func (c *Chunk) anomaly(off int, format string, a ...any) *FormatError {
	return &FormatError{File: c.file.Name, Offset: c.Offset + int64(off), Chunk: c.Index, Msg: fmt.Sprintf(format, a...)}
}

// recordsEnd is where the chunk's allocated records end.
func (c *Chunk) recordsEnd() int {
	fs := int(c.Header.FreeSpaceOffset)
	if fs < ChunkHeaderSize || fs > len(c.data) {
		return len(c.data)
	}
	return fs
}

// Records yields the chunk's allocated records in order. A record that
// cannot be walked ends the chunk with a *FormatError; a record whose
// Binary XML cannot be decoded is yielded as an error and the walk goes on.
func (c *Chunk) Records() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		end := c.recordsEnd()
		walkEnd := end
		freeValid := walkEnd != len(c.data)
		pos := ChunkHeaderSize
		le := binary.LittleEndian
		lastID := c.Header.FirstEventRecordNumber - 1
		for pos+28 <= walkEnd {
			var broken string
			size := 0
			if le.Uint32(c.data[pos:]) != 0x00002a2a {
				if !freeValid {
					return // end of records in a chunk without a usable free-space offset
				}
				broken = "no record signature"
			} else if size = int(le.Uint32(c.data[pos+4:])); size < 28 || pos+size > walkEnd {
				broken = fmt.Sprintf("record size %d does not fit in the chunk", size)
			} else if cp := int(le.Uint32(c.data[pos+size-4:])); cp != size {
				broken = fmt.Sprintf("record size copy %d differs from size %d", cp, size)
			}
			if broken != "" {
				// Records follow each other: resume at the next intact
				// record that continues the numbering, if there is one.
				next, ok := c.resync(pos+1, walkEnd, lastID)
				if !ok {
					yield(nil, c.anomaly(pos, "%s; skipping the rest of the chunk", broken))
					return
				}
				if !yield(nil, c.anomaly(pos, "%s; skipping %d bytes to the next intact record", broken, next-pos)) {
					return
				}
				pos = next
				continue
			}
			rec := &Record{
				Identifier: le.Uint64(c.data[pos+8:]),
				Written:    wintime.FromFiletime(le.Uint64(c.data[pos+16:])),
				Offset:     c.Offset + int64(pos),
				Chunk:      c.Index,
			}
			root, err := c.parseRecord(pos+24, pos+size-4)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				if c.parser.chunkNodes > MaxChunkNodes {
					return
				}
			} else {
				rec.Root = root
				rec.fill()
				if !yield(rec, nil) {
					return
				}
			}
			lastID = rec.Identifier
			pos += size
		}
		if freeValid && (c.file.Header.Dirty() || !c.Header.HeaderChecksumValid) {
			c.uncommitted(pos, lastID, yield)
		}
	}
}

// resync finds the next intact record in [from, end): signature, size and
// size copy consistent, and a record number after lastID (by at most a
// chunk's worth of records).
func (c *Chunk) resync(from, end int, lastID uint64) (int, bool) {
	le := binary.LittleEndian
	for q := from; q+28 <= end; q++ {
		if c.data[q] != 0x2a || le.Uint32(c.data[q:]) != 0x00002a2a {
			continue
		}
		size := int(le.Uint32(c.data[q+4:]))
		if size < 28 || q+size > end || int(le.Uint32(c.data[q+size-4:])) != size {
			continue
		}
		if id := le.Uint64(c.data[q+8:]); id > lastID && id-lastID <= ChunkSize/28 {
			return q, true
		}
	}
	return 0, false
}

// Slack yields the records carved from the chunk's slack, after its
// free-space offset (and after any uncommitted records of a dirty log):
// every record signature whose size copy matches, as libevtx counts
// "recovered" records. They are stale, marked Recovered, and rendered only
// when every template they name is still the one at the offset they point
// to (template identifier), every name they use is intact (stored hash)
// and the root is <Event>. When only a nested value (the EventData of a
// manifest event) fails those checks, the record is yielded without it,
// marked Partial, after an anomaly saying so; a carved record that cannot
// be rendered at all is yielded as a *FormatError.
func (c *Chunk) Slack() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		q := int(c.Header.FreeSpaceOffset)
		if q < ChunkHeaderSize || q > len(c.data) {
			return
		}
		if c.file.Header.Dirty() || !c.Header.HeaderChecksumValid {
			for rec, err := range c.Records() {
				if err == nil && rec.Uncommitted {
					q = int(rec.Offset-c.Offset) + int(binary.LittleEndian.Uint32(c.data[rec.Offset-c.Offset+4:]))
				}
			}
		}
		le := binary.LittleEndian
		for q+28 <= len(c.data) {
			if c.data[q] != 0x2a || le.Uint32(c.data[q:]) != 0x00002a2a {
				q++
				continue
			}
			size := int(le.Uint32(c.data[q+4:]))
			if size < 28 || q+size > len(c.data) || int(le.Uint32(c.data[q+size-4:])) != size {
				q++
				continue
			}
			if c.parser == nil {
				c.parser = &parser{c: c, data: c.data}
			}
			c.parser.strict, c.parser.partialErr = true, nil
			root, err := c.parseRecord(q+24, q+size-4)
			c.parser.strict = false
			if err == nil && root.Name != "Event" {
				err = fmt.Errorf("its root element is <%s>, not <Event>", root.Name)
			}
			id := le.Uint64(c.data[q+8:])
			if err != nil {
				if !yield(nil, c.anomaly(q, "slack record %d at chunk offset 0x%x cannot be rendered: %v", id, q, err)) {
					return
				}
			} else {
				rec := &Record{Identifier: id, Written: wintime.FromFiletime(le.Uint64(c.data[q+16:])),
					Offset: c.Offset + int64(q), Chunk: c.Index, Root: root, Recovered: true}
				if perr := c.parser.partialErr; perr != nil {
					rec.Partial = true
					if !yield(nil, c.anomaly(q, "slack record %d at chunk offset 0x%x rendered without its event data: %v", id, q, perr)) {
						return
					}
				}
				rec.fill()
				if !yield(rec, nil) {
					return
				}
			}
			q += size
		}
	}
}

// Slack yields the records carved from the slack of every chunk (see
// Chunk.Slack), in file order. Chunks that cannot be read are skipped: their
// anomalies are Records' to report.
func (f *File) Slack(ctx context.Context) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for i := 0; i < f.ChunkSlots(); i++ {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			c, err := f.ReadChunk(i)
			if err != nil {
				continue
			}
			for rec, err := range c.Slack() {
				if !yield(rec, err) {
					return
				}
			}
		}
	}
}

// uncommitted reads, in a dirty log, the records written after the chunk's
// free-space offset before the header was updated: only records that
// continue the chunk's record numbering exactly (stale copies in the slack
// carry older numbers and stop the walk). They are marked Uncommitted and
// announced by one anomaly.
func (c *Chunk) uncommitted(pos int, lastID uint64, yield func(*Record, error) bool) {
	le := binary.LittleEndian
	var found []*Record
	start := pos
	for pos+28 <= len(c.data) && len(found) < ChunkSize/28 {
		if le.Uint32(c.data[pos:]) != 0x00002a2a {
			break
		}
		size := int(le.Uint32(c.data[pos+4:]))
		if size < 28 || pos+size > len(c.data) || int(le.Uint32(c.data[pos+size-4:])) != size {
			break
		}
		id := le.Uint64(c.data[pos+8:])
		if id != lastID+1 {
			break
		}
		root, err := c.parseRecord(pos+24, pos+size-4)
		if err != nil {
			break
		}
		rec := &Record{Identifier: id, Written: wintime.FromFiletime(le.Uint64(c.data[pos+16:])), Offset: c.Offset + int64(pos),
			Chunk: c.Index, Root: root, Uncommitted: true}
		rec.fill()
		found = append(found, rec)
		lastID = id
		pos += size
	}
	if len(found) == 0 {
		return
	}
	if !yield(nil, c.anomaly(start, "chunk %d: %d records after the free-space offset continue the record numbering of a dirty log (written but not committed); reading them", c.Index, len(found))) {
		return
	}
	for _, r := range found {
		if !yield(r, nil) {
			return
		}
	}
}

// Records yields every allocated record of every chunk, in file order, and
// the anomalies met on the way as *FormatError values (iteration goes on
// after them). When ctx is cancelled it yields ctx.Err() and stops.
func (f *File) Records(ctx context.Context) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		if f.headerErr != nil {
			if !yield(nil, f.headerErr) {
				return
			}
		}
		signed := 0
		for i := 0; i < f.ChunkSlots(); i++ {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			isChunk, more := f.chunkItems(ctx, i, yield)
			if isChunk {
				signed++
			}
			if !more {
				return
			}
		}
		f.endAnomaly(signed, yield)
	}
}

// RecordsParallel is Records with up to workers chunks decoded at once;
// records and anomalies still come in file order, and at most 3×workers
// decoded chunks are held in memory. workers < 2 is Records.
func (f *File) RecordsParallel(ctx context.Context, workers int) iter.Seq2[*Record, error] {
	if workers < 2 {
		return f.Records(ctx)
	}
	type item struct {
		rec *Record
		err error
	}
	type result struct {
		items   []item
		isChunk bool
	}
	return func(yield func(*Record, error) bool) {
		if f.headerErr != nil {
			if !yield(nil, f.headerErr) {
				return
			}
		}
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		futures := make(chan chan result, 2*workers)
		go func() {
			defer close(futures)
			sem := make(chan struct{}, workers)
			for i := 0; i < f.ChunkSlots(); i++ {
				ch := make(chan result, 1)
				select {
				case futures <- ch:
				case <-wctx.Done():
					return
				}
				select {
				case sem <- struct{}{}:
				case <-wctx.Done():
					return
				}
				go func(i int) {
					defer func() { <-sem }()
					var res result
					res.isChunk, _ = f.chunkItems(wctx, i, func(r *Record, err error) bool {
						res.items = append(res.items, item{r, err})
						return err == nil || !isContextErr(err)
					})
					ch <- res
				}(i)
			}
		}()
		signed := 0
		for ch := range futures {
			var res result
			select {
			case res = <-ch:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			if res.isChunk {
				signed++
			}
			for _, it := range res.items {
				if it.err != nil && isContextErr(it.err) {
					yield(nil, ctx.Err())
					return
				}
				if !yield(it.rec, it.err) {
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		f.endAnomaly(signed, yield)
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// chunkItems yields chunk slot i's anomalies and records. It reports
// whether the slot holds a chunk (signed), and whether to go on (false when
// yield asked to stop or ctx was cancelled, after yielding ctx.Err()).
func (f *File) chunkItems(ctx context.Context, i int, yield func(*Record, error) bool) (isChunk, more bool) {
	c, err := f.ReadChunk(i)
	if errors.Is(err, ErrEmptyChunk) {
		return false, true
	}
	if err != nil {
		return true, yield(nil, err)
	}
	if !c.Header.HeaderChecksumValid {
		if !yield(nil, c.anomaly(124, "chunk %d header checksum does not match its data", i)) {
			return true, false
		}
	}
	if !c.Header.RecordsChecksumValid {
		if !yield(nil, c.anomaly(52, "chunk %d event records checksum does not match the records", i)) {
			return true, false
		}
	}
	if fs := int(c.Header.FreeSpaceOffset); fs < ChunkHeaderSize || fs > len(c.data) {
		if !yield(nil, c.anomaly(48, "chunk %d free-space offset 0x%x is outside the chunk; reading records up to the first gap", i, fs)) {
			return true, false
		}
	}
	n := 0
	for rec, err := range c.Records() {
		if n++; n&63 == 0 {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return true, false
			}
		}
		if !yield(rec, err) {
			return true, false
		}
	}
	return true, true
}

// endAnomaly reports a file with fewer chunks than its header counts.
func (f *File) endAnomaly(signed int, yield func(*Record, error) bool) {
	if f.headerErr == nil && signed < int(f.Header.NumberOfChunks) {
		yield(nil, &FormatError{File: f.Name, Offset: f.size, Chunk: -1, Msg: fmt.Sprintf("the file holds %d chunks where its header counts %d: it was cut short", signed, f.Header.NumberOfChunks)})
	}
}
