package rules

import (
	"fmt"
	"strings"
)

// Error is one problem in a rule file, located by line and column (1-based;
// zero when unknown). Its text is "file:line:col: message", the form editors
// and CI systems link to.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error renders "file:line:col: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FileError gathers the problems of one rule file that could not be loaded.
// Its text has one line per problem.
type FileError struct {
	File string
	Errs []*Error
}

// Error renders one line per problem.
func (e *FileError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, x := range e.Errs {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual problems, for errors.As.
func (e *FileError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, x := range e.Errs {
		out[i] = x
	}
	return out
}

// LoadErrors is returned by the directory loaders when some files could not
// be loaded: one FileError per bad file. The rules of the good files are
// still returned beside it.
type LoadErrors []*FileError

// Error renders one line per problem of every bad file.
func (e LoadErrors) Error() string {
	lines := make([]string, len(e))
	for i, x := range e {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the per-file errors, for errors.As.
func (e LoadErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, x := range e {
		out[i] = x
	}
	return out
}

// maxErrorsPerFile bounds how many problems one file reports, so a hostile or
// badly broken file cannot flood the output.
const maxErrorsPerFile = 25
