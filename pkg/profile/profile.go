// Package profile compares two copies of a registry hive value by value —
// typically a user's local NTUSER.DAT and the server copy of a roaming
// profile (\\server\profiles\user.V6\NTUSER.DAT), or two snapshots of one
// machine — and says which copy Windows would load at the next logon and what
// that does to HKCU\Environment.
//
// Unlike tools that compare key paths and value names only, the comparison
// looks at value types and data, key last-write times (to the 100 ns) and
// security descriptors, so a Path rewritten under the same name is found.
// It is a single pass over both trees in key order: subkeys are matched by
// name, case-insensitively, after sorting, never by quadratic search.
//
// # The verdict
//
// At logon, Windows compares the time stamps of the local and the server
// copy of NTUSER.DAT and loads the newer one (the last session to log off
// wins; see docs/roaming.md for the sources). Offline the decision uses the
// best clock the evidence has: file times when the caller trusts them
// (a mounted image or a collector that preserved them), else the base
// block's last-written time, else the newest key last-write time.
package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// ChangeKind names a kind of difference. "Added" means present only in the
// second (server, or after) hive.
type ChangeKind string

const (
	KeyAdded      ChangeKind = "key_added"
	KeyRemoved    ChangeKind = "key_removed"
	ValueAdded    ChangeKind = "value_added"
	ValueRemoved  ChangeKind = "value_removed"
	ValueModified ChangeKind = "value_modified"
	KeyTimestamp  ChangeKind = "key_timestamp"
	ACLChanged    ChangeKind = "acl_changed"
)

// Kinds lists every change kind in report order.
var Kinds = []ChangeKind{KeyAdded, KeyRemoved, ValueAdded, ValueRemoved, ValueModified, KeyTimestamp, ACLChanged}

// Side is one hive's state of a changed key or value.
type Side struct {
	// Type and Data describe a value (Data as text: strings, integers,
	// lists joined with newlines, other types as hex).
	Type string
	Data string
	// Raw is the value's exact data.
	Raw []byte
	// LastWrite is the key's last-write time.
	LastWrite time.Time
	// Descriptor is the key's security descriptor (for acl_changed).
	Descriptor []byte
}

// Change is one difference. Key is the path relative to the hive root.
type Change struct {
	Kind  ChangeKind
	Key   string
	Value string // "" for key-level changes and the default value
	// IsDefault is true when Value is the default value.
	IsDefault bool
	// Local and Server are nil where the key or value is absent.
	Local, Server *Side
}

// InEnvironment reports whether the change is in the Environment key (or a
// value of it).
func (c Change) InEnvironment() bool { return strings.EqualFold(c.Key, "Environment") }

// Options tunes Diff.
type Options struct {
	// Key limits the comparison to a subtree ("" = the whole hive).
	Key string
	// LocalFileTime and ServerFileTime are the files' modification times,
	// used for the verdict when both are set: pass them only when the
	// evidence preserved them.
	LocalFileTime, ServerFileTime time.Time
	// IgnoreTimestamps leaves out key_timestamp changes.
	IgnoreTimestamps bool
}

// Winners of the verdict.
const (
	WinnerLocal        = "local"
	WinnerServer       = "server"
	WinnerUndetermined = "undetermined"
)

// Clocks that can decide the verdict.
const (
	ByFileTimes   = "file times"
	ByBaseBlock   = "base block last written"
	ByNewestKey   = "newest key last write"
	ByNothing     = "no usable time"
	ByEqualClocks = "equal times"
)

// Summary is the result of a comparison.
type Summary struct {
	Counts map[ChangeKind]int
	// Keys and Values count each hive's keys and values under the compared
	// subtree.
	LocalKeys, LocalValues, ServerKeys, ServerValues int
	Local, Server                                    HiveFacts
	Winner                                           string
	DecidedBy                                        string
	// LocalTime and ServerTime are the times the verdict compared.
	LocalTime, ServerTime time.Time
	// Environment lists what the winning copy does to HKCU\Environment:
	// the Environment changes as seen from the loser's side.
	Environment []Change
	// Repeated counts keys met a second time under another parent (a
	// damaged or hostile hive that shares key cells): each is compared once.
	Repeated int
	// StaleServerEnvironment is true when the server copy is the newer
	// file but its Environment key is older than the local one: loading it
	// puts older environment values back.
	StaleServerEnvironment bool
}

// HiveFacts are base-block facts of one side.
type HiveFacts struct {
	File                   string
	LastWritten            time.Time
	PrimarySeq, SecondSeq  uint32
	Dirty, Recovered       bool
	NewestKey              time.Time
	EnvironmentLastWritten time.Time
}

// Diff compares local with server and calls emit with each change in key
// order (a key's own changes, then its values, then its subkeys). It returns
// the summary with the verdict.
func Diff(ctx context.Context, local, server *hive.Hive, opts Options, emit func(Change) error) (*Summary, error) {
	sum := &Summary{Counts: map[ChangeKind]int{}, Local: facts(local), Server: facts(server)}
	lk, err := openOrNil(local, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", local.Name(), err)
	}
	sk, err := openOrNil(server, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", server.Name(), err)
	}
	if lk == nil && sk == nil {
		return nil, fmt.Errorf("key %q: %w in either hive", opts.Key, hive.ErrNotFound)
	}
	d := &differ{ctx: ctx, opts: opts, sum: sum, emit: emit, seenLocal: map[int64]bool{}, seenServer: map[int64]bool{}, listsLocal: map[uint32]bool{}, listsServer: map[uint32]bool{}}
	if err := d.pair(opts.Key, lk, sk, 0); err != nil {
		return sum, err
	}
	sum.Local.NewestKey, sum.Server.NewestKey = d.newestLocal, d.newestServer
	sum.Local.EnvironmentLastWritten = keyTime(local, "Environment")
	sum.Server.EnvironmentLastWritten = keyTime(server, "Environment")
	verdict(sum, opts)
	return sum, nil
}

func openOrNil(h *hive.Hive, path string) (*hive.Key, error) {
	k, err := h.OpenKey(path)
	if errors.Is(err, hive.ErrNotFound) {
		return nil, nil
	}
	return k, err
}

func keyTime(h *hive.Hive, path string) time.Time {
	if k, err := h.OpenKey(path); err == nil {
		return k.LastWrite()
	}
	return time.Time{}
}

func facts(h *hive.Hive) HiveFacts {
	bb := h.BaseBlock()
	return HiveFacts{File: h.Name(), LastWritten: bb.LastWritten, PrimarySeq: bb.PrimarySeq, SecondSeq: bb.SecondarySeq, Dirty: h.Dirty(), Recovered: h.Recovered()}
}

// maxDepth bounds the comparison's recursion (the hive reader caps depth
// too).
const maxDepth = 512

type differ struct {
	ctx                       context.Context
	opts                      Options
	sum                       *Summary
	emit                      func(Change) error
	newestLocal, newestServer time.Time
	n                         int
	// seen holds the key cells already compared, per side: a hostile hive
	// can list one key (or one subkey list) under many parents, and
	// comparing it again under each would multiply the work.
	seenLocal, seenServer map[int64]bool
	// lists holds the subkey lists already read, per side, for the same
	// reason.
	listsLocal, listsServer map[uint32]bool
}

func (d *differ) out(c Change) error {
	d.sum.Counts[c.Kind]++
	if c.InEnvironment() {
		d.sum.Environment = append(d.sum.Environment, c)
	}
	if d.emit == nil {
		return nil
	}
	return d.emit(c)
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + `\` + name
}

// pair compares a key present in one or both hives.
func (d *differ) pair(path string, l, s *hive.Key, depth int) error {
	if d.n++; d.n%1024 == 0 {
		if err := d.ctx.Err(); err != nil {
			return err
		}
	}
	if depth > maxDepth {
		return fmt.Errorf("key %s: deeper than %d levels, comparison stopped", path, maxDepth)
	}
	if (l != nil && d.seenLocal[l.Offset()]) || (s != nil && d.seenServer[s.Offset()]) {
		d.sum.Repeated++
		return nil
	}
	if l != nil {
		d.seenLocal[l.Offset()] = true
	}
	if s != nil {
		d.seenServer[s.Offset()] = true
	}
	if l != nil {
		d.sum.LocalKeys++
		if t := l.LastWrite(); t.After(d.newestLocal) {
			d.newestLocal = t
		}
	}
	if s != nil {
		d.sum.ServerKeys++
		if t := s.LastWrite(); t.After(d.newestServer) {
			d.newestServer = t
		}
	}
	switch {
	case l == nil:
		if err := d.out(Change{Kind: KeyAdded, Key: path, Server: &Side{LastWrite: s.LastWrite()}}); err != nil {
			return err
		}
	case s == nil:
		if err := d.out(Change{Kind: KeyRemoved, Key: path, Local: &Side{LastWrite: l.LastWrite()}}); err != nil {
			return err
		}
	default:
		if !d.opts.IgnoreTimestamps && l.LastWriteRaw() != s.LastWriteRaw() {
			if err := d.out(Change{Kind: KeyTimestamp, Key: path, Local: &Side{LastWrite: l.LastWrite()}, Server: &Side{LastWrite: s.LastWrite()}}); err != nil {
				return err
			}
		}
		ld, sd := descriptor(l), descriptor(s)
		if !bytes.Equal(ld, sd) {
			if err := d.out(Change{Kind: ACLChanged, Key: path, Local: &Side{LastWrite: l.LastWrite(), Descriptor: ld}, Server: &Side{LastWrite: s.LastWrite(), Descriptor: sd}}); err != nil {
				return err
			}
		}
	}
	if err := d.values(path, l, s); err != nil {
		return err
	}
	lsubs, ssubs := d.subkeys(l, d.listsLocal), d.subkeys(s, d.listsServer)
	i, j := 0, 0
	for i < len(lsubs) || j < len(ssubs) {
		var lc, sc *hive.Key
		switch {
		case j >= len(ssubs):
			lc = lsubs[i]
			i++
		case i >= len(lsubs):
			sc = ssubs[j]
			j++
		default:
			c := strings.Compare(fold(lsubs[i].Name()), fold(ssubs[j].Name()))
			switch {
			case c < 0:
				lc = lsubs[i]
				i++
			case c > 0:
				sc = ssubs[j]
				j++
			default:
				lc, sc = lsubs[i], ssubs[j]
				i++
				j++
			}
		}
		name := ""
		if lc != nil {
			name = lc.Name()
		} else {
			name = sc.Name()
		}
		if err := d.pair(join(path, name), lc, sc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func fold(s string) string { return strings.ToUpper(s) }

func descriptor(k *hive.Key) []byte {
	sec, err := k.Security()
	if err != nil || sec == nil {
		return nil
	}
	return sec.Descriptor
}

// subkeys returns k's subkeys sorted by folded name (nil for nil, and for
// a subkey list another key of the same hive has already claimed).
func (d *differ) subkeys(k *hive.Key, lists map[uint32]bool) []*hive.Key {
	if k == nil {
		return nil
	}
	if l := k.SubkeyList(); l != 0 {
		if lists[l] {
			d.sum.Repeated++
			return nil
		}
		lists[l] = true
	}
	subs, _ := k.Subkeys()
	slices.SortStableFunc(subs, func(a, b *hive.Key) int { return strings.Compare(fold(a.Name()), fold(b.Name())) })
	return subs
}

type valueSide struct {
	name string
	v    *hive.Value
}

func values(k *hive.Key) []valueSide {
	if k == nil {
		return nil
	}
	vals, _ := k.Values()
	out := make([]valueSide, 0, len(vals))
	for _, v := range vals {
		out = append(out, valueSide{name: v.Name(), v: v})
	}
	slices.SortStableFunc(out, func(a, b valueSide) int { return strings.Compare(fold(a.name), fold(b.name)) })
	return out
}

func side(v *hive.Value, k *hive.Key) *Side {
	raw, _ := v.Data()
	s := &Side{Type: v.Type().String(), Raw: raw, LastWrite: k.LastWrite()}
	if d, err := v.Decode(); err == nil {
		s.Data = DataText(d)
	}
	return s
}

// DataText renders value data for comparison output: strings as they are,
// REG_MULTI_SZ joined with newlines, integers in decimal, other types as
// hex.
func DataText(d hive.Data) string {
	switch d.Type {
	case hive.RegSZ, hive.RegExpandSZ, hive.RegLink:
		return d.Text
	case hive.RegMultiSZ:
		return strings.Join(d.Strings, "\n")
	case hive.RegDWORD, hive.RegDWORDBigEndian, hive.RegQWORD:
		if len(d.Raw) == 0 {
			return ""
		}
		return fmt.Sprint(d.Int)
	}
	return fmt.Sprintf("%x", d.Raw)
}

func (d *differ) values(path string, l, s *hive.Key) error {
	lv, sv := values(l), values(s)
	d.sum.LocalValues += len(lv)
	d.sum.ServerValues += len(sv)
	i, j := 0, 0
	for i < len(lv) || j < len(sv) {
		var c Change
		switch {
		case j >= len(sv) || (i < len(lv) && fold(lv[i].name) < fold(sv[j].name)):
			c = Change{Kind: ValueRemoved, Key: path, Value: lv[i].name, Local: side(lv[i].v, l)}
			i++
		case i >= len(lv) || fold(lv[i].name) > fold(sv[j].name):
			c = Change{Kind: ValueAdded, Key: path, Value: sv[j].name, Server: side(sv[j].v, s)}
			j++
		default:
			ls, ss := side(lv[i].v, l), side(sv[j].v, s)
			name := lv[i].name
			i++
			j++
			if ls.Type == ss.Type && bytes.Equal(ls.Raw, ss.Raw) {
				continue
			}
			c = Change{Kind: ValueModified, Key: path, Value: name, Local: ls, Server: ss}
		}
		c.IsDefault = c.Value == ""
		if err := d.out(c); err != nil {
			return err
		}
	}
	return nil
}

// verdict decides which copy Windows would load.
func verdict(sum *Summary, opts Options) {
	pick := func(l, s time.Time, by string) bool {
		if l.IsZero() || s.IsZero() {
			return false
		}
		sum.LocalTime, sum.ServerTime, sum.DecidedBy = l, s, by
		switch {
		case s.After(l):
			sum.Winner = WinnerServer
		case l.After(s):
			sum.Winner = WinnerLocal
		default:
			sum.Winner, sum.DecidedBy = WinnerUndetermined, ByEqualClocks+" ("+by+")"
		}
		return true
	}
	if !pick(opts.LocalFileTime, opts.ServerFileTime, ByFileTimes) &&
		!pick(sum.Local.LastWritten, sum.Server.LastWritten, ByBaseBlock) &&
		!pick(sum.Local.NewestKey, sum.Server.NewestKey, ByNewestKey) {
		sum.Winner, sum.DecidedBy = WinnerUndetermined, ByNothing
	}
	le, se := sum.Local.EnvironmentLastWritten, sum.Server.EnvironmentLastWritten
	sum.StaleServerEnvironment = sum.Winner == WinnerServer && !le.IsZero() && !se.IsZero() && se.Before(le) && len(sum.Environment) > 0
}

// Describe is a one-line account of the verdict for text output.
func (s *Summary) Describe() string {
	switch s.Winner {
	case WinnerServer, WinnerLocal:
		return fmt.Sprintf("the %s copy wins at logon (%s: local %s, server %s)", s.Winner, s.DecidedBy, wintime.Format(s.LocalTime), wintime.Format(s.ServerTime))
	}
	return "which copy wins cannot be told (" + s.DecidedBy + ")"
}
