package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "dump", summary: "print every key and value of a hive (logs applied)", run: runDump})
}

func runDump(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dump", "dump HIVE [--key PATH] [--format jsonl|csv|text] [--log FILE]... [--no-logs] [--output FILE]", stdout)
	var hf hiveFlags
	var of outputFlags
	keyPath := fs.String("key", "", "dump only the subtree under this key (path relative to the hive root, `\\`-separated)")
	hf.add(fs)
	of.add(fs, "jsonl", "jsonl", "csv", "text")
	if err := parseChecked(fs, args, &hf, &of); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("dump: want exactly one hive file, got %d arguments", fs.NArg())
	}
	h, err := dumpOpenHive(fs.Arg(0), hf)
	if err != nil {
		return err
	}
	start, err := h.OpenKey(*keyPath)
	if err != nil {
		if errors.Is(err, hive.ErrNotFound) {
			return usageErrorf("--key %s: no such key in %s", *keyPath, h.Name())
		}
		return inputError(err)
	}
	out, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 256<<10)
	var walkErr error
	switch of.format {
	case "jsonl":
		walkErr = dumpJSONL(ctx, h, start, w)
	case "csv":
		walkErr = dumpCSV(ctx, h, start, w)
	case "text":
		walkErr = dumpText(ctx, h, start, w)
	}
	flushErr := w.Flush()
	closeErr := closeOut()
	if walkErr != nil {
		return walkErr
	}
	if err := errors.Join(flushErr, closeErr); err != nil {
		return fmt.Errorf("dump: writing output: %w", err)
	}
	return dumpPartial(h)
}

// dumpOpenHive opens a hive with the common hive flags. An unreadable hive is
// an input error (exit 2) whose message names the file.
func dumpOpenHive(path string, hf hiveFlags) (*hive.Hive, error) {
	// The hive image is one large pointer-free allocation that lives as
	// long as the command: collecting often is cheap and keeps the peak
	// memory near the hive's size instead of twice it.
	debug.SetGCPercent(10)
	h, err := hive.Open(path, hf.options()...)
	if err != nil {
		var fe *hive.FormatError
		if errors.As(err, &fe) {
			return nil, inputError(err)
		}
		return nil, inputError(fmt.Errorf("%s: %w", path, dumpUnwrapPath(err)))
	}
	return h, nil
}

// dumpUnwrapPath drops the *PathError wrapper, whose text repeats the path.
func dumpUnwrapPath(err error) error {
	var pe interface{ Unwrap() error }
	if errors.As(err, &pe) {
		if inner := pe.Unwrap(); inner != nil && strings.Contains(err.Error(), inner.Error()) {
			return inner
		}
	}
	return err
}

// dumpPartial turns a partly read hive into exit 3, naming what was wrong.
func dumpPartial(h *hive.Hive) error {
	if !h.Partial() {
		return nil
	}
	as := h.Anomalies()
	first := ""
	for _, a := range as {
		switch a.Kind {
		case hive.AnomalyFreeCell, hive.AnomalyTrailingData, hive.AnomalyBadBin, hive.AnomalyBaseBlock:
			continue // notes that lose nothing by themselves
		}
		first = a.Message
		if a.Key != "" {
			first = "key " + a.Key + ": " + first
		}
		break
	}
	return partialError(fmt.Errorf("%s: read in part (%d anomalies; the first: %s)", h.Name(), len(as), first))
}

// dumpWalk walks the subtree at start, or the whole hive.
func dumpWalk(ctx context.Context, h *hive.Hive, start *hive.Key, fn func(k *hive.Key) error) error {
	return h.WalkKey(ctx, start, fn)
}

// dumpValue is one value read for output.
type dumpValue struct {
	v    *hive.Value
	d    hive.Data
	err  error
	tail bool // non-zero bytes after the first NUL of a string
}

func dumpRead(v *hive.Value) dumpValue {
	d, err := v.Decode()
	dv := dumpValue{v: v, d: d, err: err}
	if d.Type.IsText() {
		dv.tail = dumpHasTail(d.Raw)
	}
	return dv
}

// dumpHasTail reports bytes other than NUL after a string's first UTF-16 NUL.
func dumpHasTail(raw []byte) bool {
	i := 0
	for ; i+1 < len(raw); i += 2 {
		if raw[i] == 0 && raw[i+1] == 0 {
			break
		}
	}
	if i+1 >= len(raw) {
		return len(raw)%2 != 0 // an odd byte no string can hold
	}
	for _, c := range raw[i:] {
		if c != 0 {
			return true
		}
	}
	return false
}

// needsRaw says whether data_raw must accompany the decoded data.
func (dv *dumpValue) needsRaw() bool {
	switch {
	case dv.d.Type.IsText():
		return !dv.d.TextValid || dv.tail
	case dv.d.Type == hive.RegMultiSZ:
		// Strings drops only trailing NULs: the raw bytes are needed only
		// when the text was not valid UTF-16.
		return !dv.d.TextValid
	}
	return false
}

func dumpAllZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func dumpJSONL(ctx context.Context, h *hive.Hive, start *hive.Key, w *bufio.Writer) error {
	buf := make([]byte, 0, 64<<10)
	return dumpWalk(ctx, h, start, func(k *hive.Key) error {
		buf = append(buf[:0], `{"path":`...)
		buf = appendJSONString(buf, k.Path())
		if !k.NameValid() {
			buf = append(buf, `,"name_raw":"`...)
			buf = hex.AppendEncode(buf, k.NameRaw())
			buf = append(buf, '"')
		}
		buf = append(buf, `,"last_write":"`...)
		if lw := k.LastWrite(); !lw.IsZero() {
			buf = lw.AppendFormat(buf, wintime.Layout)
		}
		buf = append(buf, `","values":[`...)
		vs, _ := k.Values()
		for i, v := range vs {
			if i > 0 {
				buf = append(buf, ',')
			}
			dv := dumpRead(v)
			buf = append(buf, `{"name":`...)
			buf = appendJSONString(buf, v.Name())
			if !v.NameValid() {
				buf = append(buf, `,"name_raw":"`...)
				buf = hex.AppendEncode(buf, v.NameRaw())
				buf = append(buf, '"')
			}
			buf = append(buf, `,"type":"`...)
			buf = append(buf, v.Type().String()...)
			buf = append(buf, `","data":`...)
			buf = dv.appendJSONData(buf)
			if dv.needsRaw() {
				buf = append(buf, `,"data_raw":"`...)
				buf = hex.AppendEncode(buf, dv.d.Raw)
				buf = append(buf, '"')
			}
			buf = append(buf, '}')
		}
		buf = append(buf, "]}\n"...)
		// DEL, C1 controls and invisible format characters as \u escapes,
		// as every other JSON writer of envhunt writes them.
		_, err := w.Write(report.EscapeInvisibleJSON(buf))
		return err
	})
}

func (dv *dumpValue) appendJSONData(buf []byte) []byte {
	d := dv.d
	switch {
	case d.Type.IsText():
		return appendJSONString(buf, d.Text)
	case d.Type == hive.RegMultiSZ:
		buf = append(buf, '[')
		for i, s := range d.Strings {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		return append(buf, ']')
	case d.Type.IsInt() && d.IntValid:
		return strconv.AppendUint(buf, d.Int, 10)
	}
	buf = append(buf, '"')
	buf = hex.AppendEncode(buf, d.Raw)
	return append(buf, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. s is valid UTF-8 (the hive
// package decodes with U+FFFD); control characters, quotes, backslashes and
// the JavaScript line separators are escaped.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0x2028 || r == 0x2029 {
			buf = append(buf, s[start:i]...)
			if r == utf8.RuneError {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// dumpDataText renders a value's data for text and CSV output.
func (dv *dumpValue) dataText() string {
	d := dv.d
	switch {
	case d.Type.IsText():
		return d.Text
	case d.Type == hive.RegMultiSZ:
		return string(appendJSONMulti(nil, d.Strings))
	case d.Type.IsInt() && d.IntValid:
		return strconv.FormatUint(d.Int, 10)
	}
	return hex.EncodeToString(d.Raw)
}

func appendJSONMulti(buf []byte, ss []string) []byte {
	buf = append(buf, '[')
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, s)
	}
	return append(buf, ']')
}

// dumpCell makes a CSV cell safe: every control or invisible character made
// visible (so a cell is always one line), and a leading character a
// spreadsheet would take for a formula prefixed with '.
func dumpCell(s string) string {
	return report.SafeCSVCell(report.SafeTerminal(s))
}

func dumpCSV(ctx context.Context, h *hive.Hive, start *hive.Key, w *bufio.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"path", "last_write", "value", "type", "data", "name_raw", "data_raw"}); err != nil {
		return err
	}
	err := dumpWalk(ctx, h, start, func(k *hive.Key) error {
		path, lw := dumpCell(k.Path()), wintime.Format(k.LastWrite())
		keyRaw := ""
		if !k.NameValid() {
			keyRaw = hex.EncodeToString(k.NameRaw())
		}
		vs, _ := k.Values()
		if len(vs) == 0 {
			return cw.Write([]string{path, lw, "", "", "", keyRaw, ""})
		}
		for _, v := range vs {
			dv := dumpRead(v)
			nameRaw, dataRaw := keyRaw, ""
			if !v.NameValid() {
				nameRaw = hex.EncodeToString(v.NameRaw())
			}
			if dv.needsRaw() {
				dataRaw = hex.EncodeToString(dv.d.Raw)
			}
			if err := cw.Write([]string{path, lw, dumpCell(v.Name()), v.Type().String(), dumpCell(dv.dataText()), nameRaw, dataRaw}); err != nil {
				return err
			}
		}
		return nil
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}

func dumpText(ctx context.Context, h *hive.Hive, start *hive.Key, w *bufio.Writer) error {
	return dumpWalk(ctx, h, start, func(k *hive.Key) error {
		path := k.Path()
		if path == "" {
			path = `\`
		}
		fmt.Fprintf(w, "%s  [%s]\n", report.SafeTerminal(path), wintime.Format(k.LastWrite()))
		vs, _ := k.Values()
		for _, v := range vs {
			dv := dumpRead(v)
			name := v.Name()
			if name == "" {
				name = "(Default)"
			}
			fmt.Fprintf(w, "    %s  %s  %s\n", report.SafeTerminal(name), v.Type(), report.SafeTerminal(dv.dataText()))
		}
		return nil
	})
}
