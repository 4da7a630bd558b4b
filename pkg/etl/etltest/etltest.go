// Package etltest writes small, valid ETL files for tests and demos: a
// logfile header buffer and uncompressed per-CPU buffers holding the events
// given, with SYSTEM, PERFINFO, EVENT_HEADER (32- and 64-bit) records, and
// helpers that lay out the payloads of the registry and process events envhunt
// decodes. The layouts follow the public manifests and kernel-logger class
// definitions that pkg/etl documents; nothing here depends on pkg/etl's
// decoders, so tests of one check the other.
package etltest

import (
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Header types the writer can emit.
const (
	System   = "SYSTEM"
	PerfInfo = "PERFINFO"
	Manifest = "EVENT_HEADER"
	// Raw places Event.Payload in the buffer as a whole record, header
	// included (for records of other header types; see RawTimestamp).
	Raw = "RAW"
)

// Trace describes a file to write.
type Trace struct {
	// PointerSize is 4 or 8 (default 8): it selects the 32- or 64-bit
	// header types and logfile header layout.
	PointerSize int
	// StartTime is the session start (default 2024-01-02T03:04:05Z).
	StartTime time.Time
	// EndTime defaults to the last event's time plus a second.
	EndTime time.Time
	// CPUs defaults to 2.
	CPUs uint32
	// BufferSize defaults to 0x2000.
	BufferSize int
	// Build is the OS build number (default 19041).
	Build       uint32
	LoggerName  string
	LogFileName string
	EventsLost  uint32
	BuffersLost uint32
	// ClockType is the session clock written to the header: 1 QPC at
	// 10 MHz (the default), 2 system time, 3 CPU cycles at CPUSpeedMHz.
	ClockType   uint32
	CPUSpeedMHz uint32
	// Compress writes the data buffers MS-XCA LZ77-compressed, as the
	// relogger, WPR and PerfView do (buffer 0 never is).
	Compress bool
	Events   []Event
}

// Event is one record to write.
type Event struct {
	// Header is System, PerfInfo or Manifest.
	Header string
	Time   time.Time
	CPU    uint16
	PID    uint32
	TID    uint32
	// Kernel events: class group, opcode and class version.
	Group, Opcode, Version uint8
	// Manifest events: provider, id and descriptor fields (Version and
	// Opcode above are shared).
	Provider GUIDText
	ID       uint16
	Level    uint8
	Keywords uint64
	Payload  []byte
}

// GUIDText is a GUID as text ("70eb4f03-c1de-...").
type GUIDText string

const qpcFreq = 10_000_000

// Build returns the bytes of an ETL file holding t's events. Events are
// placed in buffers of their CPU in time order.
func Build(t Trace) []byte {
	ptr := t.PointerSize
	if ptr != 4 {
		ptr = 8
	}
	if t.StartTime.IsZero() {
		t.StartTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	if t.CPUs == 0 {
		t.CPUs = 2
	}
	bs := t.BufferSize
	if bs == 0 {
		bs = 0x2000
	}
	if t.Build == 0 {
		t.Build = 19041
	}
	if t.LoggerName == "" {
		t.LoggerName = "envhunt test session"
	}
	if t.LogFileName == "" {
		t.LogFileName = `C:\Windows\Temp\envhunt-test.etl`
	}
	end := t.EndTime
	for _, e := range t.Events {
		if end.IsZero() || e.Time.Add(time.Second).After(end) && t.EndTime.IsZero() {
			end = e.Time.Add(time.Second)
		}
	}
	if end.IsZero() {
		end = t.StartTime.Add(time.Second)
	}
	if t.ClockType == 0 {
		t.ClockType = 1
	}
	if t.CPUSpeedMHz == 0 {
		t.CPUSpeedMHz = 3000
	}
	raw := func(at time.Time) int64 {
		if t.ClockType == 3 {
			d := int64(wintime.ToFiletime(at)) - int64(wintime.ToFiletime(t.StartTime))
			if at.IsZero() {
				d = 0
			}
			return headerTS + d*int64(t.CPUSpeedMHz)/10
		}
		return RawTimestamp(t.StartTime, at)
	}

	// Buffer 0: the logfile header record.
	lh := logfileHeader(t, ptr, end)
	sysType := byte(0x02)
	if ptr == 4 {
		sysType = 0x01
	}
	hdrRec := systemRecord(sysType, 0, 2, 0x0000, 0, 0, headerTS, lh)
	var out []byte
	out = append(out, buffer(bs, 0, 4, 0, [][]byte{hdrRec})...)

	// Data buffers per CPU.
	events := append([]Event(nil), t.Events...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	byCPU := map[uint16][][]byte{}
	var cpus []uint16
	for _, e := range events {
		var rec []byte
		ts := raw(e.Time)
		switch e.Header {
		case Raw:
			rec = e.Payload
		case PerfInfo:
			ht := byte(0x11)
			if ptr == 4 {
				ht = 0x10
			}
			rec = perfinfoRecord(ht, e.Version, uint16(e.Group)<<8|uint16(e.Opcode), ts, e.Payload)
		case Manifest:
			ht := byte(0x13)
			if ptr == 4 {
				ht = 0x12
			}
			rec = eventRecord(ht, e, ts)
		default:
			rec = systemRecord(sysType, 0, e.Version, uint16(e.Group)<<8|uint16(e.Opcode), e.TID, e.PID, ts, e.Payload)
		}
		if _, ok := byCPU[e.CPU]; !ok {
			cpus = append(cpus, e.CPU)
		}
		byCPU[e.CPU] = append(byCPU[e.CPU], rec)
	}
	seq := int64(1)
	for _, cpu := range cpus {
		recs := byCPU[cpu]
		for len(recs) > 0 {
			n, used := 0, etl.BufferHeaderSize
			for n < len(recs) && used+align8(len(recs[n])) <= bs {
				used += align8(len(recs[n]))
				n++
			}
			if n == 0 {
				n = 1 // oversized record: the reader must report it
			}
			b := buffer(bs, cpu, 0, seq, recs[:n])
			if t.Compress {
				b = compressBuffer(b)
			}
			out = append(out, b...)
			seq++
			recs = recs[n:]
		}
	}
	return out
}

// headerTS is the raw timestamp of the logfile header event; the clock is
// QPC at 10 MHz, so one tick is 100 ns.
const headerTS = 1_000_000_000

// RawTimestamp is the raw (QPC) timestamp Build gives an event at time at in
// a trace that starts at start.
func RawTimestamp(start, at time.Time) int64 {
	if at.IsZero() {
		at = start
	}
	return headerTS + int64(wintime.ToFiletime(at)) - int64(wintime.ToFiletime(start))
}

// compressBuffer turns an uncompressed buffer into its compressed on-disk
// form: the header, then the LZ77 data of the filled part; BufferSize is
// the compressed size, Offset stays the uncompressed fill.
func compressBuffer(b []byte) []byte {
	le := binary.LittleEndian
	fill := int(le.Uint32(b[0x30:]))
	comp := CompressLZ77(b[etl.BufferHeaderSize:fill])
	out := append(append([]byte(nil), b[:etl.BufferHeaderSize]...), comp...)
	le.PutUint32(out[0:], uint32(len(out)))
	le.PutUint16(out[0x34:], le.Uint16(out[0x34:])|etl.BufferFlagCompressed)
	return out
}

func align8(n int) int { return (n + 7) &^ 7 }

// buffer lays out one uncompressed buffer.
func buffer(size int, cpu uint16, btype uint16, seq int64, recs [][]byte) []byte {
	b := make([]byte, size)
	p := etl.BufferHeaderSize
	for _, r := range recs {
		if p+len(r) > size {
			break
		}
		copy(b[p:], r)
		p += align8(len(r))
		if p > size {
			p = size
		}
	}
	for i := p; i < size; i++ {
		b[i] = 0xFF
	}
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(size))
	le.PutUint32(b[4:], uint32(p))
	le.PutUint64(b[0x18:], uint64(seq))
	le.PutUint16(b[0x28:], cpu)
	le.PutUint16(b[0x2A:], 0x20)
	le.PutUint32(b[0x2C:], 3)
	le.PutUint32(b[0x30:], uint32(p))
	le.PutUint16(b[0x34:], etl.BufferFlagProcIndex)
	le.PutUint16(b[0x36:], btype)
	return b
}

func systemRecord(ht byte, _ int, version uint8, hook uint16, tid, pid uint32, ts int64, payload []byte) []byte {
	r := make([]byte, 0x20+len(payload))
	le := binary.LittleEndian
	le.PutUint16(r[0:], uint16(version))
	r[2], r[3] = ht, 0xC0
	le.PutUint16(r[4:], uint16(len(r)))
	le.PutUint16(r[6:], hook)
	le.PutUint32(r[8:], tid)
	le.PutUint32(r[0xC:], pid)
	le.PutUint64(r[0x10:], uint64(ts))
	copy(r[0x20:], payload)
	return r
}

func perfinfoRecord(ht byte, version uint8, hook uint16, ts int64, payload []byte) []byte {
	r := make([]byte, 0x10+len(payload))
	le := binary.LittleEndian
	le.PutUint16(r[0:], uint16(version))
	r[2], r[3] = ht, 0xC0
	le.PutUint16(r[4:], uint16(len(r)))
	le.PutUint16(r[6:], hook)
	le.PutUint64(r[8:], uint64(ts))
	copy(r[0x10:], payload)
	return r
}

func eventRecord(ht byte, e Event, ts int64) []byte {
	r := make([]byte, 0x50+len(e.Payload))
	le := binary.LittleEndian
	le.PutUint16(r[0:], uint16(len(r)))
	r[2], r[3] = ht, 0xC0
	le.PutUint32(r[8:], e.TID)
	le.PutUint32(r[0xC:], e.PID)
	le.PutUint64(r[0x10:], uint64(ts))
	g, err := etl.ParseGUID(string(e.Provider))
	if err == nil {
		copy(r[0x18:], g[:])
	}
	le.PutUint16(r[0x28:], e.ID)
	r[0x2A] = e.Version
	r[0x2C] = e.Level
	r[0x2D] = e.Opcode
	le.PutUint64(r[0x30:], e.Keywords)
	copy(r[0x50:], e.Payload)
	return r
}

func logfileHeader(t Trace, ptr int, end time.Time) []byte {
	fixed := 0x118
	tz := 0x48
	if ptr == 4 {
		fixed, tz = 0x110, 0x40
	}
	p := make([]byte, fixed)
	le := binary.LittleEndian
	le.PutUint32(p[0:], uint32(0x2000))
	le.PutUint32(p[4:], 0x0501000a) // 10.0.1.5
	le.PutUint32(p[8:], t.Build)
	le.PutUint32(p[0xC:], t.CPUs)
	le.PutUint64(p[0x10:], wintime.ToFiletime(end))
	le.PutUint32(p[0x18:], 156250)
	mode := uint32(1)
	if t.Compress {
		mode |= 0x04000000 // EVENT_TRACE_COMPRESSED_MODE
	}
	le.PutUint32(p[0x20:], mode)
	le.PutUint32(p[0x2C:], uint32(ptr))
	le.PutUint32(p[0x30:], t.EventsLost)
	le.PutUint32(p[0x34:], t.CPUSpeedMHz)
	o := tz + 0xB0
	le.PutUint64(p[o:], wintime.ToFiletime(t.StartTime.Add(-time.Hour)))
	le.PutUint64(p[o+8:], qpcFreq)
	le.PutUint64(p[o+0x10:], wintime.ToFiletime(t.StartTime))
	le.PutUint32(p[o+0x18:], t.ClockType)
	le.PutUint32(p[o+0x1C:], t.BuffersLost)
	p = append(p, UTF16z(t.LoggerName)...)
	p = append(p, UTF16z(t.LogFileName)...)
	return p
}

// UTF16z encodes s as NUL-terminated UTF-16LE.
func UTF16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// Payload builds a little-endian payload field by field.
type Payload struct {
	B   []byte
	Ptr int // 4 or 8
}

// U16 appends a u16.
func (p *Payload) U16(v uint16) *Payload { p.B = binary.LittleEndian.AppendUint16(p.B, v); return p }

// U32 appends a u32.
func (p *Payload) U32(v uint32) *Payload { p.B = binary.LittleEndian.AppendUint32(p.B, v); return p }

// U64 appends a u64.
func (p *Payload) U64(v uint64) *Payload { p.B = binary.LittleEndian.AppendUint64(p.B, v); return p }

// Pointer appends a pointer of the payload's size.
func (p *Payload) Pointer(v uint64) *Payload {
	if p.Ptr == 4 {
		return p.U32(uint32(v))
	}
	return p.U64(v)
}

// WString appends a NUL-terminated UTF-16LE string.
func (p *Payload) WString(s string) *Payload { p.B = append(p.B, UTF16z(s)...); return p }

// AString appends a NUL-terminated 8-bit string.
func (p *Payload) AString(s string) *Payload { p.B = append(append(p.B, s...), 0); return p }

// Bytes appends raw bytes.
func (p *Payload) Bytes(b []byte) *Payload { p.B = append(p.B, b...); return p }

// SID appends a binary SID parsed from "S-1-5-21-...".
func (p *Payload) SID(s string) *Payload { p.B = append(p.B, SIDBytes(s)...); return p }

// KernelSID appends a SID the way kernel-logger events store it: a
// TOKEN_USER (two pointers) then the SID, or 4 zero bytes for none.
func (p *Payload) KernelSID(s string) *Payload {
	if s == "" {
		return p.U32(0)
	}
	p.Pointer(0xffff_c000_1234_5670 & ptrMask(p.Ptr)).Pointer(0)
	return p.SID(s)
}

func ptrMask(ptr int) uint64 {
	if ptr == 4 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// SIDBytes encodes "S-1-5-21-1-2-3-1001" as a binary SID.
func SIDBytes(s string) []byte {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") {
		return nil
	}
	rev, _ := strconv.ParseUint(parts[1], 10, 8)
	auth, _ := strconv.ParseUint(parts[2], 10, 48)
	subs := parts[3:]
	b := []byte{byte(rev), byte(len(subs)), 0, 0, 0, 0, 0, 0}
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, x := range subs {
		v, _ := strconv.ParseUint(x, 10, 32)
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}
