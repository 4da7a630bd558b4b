package hive

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeLatin1 decodes a compressed (one byte per character) name: each byte
// is one UTF-16 code unit, as Windows, hivex and yarp read them.
func decodeLatin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	buf := make([]byte, 0, 2*len(b))
	for _, c := range b {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}

// decodeUTF16 decodes UTF-16LE bytes. Lone surrogates become U+FFFD and valid
// is false; an odd trailing byte is ignored (and also makes valid false).
func decodeUTF16(b []byte) (s string, valid bool) {
	valid = len(b)%2 == 0
	n := len(b) / 2
	// Fast path: all code units ASCII.
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = b[2*i]
		}
		return string(buf), valid
	}
	buf := make([]byte, 0, n+n/2)
	buf, ok := appendUTF16(buf, b[:2*n])
	return string(buf), valid && ok
}

// appendUTF16 appends the UTF-8 form of UTF-16LE bytes (even length) to dst.
func appendUTF16(dst, b []byte) ([]byte, bool) {
	ok := true
	n := len(b) / 2
	for i := 0; i < n; i++ {
		u := rune(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		switch {
		case u < 0x80:
			dst = append(dst, byte(u))
		case utf16.IsSurrogate(u):
			if u < 0xDC00 && i+1 < n {
				u2 := rune(uint16(b[2*i+2]) | uint16(b[2*i+3])<<8)
				if u2 >= 0xDC00 && u2 < 0xE000 {
					dst = utf8.AppendRune(dst, utf16.DecodeRune(u, u2))
					i++
					continue
				}
			}
			dst = utf8.AppendRune(dst, utf8.RuneError)
			ok = false
		default:
			dst = utf8.AppendRune(dst, u)
		}
	}
	return dst, ok
}

// cutUTF16NUL returns b up to (not including) the first UTF-16 NUL code unit.
func cutUTF16NUL(b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return b[:i]
		}
	}
	return b[:len(b)&^1]
}

// equalName compares two names the way Windows does: each character is upper
// cased (simple, one-to-one Unicode mapping) and then compared.
func equalName(a, b string) bool {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf {
			ra, a = rune(a[0]), a[1:]
		} else {
			r, n := utf8.DecodeRuneInString(a)
			ra, a = r, a[n:]
		}
		if b[0] < utf8.RuneSelf {
			rb, b = rune(b[0]), b[1:]
		} else {
			r, n := utf8.DecodeRuneInString(b)
			rb, b = r, b[n:]
		}
		if ra == rb {
			continue
		}
		if upcase(ra) != upcase(rb) {
			return false
		}
	}
	return a == b
}

func upcase(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	if r > 0xFFFF {
		return r // Windows' upcase table covers the BMP only
	}
	return unicode.ToUpper(r)
}

// latin1Name decodes a compressed name. When the image belongs to the Hive
// alone (read by Open, or recovered into a new buffer) and is never written,
// an ASCII name is returned without copying: it shares the image's memory,
// which lives as long as any string pointing into it.
func (h *Hive) latin1Name(b []byte) string {
	if !h.ownsImage || len(b) == 0 {
		return decodeLatin1(b)
	}
	for _, c := range b {
		if c >= 0x80 {
			return decodeLatin1(b)
		}
	}
	return unsafe.String(&b[0], len(b))
}
