// Package history reconstructs the earlier states of a registry key — by
// default the user's HKCU\Environment and the machine's Session
// Manager\Environment — from everything the evidence holds, so a responder
// can answer "what did Path, GOROOT or GOPATH hold, and when did it change?".
//
// The states come from:
//
//   - the primary hive file as it is on disk, without its transaction logs
//     (source "primary");
//   - the hive after each transaction-log entry is replayed, one at a time
//     (source "log:NTUSER.DAT.LOG1#entry1 seq 93");
//   - copies of the same hive made by Windows or by the responder:
//     config\RegBack ("RegBack"), Windows.old ("Windows.old") and any other
//     copy given ("snapshot"), each with its own logs;
//   - for the Environment keys only, values the key's value list still names
//     after they were removed ("value list @0x1234"), value cells found in
//     unallocated space ("free cell @0x1234") and the tail of older data
//     left in the slack of the live values' data cells ("slack @0x1234").
//
// States with a time (the key's last-write time in that state) are ordered
// by it; each value is marked when it was added, modified or removed relative
// to the previous state. Carved values have no time: a free cell can be older
// than any log, and nothing records when it was freed. They are listed after
// the dated states, marked "carved" (or "carved, same as <source>" when a
// dated state held the same data).
//
// Group and Discover tie the files of one hive together (a host's SYSTEM with
// its RegBack and Windows.old copies; one user's NTUSER.DAT); States reads
// one group.
//
// # Security
//
// Hives are read with pkg/hive, whose bounds apply (sizes, counts, depth).
// Carving keeps at most Options.MaxCarved values named like the key's per
// hive image (a limit that bites is listed in History.Problems) and looks at
// each 8-byte position of free space once; slack is read only from the key's own
// values. Nothing under the evidence paths is written.
package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// Source kinds of a State.
const (
	SourcePrimary    = "primary"     // the hive file on disk, logs not applied
	SourceLog        = "log"         // the hive after one transaction-log entry
	SourceRegBack    = "RegBack"     // a config\RegBack copy
	SourceWindowsOld = "Windows.old" // a hive from a previous installation
	SourceSnapshot   = "snapshot"    // another copy of the hive
	SourceFreeCell   = "free cell"   // a value cell in unallocated space
	SourceValueList  = "value list"  // a value named by the stale tail of the key's value list
	SourceSlack      = "slack"       // the tail of older data in a value's data cell
)

// Change markers of a Value, relative to the previous dated state.
const (
	ChangeFirst    = "first"       // the first dated state holding the key
	ChangeSame     = ""            // unchanged
	ChangeAdded    = "added"       // absent in the previous state
	ChangeModified = "modified"    // other data
	ChangeType     = "type"        // same data, other type
	ChangeRemoved  = "removed"     // present in the previous state, gone now
	ChangeNoKey    = "key missing" // the key itself is absent in this state
	ChangeCarved   = "carved"      // a carved value not seen in any dated state
)

// UserEnvironment and MachineEnvironment are the default keys, relative to
// the hive root.
const (
	UserEnvironment    = `Environment`
	MachineEnvironment = `CurrentControlSet\Control\Session Manager\Environment`
)

// DefaultMaxCarved bounds the carved values kept from one hive image.
const DefaultMaxCarved = 10000

// File is one hive file of a group.
type File struct {
	// Path is the file on disk, or archive + "/" + member for a file in a
	// ZIP collection (see Archive).
	Path string
	// Archive is the ZIP collection holding the file ("" on disk); the
	// file and its Logs are then read with evidence.ReadFile.
	Archive string
	// Logs are the transaction logs to replay; nil looks for <name>.LOG,
	// .LOG1 and .LOG2 beside the file (on disk only).
	Logs []string
	// NoLogs reads only the file as it is on disk.
	NoLogs bool
	// Snapshot is "" for the live hive, or SourceRegBack,
	// SourceWindowsOld or SourceSnapshot for a copy.
	Snapshot string
}

// Group is the evidence of one hive: the live file and its copies.
type Group struct {
	// Host is the collection's host name ("" for loose files).
	Host string
	// Name says which hive it is: "SYSTEM", "NTUSER bob", ...
	Name  string
	Files []File
}

// Options tunes States.
type Options struct {
	// Key is the key path relative to the hive root; "" chooses by the
	// hive's type: Environment for a user hive, Session Manager\Environment
	// for SYSTEM. CurrentControlSet is resolved in each state through
	// Select\Current.
	Key string
	// Value keeps only this value (compared case-insensitively).
	Value string
	// NoCarve leaves out free cells and slack.
	NoCarve bool
	// MaxCarved bounds the free-cell values kept per hive image (the file
	// as on disk, and after its logs), counting only values named like the
	// key's (default DefaultMaxCarved). When it bites, History.Problems
	// says so.
	MaxCarved int
	// HiveOptions are passed to every hive.Open (limits).
	HiveOptions []hive.Option
}

// Value is one value of a key in one state.
type Value struct {
	Name string
	// NameRaw is the on-disk name when it is not valid text.
	NameRaw []byte
	// Type is the value type; Data its decoded data. A removed value (and
	// the row of a missing key) has neither.
	Type hive.ValueType
	Data hive.Data
	// Changed marks the value relative to the previous dated state (see the
	// Change constants), or says what a carved value matches.
	Changed string
	// Note is a caution about carved data: its cell was allocated again,
	// it could be read only in part ("" when none). What each source means
	// is in the package documentation.
	Note string
	// Removed is true for the row of a value that is gone in this state.
	Removed bool
}

// State is what the key held in one earlier (or the current) state.
type State struct {
	// Source is the label shown to the responder: "primary",
	// "log:NTUSER.DAT.LOG1#entry1 seq 93", "RegBack", "free cell @0x1238".
	Source string
	// Kind is one of the Source constants.
	Kind string
	// File is the hive file the state was read from.
	File string
	// Key is the key's path in this state (CurrentControlSet resolved).
	Key string
	// Time is the key's last-write time in this state; zero for carved
	// values and when the key is absent.
	Time time.Time
	// Present is false when the key does not exist in this state.
	Present bool
	// Values in on-disk order (one value for a carved state).
	Values []Value
}

// Carved reports whether the state is a carved value (no time of its own).
func (s *State) Carved() bool {
	return s.Kind == SourceFreeCell || s.Kind == SourceValueList || s.Kind == SourceSlack
}

// History is every state found for one group.
type History struct {
	Group  Group
	Key    string // the key asked for (before CurrentControlSet is resolved)
	States []State
	// Problems are the files or logs that could not be read, one line each.
	Problems []string
}

// States reads every state of opts.Key in g's files. Files that cannot be
// read are listed in History.Problems; the error is non-nil only when ctx is
// cancelled or no file could be read at all.
func States(ctx context.Context, g Group, opts Options) (*History, error) {
	hist := &History{Group: g, Key: opts.Key}
	type block struct {
		states []State
		order  int
	}
	var blocks []block
	var carved []State
	read := 0
	for _, f := range g.Files {
		if err := ctx.Err(); err != nil {
			return hist, err
		}
		states, cv, key, err := fileStates(ctx, f, opts)
		if hist.Key == "" {
			hist.Key = key
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return hist, err
			}
			hist.Problems = append(hist.Problems, err.Error())
		}
		if len(states) > 0 {
			read++
			blocks = append(blocks, block{states, snapshotOrder(f.Snapshot)})
		}
		carved = append(carved, cv...)
	}
	if read == 0 {
		if len(hist.Problems) > 0 {
			return hist, errors.New(strings.Join(hist.Problems, "; "))
		}
		return hist, fmt.Errorf("%s: no hive file", g.Name)
	}
	// Each file's states stay in log order; files are ordered by the time
	// of their first state, then older kinds of copy first.
	sort.SliceStable(blocks, func(i, j int) bool {
		if c := blockTime(blocks[i].states).Compare(blockTime(blocks[j].states)); c != 0 {
			return c < 0
		}
		return blocks[i].order < blocks[j].order
	})
	for _, b := range blocks {
		hist.States = append(hist.States, b.states...)
	}
	markChanges(hist.States)
	hist.States = append(hist.States, markCarved(carved, hist.States)...)
	if opts.Value != "" {
		for i := range hist.States {
			s := &hist.States[i]
			s.Values = slices.DeleteFunc(s.Values, func(v Value) bool {
				return v.Changed != ChangeNoKey && !strings.EqualFold(v.Name, opts.Value)
			})
		}
		hist.States = slices.DeleteFunc(hist.States, func(s State) bool { return s.Carved() && len(s.Values) == 0 })
	}
	return hist, nil
}

// blockTime is the time a file's states are ordered by: the key's time in
// its first state that has the key (zero when none has: such files come
// first).
func blockTime(states []State) time.Time {
	for _, s := range states {
		if !s.Time.IsZero() {
			return s.Time
		}
	}
	return time.Time{}
}

func snapshotOrder(s string) int {
	switch s {
	case SourceWindowsOld:
		return 0
	case SourceRegBack:
		return 1
	case SourceSnapshot:
		return 2
	}
	return 3
}

// fileStates reads one file: its on-disk state, the state after each log
// entry and, for Environment keys, its carved values. key is the key asked
// for (the default for the hive's type when opts.Key is "").
func fileStates(ctx context.Context, f File, opts Options) (states, carved []State, key string, err error) {
	disk, err := openFile(f, false, append(slices.Clip(opts.HiveOptions), hive.WithoutLogs())...)
	if err != nil {
		return nil, nil, "", err
	}
	key = opts.Key
	if key == "" {
		switch disk.Type() {
		case hive.TypeSYSTEM:
			key = MachineEnvironment
		case hive.TypeNTUSER:
			key = UserEnvironment
		default:
			return nil, nil, "", fmt.Errorf("%s: a %s hive has no Environment key; name one with --key", f.Path, disk.Type())
		}
	}
	label := f.Snapshot
	if label == "" {
		label = SourcePrimary
	}
	first := keyState(disk, key, label, label, f.Path)
	states = append(states, first)
	var problems []string
	carve := !opts.NoCarve && isEnvironmentKey(first.Key)
	var seen carveSeen
	if carve {
		carved = append(carved, carveStates(ctx, disk, first, f.Path, opts, &seen, &problems)...)
	}
	if !f.NoLogs && disk.Dirty() {
		hopts := slices.Clip(opts.HiveOptions)
		if f.Logs != nil && f.Archive == "" {
			hopts = append(hopts, hive.WithLogs(f.Logs...))
		}
		prefix := ""
		if f.Snapshot != "" {
			prefix = f.Snapshot + " "
		}
		hopts = append(hopts, hive.WithReplayObserver(func(step hive.ReplayStep, h *hive.Hive) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			src := fmt.Sprintf("%slog:%s#entry%d seq %d", prefix, filepath.Base(step.Log), step.Entry+1, step.Sequence)
			states = append(states, keyState(h, key, SourceLog, src, f.Path))
			return nil
		}))
		rec, err := openFile(f, true, hopts...)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return states, carved, key, ctx.Err()
			}
			problems = append(problems, fmt.Sprintf("%s: logs: %v", f.Path, err))
		case !rec.Recovered():
			problems = append(problems, fmt.Sprintf("%s: hive is dirty and no usable transaction log was found: its newest writes may be missing", f.Path))
		case carve:
			last := states[len(states)-1]
			carved = append(carved, carveStates(ctx, rec, last, f.Path, opts, &seen, &problems)...)
		}
	}
	if len(problems) > 0 {
		err = errors.New(strings.Join(problems, "; "))
	}
	return states, carved, key, err
}

// openFile opens a hive file of a group: with hive.Open on disk; from a ZIP
// collection by reading the member (and, when withLogs, its logs) into
// memory, bounded by the hive reader's default size limits.
func openFile(f File, withLogs bool, opts ...hive.Option) (*hive.Hive, error) {
	if f.Archive == "" {
		return hive.Open(f.Path, opts...)
	}
	data, err := evidence.ReadFile(f.Path, hive.DefaultMaxHiveSize)
	if err != nil {
		return nil, err
	}
	if withLogs {
		for _, l := range f.Logs {
			ld, err := evidence.ReadFile(l, hive.DefaultMaxLogSize)
			if err != nil {
				return nil, err
			}
			opts = append(opts, hive.WithLogData(filepath.Base(l), ld))
		}
	}
	return hive.Load(f.Path, data, opts...)
}

// isEnvironmentKey reports whether a resolved key path is one of the two
// Environment keys.
func isEnvironmentKey(p string) bool {
	if strings.EqualFold(p, UserEnvironment) {
		return true
	}
	i := strings.IndexByte(p, '\\')
	return i > 0 && strings.HasPrefix(strings.ToLower(p[:i]), "controlset") && strings.EqualFold(p[i+1:], `Control\Session Manager\Environment`)
}

// resolveKey maps CurrentControlSet to the hive's current ControlSet00N.
func resolveKey(h *hive.Hive, key string) string {
	key = strings.Trim(key, `\`)
	first, rest, _ := strings.Cut(key, `\`)
	if !strings.EqualFold(first, "CurrentControlSet") {
		return key
	}
	m := winreg.New("", []winreg.HiveInfo{{Hive: h, Kind: "SYSTEM"}})
	cs := m.CurrentControlSetPath()
	if cs == "" {
		return key
	}
	if rest == "" {
		return cs
	}
	return cs + `\` + rest
}

// keyState reads the key in one state of the hive.
func keyState(h *hive.Hive, key, kind, source, file string) State {
	s := State{Source: source, Kind: kind, File: file, Key: resolveKey(h, key)}
	k, err := h.OpenKey(s.Key)
	if err != nil {
		return s
	}
	s.Present, s.Time = true, k.LastWrite()
	vals, _ := k.Values()
	for _, v := range vals {
		d, _ := v.Decode()
		d.Raw = bytes.Clone(d.Raw) // the replay view is only valid during the call
		val := Value{Name: v.Name(), Type: v.Type(), Data: d}
		if !v.NameValid() {
			val.NameRaw = bytes.Clone(v.NameRaw())
		}
		s.Values = append(s.Values, val)
	}
	return s
}

// carveSeen remembers carved values already listed for one file.
type carveSeen map[string]bool

func (c *carveSeen) add(kind, name string, t hive.ValueType, raw []byte) bool {
	if *c == nil {
		*c = carveSeen{}
	}
	id := fmt.Sprintf("%s\x00%s\x00%d\x00%x", kind, strings.ToLower(name), t, raw)
	if (*c)[id] {
		return false
	}
	(*c)[id] = true
	return true
}

// errCarveEnough stops carving at Options.MaxCarved values.
var errCarveEnough = errors.New("enough carved values")

// carveStates lists the free value cells named like a value of the key (in
// any state read so far) and the slack of the key's live values in h.
func carveStates(ctx context.Context, h *hive.Hive, st State, file string, opts Options, seen *carveSeen, problems *[]string) []State {
	names := map[string]bool{}
	for _, v := range st.Values {
		names[strings.ToLower(v.Name)] = true
	}
	if opts.Value != "" {
		names[strings.ToLower(opts.Value)] = true
	}
	var out []State
	max := opts.MaxCarved
	if max <= 0 {
		max = DefaultMaxCarved
	}
	if k, err := h.OpenKey(st.Key); err == nil {
		former, _ := k.ValueListSlack(ctx)
		for _, c := range former {
			if !seen.add(SourceFreeCell, c.Name, c.Type, c.Data) {
				continue
			}
			var cautions []string
			if !c.CellFree {
				cautions = append(cautions, "value cell is allocated again: it may hold another value now")
			}
			if c.Problem != "" {
				cautions = append(cautions, c.Problem)
			}
			note := strings.Join(cautions, "; ")
			out = append(out, carvedState(c, fmt.Sprintf("value list @%#x", c.Offset), SourceValueList, file, st.Key, note))
		}
	}
	matched := 0
	err := h.CarveValues(ctx, hive.CarveOptions{MaxValues: math.MaxInt32}, func(c hive.CarvedValue) error {
		if !names[strings.ToLower(c.Name)] || !seen.add(SourceFreeCell, c.Name, c.Type, c.Data) {
			return nil
		}
		out = append(out, carvedState(c, fmt.Sprintf("free cell @%#x", c.Offset), SourceFreeCell, file, st.Key, c.Problem))
		if matched++; matched >= max {
			return errCarveEnough
		}
		return nil
	})
	if errors.Is(err, errCarveEnough) {
		*problems = append(*problems, fmt.Sprintf("%s: carving stopped after %d values named like the key's (Options.MaxCarved); more free cells were not read", file, max))
	}
	if k, err := h.OpenKey(st.Key); err == nil {
		vals, _ := k.Values()
		for _, v := range vals {
			if !v.Type().IsText() {
				continue
			}
			slack, ok := textSlack(v.Slack())
			if !ok {
				continue
			}
			if !seen.add(SourceSlack, v.Name(), v.Type(), slack) {
				continue
			}
			d := hive.DecodeData(v.Type(), slack)
			d.Raw = bytes.Clone(slack)
			val := Value{Name: v.Name(), Type: v.Type(), Data: d}
			out = append(out, State{
				Source: fmt.Sprintf("slack @%#x", v.DataOffset()), Kind: SourceSlack, File: file,
				Key: st.Key, Present: true, Values: []Value{val},
			})
		}
	}
	return out
}

// minSlackChars is the fewest characters of text slack worth showing: less
// is usually alignment padding or noise.
const minSlackChars = 4

// textSlack returns the UTF-16 text in a string value's slack, without the
// NUL code units around it, when it looks like the tail of an older string:
// at least minSlackChars printable characters, most of them ASCII. Slack
// that does not (padding, stale bytes of other cells) is left out.
func textSlack(b []byte) ([]byte, bool) {
	b = b[:len(b)&^1]
	for len(b) >= 2 && b[0] == 0 && b[1] == 0 {
		b = b[2:]
	}
	for len(b) >= 2 && b[len(b)-2] == 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-2]
	}
	n := len(b) / 2
	if n < minSlackChars {
		return nil, false
	}
	ascii := 0
	for i := 0; i < n; i++ {
		u := rune(b[2*i]) | rune(b[2*i+1])<<8
		switch {
		case u == 0 || u >= 0xD800 && u < 0xE000 || u >= 0xE000 && u < 0xF900 || !unicode.IsPrint(u):
			return nil, false
		case u < 0x80:
			ascii++
		}
	}
	return b, ascii*4 >= n*3
}

// carvedState is the state of one carved value.
func carvedState(c hive.CarvedValue, source, kind, file, key, note string) State {
	d := c.Decode()
	d.Raw = bytes.Clone(d.Raw)
	v := Value{Name: c.Name, Type: c.Type, Data: d, Note: note}
	if !c.NameValid {
		v.NameRaw = bytes.Clone(c.NameRaw)
	}
	return State{Source: source, Kind: kind, File: file, Key: key, Present: true, Values: []Value{v}}
}

// sameData reports whether two values hold the same type and bytes.
func sameData(a, b Value) bool { return a.Type == b.Type && bytes.Equal(a.Data.Raw, b.Data.Raw) }

// markChanges sets each value's Changed marker relative to the previous
// dated state, and adds a row for each value removed since.
func markChanges(states []State) {
	var prev *State
	for i := range states {
		s := &states[i]
		switch {
		case !s.Present:
			if prev != nil && prev.Present {
				for _, pv := range prev.Values {
					s.Values = append(s.Values, Value{Name: pv.Name, NameRaw: pv.NameRaw, Changed: ChangeRemoved, Removed: true})
				}
			}
			if len(s.Values) == 0 {
				s.Values = []Value{{Changed: ChangeNoKey, Removed: true}}
			}
		case prev == nil || !prev.Present:
			for j := range s.Values {
				s.Values[j].Changed = ChangeFirst
				if prev != nil {
					s.Values[j].Changed = ChangeAdded
				}
			}
		default:
			for j := range s.Values {
				v := &s.Values[j]
				pv, ok := findValue(prev.Values, v.Name)
				switch {
				case !ok:
					v.Changed = ChangeAdded
				case sameData(*v, pv):
					v.Changed = ChangeSame
				case bytes.Equal(v.Data.Raw, pv.Data.Raw):
					v.Changed = ChangeType
				default:
					v.Changed = ChangeModified
				}
			}
			for _, pv := range prev.Values {
				if _, ok := findValue(s.Values, pv.Name); !ok {
					s.Values = append(s.Values, Value{Name: pv.Name, NameRaw: pv.NameRaw, Changed: ChangeRemoved, Removed: true})
				}
			}
		}
		// Removed rows are not carried into the next comparison.
		cp := *s
		cp.Values = slices.DeleteFunc(slices.Clone(s.Values), func(v Value) bool { return v.Removed })
		prev = &cp
	}
}

func findValue(vals []Value, name string) (Value, bool) {
	for _, v := range vals {
		if !v.Removed && strings.EqualFold(v.Name, name) {
			return v, true
		}
	}
	return Value{}, false
}

// markCarved marks each carved value: "carved" when no dated state held its
// data, else "carved, same as <source>" naming the first such state.
func markCarved(carved []State, dated []State) []State {
	for i := range carved {
		for j := range carved[i].Values {
			v := &carved[i].Values[j]
			v.Changed = ChangeCarved
			if carved[i].Kind == SourceSlack {
				continue
			}
		search:
			for _, s := range dated {
				for _, dv := range s.Values {
					if !dv.Removed && strings.EqualFold(dv.Name, v.Name) && sameData(dv, *v) {
						v.Changed = ChangeCarved + ", same as " + s.Source
						break search
					}
				}
			}
		}
	}
	return carved
}
