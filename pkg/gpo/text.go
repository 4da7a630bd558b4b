package gpo

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeText turns the bytes of a text file into a string: UTF-16LE with a
// BOM (FF FE), UTF-16BE with a BOM (FE FF), UTF-8 with or without a BOM,
// else Windows ANSI read as Latin-1 (every byte is one character, so
// nothing is lost). utf16LE reports the UTF-16 forms.
func decodeText(b []byte) (s string, wide bool) {
	switch {
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		return utf16String(b[2:], false), true
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return utf16String(b[2:], true), true
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		b = b[3:]
	case looksUTF16LE(b):
		return utf16String(b, false), true
	}
	if utf8.Valid(b) {
		return string(b), false
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r), false
}

// looksUTF16LE reports UTF-16LE text without a BOM: ASCII characters with
// a zero high byte in the first few units.
func looksUTF16LE(b []byte) bool {
	if len(b) < 4 || len(b)%2 != 0 {
		return false
	}
	n := min(len(b), 64)
	for i := 0; i+1 < n; i += 2 {
		if b[i+1] != 0 || b[i] == 0 {
			return false
		}
	}
	return true
}

// utf16String decodes UTF-16 units (an odd trailing byte is dropped; lone
// surrogates become U+FFFD).
func utf16String(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	return string(utf16.Decode(u))
}

// encodeUTF16LE returns s as UTF-16LE without a terminator.
func encodeUTF16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i] = byte(c)
		out[2*i+1] = byte(c >> 8)
	}
	return out
}

// EncodeUTF16Text returns text as Windows writes Unicode INI files:
// UTF-16LE with a byte-order mark and CRLF line ends.
func EncodeUTF16Text(text string) []byte {
	text = string(bytes.ReplaceAll([]byte(text), []byte("\r\n"), []byte("\n")))
	text = string(bytes.ReplaceAll([]byte(text), []byte("\n"), []byte("\r\n")))
	return append([]byte{0xFF, 0xFE}, encodeUTF16LE(text)...)
}

// DecodeText turns the bytes of a Windows text file (a script body, an INI
// file) into a string: UTF-16 with a byte-order mark or recognisably
// UTF-16LE without one, UTF-8, else ANSI read as Latin-1.
func DecodeText(b []byte) string {
	s, _ := decodeText(b)
	return s
}
