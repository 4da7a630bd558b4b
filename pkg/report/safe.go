package report

import (
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// hidden reports whether r must not reach a terminal or a spreadsheet as is:
// C0 and C1 controls, DEL, and the invisible format characters that reorder
// or hide text (bidirectional overrides U+202A–U+202E, isolates
// U+2066–U+2069, marks U+200E/U+200F and U+061C, zero-width characters,
// the byte-order mark, line and paragraph separators, every other Unicode
// format character, and the blank Hangul fillers).
func hidden(r rune) bool {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
		return true
	}
	if r < 0xa0 {
		return false
	}
	switch r {
	case 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0:
		// Combining grapheme joiner and the Hangul fillers: letters or marks
		// to Unicode, but they draw nothing, so they hide in names too.
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// appendEscape writes r in its visible form: \xNN for C0 controls and DEL,
// \uNNNN (or \UNNNNNNNN) for everything else.
func appendEscape(b *strings.Builder, r rune) {
	const digits = "0123456789abcdef"
	switch {
	case r < 0x80:
		b.WriteString(`\x`)
		b.WriteByte(digits[r>>4])
		b.WriteByte(digits[r&0xf])
	case r <= 0xffff:
		b.WriteString(`\u`)
		for s := 12; s >= 0; s -= 4 {
			b.WriteByte(digits[(r>>s)&0xf])
		}
	default:
		b.WriteString(`\U`)
		for s := 28; s >= 0; s -= 4 {
			b.WriteByte(digits[(r>>s)&0xf])
		}
	}
}

func appendBadByte(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// SafeTerminal returns s in a form that is safe to print on a terminal:
// control characters (C0 including tab and newline, DEL, C1), ESC and
// therefore every escape sequence, bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069), U+200E/U+200F and other invisible format
// characters are shown as \x1b, \u202e and so on; bytes that are not valid
// UTF-8 (including lone surrogates left encoded by a UTF-16 decoder) are
// shown as \xNN. Printable text, including non-ASCII letters, is kept.
//
// It is a display form: backslashes in the data are kept as they are, so
// exact bytes are only in the JSON output (with its "_raw" fields).
func SafeTerminal(s string) string {
	if plainASCII(s) {
		return s
	}
	return escapeString(s, nil)
}

// escapeString escapes hidden runes and invalid bytes, except the runes keep
// accepts.
func escapeString(s string, keep func(rune) bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			appendBadByte(&b, s[i])
			n = 1
		case hidden(r) && (keep == nil || !keep(r)):
			appendEscape(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// SafeCSVCell returns s as a CSV cell that a spreadsheet shows as text: a
// cell starting with =, +, -, @, tab or CR (which Excel, LibreOffice and
// Google Sheets would evaluate as a formula) gets a leading apostrophe, and
// hidden characters and invalid UTF-8 are made visible as in SafeTerminal,
// except tab, CR and LF, which are kept (the CSV writer quotes cells that
// hold them). Quoting itself is the CSV writer's job.
func SafeCSVCell(s string) string {
	if !plainASCII(s) {
		s = escapeString(s, func(r rune) bool { return r == '\t' || r == '\n' || r == '\r' })
	}
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// SafeLine returns s as one line for line-based formats (bodyfile, TLN):
// SafeTerminal's escapes, and | written as \x7c so it cannot split a field.
func SafeLine(s string) string {
	s = SafeTerminal(s)
	if strings.IndexByte(s, '|') >= 0 {
		s = strings.ReplaceAll(s, "|", `\x7c`)
	}
	return s
}

// RawText splits s into text that is valid UTF-8 and, when s was not valid
// UTF-8, the original bytes in lowercase hex: the pair the JSON writers emit
// as "<field>" and "<field>_raw". Invalid bytes become U+FFFD in text. For
// valid s it returns s and "".
func RawText(s string) (text, rawHex string) {
	if utf8.ValidString(s) {
		return s, ""
	}
	return strings.ToValidUTF8(s, "\uFFFD"), hex.EncodeToString([]byte(s))
}

// ContainsHidden reports whether s holds anything SafeTerminal would escape:
// a control or invisible format character (NUL, ESC, a bidirectional
// override, a zero-width character, ...) or bytes that are not valid UTF-8.
// Analyzers use it to flag names made to look like others or to hide.
func ContainsHidden(s string) bool {
	if plainASCII(s) {
		return false
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || hidden(r) {
			return true
		}
		i += n
	}
	return false
}
