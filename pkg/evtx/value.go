package evtx

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// ValueType is the type of a Binary XML substitution value.
type ValueType uint8

// Value types of [MS-EVEN6]; ArrayFlag marks an array of the base type.
const (
	NullType       ValueType = 0x00
	StringType     ValueType = 0x01
	AnsiStringType ValueType = 0x02
	Int8Type       ValueType = 0x03
	UInt8Type      ValueType = 0x04
	Int16Type      ValueType = 0x05
	UInt16Type     ValueType = 0x06
	Int32Type      ValueType = 0x07
	UInt32Type     ValueType = 0x08
	Int64Type      ValueType = 0x09
	UInt64Type     ValueType = 0x0a
	Real32Type     ValueType = 0x0b
	Real64Type     ValueType = 0x0c
	BoolType       ValueType = 0x0d
	BinaryType     ValueType = 0x0e
	GUIDType       ValueType = 0x0f
	SizeTType      ValueType = 0x10
	FileTimeType   ValueType = 0x11
	SysTimeType    ValueType = 0x12
	SIDType        ValueType = 0x13
	HexInt32Type   ValueType = 0x14
	HexInt64Type   ValueType = 0x15
	EvtHandleType  ValueType = 0x20
	BinXMLType     ValueType = 0x21
	EvtXMLType     ValueType = 0x23
	ArrayFlag      ValueType = 0x80
)

var typeNames = map[ValueType]string{
	NullType: "Null", StringType: "String", AnsiStringType: "AnsiString", Int8Type: "Int8", UInt8Type: "UInt8",
	Int16Type: "Int16", UInt16Type: "UInt16", Int32Type: "Int32", UInt32Type: "UInt32", Int64Type: "Int64",
	UInt64Type: "UInt64", Real32Type: "Real32", Real64Type: "Real64", BoolType: "Bool", BinaryType: "Binary",
	GUIDType: "GUID", SizeTType: "SizeT", FileTimeType: "FileTime", SysTimeType: "SysTime", SIDType: "SID",
	HexInt32Type: "HexInt32", HexInt64Type: "HexInt64", EvtHandleType: "EvtHandle", BinXMLType: "BinXml",
	EvtXMLType: "EvtXml",
}

// String names the type as [MS-EVEN6] does ("String", "HexInt64",
// "StringArray", ...).
func (t ValueType) String() string {
	base := t &^ ArrayFlag
	n, ok := typeNames[base]
	if !ok {
		n = fmt.Sprintf("Type0x%02x", uint8(base))
	}
	if t&ArrayFlag != 0 {
		return n + "Array"
	}
	return n
}

// fixedSize is the size of one item of a fixed-size type, 0 otherwise.
func fixedSize(t ValueType) int {
	switch t {
	case Int8Type, UInt8Type:
		return 1
	case Int16Type, UInt16Type:
		return 2
	case Int32Type, UInt32Type, Real32Type, BoolType, HexInt32Type:
		return 4
	case Int64Type, UInt64Type, Real64Type, FileTimeType, HexInt64Type:
		return 8
	case GUIDType, SysTimeType:
		return 16
	}
	return 0
}

// Value is one typed value: a substitution value, or element text. Strings
// are decoded; every other type keeps its stored little-endian bytes.
type Value struct {
	str string
	raw []byte
	off int32 // chunk offset of a nested Binary XML value
	// Type is the value's type.
	Type ValueType
}

// StringValue returns a string-typed value.
func StringValue(s string) Value { return Value{Type: StringType, str: s} }

// IsNull reports a NULL value (an optional substitution with nothing in it).
func (v Value) IsNull() bool { return v.Type == NullType }

// Raw returns the stored bytes of a non-string value.
func (v Value) Raw() []byte { return v.raw }

// Uint64 returns an integer value (any integer, hex integer, SizeT, bool or
// FILETIME) as a uint64, and whether the value was one. A decimal string is
// accepted too, since some providers log numbers as text.
func (v Value) Uint64() (uint64, bool) {
	le := binary.LittleEndian
	switch v.Type {
	case Int8Type:
		return uint64(int64(int8(v.raw[0]))), true
	case UInt8Type:
		return uint64(v.raw[0]), true
	case Int16Type:
		return uint64(int64(int16(le.Uint16(v.raw)))), true
	case UInt16Type:
		return uint64(le.Uint16(v.raw)), true
	case Int32Type:
		return uint64(int64(int32(le.Uint32(v.raw)))), true
	case UInt32Type, HexInt32Type, BoolType:
		return uint64(le.Uint32(v.raw)), true
	case Int64Type, UInt64Type, HexInt64Type, FileTimeType:
		return le.Uint64(v.raw), true
	case SizeTType:
		if len(v.raw) == 4 {
			return uint64(le.Uint32(v.raw)), true
		}
		return le.Uint64(v.raw), true
	case StringType, AnsiStringType:
		s := strings.TrimSpace(v.str)
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseUint(s[2:], 16, 64)
			return n, err == nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Int64 returns a signed view of an integer value.
func (v Value) Int64() (int64, bool) {
	n, ok := v.Uint64()
	return int64(n), ok
}

// Time returns a FILETIME or SYSTEMTIME value as a time.
func (v Value) Time() (time.Time, bool) {
	switch v.Type {
	case FileTimeType:
		return wintime.FromFiletime(binary.LittleEndian.Uint64(v.raw)), true
	case SysTimeType:
		return systemTime(v.raw)
	}
	return time.Time{}, false
}

// Strings returns the items of an array value rendered as text (one item for
// a scalar).
func (v Value) Strings() []string {
	if v.Type&ArrayFlag == 0 {
		return []string{v.String()}
	}
	base := v.Type &^ ArrayFlag
	switch base {
	case StringType, AnsiStringType:
		if v.str == "" {
			return []string{""}
		}
		return strings.Split(strings.TrimSuffix(v.str, "\x00"), "\x00")
	case SIDType:
		var out []string
		b := v.raw
		for len(b) >= 8 {
			n := 8 + 4*int(b[1])
			if n > len(b) {
				break
			}
			out = append(out, formatSID(b[:n]))
			b = b[n:]
		}
		return out
	case SizeTType:
		// Without a size per item, a SizeT array of 8-byte items is the
		// common case on 64-bit systems.
		base = HexInt64Type
		if len(v.raw)%8 != 0 {
			base = HexInt32Type
		}
	}
	sz := fixedSize(base)
	if sz == 0 {
		return []string{hexUpper(v.raw)}
	}
	out := make([]string, 0, len(v.raw)/sz)
	for i := 0; i+sz <= len(v.raw); i += sz {
		out = append(out, Value{Type: base, raw: v.raw[i : i+sz]}.String())
	}
	return out
}

// String renders the value as Windows renders it in event XML.
func (v Value) String() string {
	le := binary.LittleEndian
	switch v.Type {
	case NullType:
		return ""
	case StringType, AnsiStringType:
		return v.str
	case Int8Type, Int16Type, Int32Type, Int64Type:
		n, _ := v.Int64()
		return strconv.FormatInt(n, 10)
	case UInt8Type, UInt16Type, UInt32Type, UInt64Type:
		n, _ := v.Uint64()
		return strconv.FormatUint(n, 10)
	case HexInt32Type, HexInt64Type, SizeTType:
		n, _ := v.Uint64()
		return "0x" + strconv.FormatUint(n, 16)
	case Real32Type:
		return formatFloat(float64(math.Float32frombits(le.Uint32(v.raw))), 32)
	case Real64Type:
		return formatFloat(math.Float64frombits(le.Uint64(v.raw)), 64)
	case BoolType:
		if le.Uint32(v.raw) != 0 {
			return "true"
		}
		return "false"
	case GUIDType:
		return formatGUID(v.raw)
	case FileTimeType:
		t, _ := v.Time()
		if t.IsZero() {
			return "1601-01-01T00:00:00.0000000Z"
		}
		return wintime.Format(t)
	case SysTimeType:
		if t, ok := v.Time(); ok {
			return wintime.Format(t)
		}
		return hexUpper(v.raw)
	case SIDType:
		return formatSID(v.raw)
	case BinaryType, EvtHandleType, EvtXMLType, BinXMLType:
		return hexUpper(v.raw)
	}
	if v.Type&ArrayFlag != 0 {
		return strings.Join(v.Strings(), ", ")
	}
	return hexUpper(v.raw)
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsInf(f, 1):
		return "1.#INF"
	case math.IsInf(f, -1):
		return "-1.#INF"
	case math.IsNaN(f):
		return "-1.#IND"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func hexUpper(b []byte) string {
	return strings.ToUpper(hex.EncodeToString(b))
}

// formatGUID renders a 16-byte little-endian GUID as {XXXXXXXX-XXXX-...}.
func formatGUID(b []byte) string {
	if len(b) != 16 {
		return hexUpper(b)
	}
	const digits = "0123456789ABCDEF"
	// Data1, Data2 and Data3 are little-endian; Data4 is bytes in order.
	order := [16]int{3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11}
	var out [38]byte
	out[0] = '{'
	j := 1
	for _, i := range order {
		if i < 0 {
			out[j] = '-'
			j++
			continue
		}
		out[j], out[j+1] = digits[b[i]>>4], digits[b[i]&15]
		j += 2
	}
	for i := 12; i < 16; i++ {
		out[j], out[j+1] = digits[b[i]>>4], digits[b[i]&15]
		j += 2
	}
	out[j] = '}'
	return string(out[:j+1])
}

// formatSID renders a binary SID as S-R-I-S-S...; a malformed one as hex.
func formatSID(b []byte) string {
	if len(b) < 8 || len(b) < 8+4*int(b[1]) {
		return hexUpper(b)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	sb.WriteByte('-')
	if auth >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", auth)
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < int(b[1]); i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String()
}

// systemTime decodes a SYSTEMTIME; it fails on out-of-range fields.
func systemTime(b []byte) (time.Time, bool) {
	if len(b) < 16 {
		return time.Time{}, false
	}
	le := binary.LittleEndian
	y, mo, d := int(le.Uint16(b)), int(le.Uint16(b[2:])), int(le.Uint16(b[6:]))
	h, mi, s, ms := int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || ms > 999 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ms*1e6, time.UTC), true
}

// decodeUTF16 decodes little-endian UTF-16 (lone surrogates become U+FFFD).
// Pure ASCII, the common case, takes a fast path.
func decodeUTF16(b []byte) string {
	n := len(b) / 2
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, n)
		for i := 0; i < n; i++ {
			buf[i] = b[2*i]
		}
		return string(buf)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// decodeLatin1 decodes an ANSI string; without the code page, bytes are
// taken as Latin-1.
func decodeLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, x := range b {
		r[i] = rune(x)
	}
	return string(r)
}

// newValue decodes a substitution value of type t from b.
func newValue(t ValueType, b []byte) (Value, error) {
	switch t {
	case NullType:
		return Value{}, nil
	case StringType:
		return Value{Type: t, str: strings.TrimRight(decodeUTF16(b), "\x00")}, nil
	case AnsiStringType:
		return Value{Type: t, str: strings.TrimRight(decodeLatin1(b), "\x00")}, nil
	case StringType | ArrayFlag:
		return Value{Type: t, str: decodeUTF16(b)}, nil
	case AnsiStringType | ArrayFlag:
		return Value{Type: t, str: decodeLatin1(b)}, nil
	case SizeTType:
		if len(b) != 4 && len(b) != 8 {
			return Value{}, fmt.Errorf("SizeT value of %d bytes", len(b))
		}
		return Value{Type: t, raw: b}, nil
	case SIDType:
		if len(b) < 8 || len(b) < 8+4*int(b[1]) {
			return Value{}, fmt.Errorf("SID value of %d bytes is malformed", len(b))
		}
		return Value{Type: t, raw: b}, nil
	case BinaryType, EvtHandleType, EvtXMLType, BinXMLType:
		return Value{Type: t, raw: b}, nil
	}
	if t&ArrayFlag != 0 {
		base := t &^ ArrayFlag
		if sz := fixedSize(base); sz > 0 && len(b)%sz != 0 {
			return Value{}, fmt.Errorf("%v value of %d bytes is not a whole number of items", t, len(b))
		}
		return Value{Type: t, raw: b}, nil
	}
	sz := fixedSize(t)
	if sz == 0 {
		return Value{}, fmt.Errorf("unknown value type 0x%02x", uint8(t))
	}
	if len(b) != sz {
		return Value{}, fmt.Errorf("%v value of %d bytes, want %d", t, len(b), sz)
	}
	return Value{Type: t, raw: b}, nil
}
