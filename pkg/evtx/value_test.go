package evtx

import (
	"strings"
	"testing"
)

func TestValue_RendersAsWindows(t *testing.T) {
	utf16 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return b
	}
	tests := []struct {
		name string
		typ  ValueType
		raw  []byte
		want string
	}{
		{"Int8 negative", Int8Type, []byte{0xff}, "-1"},
		{"UInt8", UInt8Type, []byte{0xff}, "255"},
		{"Int16", Int16Type, []byte{0xfe, 0xff}, "-2"},
		{"UInt16", UInt16Type, []byte{0x34, 0x12}, "4660"},
		{"Int32", Int32Type, []byte{0xff, 0xff, 0xff, 0xff}, "-1"},
		{"UInt64 max", UInt64Type, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "18446744073709551615"},
		{"Real32", Real32Type, []byte{0, 0, 0xc0, 0x3f}, "1.5"},
		{"Real64", Real64Type, []byte{0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f}, "0.1"},
		{"Bool true", BoolType, []byte{1, 0, 0, 0}, "true"},
		{"Bool false", BoolType, []byte{0, 0, 0, 0}, "false"},
		{"GUID", GUIDType, []byte{0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9}, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"},
		{"SizeT 32-bit", SizeTType, []byte{0xf0, 0x04, 0, 0}, "0x4f0"},
		{"SizeT 64-bit", SizeTType, []byte{0xe7, 0x03, 0, 0, 0, 0, 0, 0}, "0x3e7"},
		{"HexInt32", HexInt32Type, []byte{0, 0, 0, 0}, "0x0"},
		{"HexInt64 keywords", HexInt64Type, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "0x8000000000000000"},
		{"FILETIME", FileTimeType, []byte{0xc8, 0x2b, 0x65, 0x61, 0x1c, 0x08, 0xd5, 0x01}, "2019-05-11T17:10:06.3424456Z"},
		{"FILETIME zero", FileTimeType, make([]byte, 8), "1601-01-01T00:00:00.0000000Z"},
		{"SYSTEMTIME", SysTimeType, []byte{0xe8, 0x07, 5, 0, 1, 0, 6, 0, 7, 0, 8, 0, 9, 0, 0x7b, 0}, "2024-05-06T07:08:09.1230000Z"},
		{"SID", SIDType, []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}, "S-1-5-32-544"},
		{"Binary", BinaryType, []byte{0xde, 0xad, 0xbe, 0xef}, "DEADBEEF"},
		{"AnsiString", AnsiStringType, []byte("abc\x00"), "abc"},
		{"String trailing NUL", StringType, utf16("C:\\x\x00"), `C:\x`},
		{"String array", StringType | ArrayFlag, utf16("a\x00b\x00"), "a, b"},
		{"HexInt32 array", HexInt32Type | ArrayFlag, []byte{1, 0, 0, 0, 0x10, 0, 0, 0}, "0x1, 0x10"},
		{"UInt16 array", UInt16Type | ArrayFlag, []byte{1, 0, 2, 0}, "1, 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := newValue(tt.typ, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValue_WrongSizesAreErrors(t *testing.T) {
	for _, tc := range []struct {
		typ ValueType
		raw []byte
	}{
		{UInt32Type, []byte{1, 2, 3}},
		{GUIDType, make([]byte, 15)},
		{SizeTType, make([]byte, 6)},
		{SIDType, []byte{1, 5, 0, 0, 0, 0, 0, 5}},
		{UInt32Type | ArrayFlag, make([]byte, 5)},
		{ValueType(0x1f), []byte{1}},
	} {
		if _, err := newValue(tc.typ, tc.raw); err == nil || strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%v of %d bytes accepted", tc.typ, len(tc.raw))
		}
	}
}
