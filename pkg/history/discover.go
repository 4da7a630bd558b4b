package history

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// DiscoverOptions tunes Discover.
type DiscoverOptions struct {
	// Logs are transaction logs given explicitly; each goes to the loose
	// hive whose file name it starts with, else to the only loose hive.
	Logs []string
	// NoLogs reads every hive as it is on disk.
	NoLogs bool
	// AllHives groups every kind of hive (for a key other than the
	// Environment keys); by default only SYSTEM, DEFAULT and user hives.
	AllHives bool
	// HiveOptions are used to open loose hives to learn their kind.
	HiveOptions []hive.Option
}

// Discover finds the hives under paths (collection folders, mounted
// volumes, loose files) and groups each with its copies: per host, SYSTEM
// with config\RegBack\SYSTEM and Windows.old's SYSTEM, each user's
// NTUSER.DAT, DEFAULT. Loose files are grouped by the kind their content
// shows (and, for user hives, the SID their root key's ACL names); a loose
// file under a RegBack or Windows.old folder is that kind of copy, and in
// each group the first other file is the live hive and the rest are
// snapshots. Problems met while discovering are returned with the groups.
func Discover(ctx context.Context, paths []string, opts DiscoverOptions) ([]Group, []error) {
	hosts, err := evidence.Discover(ctx, paths, evidence.Options{})
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	// Discovery may take a Windows.old folder for a volume of its own: its
	// hives are then earlier states of the host whose volume holds it.
	hostOf := map[string]string{}
	for _, h := range hosts {
		if h.Volume != "" && !isWindowsOld(h) {
			hostOf[filepath.Clean(h.Volume)] = h.Name
		}
	}
	var groups []Group
	byName := map[[2]string]int{}
	for _, h := range hosts {
		problems = append(problems, h.Problems...)
		hostName, old := h.Name, false
		if isWindowsOld(h) {
			old = true
			if n, ok := hostOf[filepath.Clean(filepath.Dir(h.Volume))]; ok {
				hostName = n
			}
		}
		for _, g := range hostGroups(h, hostName, old, opts) {
			id := [2]string{hostName, g.Name}
			if i, ok := byName[id]; ok {
				groups[i].Files = append(groups[i].Files, g.Files...)
				continue
			}
			byName[id] = len(groups)
			groups = append(groups, g)
		}
	}
	attachLogs(groups, opts.Logs)
	markSnapshots(groups)
	return groups, problems
}

// HostGroups groups the hives of one discovered host (see Discover). A host
// that discovery made of a Windows.old folder gives Windows.old copies.
func HostGroups(h *evidence.Host, opts DiscoverOptions) []Group {
	groups := hostGroups(h, h.Name, isWindowsOld(h), opts)
	attachLogs(groups, opts.Logs)
	markSnapshots(groups)
	return groups
}

// isWindowsOld reports whether discovery took a Windows.old folder for a
// volume of its own.
func isWindowsOld(h *evidence.Host) bool {
	return h.Volume != "" && strings.EqualFold(filepath.Base(h.Volume), "Windows.old")
}

// markSnapshots makes, in each group, the first file that is not a
// RegBack/Windows.old copy the live hive, and later ones snapshots.
func markSnapshots(groups []Group) {
	for gi := range groups {
		live := false
		for fi := range groups[gi].Files {
			f := &groups[gi].Files[fi]
			if f.Snapshot != "" {
				continue
			}
			if live {
				f.Snapshot = SourceSnapshot
			}
			live = true
		}
	}
}

// hostGroups groups the hive files of one host.
func hostGroups(h *evidence.Host, hostName string, old bool, opts DiscoverOptions) []Group {
	var groups []Group
	byName := map[string]int{}
	add := func(name string, f File) {
		i, ok := byName[name]
		if !ok {
			i = len(groups)
			byName[name] = i
			groups = append(groups, Group{Host: hostName, Name: name})
		}
		groups[i].Files = append(groups[i].Files, f)
	}
	for _, ef := range h.Files {
		if !ef.Kind.IsHive() {
			continue
		}
		f := File{Path: ef.Path, Archive: ef.Archive, NoLogs: opts.NoLogs, Snapshot: ef.Snapshot}
		if old {
			f.Snapshot = SourceWindowsOld
		}
		if ef.ExplicitLogs || ef.Archive != "" {
			// In a ZIP collection nothing can be found beside the file:
			// use the logs discovery listed.
			f.Logs = ef.Logs
		}
		var name string
		switch ef.Kind {
		case evidence.KindNTUSER:
			name = "NTUSER " + ef.Profile
		case evidence.KindSystem, evidence.KindDefault:
			name = string(ef.Kind)
		case evidence.KindHive:
			name = looseGroup(f, opts.HiveOptions)
			if f.Snapshot == "" {
				f.Snapshot = snapshotFromPath(ef.Path)
			}
			if !opts.AllHives && !strings.HasPrefix(name, "NTUSER") && name != "SYSTEM" {
				continue
			}
		default:
			if !opts.AllHives {
				continue
			}
			name = string(ef.Kind)
		}
		add(name, f)
	}
	return groups
}

// looseGroup names the group of a loose hive from its content.
func looseGroup(f File, hopts []hive.Option) string {
	path := f.Path
	h, err := openFile(f, false, append(hopts, hive.WithoutLogs())...)
	if err != nil {
		return "hive " + filepath.Base(path)
	}
	switch t := h.Type(); t {
	case hive.TypeNTUSER:
		if sid := winreg.InferOwnerSID(h); sid != "" {
			return "NTUSER " + sid
		}
		return "NTUSER"
	case hive.TypeUnknown:
		return "hive " + filepath.Base(path)
	default:
		return t.String()
	}
}

// snapshotFromPath recognises a copy by the folders it is in.
func snapshotFromPath(p string) string {
	parts := strings.FieldsFunc(filepath.ToSlash(p), func(r rune) bool { return r == '/' || r == '\\' })
	if len(parts) >= 2 && strings.EqualFold(parts[len(parts)-2], "RegBack") {
		return SourceRegBack
	}
	for _, s := range parts[:max(0, len(parts)-1)] {
		if strings.EqualFold(s, "Windows.old") {
			return SourceWindowsOld
		}
	}
	return ""
}

// attachLogs gives explicit logs to the files they belong to: the file
// whose base name the log's name starts with, else the only file.
func attachLogs(groups []Group, logs []string) {
	if len(logs) == 0 {
		return
	}
	var files []*File
	for gi := range groups {
		for fi := range groups[gi].Files {
			files = append(files, &groups[gi].Files[fi])
		}
	}
	for _, l := range logs {
		var target *File
		base := strings.ToLower(filepath.Base(l))
		for _, f := range files {
			if strings.HasPrefix(base, strings.ToLower(filepath.Base(f.Path))+".") {
				target = f
			}
		}
		if target == nil && len(files) == 1 {
			target = files[0]
		}
		if target != nil {
			target.Logs = append(target.Logs, l)
		}
	}
}
