package history

import (
	"encoding/hex"
	"time"

	"github.com/envhunt/envhunt/pkg/profile"
)

// RowColumns are the columns of a history table, in order: the field names
// of `envhunt history --format jsonl|csv`.
var RowColumns = []string{"source", "time", "key", "value", "type", "data", "changed", "file", "note"}

// Row is one (state, value) line of a history.
type Row struct {
	Source string
	// Time is the key's last write in the state; zero ("unknown") for
	// carved values and a missing key.
	Time  time.Time
	Key   string
	Value string
	// ValueRaw is the on-disk value name in hex when it is not valid text.
	ValueRaw string
	Type     string
	// Data is the value's data as text (strings as they are, REG_MULTI_SZ
	// joined with newlines, integers in decimal, other types as hex).
	Data    string
	Changed string
	File    string
	Note    string
}

// Rows flattens the history into one row per (state, value), in state
// order.
func (h *History) Rows() []Row {
	var rows []Row
	for _, s := range h.States {
		for _, v := range s.Values {
			r := Row{Source: s.Source, Time: s.Time, Key: s.Key, Value: v.Name, Changed: v.Changed, File: s.File, Note: v.Note}
			if v.NameRaw != nil {
				r.ValueRaw = hex.EncodeToString(v.NameRaw)
			}
			if !v.Removed {
				r.Type = v.Type.String()
				r.Data = profile.DataText(v.Data)
			}
			rows = append(rows, r)
		}
	}
	return rows
}
