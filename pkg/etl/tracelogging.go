package etl

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// TraceLogging metadata bounds.
const (
	tlMaxFields = 256
	tlMaxDepth  = 8
	tlMaxArray  = 4096
)

// TraceLogging in-types (the low 5 bits of a field's InType byte).
const (
	tlUnicodeString = 1
	tlAnsiString    = 2
	tlInt8          = 3
	tlUint8         = 4
	tlInt16         = 5
	tlUint16        = 6
	tlInt32         = 7
	tlUint32        = 8
	tlInt64         = 9
	tlUint64        = 10
	tlFloat         = 11
	tlDouble        = 12
	tlBool32        = 13
	tlBinary        = 14
	tlGUID          = 15
	tlPointer       = 16
	tlFiletime      = 17
	tlSystemtime    = 18
	tlSID           = 19
	tlHexInt32      = 20
	tlHexInt64      = 21
	tlCountedString = 22
	tlCountedAnsi   = 23
	tlStruct        = 24
	tlCountedBinary = 25

	tlCountMask  = 0x60
	tlCcount     = 0x20
	tlVcount     = 0x40
	tlCustom     = 0x60
	tlChain      = 0x80
	tlInTypeMask = 0x1f
)

type tlField struct {
	name     string
	inType   uint8
	count    uint8 // tlCcount/tlVcount/0
	ccount   int   // fixed element count
	children int   // struct: number of following fields that belong to it
}

// decodeTraceLogging decodes a self-describing event: the event name and
// field list come from the EVENT_SCHEMA_TL extended item, the values from
// the payload.
func decodeTraceLogging(e *Event, d *Decoded, meta []byte) {
	d.Source = "TraceLogging"
	if len(meta) < 2 {
		d.Err = fmt.Errorf("TraceLogging metadata of %d bytes", len(meta))
		return
	}
	size := int(binary.LittleEndian.Uint16(meta))
	if size < 2 || size > len(meta) {
		size = len(meta)
	}
	m := meta[2:size]
	i := 0
	// Event tags: bytes with 0x80 meaning "another follows", at most 4.
	for n := 0; i < len(m) && n < 4; n++ {
		c := m[i]
		i++
		if c&0x80 == 0 {
			break
		}
	}
	name, ok := cstr(m, &i)
	if !ok {
		d.Err = fmt.Errorf("TraceLogging metadata: event name not terminated")
		return
	}
	d.Name = name
	var fields []tlField
	for i < len(m) {
		if len(fields) >= tlMaxFields {
			d.Err = fmt.Errorf("TraceLogging metadata: more than %d fields", tlMaxFields)
			return
		}
		fname, ok := cstr(m, &i)
		if !ok || i >= len(m) {
			d.Err = fmt.Errorf("TraceLogging metadata: field %d malformed", len(fields))
			return
		}
		f := tlField{name: fname}
		in := m[i]
		i++
		f.inType = in & tlInTypeMask
		f.count = in & tlCountMask
		if in&tlChain != 0 {
			if i >= len(m) {
				d.Err = fmt.Errorf("TraceLogging metadata: field %q out-type missing", fname)
				return
			}
			out := m[i]
			i++
			if f.inType == tlStruct {
				f.children = int(out & 0x7f)
			}
			if out&0x80 != 0 {
				for n := 0; i < len(m) && n < 4; n++ { // field tag
					c := m[i]
					i++
					if c&0x80 == 0 {
						break
					}
				}
			}
		}
		switch f.count {
		case tlCcount:
			if i+2 > len(m) {
				d.Err = fmt.Errorf("TraceLogging metadata: field %q count missing", fname)
				return
			}
			f.ccount = int(binary.LittleEndian.Uint16(m[i:]))
			i += 2
		case tlCustom:
			if i+2 > len(m) {
				d.Err = fmt.Errorf("TraceLogging metadata: field %q type info missing", fname)
				return
			}
			n := int(binary.LittleEndian.Uint16(m[i:]))
			i += 2 + n
			if i > len(m) {
				d.Err = fmt.Errorf("TraceLogging metadata: field %q type info truncated", fname)
				return
			}
		}
		fields = append(fields, f)
	}
	ptr := e.PointerSize
	if ptr == 0 {
		ptr = 8
	}
	p := &payload{b: e.Payload, ptr: ptr}
	idx := 0
	for idx < len(fields) && p.err == nil {
		var v any
		name := fields[idx].name
		v, idx = tlValue(fields, idx, p, 0)
		if p.err != nil {
			break
		}
		d.add(name, v)
	}
	if p.err != nil {
		d.Err = p.err
	}
}

func cstr(b []byte, i *int) (string, bool) {
	for j := *i; j < len(b); j++ {
		if b[j] == 0 {
			s := string(b[*i:j])
			*i = j + 1
			return s, true
		}
	}
	return "", false
}

// tlValue reads the value of fields[idx] (an array when it has a count) and
// returns it with the index of the next field at the same level.
func tlValue(fields []tlField, idx int, p *payload, depth int) (any, int) {
	f := fields[idx]
	n := -1
	switch f.count {
	case tlCcount:
		n = f.ccount
	case tlVcount:
		n = int(p.u16(f.name))
	}
	next := idx + 1
	if f.inType == tlStruct {
		next = skipStruct(fields, idx)
	}
	if n < 0 {
		return tlOne(fields, idx, p, depth), next
	}
	if n > tlMaxArray {
		p.fail(f.name)
		return nil, next
	}
	if f.inType == tlUint8 || f.inType == tlInt8 {
		return append([]byte(nil), p.take(n, f.name)...), next
	}
	arr := make([]any, 0, n)
	for k := 0; k < n && p.err == nil; k++ {
		arr = append(arr, tlOne(fields, idx, p, depth))
	}
	return arr, next
}

// skipStruct returns the index after a struct field and its members.
func skipStruct(fields []tlField, idx int) int {
	n := fields[idx].children
	j := idx + 1
	for k := 0; k < n && j < len(fields); k++ {
		if fields[j].inType == tlStruct {
			j = skipStruct(fields, j)
		} else {
			j++
		}
	}
	return j
}

func tlOne(fields []tlField, idx int, p *payload, depth int) any {
	f := fields[idx]
	switch f.inType {
	case tlUnicodeString:
		return p.wstr(f.name)
	case tlAnsiString:
		return p.astr(f.name)
	case tlInt8:
		return int64(int8(p.u8(f.name)))
	case tlUint8:
		return p.u8(f.name)
	case tlInt16:
		return int64(int16(p.u16(f.name)))
	case tlUint16:
		return p.u16(f.name)
	case tlInt32:
		return int64(int32(p.u32(f.name)))
	case tlUint32, tlHexInt32:
		return p.u32(f.name)
	case tlInt64:
		return int64(p.u64(f.name))
	case tlUint64, tlHexInt64:
		return p.u64(f.name)
	case tlFloat:
		return float64(math.Float32frombits(uint32(p.u32(f.name))))
	case tlDouble:
		return math.Float64frombits(p.u64(f.name))
	case tlBool32:
		return p.u32(f.name) != 0
	case tlBinary, tlCountedBinary:
		n := int(p.u16(f.name))
		return append([]byte(nil), p.take(n, f.name)...)
	case tlGUID:
		if b := p.take(16, f.name); b != nil {
			return guidAt(b)
		}
		return nil
	case tlPointer:
		return p.pointer(f.name)
	case tlFiletime:
		return wintime.FromFiletime(p.u64(f.name))
	case tlSystemtime:
		b := p.take(16, f.name)
		if b == nil {
			return nil
		}
		le := binary.LittleEndian
		return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03d", le.Uint16(b), le.Uint16(b[2:]), le.Uint16(b[6:]),
			le.Uint16(b[8:]), le.Uint16(b[10:]), le.Uint16(b[12:]), le.Uint16(b[14:]))
	case tlSID:
		return p.rawSID(f.name)
	case tlCountedString:
		n := int(p.u16(f.name))
		return decodeUTF16(p.take(n&^1, f.name))
	case tlCountedAnsi:
		n := int(p.u16(f.name))
		return latin1OrUTF8(p.take(n, f.name))
	case tlStruct:
		if depth >= tlMaxDepth {
			p.fail(f.name)
			return nil
		}
		var members []Field
		j := idx + 1
		for k := 0; k < f.children && j < len(fields) && p.err == nil; k++ {
			name := fields[j].name
			var v any
			v, j = tlValue(fields, j, p, depth+1)
			members = append(members, Field{name, v})
		}
		return members
	}
	p.fail(fmt.Sprintf("%s (unsupported in-type %d)", f.name, f.inType))
	return nil
}
