package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// PowerShellString returns s as a PowerShell expression that evaluates to
// exactly s and can never run code: a single-quoted literal (an apostrophe
// inside is doubled), where every character that is not printable ASCII — newlines, control
// characters, the typographic quotes U+2018–U+201B that PowerShell also
// treats as single quotes, bidi overrides, all non-ASCII — is added as
// [char]0xNNNN, so the script stays pure ASCII and nothing in s can end the
// literal. A lone surrogate encoded as WTF-8 (as a UTF-16 decoder may leave
// it) becomes its [char] code unit. Other bytes that are not valid UTF-8
// cannot be expressed: they become U+FFFD and exact is false.
//
// Examples:
//
//	Path       'Path'
//	a'b        'a''b'
//	a<LF>b     ('a' + [char]0x000A + 'b')
func PowerShellString(s string) (expr string, exact bool) {
	exact = true
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, "'"+lit.String()+"'")
			lit.Reset()
		}
	}
	char := func(u uint32) {
		flush()
		parts = append(parts, fmt.Sprintf("[char]0x%04X", u))
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '\'' {
				lit.WriteString("''")
			} else {
				lit.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			if u, ok := wtf8Surrogate(s[i:]); ok {
				char(u)
				i += 3
				continue
			}
			exact = false
			char(0xFFFD)
			i++
			continue
		}
		if r > 0xffff {
			r -= 0x10000
			char(0xD800 + uint32(r>>10))
			char(0xDC00 + uint32(r&0x3ff))
		} else {
			char(uint32(r))
		}
		i += n
	}
	flush()
	switch {
	case len(parts) == 0:
		return "''", exact
	case len(parts) == 1 && parts[0][0] == '\'':
		return parts[0], exact
	}
	// Start with a string so + concatenates strings, never adds chars.
	if parts[0][0] != '\'' {
		parts = append([]string{"''"}, parts...)
	}
	return "(" + strings.Join(parts, " + ") + ")", exact
}

// wtf8Surrogate decodes a surrogate code point encoded as three UTF-8-style
// bytes (ED A0..BF 80..BF), which Go treats as invalid UTF-8.
func wtf8Surrogate(s string) (uint32, bool) {
	if len(s) < 3 || s[0] != 0xED || s[1] < 0xA0 || s[1] > 0xBF || s[2] < 0x80 || s[2] > 0xBF {
		return 0, false
	}
	return 0xD000 | uint32(s[1]&0x3f)<<6 | uint32(s[2]&0x3f), true
}

// commentText returns s for a script comment: one line, printable ASCII
// only (SafeTerminal's escapes, and non-ASCII as \uNNNN), so no text from
// the evidence can end the comment or hide in it.
func commentText(s string) string {
	s = SafeTerminal(s)
	if plainASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x7f {
			b.WriteRune(r)
		} else {
			appendEscape(&b, r)
		}
	}
	return b.String()
}

// decodeRune decodes one rune, giving U+FFFD for a byte that is not valid
// UTF-8.
func decodeRune(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return utf8.RuneError, 1
	}
	return r, n
}

// PowerShellUTF16 is PowerShellString for a name given as UTF-16LE bytes
// (as a hive stores it): the expression evaluates to exactly those code
// units, lone surrogates included. A trailing odd byte is ignored.
func PowerShellUTF16(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	// Encode each code unit on its own: printable ASCII joins a literal,
	// anything else (surrogates included) becomes [char]0xNNNN.
	var sb strings.Builder
	for _, u := range units {
		if u >= 0x20 && u < 0x7f {
			sb.WriteByte(byte(u))
			continue
		}
		// Represent the unit as a WTF-8 sequence so PowerShellString
		// emits it as one [char].
		sb.WriteString(wtf8Unit(u))
	}
	expr, _ := PowerShellString(sb.String())
	return expr
}

// wtf8Unit encodes one UTF-16 code unit in UTF-8 form, surrogates as WTF-8.
func wtf8Unit(u uint16) string {
	if u >= 0xD800 && u <= 0xDFFF {
		return string([]byte{0xED, byte(0x80 | (u>>6)&0x3f), byte(0x80 | u&0x3f)})
	}
	return string(rune(u))
}
