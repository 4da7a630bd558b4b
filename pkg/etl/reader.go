package etl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/bits"
	"os"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Bounds the reader enforces (see the package documentation).
const (
	// BufferHeaderSize is the size of WMI_BUFFER_HEADER.
	BufferHeaderSize = 0x48
	// MaxBufferSize is the largest buffer accepted, on disk or after
	// decompression (ETW buffers are at most 16 MiB).
	MaxBufferSize = 16 << 20
	// maxErrors is how many distinct problems Err reports in full.
	maxErrors = 20
)

// Buffer flags (BufferHeader.BufferFlag).
const (
	BufferFlagFlushMarker     = 0x01
	BufferFlagEventsLost      = 0x02
	BufferFlagBufferLost      = 0x04
	BufferFlagRTBackupCorrupt = 0x08
	BufferFlagRTBackup        = 0x10
	BufferFlagProcIndex       = 0x20
	BufferFlagCompressed      = 0x40
)

// Clock types (LogfileHeader.ReservedFlags).
const (
	ClockRaw        = 0
	ClockQPC        = 1
	ClockSystemTime = 2
	ClockCPUCycle   = 3
)

// FormatError reports malformed data at a byte offset of the file.
type FormatError struct {
	// File is the file name ("" for readers opened with NewReader).
	File string
	// Offset is the file offset of the bad data. For data inside a
	// compressed buffer it is the buffer's offset.
	Offset int64
	// Msg says what was wrong.
	Msg string
}

func (e *FormatError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("etl: %s: at offset %#x: %s", e.File, e.Offset, e.Msg)
	}
	return fmt.Sprintf("etl: at offset %#x: %s", e.Offset, e.Msg)
}

// BufferHeader is WMI_BUFFER_HEADER, the 0x48-byte header of every buffer,
// with the fields that mean something on disk.
type BufferHeader struct {
	BufferSize     uint32 // bytes the buffer occupies in the file
	SavedOffset    uint32 // filled size (can be stale; Offset is preferred)
	TimeStamp      int64  // raw clock when the buffer was flushed
	SequenceNumber int64
	ProcessorIndex uint16 // CPU that filled the buffer
	LoggerID       uint16
	State          uint32
	Offset         uint32 // filled size, uncompressed
	BufferFlag     uint16
	BufferType     uint16
}

// Compressed reports whether the buffer's data is MS-XCA LZ77 compressed.
func (h *BufferHeader) Compressed() bool { return h.BufferFlag&BufferFlagCompressed != 0 }

func parseBufferHeader(b []byte) BufferHeader {
	le := binary.LittleEndian
	return BufferHeader{
		BufferSize:     le.Uint32(b[0:]),
		SavedOffset:    le.Uint32(b[4:]),
		TimeStamp:      int64(le.Uint64(b[0x10:])),
		SequenceNumber: int64(le.Uint64(b[0x18:])),
		ProcessorIndex: le.Uint16(b[0x28:]),
		LoggerID:       le.Uint16(b[0x2A:]),
		State:          le.Uint32(b[0x2C:]),
		Offset:         le.Uint32(b[0x30:]),
		BufferFlag:     le.Uint16(b[0x34:]),
		BufferType:     le.Uint16(b[0x36:]),
	}
}

// LogfileHeader is the TRACE_LOGFILE_HEADER in the first record of buffer 0,
// with the two names that follow it.
type LogfileHeader struct {
	BufferSize         uint32
	Version            uint32 // major, minor, sub, subminor bytes, low first
	ProviderVersion    uint32 // OS build number
	NumberOfProcessors uint32
	EndTime            time.Time
	EndTimeRaw         uint64 // FILETIME
	TimerResolution    uint32 // 100 ns units
	MaximumFileSize    uint32 // MB
	LogFileMode        uint32
	BuffersWritten     uint32
	StartBuffers       uint32
	PointerSize        uint32
	EventsLost         uint32
	CPUSpeedInMHz      uint32
	TimeZoneBias       int32 // minutes
	BootTime           time.Time
	PerfFreq           int64
	StartTime          time.Time
	StartTimeRaw       uint64 // FILETIME
	ReservedFlags      uint32 // the clock type: 1 QPC, 2 system time, 3 CPU cycles
	BuffersLost        uint32
	LoggerName         string
	LogFileName        string
}

// VersionString renders Version as "10.0.1.5".
func (h *LogfileHeader) VersionString() string {
	v := h.Version
	return fmt.Sprintf("%d.%d.%d.%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24)
}

// ClockType returns the session clock (ReservedFlags).
func (h *LogfileHeader) ClockType() uint32 { return h.ReservedFlags }

// File is an open ETL file.
type File struct {
	// Header is the logfile header from buffer 0.
	Header LogfileHeader
	// HeaderType is the header type of the logfile header record
	// (SYSTEM64 or SYSTEM32), which fixes its pointer size.
	HeaderType HeaderType

	name      string
	r         io.ReaderAt
	size      int64
	closer    io.Closer
	headerTS  int64
	freq      uint64
	compFmt   uint16
	firstSize uint32
}

// Open opens the named file and reads its logfile header.
func Open(name string) (*File, error) {
	// Check before opening: opening a named pipe or a device blocks until
	// something writes to it.
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f, err := newFile(fh, st.Size(), name)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// NewReader reads the logfile header of the ETL data in r, which holds size
// bytes.
func NewReader(r io.ReaderAt, size int64) (*File, error) {
	return newFile(r, size, "")
}

// Close closes the file if it was opened with Open.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Name returns the file name given to Open ("" for NewReader).
func (f *File) Name() string { return f.name }

// Size returns the size of the file in bytes.
func (f *File) Size() int64 { return f.size }

func (f *File) errorf(off int64, format string, a ...any) *FormatError {
	return &FormatError{File: f.name, Offset: off, Msg: fmt.Sprintf(format, a...)}
}

func newFile(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{r: r, size: size, name: name}
	if size < BufferHeaderSize+0x20 {
		return nil, f.errorf(0, "file of %d bytes is too small for an ETL buffer", size)
	}
	var hb [BufferHeaderSize]byte
	if _, err := r.ReadAt(hb[:], 0); err != nil {
		return nil, f.errorf(0, "reading buffer 0: %v", err)
	}
	bh := parseBufferHeader(hb[:])
	if bh.BufferSize < BufferHeaderSize+0x20 || bh.BufferSize > MaxBufferSize {
		return nil, f.errorf(0, "not an ETL file: buffer 0 size %#x", bh.BufferSize)
	}
	if bh.Compressed() {
		return nil, f.errorf(0x34, "not an ETL file: buffer 0 is marked compressed")
	}
	n := int64(bh.BufferSize)
	if n > size {
		n = size
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, f.errorf(0, "reading buffer 0: %v", err)
	}
	rec := buf[BufferHeaderSize:]
	marker := binary.LittleEndian.Uint32(rec)
	ht := HeaderType(marker >> 16 & 0xff)
	if marker>>24&0xC0 != 0xC0 || (ht != HeaderSystem32 && ht != HeaderSystem64) {
		return nil, f.errorf(BufferHeaderSize, "not an ETL file: first record has marker %#08x, want a SYSTEM header", marker)
	}
	recSize := int(binary.LittleEndian.Uint16(rec[4:]))
	hook := binary.LittleEndian.Uint16(rec[6:])
	if hook != 0 || recSize < 0x20 || recSize > len(rec) {
		return nil, f.errorf(BufferHeaderSize, "not an ETL file: first record is not the logfile header (hook %#04x, size %d)", hook, recSize)
	}
	f.HeaderType = ht
	f.headerTS = int64(binary.LittleEndian.Uint64(rec[0x10:]))
	ptr := 8
	if ht == HeaderSystem32 {
		ptr = 4
	}
	h, err := parseLogfileHeader(rec[0x20:recSize], ptr)
	if err != nil {
		return nil, f.errorf(BufferHeaderSize+0x20, "logfile header: %v", err)
	}
	f.Header = h
	f.compFmt = uint16(bh.State)
	f.firstSize = bh.BufferSize
	switch h.ReservedFlags {
	case ClockSystemTime:
		f.freq = 10_000_000
	case ClockCPUCycle:
		f.freq = uint64(h.CPUSpeedInMHz) * 1_000_000
	default:
		if h.PerfFreq > 0 {
			f.freq = uint64(h.PerfFreq)
		}
	}
	return f, nil
}

func parseLogfileHeader(p []byte, ptr int) (LogfileHeader, error) {
	var h LogfileHeader
	fixed := 0x118
	if ptr == 4 {
		fixed = 0x110
	}
	if len(p) < fixed {
		return h, fmt.Errorf("payload of %d bytes, want at least %d", len(p), fixed)
	}
	le := binary.LittleEndian
	h.BufferSize = le.Uint32(p[0:])
	h.Version = le.Uint32(p[4:])
	h.ProviderVersion = le.Uint32(p[8:])
	h.NumberOfProcessors = le.Uint32(p[0xC:])
	h.EndTimeRaw = le.Uint64(p[0x10:])
	h.EndTime = wintime.FromFiletime(h.EndTimeRaw)
	h.TimerResolution = le.Uint32(p[0x18:])
	h.MaximumFileSize = le.Uint32(p[0x1C:])
	h.LogFileMode = le.Uint32(p[0x20:])
	h.BuffersWritten = le.Uint32(p[0x24:])
	h.StartBuffers = le.Uint32(p[0x28:])
	h.PointerSize = le.Uint32(p[0x2C:])
	h.EventsLost = le.Uint32(p[0x30:])
	h.CPUSpeedInMHz = le.Uint32(p[0x34:])
	tz := 0x48
	if ptr == 4 {
		tz = 0x40
	}
	h.TimeZoneBias = int32(le.Uint32(p[tz:]))
	o := tz + 0xB0 // TIME_ZONE_INFORMATION (0xAC) + alignment padding
	h.BootTime = wintime.FromFiletime(le.Uint64(p[o:]))
	h.PerfFreq = int64(le.Uint64(p[o+8:]))
	h.StartTimeRaw = le.Uint64(p[o+0x10:])
	h.StartTime = wintime.FromFiletime(h.StartTimeRaw)
	h.ReservedFlags = le.Uint32(p[o+0x18:])
	h.BuffersLost = le.Uint32(p[o+0x1C:])
	rest := p[fixed:]
	var n int
	h.LoggerName, n = utf16z(rest)
	h.LogFileName, _ = utf16z(rest[n:])
	return h, nil
}

// utf16z decodes a NUL-terminated UTF-16LE string and returns it with the
// number of bytes consumed (terminator included). Without a terminator the
// whole (even-length) input is the string.
func utf16z(b []byte) (string, int) {
	n := len(b) &^ 1
	end := n
	for i := 0; i+1 < n; i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			end = i
			break
		}
	}
	consumed := end + 2
	if end == n {
		consumed = n
	}
	return decodeUTF16(b[:end]), consumed
}

func decodeUTF16(b []byte) string {
	ascii := true
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] != 0 || b[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		var sb strings.Builder
		sb.Grow(len(b) / 2)
		for i := 0; i+1 < len(b); i += 2 {
			sb.WriteByte(b[i])
		}
		return sb.String()
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// Time converts a raw event timestamp to UTC using the logfile header: the
// header's StartTime is the time of the header event, and ticks run at the
// session clock's frequency. It returns the zero time when the file has no
// usable clock or the result is out of range.
func (f *File) Time(raw int64) time.Time {
	ft, ok := f.filetime(raw)
	if !ok {
		return time.Time{}
	}
	return wintime.FromFiletime(ft)
}

func (f *File) filetime(raw int64) (uint64, bool) {
	start := f.Header.StartTimeRaw
	if f.freq == 0 || start == 0 {
		return 0, false
	}
	neg := raw < f.headerTS
	var d uint64
	if neg {
		d = uint64(f.headerTS) - uint64(raw)
	} else {
		d = uint64(raw) - uint64(f.headerTS)
	}
	var ticks uint64
	if f.freq == 10_000_000 {
		ticks = d
	} else {
		hi, lo := bits.Mul64(d, 10_000_000)
		if hi >= f.freq {
			return 0, false
		}
		ticks, _ = bits.Div64(hi, lo, f.freq)
	}
	if neg {
		if ticks > start {
			return 0, false
		}
		return start - ticks, true
	}
	if ticks > 1<<62 {
		return 0, false
	}
	return start + ticks, true
}

// Events returns an iterator over the events of every buffer in file order
// (which is time order within a buffer, not across CPUs; see Timeline).
func (f *File) Events(ctx context.Context) *Events {
	return &Events{f: f, ctx: ctx, budget: f.newBudget()}
}

// maxExpansion bounds decompression: all compressed buffers of a file
// together may expand to at most this many times the file's size (plus one
// maximal buffer). Real traces stay far below; a crafted file of tiny
// buffers that each claim 16 MiB cannot turn a walk into hours of copying.
const maxExpansion = 64

func (f *File) newBudget() *int64 {
	b := maxExpansion*f.size + MaxBufferSize
	return &b
}

// All ranges over the events in file order. The *Event and its slices are
// only valid until the next iteration; a non-nil error is yielded once, at
// the end, when part of the file could not be read.
func (f *File) All(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		it := f.Events(ctx)
		for it.Next() {
			if !yield(it.Event(), nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// Events walks the buffers of a file and the records in them.
//
//	it := f.Events(ctx)
//	for it.Next() {
//		e := it.Event()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Events struct {
	f   *File
	ctx context.Context

	off      int64 // offset of the next buffer
	bufIndex int
	done     bool

	cur     BufferHeader
	curOff  int64
	data    []byte // current buffer's data, header included (decompressed)
	raw     []byte // the buffer as read from the file
	dec     []byte // decompression output
	p, fill int
	inBuf   bool

	ev    Event
	stats Stats
	errs  []error
	nerrs int
	// onlyBuffer makes nextBuffer load exactly the buffer at off (the
	// per-CPU streams of Timeline).
	onlyBuffer bool
	// budget is how many more bytes compressed buffers may expand to
	// (shared by the streams of one Timeline).
	budget *int64
}

// Stats counts what an iteration has walked so far.
type Stats struct {
	Buffers           int
	CompressedBuffers int
	Events            int
	// Bytes is the number of decoded buffer bytes (uncompressed).
	Bytes int64
	// LostBufferFlags counts buffers whose flags say events or buffers
	// were lost.
	LostBufferFlags int
}

// Stats returns the counts so far (final after Next returned false).
func (it *Events) Stats() Stats { return it.stats }

// Event returns the current event. It and its slices are valid until the
// next call to Next.
func (it *Events) Event() *Event { return &it.ev }

// Buffer returns the header and file offset of the current event's buffer.
func (it *Events) Buffer() (BufferHeader, int64) { return it.cur, it.curOff }

// Err returns the problems met, joined, or nil when the whole file was read.
// Each is a *FormatError (or the context's error).
func (it *Events) Err() error {
	if it.nerrs == 0 {
		return nil
	}
	errs := it.errs
	if it.nerrs > len(errs) {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("etl: %d further problems not shown", it.nerrs-len(errs)))
	}
	return errors.Join(errs...)
}

func (it *Events) fail(err error) {
	it.nerrs++
	if len(it.errs) < maxErrors {
		it.errs = append(it.errs, err)
	}
}

// Next advances to the next event and reports whether there is one.
func (it *Events) Next() bool {
	for !it.done {
		if !it.inBuf {
			if !it.nextBuffer() {
				it.done = true
				return false
			}
			continue
		}
		if it.nextRecord() {
			it.stats.Events++
			return true
		}
		it.inBuf = false
	}
	return false
}

// zeroFrom reports whether every byte from off to the end of the file is
// zero (space a logger preallocated and never filled).
func (f *File) zeroFrom(off int64) bool {
	var chunk [32 << 10]byte
	for off < f.size {
		n := int64(len(chunk))
		if f.size-off < n {
			n = f.size - off
		}
		if _, err := f.r.ReadAt(chunk[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		for _, c := range chunk[:n] {
			if c != 0 {
				return false
			}
		}
		off += n
	}
	return true
}

// nextBuffer loads the next buffer; false at the end of the file or when the
// buffer chain cannot be followed.
func (it *Events) nextBuffer() bool {
	f := it.f
	if it.ctx != nil {
		if err := it.ctx.Err(); err != nil {
			it.fail(err)
			return false
		}
	}
	for {
		if it.off+BufferHeaderSize > f.size {
			if it.off < f.size {
				it.fail(f.errorf(it.off, "file ends inside a buffer header (%d trailing bytes)", f.size-it.off))
			}
			return false
		}
		var hb [BufferHeaderSize]byte
		if _, err := f.r.ReadAt(hb[:], it.off); err != nil {
			it.fail(f.errorf(it.off, "reading buffer header: %v", err))
			return false
		}
		h := parseBufferHeader(hb[:])
		if h.BufferSize < BufferHeaderSize || h.BufferSize > MaxBufferSize {
			if h.BufferSize == 0 && f.zeroFrom(it.off) {
				// Preallocated space after the last buffer: the end.
				return false
			}
			it.fail(f.errorf(it.off, "bad buffer size %#x: cannot find the next buffer", h.BufferSize))
			return false
		}
		bufOff := it.off
		size := int64(h.BufferSize)
		truncated := false
		if bufOff+size > f.size {
			truncated = true
			size = f.size - bufOff
		}
		it.off = bufOff + int64(h.BufferSize)
		it.bufIndex++
		it.stats.Buffers++
		if h.Compressed() {
			it.stats.CompressedBuffers++
		}
		if h.BufferFlag&(BufferFlagEventsLost|BufferFlagBufferLost) != 0 {
			it.stats.LostBufferFlags++
		}
		// An uncompressed buffer is read only up to its data end: the rest
		// is 0xFF padding (often most of a 64 KiB buffer).
		fill := int(h.Offset)
		readLen := size
		if !h.Compressed() {
			if fill == 0 || int64(fill) > int64(h.BufferSize) {
				fill = int(h.SavedOffset)
			}
			if int64(fill) > int64(h.BufferSize) || fill < BufferHeaderSize {
				fill = int(h.BufferSize)
			}
			if int64(fill) < readLen {
				readLen = int64(fill)
			}
		}
		if truncated {
			if h.Compressed() || int64(fill) > size {
				it.fail(f.errorf(bufOff, "file ends inside buffer %d (%d of %d bytes): its events are not decoded", it.bufIndex-1, size, h.BufferSize))
				return false
			}
			// The cut is in the padding: the events are whole.
			it.fail(f.errorf(bufOff, "file ends inside buffer %d (%d of %d bytes), after its events", it.bufIndex-1, size, h.BufferSize))
		}
		if cap(it.raw) < int(readLen) {
			it.raw = make([]byte, readLen)
		}
		raw := it.raw[:readLen]
		if _, err := f.r.ReadAt(raw, bufOff); err != nil && !errors.Is(err, io.EOF) {
			it.fail(f.errorf(bufOff, "reading buffer: %v", err))
			return false
		}
		if h.Compressed() {
			if fill < BufferHeaderSize || fill > MaxBufferSize {
				it.fail(f.errorf(bufOff, "compressed buffer with bad uncompressed size %#x", h.Offset))
				if it.onlyBuffer {
					return false
				}
				continue
			}
			if int64(fill) > *it.budget {
				it.fail(f.errorf(bufOff, "compressed buffers expand to more than %d times the file size: buffer skipped", maxExpansion))
				if it.onlyBuffer {
					return false
				}
				continue
			}
			*it.budget -= int64(fill)
			// Decompress into memory of its own: it.data may alias it.raw.
			if cap(it.dec) < fill {
				it.dec = make([]byte, fill)
			}
			data := it.dec[:fill]
			copy(data, raw[:BufferHeaderSize])
			n, err := decompressLZ77(data[BufferHeaderSize:], raw[BufferHeaderSize:])
			if err != nil || n != fill-BufferHeaderSize {
				it.fail(f.errorf(bufOff, "compressed buffer decodes to %d bytes, header says %d", n+BufferHeaderSize, fill))
				fill = n + BufferHeaderSize
				data = data[:fill]
			}
			it.data = data
		} else {
			it.data = raw
		}
		it.stats.Bytes += int64(fill)
		it.cur = h
		it.curOff = bufOff
		it.p = BufferHeaderSize
		it.fill = fill
		it.inBuf = true
		return true
	}
}

// nextRecord decodes the record at it.p into it.ev.
func (it *Events) nextRecord() bool {
	for it.p+4 <= it.fill {
		p := it.p
		data := it.data[:it.fill]
		marker := binary.LittleEndian.Uint32(data[p:])
		if marker == 0xFFFFFFFF {
			return false
		}
		size, err := parseRecord(&it.ev, data, p)
		if err != "" {
			it.fail(it.f.errorf(it.curOff+int64(p), "buffer %d, record at %#x: %s; rest of buffer skipped", it.bufIndex-1, p, err))
			return false
		}
		it.p = p + (size+7)&^7
		e := &it.ev
		e.CPU = it.cur.ProcessorIndex
		e.BufferOffset = it.curOff
		e.RecordOffset = p
		e.Buffer = it.bufIndex - 1
		if e.HasTimestamp {
			e.Time = it.f.Time(e.Timestamp)
		} else {
			e.Time = time.Time{}
		}
		return true
	}
	return false
}
