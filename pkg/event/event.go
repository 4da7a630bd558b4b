// Package event is envhunt's one event model. Every source of evidence — hive
// values and keys, security descriptors, the effective environment, profile
// differences, ETW traces, event logs, Group Policy files — becomes a stream
// of Events: a category, a time, where it came from, and ordered named
// fields. Rules select events by category and field values, exactly as Sigma
// rules select Sysmon events, so one engine serves every source.
//
// Each category declares its fields once, in code (see Declare); the rule
// loader rejects fields a category does not have, and docs/fields.md is
// generated from the same declarations.
package event

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
)

// Category names a kind of event, as Sigma's logsource category does
// ("registry_set", "process_creation", ...).
type Category string

// Source says where an event's evidence lies, so a finding can point at it.
type Source struct {
	// Host is the host name of the evidence (or the collection folder name
	// when the name is not known).
	Host string
	// File is the evidence file the event was read from.
	File string
	// Offset is the byte offset in File of the record behind the event, or
	// -1 when it has none.
	Offset int64
}

// Event is one observation with named, ordered fields.
type Event struct {
	Category Category
	// Time is when the evidence says this happened: a trace or log event's
	// time, else the registry key's last write. Zero when unknown.
	Time   time.Time
	Source Source
	// Fields holds the named fields in a stable order. Values are strings,
	// integers (int64/uint64), bools, []string, time.Time or nil.
	Fields *ordereddict.Dict
}

// New returns an event of category c at time t with no fields.
func New(c Category, t time.Time) *Event {
	return &Event{Category: c, Time: t, Source: Source{Offset: -1}, Fields: ordereddict.NewDict()}
}

// Set sets a field and returns e, so calls can be chained.
func (e *Event) Set(name string, v any) *Event {
	e.Fields.Set(name, v)
	return e
}

// Get returns a field's value.
func (e *Event) Get(name string) (any, bool) {
	return e.Fields.Get(name)
}

// String returns a field rendered as text for a sentence ("" when absent):
// integers are decimal, lists are joined with ", ", times use the 7-digit
// UTC layout. FormatValue keeps list entries on separate lines instead.
func (e *Event) String(name string) string {
	v, ok := e.Fields.Get(name)
	if !ok {
		return ""
	}
	if l, ok := v.([]string); ok {
		return strings.Join(l, ", ")
	}
	return FormatValue(v)
}

// Names returns the field names in order.
func (e *Event) Names() []string {
	return e.Fields.Keys()
}

// FormatValue renders a field value as text the way rules and text output see
// it.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, "\n")
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format("2006-01-02T15:04:05.0000000Z")
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
