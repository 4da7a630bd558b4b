package report

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// MaxDepth bounds the nesting of event values the JSON writers follow;
// deeper values are written as the string "(nested too deep)".
const MaxDepth = 32

// MaxValues bounds how many values one record's JSON holds (shared data
// referenced many times could otherwise multiply); values past it are
// written as the string "(too many values)".
const MaxValues = 1 << 20

// jsonObject builds one JSON object in order, with "_raw" siblings for text
// that is not valid UTF-8.
type jsonObject struct {
	buf   []byte
	comma bool
	// given holds the "<field>_raw" keys the object's data sets itself
	// (a reader that knows the original UTF-16 bytes); no automatic raw
	// sibling is added for them.
	given map[string]bool
	// spent counts the values written for one top-level value, shared by
	// the nested objects, against MaxValues.
	spent *int
}

func (o *jsonObject) begin() { o.buf = append(o.buf, '{'); o.comma = false }
func (o *jsonObject) end()   { o.buf = append(o.buf, '}') }

func (o *jsonObject) key(k string) {
	if o.comma {
		o.buf = append(o.buf, ',')
	}
	o.comma = true
	o.buf = appendJSONString(o.buf, k)
	o.buf = append(o.buf, ':')
}

// str writes k: s, and k_raw when s is not valid UTF-8 or raw is given.
func (o *jsonObject) str(k, s string, raw []byte) {
	text, rawHex := RawText(s)
	o.key(k)
	o.buf = appendJSONString(o.buf, text)
	if raw != nil {
		rawHex = hex.EncodeToString(raw)
	}
	if rawHex != "" && !o.given[k+"_raw"] {
		o.key(k + "_raw")
		o.buf = appendJSONString(o.buf, rawHex)
	}
}

// field writes k: v with v's raw sibling when v holds invalid text.
func (o *jsonObject) field(k string, v any, depth int) {
	switch x := v.(type) {
	case string:
		o.str(k, x, nil)
		return
	case []string:
		o.key(k)
		o.value(x, depth)
		if raws, ok := rawList(x); ok && !o.given[k+"_raw"] {
			o.key(k + "_raw")
			o.value(raws, depth)
		}
		return
	}
	if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.String {
		// A named string type (a category, an enum): same as a string, so
		// its raw bytes are kept too.
		if _, isStringer := v.(fmt.Stringer); !isStringer {
			o.str(k, rv.String(), nil)
			return
		}
	}
	o.key(k)
	o.value(v, depth)
}

func rawList(list []string) ([]string, bool) {
	var out []string
	for i, s := range list {
		if _, raw := RawText(s); raw != "" {
			if out == nil {
				out = make([]string, len(list))
			}
			out[i] = raw
		}
	}
	return out, out != nil
}

// value appends the JSON form of v. Strings are made valid UTF-8 here
// (their raw form is the caller's, see field).
func (o *jsonObject) value(v any, depth int) {
	if o.spent == nil {
		o.spent = new(int)
	}
	*o.spent++
	if depth > MaxDepth {
		o.buf = appendJSONString(o.buf, "(nested too deep)")
		return
	}
	if *o.spent > MaxValues {
		o.buf = appendJSONString(o.buf, "(too many values)")
		return
	}
	switch x := v.(type) {
	case nil:
		o.buf = append(o.buf, "null"...)
	case string:
		text, _ := RawText(x)
		o.buf = appendJSONString(o.buf, text)
	case []string:
		if x == nil {
			o.buf = append(o.buf, "[]"...)
			return
		}
		o.buf = append(o.buf, '[')
		for i, s := range x {
			if i > 0 {
				o.buf = append(o.buf, ',')
			}
			text, _ := RawText(s)
			o.buf = appendJSONString(o.buf, text)
		}
		o.buf = append(o.buf, ']')
	case bool:
		o.buf = strconv.AppendBool(o.buf, x)
	case int:
		o.buf = strconv.AppendInt(o.buf, int64(x), 10)
	case int8:
		o.buf = strconv.AppendInt(o.buf, int64(x), 10)
	case int16:
		o.buf = strconv.AppendInt(o.buf, int64(x), 10)
	case int32:
		o.buf = strconv.AppendInt(o.buf, int64(x), 10)
	case int64:
		o.buf = strconv.AppendInt(o.buf, x, 10)
	case uint:
		o.buf = strconv.AppendUint(o.buf, uint64(x), 10)
	case uint8:
		o.buf = strconv.AppendUint(o.buf, uint64(x), 10)
	case uint16:
		o.buf = strconv.AppendUint(o.buf, uint64(x), 10)
	case uint32:
		o.buf = strconv.AppendUint(o.buf, uint64(x), 10)
	case uint64:
		o.buf = strconv.AppendUint(o.buf, x, 10)
	case float64:
		o.appendFloat(x)
	case float32:
		o.appendFloat(float64(x))
	case time.Time:
		o.buf = appendJSONString(o.buf, wintime.Format(x))
	case []byte:
		o.buf = appendJSONString(o.buf, hex.EncodeToString(x))
	case *ordereddict.Dict:
		if x == nil {
			o.buf = append(o.buf, "null"...)
			return
		}
		items := x.Items()
		var in jsonObject
		in.buf = o.buf
		in.spent = o.spent
		in.begin()
		for _, it := range items {
			if strings.HasSuffix(it.Key, "_raw") {
				if in.given == nil {
					in.given = map[string]bool{}
				}
				in.given[it.Key] = true
			}
		}
		for _, it := range items {
			if d, ok := it.Value.(*ordereddict.Dict); ok && d == x {
				continue
			}
			in.field(it.Key, it.Value, depth+1)
		}
		in.end()
		o.buf = in.buf
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var in jsonObject
		in.buf = o.buf
		in.spent = o.spent
		in.begin()
		for _, k := range keys {
			if strings.HasSuffix(k, "_raw") {
				if in.given == nil {
					in.given = map[string]bool{}
				}
				in.given[k] = true
			}
		}
		for _, k := range keys {
			in.field(k, x[k], depth+1)
		}
		in.end()
		o.buf = in.buf
	case []any:
		o.buf = append(o.buf, '[')
		for i, e := range x {
			if i > 0 {
				o.buf = append(o.buf, ',')
			}
			o.value(e, depth+1)
		}
		o.buf = append(o.buf, ']')
	case fmt.Stringer:
		text, _ := RawText(x.String())
		o.buf = appendJSONString(o.buf, text)
	case error:
		text, _ := RawText(x.Error())
		o.buf = appendJSONString(o.buf, text)
	default:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.String {
			text, _ := RawText(rv.String())
			o.buf = appendJSONString(o.buf, text)
			return
		}
		b, err := json.Marshal(x)
		if err != nil || !json.Valid(b) {
			text, _ := RawText(fmt.Sprint(x))
			o.buf = appendJSONString(o.buf, text)
			return
		}
		// Re-encode strings inside so the output keeps our escaping
		// guarantees (no raw control or format characters).
		o.buf = appendCompactSafe(o.buf, b)
	}
}

func (o *jsonObject) appendFloat(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		o.buf = appendJSONString(o.buf, strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	o.buf = strconv.AppendFloat(o.buf, f, 'g', -1, 64)
}

// appendCompactSafe appends JSON produced by encoding/json, escaping any
// hidden character it left unescaped.
func appendCompactSafe(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if n > 1 && hidden(r) {
			dst = appendUEscape(dst, r)
		} else {
			dst = append(dst, src[i:i+n]...)
		}
		i += n
	}
	return dst
}

// appendJSONString appends s (valid UTF-8) as a JSON string. Besides what
// JSON requires, it escapes DEL, C1 controls and invisible format characters
// (bidi overrides, zero-width characters, U+2028/U+2029), and leaves <, >
// and & alone.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, `\"`...)
			case '\\':
				dst = append(dst, `\\`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = appendUEscape(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if hidden(r) {
			dst = append(dst, s[start:i]...)
			dst = appendUEscape(dst, r)
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendUEscape(dst []byte, r rune) []byte {
	const digits = "0123456789abcdef"
	one := func(dst []byte, u rune) []byte {
		return append(dst, '\\', 'u', digits[(u>>12)&0xf], digits[(u>>8)&0xf], digits[(u>>4)&0xf], digits[u&0xf])
	}
	if r > 0xffff {
		a, b := utf16.EncodeRune(r)
		return one(one(dst, a), b)
	}
	return one(dst, r)
}

// MarshalValue returns the JSON form of a field value as the event and
// finding writers write it: ordered dicts in order, times in the 7-digit
// UTC layout, bytes as hex, invalid UTF-8 replaced by U+FFFD, control and
// format characters escaped. It never fails.
func MarshalValue(v any) []byte {
	var o jsonObject
	o.value(v, 0)
	return o.buf
}

// EscapeInvisibleJSON rewrites JSON produced by another encoder (such as
// encoding/json) so that DEL, C1 controls and invisible format characters
// (bidirectional overrides and isolates, zero-width characters) inside its
// strings are \u escapes, as the writers of this package write them: the
// JSON means the same, and printing it to a terminal shows nothing hidden.
// Outside strings valid JSON holds none of these characters.
func EscapeInvisibleJSON(b []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(out, b[start:i]...)
				out = appendUEscape(out, rune(c))
				i++
				start = i
				continue
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if hidden(r) {
			out = append(out, b[start:i]...)
			out = appendUEscape(out, r)
			i += n
			start = i
			continue
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[start:]...)
}
