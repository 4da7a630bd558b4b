// Package timeline turns envhunt's evidence into dated rows for one
// time-ordered list: registry key last-write times, the value changes that
// the rollback history (pkg/history) and the roaming-profile comparison
// (pkg/profile) find, profile load and unload times from ProfileList, trace
// and event-log events, and findings.
//
// Each source is a report.TimelineSource, so the writers, the time filter
// and the merge of pkg/report serve every source, and a new reader adds rows
// by implementing Rows without changing the command. Sources here emit in
// the order their evidence is read (a hive walk is in key order, not time
// order): sort them with report.SortTimeline, which holds the rows it keeps
// in memory, or filter as you collect with Collect.
//
// Row sources and kinds:
//
//	registry  key_last_write     a key's last-write time (Keys)
//	profile   profile_load       ProfileList LocalProfileLoadTimeHigh/Low (Profiles)
//	profile   profile_unload     ProfileList LocalProfileUnloadTimeHigh/Low
//	history   value_first_seen   a value in the oldest dated state (History)
//	history   value_added, value_modified, value_type, value_removed
//	diff      value_added, value_modified, value_removed (Diff; the server copy's side)
//	etw, evtx the event's EventType or category (Events)
//	finding   the finding's level (report.FindingsTimeline)
//
// # Security
//
// Everything a row carries may come from the evidence; the pkg/report writers
// escape it for each format (one record per line in bodyfile and TLN). A
// hive walk is bounded by pkg/hive's limits; Collect holds only the rows the
// filter keeps.
package timeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// Sources of rows (TimelineRow.Source).
const (
	SourceRegistry = "registry"
	SourceProfile  = "profile"
	SourceHistory  = "history"
	SourceDiff     = "diff"
	SourceETW      = "etw"
	SourceEVTX     = "evtx"
)

// Kinds of rows this package emits (TimelineRow.Kind).
const (
	KindKeyLastWrite   = "key_last_write"
	KindProfileLoad    = "profile_load"
	KindProfileUnload  = "profile_unload"
	KindValueFirstSeen = "value_first_seen"
)

// Prefixes selects keys by path prefix. A prefix matches a key when it is the
// key's path relative to the hive root, or its full name (HKLM\SYSTEM\...,
// HKU\<SID>\...), or a leading part of either ending at a `\`; comparison is
// case-insensitive. HKCU\<path> matches <path> in every user hive. CurrentControlSet in a prefix matches the current
// ControlSet00N. An empty Prefixes matches every key.
type Prefixes []string

// match reports whether the key (relative path rel, full name full) is
// selected, and whether a key below it may be.
func (ps Prefixes) match(rel, full string) (keep, descend bool) {
	if len(ps) == 0 {
		return true, true
	}
	for _, p := range ps {
		p = strings.Trim(strings.ReplaceAll(p, "/", `\`), `\`)
		names := []string{rel, full}
		if hasPathPrefix(p, "HKCU") {
			// HKCU\... names a key of every user hive, by its relative path.
			p, names = strings.TrimLeft(p[len("HKCU"):], `\`), names[:1]
		}
		for _, name := range names {
			switch {
			case hasPathPrefix(name, p):
				return true, true
			case hasPathPrefix(p, name):
				descend = true
			}
		}
	}
	return false, descend
}

// hasPathPrefix reports whether s starts with the path p at a component
// boundary, case-insensitively.
func hasPathPrefix(s, p string) bool {
	if p == "" {
		return true
	}
	if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
		return false
	}
	return len(s) == len(p) || s[len(p)] == '\\'
}

// Keys emits one key_last_write row per key of a hive.
type Keys struct {
	Hive *hive.Hive
	// Machine, when set, names keys as rules do (HKU\<SID>\...,
	// HKLM\SYSTEM\CurrentControlSet\...); else Root is put before the
	// hive-relative path.
	Machine *winreg.Machine
	Root    string
	// Prefixes keeps only the keys under these paths.
	Prefixes Prefixes
	// Host, User and File fill the rows.
	Host, User, File string
}

// Rows walks the hive and emits each selected key's last-write time (keys
// without one are skipped). Subtrees no prefix can match are not read.
func (k Keys) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	return k.Hive.Walk(ctx, func(key *hive.Key) error {
		full := k.name(key.Path())
		keep, descend := k.Prefixes.match(key.Path(), full)
		if !keep && k.Machine != nil && k.Machine.System == k.Hive {
			// CurrentControlSet in a prefix names the current set.
			keep, descend = k.Prefixes.match(currentName(k.Machine, key.Path()), full)
		}
		if keep && !key.LastWrite().IsZero() {
			desc := fmt.Sprintf("key last written (%d values, %d subkeys)", key.ValueCount(), key.SubkeyCount())
			if err := emit(report.TimelineRow{Time: key.LastWrite(), Source: SourceRegistry, Kind: KindKeyLastWrite, Host: k.Host, User: k.User, Key: full, Description: desc, File: k.File}); err != nil {
				return err
			}
		}
		if !descend {
			return hive.SkipKey
		}
		return nil
	})
}

func (k Keys) name(rel string) string {
	if k.Machine != nil {
		return k.Machine.KeyName(k.Hive, rel)
	}
	switch {
	case k.Root == "":
		return rel
	case rel == "":
		return k.Root
	}
	return k.Root + `\` + rel
}

// currentName writes ControlSet00N of the current set as CurrentControlSet
// in a SYSTEM-relative path.
func currentName(m *winreg.Machine, rel string) string {
	cs := m.CurrentControlSetPath()
	if cs != "" && hasPathPrefix(rel, cs) {
		return "CurrentControlSet" + rel[len(cs):]
	}
	return rel
}

// Profiles emits the load and unload times SOFTWARE's ProfileList records
// for each profile.
type Profiles struct {
	Machine    *winreg.Machine
	Host, File string
}

// Rows emits profile_load and profile_unload rows, in SID order.
func (p Profiles) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	if p.Machine == nil {
		return nil
	}
	sids := make([]string, 0, len(p.Machine.Profiles))
	for sid := range p.Machine.Profiles {
		sids = append(sids, sid)
	}
	sort.Strings(sids)
	for _, sid := range sids {
		if err := ctx.Err(); err != nil {
			return err
		}
		pr := p.Machine.Profiles[sid]
		user := sid
		for _, u := range p.Machine.Users {
			if strings.EqualFold(u.SID, sid) && u.Name != "" {
				user = u.Name
			}
		}
		key := `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\` + sid
		for _, t := range []struct {
			when time.Time
			kind string
			what string
		}{
			{pr.LoadTime, KindProfileLoad, "profile loaded (LocalProfileLoadTimeHigh/Low)"},
			{pr.UnloadTime, KindProfileUnload, "profile unloaded (LocalProfileUnloadTimeHigh/Low)"},
		} {
			if t.when.IsZero() {
				continue
			}
			desc := t.what
			if pr.ProfileImagePath != "" {
				desc += " " + pr.ProfileImagePath
			}
			if err := emit(report.TimelineRow{Time: t.when, Source: SourceProfile, Kind: t.kind, Host: p.Host, User: user, Key: key, Description: desc, File: p.File}); err != nil {
				return err
			}
		}
	}
	return nil
}

// History emits the value changes of a rollback history: every value of the
// oldest dated state (value_first_seen), then each value added, modified,
// retyped or removed in a later state, at that state's key last-write time.
// Carved values have no time and give no row.
type History struct {
	History *history.History
	// Name, when set, gives a key's full name from its hive-relative path
	// (winreg.Machine.KeyName); else Root is put before the path (HKU\<SID>,
	// HKLM\SYSTEM). Host and User fill the rows.
	Name             func(rel string) string
	Root, Host, User string
}

// Rows emits the history's dated changes in state order.
func (h History) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	if h.History == nil {
		return nil
	}
	for _, s := range h.History.States {
		if s.Carved() || s.Time.IsZero() && s.Present {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, v := range s.Values {
			kind := ""
			switch v.Changed {
			case history.ChangeFirst:
				kind = KindValueFirstSeen
			case history.ChangeAdded, history.ChangeModified, history.ChangeRemoved:
				kind = "value_" + v.Changed
			case history.ChangeType:
				kind = "value_type"
			default:
				continue
			}
			t := s.Time
			if t.IsZero() {
				continue // a missing key has no time of its own
			}
			desc := s.Source + ": " + valueLabel(v.Name)
			if !v.Removed {
				desc += " = " + profile.DataText(v.Data) + " (" + v.Type.String() + ")"
			} else {
				desc += " removed"
			}
			key := s.Key
			switch {
			case h.Name != nil:
				key = h.Name(s.Key)
			case h.Root != "":
				key = h.Root + `\` + s.Key
			}
			if err := emit(report.TimelineRow{Time: t, Source: SourceHistory, Kind: kind, Host: h.Host, User: h.User, Key: key + `\` + valueLabel(v.Name), Description: desc, File: s.File}); err != nil {
				return err
			}
		}
	}
	return nil
}

func valueLabel(name string) string {
	if name == "" {
		return "(Default)"
	}
	return name
}

// Diff emits the value changes between a user's local hive and the server
// copy of a roaming profile (or any two copies compared with
// profile.Diff), at the time of the side that holds the change: the server
// key's last write for values added or modified there, the local key's for
// values only the local copy has.
type Diff struct {
	Changes []profile.Change
	// Root is put before the hive-relative key (HKU\<SID>).
	Root, Host, User string
	// LocalFile and ServerFile name the two copies.
	LocalFile, ServerFile string
}

// Rows emits one row per value change.
func (d Diff) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	for i, c := range d.Changes {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if c.Kind != profile.ValueAdded && c.Kind != profile.ValueModified && c.Kind != profile.ValueRemoved {
			continue
		}
		side, other, file := c.Server, c.Local, d.ServerFile
		where := "server copy"
		if side == nil {
			side, other, file, where = c.Local, nil, d.LocalFile, "local copy only"
		}
		if side == nil || side.LastWrite.IsZero() {
			continue
		}
		name := c.Value
		if c.IsDefault {
			name = "(Default)"
		}
		desc := fmt.Sprintf("%s: %s = %s (%s)", where, name, side.Data, side.Type)
		if other != nil {
			desc += fmt.Sprintf("; local: %s (%s)", other.Data, other.Type)
		}
		key := c.Key
		if d.Root != "" {
			key = strings.TrimSuffix(d.Root+`\`+c.Key, `\`)
		}
		if err := emit(report.TimelineRow{Time: side.LastWrite, Source: SourceDiff, Kind: string(c.Kind), Host: d.Host, User: d.User, Key: key + `\` + name, Description: desc, File: file}); err != nil {
			return err
		}
	}
	return nil
}

// Events emits trace and event-log events as rows (report.EventRow), with
// source "etw" for events read from .etl files and "evtx" for the others.
type Events []*event.Event

// Rows emits each event with a time.
func (es Events) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	for i, e := range es {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if e.Time.IsZero() {
			continue
		}
		if err := emit(report.EventRow(e, EventSource(e))); err != nil {
			return err
		}
	}
	return nil
}

// EventSource names the timeline source of an event by the file it came
// from: "etw" for .etl traces, "evtx" otherwise.
func EventSource(e *event.Event) string {
	f := e.Source.File
	if f == "" {
		f = e.String("EvidenceFile")
	}
	if strings.HasSuffix(strings.ToLower(f), ".etl") {
		return SourceETW
	}
	return SourceEVTX
}

// Collect runs the sources and returns the rows the filter keeps, sorted
// as report.SortTimeline sorts them. A failing source does not stop the others: its error is
// returned, joined with the others', after every source ran.
func Collect(ctx context.Context, sources []report.TimelineSource, filter report.TimelineFilter) ([]report.TimelineRow, error) {
	var rows []report.TimelineRow
	err := report.SortTimeline(ctx, sources, filter, func(r report.TimelineRow) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

// Slice is a TimelineSource over rows already collected.
type Slice []report.TimelineRow

// Rows emits the rows in order.
func (s Slice) Rows(ctx context.Context, emit func(report.TimelineRow) error) error {
	for i, r := range s {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}
