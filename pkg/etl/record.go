package etl

import (
	"encoding/binary"
	"fmt"
	"time"
)

// HeaderType is the kind of trace header a record starts with (byte 2 of
// its first dword).
type HeaderType uint8

// Header types.
const (
	HeaderSystem32   HeaderType = 0x01
	HeaderSystem64   HeaderType = 0x02
	HeaderCompact32  HeaderType = 0x03
	HeaderCompact64  HeaderType = 0x04
	HeaderFull32     HeaderType = 0x0A
	HeaderInstance32 HeaderType = 0x0B
	HeaderTimed      HeaderType = 0x0C
	HeaderError      HeaderType = 0x0D
	HeaderWnode      HeaderType = 0x0E
	HeaderMessage    HeaderType = 0x0F
	HeaderPerfInfo32 HeaderType = 0x10
	HeaderPerfInfo64 HeaderType = 0x11
	HeaderEvent32    HeaderType = 0x12
	HeaderEvent64    HeaderType = 0x13
	HeaderFull64     HeaderType = 0x14
	HeaderInstance64 HeaderType = 0x15
)

var headerTypeNames = map[HeaderType]string{
	HeaderSystem32: "SYSTEM32", HeaderSystem64: "SYSTEM64",
	HeaderCompact32: "COMPACT32", HeaderCompact64: "COMPACT64",
	HeaderFull32: "FULL_HEADER32", HeaderFull64: "FULL_HEADER64",
	HeaderInstance32: "INSTANCE32", HeaderInstance64: "INSTANCE64",
	HeaderTimed: "TIMED", HeaderError: "ERROR", HeaderWnode: "WNODE",
	HeaderMessage:    "MESSAGE",
	HeaderPerfInfo32: "PERFINFO32", HeaderPerfInfo64: "PERFINFO64",
	HeaderEvent32: "EVENT_HEADER32", HeaderEvent64: "EVENT_HEADER64",
}

// String returns the name used in summaries ("EVENT_HEADER64", ...).
func (t HeaderType) String() string {
	if n, ok := headerTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("HEADER_%#02x", uint8(t))
}

// PointerSize returns 4 or 8 for header types with a pointer size, else 0.
func (t HeaderType) PointerSize() int {
	switch t {
	case HeaderSystem32, HeaderCompact32, HeaderFull32, HeaderInstance32, HeaderPerfInfo32, HeaderEvent32:
		return 4
	case HeaderSystem64, HeaderCompact64, HeaderFull64, HeaderInstance64, HeaderPerfInfo64, HeaderEvent64:
		return 8
	}
	return 0
}

// Kernel reports whether records of this type identify their class by a
// hook id (group and opcode): SYSTEM, COMPACT and PERFINFO.
func (t HeaderType) Kernel() bool {
	switch t {
	case HeaderSystem32, HeaderSystem64, HeaderCompact32, HeaderCompact64, HeaderPerfInfo32, HeaderPerfInfo64:
		return true
	}
	return false
}

// EVENT_HEADER flags.
const (
	EventHeaderFlagExtendedInfo = 0x0001
	EventHeaderFlagStringOnly   = 0x0004
)

// Extended data item types (ExtendedItem.Type).
const (
	ExtRelatedActivityID = 1
	ExtSID               = 2
	ExtTSID              = 3
	ExtStackTrace32      = 5
	ExtStackTrace64      = 6
	ExtEventSchemaTL     = 11
	ExtProvTraits        = 12
	ExtProcessStartKey   = 13
)

// WPP message option flags (Event.MessageFlags).
const (
	MessageSequence    = 0x01
	MessageGUID        = 0x02
	MessageComponentID = 0x04
	MessageTimestamp   = 0x08
	MessageSystemInfo  = 0x20
)

// ExtendedItem is one extended data item of an EVENT_HEADER record.
type ExtendedItem struct {
	Type uint16
	Data []byte
}

// Event is one record of a trace. Fields a header type does not carry are
// zero and flagged by the Has* booleans. Slices alias the reader's buffer:
// they are valid until the iterator moves on (use Clone to keep an event).
type Event struct {
	HeaderType HeaderType
	// Provider is the provider GUID, or for kernel (hook) headers the
	// GUID of the kernel class named by Group.
	Provider GUID
	// Group is the kernel class number of hook headers (high byte of the
	// hook id); Opcode is then the low byte.
	Group uint8
	// HookID is the raw hook id (Group<<8 | Opcode) of hook headers.
	HookID uint16

	ID       uint16 // EVENT_HEADER event id
	Version  uint8  // event or class version
	Channel  uint8
	Level    uint8
	Opcode   uint8
	Task     uint16
	Keywords uint64

	Flags         uint16 // EVENT_HEADER Flags
	EventProperty uint16

	PID, TID uint32
	// HasPID is false for headers without a process context (PERFINFO,
	// WPP messages without system info).
	HasPID bool

	CPU          uint16
	Timestamp    int64 // raw session clock
	HasTimestamp bool
	// Time is Timestamp in UTC (zero when it cannot be converted).
	Time time.Time

	// PointerSize is 4 or 8, from the header type.
	PointerSize int

	ActivityID   GUID
	ExtendedData []ExtendedItem

	// INSTANCE headers.
	InstanceID, ParentInstanceID uint32
	ParentGUID                   GUID

	// WPP MESSAGE headers.
	MessageNumber uint16
	MessageFlags  uint16
	Sequence      uint32
	ComponentID   uint32

	// KernelTime and UserTime of SYSTEM and FULL headers.
	KernelTime, UserTime uint32

	// Payload is the user data after the header and extended items.
	Payload []byte

	// BufferOffset is the file offset of the event's buffer, Buffer its
	// index, and RecordOffset the record's offset inside the buffer's
	// (decompressed) data.
	BufferOffset int64
	Buffer       int
	RecordOffset int
}

// Clone returns a copy of e that owns its slices.
func (e *Event) Clone() *Event {
	c := *e
	c.Payload = append([]byte(nil), e.Payload...)
	if e.ExtendedData != nil {
		c.ExtendedData = make([]ExtendedItem, len(e.ExtendedData))
		for i, x := range e.ExtendedData {
			c.ExtendedData[i] = ExtendedItem{Type: x.Type, Data: append([]byte(nil), x.Data...)}
		}
	}
	return &c
}

// Extended returns the first extended data item of type t.
func (e *Event) Extended(t uint16) ([]byte, bool) {
	for _, x := range e.ExtendedData {
		if x.Type == t {
			return x.Data, true
		}
	}
	return nil, false
}

// ProviderName returns the provider's name: the TraceLogging provider name
// the event carries, else a well-known name, else "".
func (e *Event) ProviderName() string {
	if b, ok := e.Extended(ExtProvTraits); ok && len(b) > 2 {
		b = b[2:]
		for i, c := range b {
			if c == 0 {
				return string(b[:i])
			}
		}
	}
	return providerNames[e.Provider]
}

// IsKernel reports whether the event was identified by a hook id.
func (e *Event) IsKernel() bool { return e.HeaderType.Kernel() }

func guidAt(b []byte) GUID {
	var g GUID
	copy(g[:], b[:16])
	return g
}

// parseRecord decodes the record at data[p:] into e and returns its size,
// or a message saying why it is malformed.
func parseRecord(e *Event, data []byte, p int) (int, string) {
	le := binary.LittleEndian
	rec := data[p:]
	if len(rec) < 8 {
		return 0, "record header truncated"
	}
	marker := le.Uint32(rec)
	b3 := byte(marker >> 24)
	ext := e.ExtendedData[:0]
	*e = Event{ExtendedData: ext}
	if b3&0xC0 == 0x80 {
		return parseMessage(e, rec)
	}
	if b3&0xC0 != 0xC0 {
		return 0, fmt.Sprintf("unknown record marker %#08x", marker)
	}
	ht := HeaderType(marker >> 16)
	e.HeaderType = ht
	e.PointerSize = ht.PointerSize()
	var size, hdr int
	switch ht {
	case HeaderSystem32, HeaderSystem64, HeaderCompact32, HeaderCompact64, HeaderPerfInfo32, HeaderPerfInfo64:
		size = int(le.Uint16(rec[4:]))
		ver := le.Uint16(rec[0:])
		hook := le.Uint16(rec[6:])
		e.Version = uint8(ver)
		e.HookID = hook
		e.Group = uint8(hook >> 8)
		e.Opcode = uint8(hook)
		switch ht {
		case HeaderSystem32, HeaderSystem64:
			hdr = 0x20
		case HeaderCompact32, HeaderCompact64:
			hdr = 0x18
		default:
			hdr = 0x10
		}
		if size < hdr || size > len(rec) {
			return 0, fmt.Sprintf("%s record size %d out of bounds (%d left in buffer)", ht, size, len(rec))
		}
		if hdr > 0x10 {
			e.TID = le.Uint32(rec[8:])
			e.PID = le.Uint32(rec[0xC:])
			e.HasPID = true
			e.Timestamp = int64(le.Uint64(rec[0x10:]))
			if hdr == 0x20 {
				e.KernelTime = le.Uint32(rec[0x18:])
				e.UserTime = le.Uint32(rec[0x1C:])
			}
		} else {
			e.Timestamp = int64(le.Uint64(rec[8:]))
		}
		e.HasTimestamp = true
		// PEBS index and PMC counters follow the fixed header.
		if ver&0x8000 != 0 {
			hdr += 8
		}
		hdr += 8 * int(ver>>8&7)
		if hdr > size {
			return 0, fmt.Sprintf("%s record size %d smaller than its header", ht, size)
		}
		if g, ok := kernelGroups[e.Group]; ok {
			e.Provider = g.guid
		}
		if hook == 0x030A {
			e.Provider = ImageClassGUID
		}
		e.Payload = rec[hdr:size]
		return size, ""
	case HeaderEvent32, HeaderEvent64:
		size = int(le.Uint16(rec[0:]))
		if size < 0x50 || size > len(rec) {
			return 0, fmt.Sprintf("%s record size %d out of bounds (%d left in buffer)", ht, size, len(rec))
		}
		e.Flags = le.Uint16(rec[4:])
		e.EventProperty = le.Uint16(rec[6:])
		e.TID = le.Uint32(rec[8:])
		e.PID = le.Uint32(rec[0xC:])
		e.HasPID = true
		e.Timestamp = int64(le.Uint64(rec[0x10:]))
		e.HasTimestamp = true
		e.Provider = guidAt(rec[0x18:])
		e.ID = le.Uint16(rec[0x28:])
		e.Version = rec[0x2A]
		e.Channel = rec[0x2B]
		e.Level = rec[0x2C]
		e.Opcode = rec[0x2D]
		e.Task = le.Uint16(rec[0x2E:])
		e.Keywords = le.Uint64(rec[0x30:])
		e.KernelTime = le.Uint32(rec[0x38:])
		e.UserTime = le.Uint32(rec[0x3C:])
		e.ActivityID = guidAt(rec[0x40:])
		q := 0x50
		if e.Flags&EventHeaderFlagExtendedInfo != 0 {
			for n := 0; ; n++ {
				if n >= 64 {
					return 0, "more than 64 extended data items"
				}
				if q+8 > size {
					return 0, "extended data item header beyond the record"
				}
				itemSize := int(le.Uint16(rec[q:]))
				typ := le.Uint16(rec[q+2:])
				link := le.Uint16(rec[q+4:])
				dsize := int(le.Uint16(rec[q+6:]))
				if itemSize < 8 || q+itemSize > size || dsize > itemSize-8 {
					return 0, fmt.Sprintf("extended data item at +%#x has size %d (data %d) out of bounds", q, itemSize, dsize)
				}
				e.ExtendedData = append(e.ExtendedData, ExtendedItem{Type: typ, Data: rec[q+8 : q+8+dsize]})
				q += itemSize
				if link&1 == 0 {
					break
				}
			}
		}
		e.Payload = rec[q:size]
		return size, ""
	case HeaderFull32, HeaderFull64, HeaderInstance32, HeaderInstance64:
		size = int(le.Uint16(rec[0:]))
		hdr = 0x30
		if ht == HeaderInstance32 || ht == HeaderInstance64 {
			hdr = 0x48
		}
		if size < hdr || size > len(rec) {
			return 0, fmt.Sprintf("%s record size %d out of bounds (%d left in buffer)", ht, size, len(rec))
		}
		e.Opcode = rec[4]
		e.Level = rec[5]
		e.Version = uint8(le.Uint16(rec[6:]))
		e.TID = le.Uint32(rec[8:])
		e.PID = le.Uint32(rec[0xC:])
		e.HasPID = true
		e.Timestamp = int64(le.Uint64(rec[0x10:]))
		e.HasTimestamp = true
		e.Provider = guidAt(rec[0x18:])
		e.KernelTime = le.Uint32(rec[0x28:])
		e.UserTime = le.Uint32(rec[0x2C:])
		if hdr == 0x48 {
			e.InstanceID = le.Uint32(rec[0x30:])
			e.ParentInstanceID = le.Uint32(rec[0x34:])
			e.ParentGUID = guidAt(rec[0x38:])
		}
		e.Payload = rec[hdr:size]
		return size, ""
	case HeaderTimed, HeaderError, HeaderWnode:
		size = int(le.Uint16(rec[0:]))
		if size < 8 || size > len(rec) {
			return 0, fmt.Sprintf("%s record size %d out of bounds (%d left in buffer)", ht, size, len(rec))
		}
		e.Payload = rec[8:size]
		return size, ""
	}
	return 0, fmt.Sprintf("unknown header type %#02x (marker %#08x)", uint8(ht), marker)
}

// parseMessage decodes a WPP MESSAGE_TRACE_HEADER record.
func parseMessage(e *Event, rec []byte) (int, string) {
	le := binary.LittleEndian
	e.HeaderType = HeaderMessage
	size := int(le.Uint16(rec[0:]))
	if size < 8 || size > len(rec) {
		return 0, fmt.Sprintf("MESSAGE record size %d out of bounds (%d left in buffer)", size, len(rec))
	}
	e.MessageNumber = le.Uint16(rec[4:])
	e.MessageFlags = le.Uint16(rec[6:])
	e.ID = e.MessageNumber
	q := 8
	need := func(n int) bool { return q+n <= size }
	fl := e.MessageFlags
	if fl&MessageSequence != 0 {
		if !need(4) {
			return 0, "MESSAGE record too short for its sequence number"
		}
		e.Sequence = le.Uint32(rec[q:])
		q += 4
	}
	if fl&MessageComponentID != 0 {
		if !need(4) {
			return 0, "MESSAGE record too short for its component id"
		}
		e.ComponentID = le.Uint32(rec[q:])
		q += 4
	} else if fl&MessageGUID != 0 {
		if !need(16) {
			return 0, "MESSAGE record too short for its GUID"
		}
		e.Provider = guidAt(rec[q:])
		q += 16
	}
	if fl&MessageTimestamp != 0 {
		if !need(8) {
			return 0, "MESSAGE record too short for its timestamp"
		}
		e.Timestamp = int64(le.Uint64(rec[q:]))
		e.HasTimestamp = true
		q += 8
	}
	if fl&MessageSystemInfo != 0 {
		if !need(8) {
			return 0, "MESSAGE record too short for its thread and process ids"
		}
		e.TID = le.Uint32(rec[q:])
		e.PID = le.Uint32(rec[q+4:])
		e.HasPID = true
		q += 8
	}
	e.Payload = rec[q:size]
	return size, ""
}
