package gpo

import (
	"fmt"
	"io"
	"os"
)

// Bounds enforced on every file (see the package documentation).
const (
	MaxFileSize        = 16 << 20
	MaxPolRecords      = 1 << 20
	MaxKeyLength       = 32767
	MaxValueNameLength = 16383
	MaxScripts         = 10000
	MaxLineLength      = 64 << 10
	MaxItems           = 100000
	MaxXMLDepth        = 64
	MaxScriptBody      = 1 << 20
)

// FormatError reports a problem with a Group Policy file: the file, where
// (a byte offset, or a line for text formats) and what was wrong.
type FormatError struct {
	File string
	// Offset is the byte offset of the problem, or -1 when Line is used.
	Offset int64
	// Line is the 1-based line of the problem in text formats (0 when
	// Offset is used).
	Line int
	Msg  string
}

func (e *FormatError) Error() string {
	name := e.File
	if name == "" {
		name = "<input>"
	}
	if e.Line > 0 {
		return fmt.Sprintf("gpo: %s: line %d: %s", name, e.Line, e.Msg)
	}
	return fmt.Sprintf("gpo: %s: at offset 0x%x: %s", name, e.Offset, e.Msg)
}

func offErr(file string, off int, format string, args ...any) error {
	return &FormatError{File: file, Offset: int64(off), Msg: fmt.Sprintf(format, args...)}
}

func lineErr(file string, line int, format string, args ...any) error {
	return &FormatError{File: file, Offset: -1, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// readFile reads a whole file of at most max bytes.
func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadBounded(path, f, max)
}

// ReadBounded reads r to the end, refusing more than max bytes with a
// FormatError that names the file.
func ReadBounded(name string, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("gpo: %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, &FormatError{File: name, Offset: max, Msg: fmt.Sprintf("file larger than %d bytes, not read", max)}
	}
	return data, nil
}

// ReadBody reads a script body named by a scripts.ini entry, at most
// MaxScriptBody bytes; Truncated reports a longer body cut at the bound.
func ReadBody(r io.Reader) (body []byte, truncated bool, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxScriptBody+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxScriptBody {
		return data[:MaxScriptBody], true, nil
	}
	return data, false, nil
}
