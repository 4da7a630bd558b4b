// Package evtxtest writes small, valid EVTX files for tests: a file header,
// chunks with correct checksums, and records whose Binary XML uses one
// template (defined inline in a chunk's first record, referenced by the
// rest) with typed substitution values, so readers are tested against
// fixtures whose every byte is known.
package evtxtest

import (
	"encoding/binary"
	"hash/crc32"
	"time"
	"unicode/utf16"
)

// Record is one event to write. Data values are written in order as
// <Data Name="...">; a nil Values entry is written as a NULL optional
// substitution.
type Record struct {
	Provider  string
	EventID   uint16
	Time      time.Time
	RecordID  uint64
	ProcessID uint32
	Channel   string
	Computer  string
	UserSID   []byte // binary SID, nil for none
	Data      []Data
}

// Data is one named EventData value.
type Data struct {
	Name  string
	Value any // string, []string, uint32, uint64 (written as HexInt64), bool, [16]byte (GUID), nil
}

// SID encodes a SID string like S-1-5-21-1-2-3-1001 in binary.
func SID(rev byte, auth uint64, subs ...uint32) []byte {
	b := []byte{rev, byte(len(subs)), 0, 0, 0, 0, 0, 0}
	for i := 0; i < 6; i++ {
		b[7-i] = byte(auth >> (8 * i))
	}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

const (
	chunkSize  = 65536
	headerSize = 4096
)

// chunkWriter builds one chunk.
type chunkWriter struct {
	b     []byte
	names map[string]uint32
	tmpl  map[string]uint32 // template key -> definition offset
}

func utf16le(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

func (c *chunkWriter) u8(v byte)    { c.b = append(c.b, v) }
func (c *chunkWriter) u16(v uint16) { c.b = binary.LittleEndian.AppendUint16(c.b, v) }
func (c *chunkWriter) u32(v uint32) { c.b = binary.LittleEndian.AppendUint32(c.b, v) }

// name writes a name reference, the name itself inline on first use.
func (c *chunkWriter) name(s string) {
	if off, ok := c.names[s]; ok {
		c.u32(off)
		return
	}
	off := uint32(len(c.b) + 4)
	c.names[s] = off
	c.u32(off)
	c.u32(0) // next string offset
	c.u16(0) // hash
	c.u16(uint16(len([]rune(s))))
	c.b = append(c.b, utf16le(s)...)
	c.u16(0)
}

func (c *chunkWriter) open(name string, attrs bool) {
	if attrs {
		c.u8(0x41)
	} else {
		c.u8(0x01)
	}
	c.u16(0xffff)
	c.u32(0) // data size (not needed by readers that walk tokens)
	c.name(name)
	if attrs {
		c.u32(0) // attribute list size
	}
}

func (c *chunkWriter) attr(name string, more bool) {
	if more {
		c.u8(0x46)
	} else {
		c.u8(0x06)
	}
	c.name(name)
}

func (c *chunkWriter) text(s string) {
	c.u8(0x05)
	c.u8(0x01)
	c.u16(uint16(len([]rune(s))))
	c.b = append(c.b, utf16le(s)...)
}

func (c *chunkWriter) sub(id uint16, typ byte, optional bool) {
	if optional {
		c.u8(0x0e)
	} else {
		c.u8(0x0d)
	}
	c.u16(id)
	c.u8(typ)
}

// element writes <name>%id</name>.
func (c *chunkWriter) subElement(name string, id uint16, typ byte) {
	c.open(name, false)
	c.u8(0x02)
	c.sub(id, typ, true)
	c.u8(0x04)
}

func (c *chunkWriter) emptyWithSubAttr(name, attr string, id uint16, typ byte) {
	c.open(name, true)
	c.attr(attr, false)
	c.sub(id, typ, true)
	c.u8(0x03)
}

// value types used by the writer.
const (
	tString   = 0x01
	tUInt16   = 0x06
	tUInt32   = 0x08
	tUInt64   = 0x0a
	tBool     = 0x0d
	tGUID     = 0x0f
	tFileTime = 0x11
	tSID      = 0x13
	tHex64    = 0x15
	tStrArray = 0x81
)

func dataType(v any) byte {
	switch v.(type) {
	case []string:
		return tStrArray
	case uint32:
		return tUInt32
	case uint64:
		return tHex64
	case bool:
		return tBool
	case [16]byte:
		return tGUID
	}
	return tString
}

// templateID derives a template's identifier from its key (FNV-1a).
func templateID(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return h
}

func templateKey(r Record) string {
	k := ""
	for _, d := range r.Data {
		k += d.Name + "\x00" + string(rune(dataType(d.Value))) + "\x00"
	}
	return k
}

// definition writes the template body.
func (c *chunkWriter) definition(r Record) {
	c.b = append(c.b, 0x0f, 0x01, 0x01, 0x00)
	c.open("Event", true)
	c.attr("xmlns", false)
	c.text("http://schemas.microsoft.com/win/2004/08/events/event")
	c.u8(0x02)
	c.open("System", false)
	c.u8(0x02)
	c.emptyWithSubAttr("Provider", "Name", 0, tString)
	c.subElement("EventID", 1, tUInt16)
	c.emptyWithSubAttr("TimeCreated", "SystemTime", 2, tFileTime)
	c.subElement("EventRecordID", 3, tUInt64)
	c.emptyWithSubAttr("Execution", "ProcessID", 4, tUInt32)
	c.subElement("Channel", 5, tString)
	c.subElement("Computer", 6, tString)
	c.emptyWithSubAttr("Security", "UserID", 7, tSID)
	c.u8(0x04) // </System>
	c.open("EventData", false)
	c.u8(0x02)
	for i, d := range r.Data {
		c.open("Data", true)
		c.attr("Name", false)
		c.text(d.Name)
		c.u8(0x02)
		c.sub(uint16(8+i), dataType(d.Value), true)
		c.u8(0x04)
	}
	c.u8(0x04) // </EventData>
	c.u8(0x04) // </Event>
	c.u8(0x00) // EOF
}

func filetime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func (c *chunkWriter) record(r Record) {
	start := len(c.b)
	c.u32(0x00002a2a)
	c.u32(0) // size, patched
	c.b = binary.LittleEndian.AppendUint64(c.b, r.RecordID)
	c.b = binary.LittleEndian.AppendUint64(c.b, filetime(r.Time))
	c.b = append(c.b, 0x0f, 0x01, 0x01, 0x00)
	c.u8(0x0c)
	c.u8(0x01)
	key := templateKey(r)
	// The instance names its template by the first 4 bytes of the
	// definition's GUID, as Windows writes them.
	c.u32(templateID(key))
	if off, ok := c.tmpl[key]; ok {
		c.u32(off)
	} else {
		off := uint32(len(c.b) + 4)
		c.tmpl[key] = off
		c.u32(off)
		c.u32(0) // next template
		guid := make([]byte, 16)
		binary.LittleEndian.PutUint32(guid, templateID(key))
		c.b = append(c.b, guid...)
		sizeAt := len(c.b)
		c.u32(0)
		c.definition(r)
		binary.LittleEndian.PutUint32(c.b[sizeAt:], uint32(len(c.b)-sizeAt-4))
	}
	// Values.
	var vals [][]byte
	var types []byte
	le := binary.LittleEndian
	vals = append(vals, utf16le(r.Provider))
	types = append(types, tString)
	vals = append(vals, le.AppendUint16(nil, r.EventID))
	types = append(types, tUInt16)
	vals = append(vals, le.AppendUint64(nil, filetime(r.Time)))
	types = append(types, tFileTime)
	vals = append(vals, le.AppendUint64(nil, r.RecordID))
	types = append(types, tUInt64)
	vals = append(vals, le.AppendUint32(nil, r.ProcessID))
	types = append(types, tUInt32)
	vals = append(vals, utf16le(r.Channel))
	types = append(types, tString)
	vals = append(vals, utf16le(r.Computer))
	types = append(types, tString)
	if r.UserSID != nil {
		vals = append(vals, r.UserSID)
		types = append(types, tSID)
	} else {
		vals = append(vals, nil)
		types = append(types, 0)
	}
	for _, d := range r.Data {
		var b []byte
		t := dataType(d.Value)
		switch v := d.Value.(type) {
		case nil:
			t = 0
		case string:
			b = append(utf16le(v), 0, 0)
		case []string:
			for _, s := range v {
				b = append(append(b, utf16le(s)...), 0, 0)
			}
		case uint32:
			b = le.AppendUint32(nil, v)
		case uint64:
			b = le.AppendUint64(nil, v)
		case bool:
			n := uint32(0)
			if v {
				n = 1
			}
			b = le.AppendUint32(nil, n)
		case [16]byte:
			b = v[:]
		}
		vals = append(vals, b)
		types = append(types, t)
	}
	c.u32(uint32(len(vals)))
	for i, v := range vals {
		c.u16(uint16(len(v)))
		c.u8(types[i])
		c.u8(0)
	}
	for _, v := range vals {
		c.b = append(c.b, v...)
	}
	c.u8(0x00) // EOF
	size := len(c.b) - start + 4
	c.u32(uint32(size))
	binary.LittleEndian.PutUint32(c.b[start+4:], uint32(size))
}

// File writes an EVTX file holding the records, split into chunks of at
// most perChunk records (every chunk complete and with valid checksums).
func File(records []Record, perChunk int) []byte {
	if perChunk <= 0 {
		perChunk = len(records)
	}
	var chunks [][]byte
	for i := 0; i < len(records) || (i == 0 && len(records) == 0); i += perChunk {
		j := min(i+perChunk, len(records))
		chunks = append(chunks, Chunk(records[i:j]))
		if len(records) == 0 {
			break
		}
	}
	h := make([]byte, headerSize)
	copy(h, "ElfFile\x00")
	le := binary.LittleEndian
	le.PutUint64(h[8:], 0)
	le.PutUint64(h[16:], uint64(len(chunks)-1))
	le.PutUint64(h[24:], uint64(len(records)+1))
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1)
	le.PutUint16(h[38:], 3)
	le.PutUint16(h[40:], headerSize)
	le.PutUint16(h[42:], uint16(len(chunks)))
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	out := h
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// Chunk writes one 64 KiB chunk holding the records. It panics when they do
// not fit: fixtures are small.
func Chunk(records []Record) []byte {
	c := &chunkWriter{b: make([]byte, 512, chunkSize), names: map[string]uint32{}, tmpl: map[string]uint32{}}
	copy(c.b, "ElfChnk\x00")
	last := 512
	for _, r := range records {
		last = len(c.b)
		c.record(r)
	}
	if len(c.b) > chunkSize {
		panic("evtxtest: records do not fit in one chunk")
	}
	free := len(c.b)
	b := make([]byte, chunkSize)
	copy(b, c.b)
	le := binary.LittleEndian
	if len(records) > 0 {
		le.PutUint64(b[8:], records[0].RecordID)
		le.PutUint64(b[16:], records[len(records)-1].RecordID)
		le.PutUint64(b[24:], records[0].RecordID)
		le.PutUint64(b[32:], records[len(records)-1].RecordID)
	}
	le.PutUint32(b[40:], 128)
	le.PutUint32(b[44:], uint32(last))
	le.PutUint32(b[48:], uint32(free))
	le.PutUint32(b[52:], crc32.ChecksumIEEE(b[512:free]))
	le.PutUint32(b[124:], crc32.Update(crc32.ChecksumIEEE(b[:120]), crc32.IEEETable, b[128:512]))
	return b
}
