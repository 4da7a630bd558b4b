package report

import (
	"bufio"
	"strings"
)

// csvLine writes RFC 4180 records: fields separated by commas, records ended
// by CRLF, a field quoted when it holds a comma, quote, CR, LF or leading or
// trailing space, quotes inside doubled. Embedded newlines are kept inside the
// quotes, as RFC 4180 allows; every cell goes through SafeCSVCell first.
type csvLine struct {
	w *bufio.Writer
}

func (c csvLine) write(cells []string) error {
	for i, s := range cells {
		if i > 0 {
			c.w.WriteByte(',')
		}
		s = SafeCSVCell(s)
		if needsQuote(s) {
			c.w.WriteByte('"')
			c.w.WriteString(strings.ReplaceAll(s, `"`, `""`))
			c.w.WriteByte('"')
		} else {
			c.w.WriteString(s)
		}
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}
