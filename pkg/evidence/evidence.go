// Package evidence finds Windows evidence in what a responder points envhunt
// at: a mounted C: volume, a triage collection (KAPE, Velociraptor, CyLR, a
// plain copy of config and profile folders) holding one or many hosts, or
// loose files. It groups files by host, classifies them (hives and their
// transaction logs, traces, event logs, Group Policy files, Go's env file)
// and ties profile hives to their profile folders.
//
// Collections packed as ZIP files (a Velociraptor offline collection, a KAPE
// zip, a responder's archive) are read in place, given directly or found
// inside a tree: their members become files whose Path is the archive's path
// followed by the member's name, read with Open or ReadFile (decompressed in
// memory, bounded); nothing is extracted.
//
// Group Policy files are found in the local policy
// (Windows\System32\GroupPolicy\{Machine,User}), SYSVOL Policies\{GUID}
// trees and the machine and per-user history caches; each carries the
// policy GUID and scope its path names, and script bodies in a policy's
// Scripts\<Phase> folders are listed as KindGPOScript.
//
// Discovery only reads directory listings: nothing under the evidence paths is
// opened for writing, renamed or locked, and symbolic links are not followed.
// Hive files are classified by their location here; pkg/winreg confirms the
// kind from content, so renamed loose files still work.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kind says what an evidence file is.
type Kind string

const (
	KindSystem   Kind = "SYSTEM"
	KindSoftware Kind = "SOFTWARE"
	KindSecurity Kind = "SECURITY"
	KindSAM      Kind = "SAM"
	KindDefault  Kind = "DEFAULT"
	KindNTUSER   Kind = "NTUSER"
	KindUsrClass Kind = "UsrClass"
	KindAmcache  Kind = "Amcache"
	// KindHive is a regf file whose role is not known from its location (a
	// loose file): the reader decides from its content.
	KindHive  Kind = "hive"
	KindETL   Kind = "etl"
	KindEVTX  Kind = "evtx"
	KindGPO   Kind = "gpo"
	KindGoEnv Kind = "go-env"
	// KindGPOScript is a file in a Group Policy Scripts\<Phase> folder: the
	// body of a script that scripts.ini or psscripts.ini names.
	KindGPOScript Kind = "gpo-script"
)

// IsHive reports whether files of kind k are registry hives.
func (k Kind) IsHive() bool {
	switch k {
	case KindSystem, KindSoftware, KindSecurity, KindSAM, KindDefault, KindNTUSER, KindUsrClass, KindAmcache, KindHive:
		return true
	}
	return false
}

// File is one evidence file.
type File struct {
	// Path is where the file is on this machine.
	Path string
	// WinPath is its path on the original volume in Windows form
	// (`Users\alice\NTUSER.DAT`), without a drive, when known.
	WinPath string
	Kind    Kind
	// Logs are the transaction logs found beside a hive, by base name.
	Logs []string
	// ExplicitLogs is true when Logs were named by the user (--log) rather
	// than found beside the hive.
	ExplicitLogs bool
	// Profile is the profile folder name for NTUSER.DAT and UsrClass.dat
	// (`alice` for Users\alice\NTUSER.DAT; `Default` for the template).
	Profile string
	// Snapshot names an earlier state: "RegBack" (config\RegBack),
	// "Windows.old", or "" for the live file.
	Snapshot string
	// Mandatory is true for NTUSER.MAN (a mandatory profile).
	Mandatory bool
	// Archive is the ZIP file that holds this file ("" for a file on
	// disk). Path is then Archive + "/" + the member's name: read it with
	// Open or ReadFile, which read members in place.
	Archive string
	// Size is the file's size in bytes as the directory or archive lists it.
	Size int64
	// Scope is "Machine" or "User" for Group Policy files (from the
	// Machine/User folder, or a user SID or profile folder in a history
	// cache), "" when the path does not say.
	Scope string
	// GPO is the policy's GUID ({...}) taken from the path (SYSVOL
	// Policies\{GUID}, History\{GUID}); "" for the local policy.
	GPO string
	// SID is the user SID a Group Policy history folder is named after.
	SID string
}

// Host is the evidence of one machine.
type Host struct {
	// Name is the collection's name for the host (its folder), replaced by
	// the ComputerName from the SYSTEM hive when the scanner reads it.
	Name string
	// Root is the host's folder in the collection ("" for loose files).
	Root string
	// Volume is the folder that stands for C:\ ("" when unknown).
	Volume string
	Files  []File
	// Archive is the ZIP file the host was found in ("" on disk).
	Archive string
	// Problems lists what could not be read while discovering (unreadable
	// directories, links not followed).
	Problems []error
}

// Files of one kind, in discovery order.
func (h *Host) ByKind(k Kind) []File {
	var out []File
	for _, f := range h.Files {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// Hives returns every hive file of the host.
func (h *Host) Hives() []File {
	var out []File
	for _, f := range h.Files {
		if f.Kind.IsHive() {
			out = append(out, f)
		}
	}
	return out
}

// Options tunes discovery.
type Options struct {
	// MaxFiles bounds how many directory entries a walk visits (default
	// 5,000,000), so a hostile or huge tree cannot make discovery endless.
	MaxFiles int
}

// Discover finds the hosts under paths. Directories are walked; files given
// directly form one host of loose files (hives, logs, traces, event logs,
// together). Problems that do not stop discovery are recorded on the hosts;
// an error is returned only when a path cannot be read at all.
func Discover(ctx context.Context, paths []string, opts Options) ([]*Host, error) {
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 5_000_000
	}
	var hosts []*Host
	var loose []string
	var errs []error
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("evidence: %w", err))
			continue
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			// A link given explicitly on the command line is the user's
			// choice: follow it once.
			if st, err = os.Stat(p); err != nil {
				errs = append(errs, fmt.Errorf("evidence: %w", err))
				continue
			}
		}
		if !st.IsDir() && !st.Mode().IsRegular() {
			// A pipe, device or socket: opening it could block forever
			// or read a device, never evidence.
			errs = append(errs, fmt.Errorf("evidence: %s: not a regular file (%s), not read", p, st.Mode().Type()))
			continue
		}
		if !st.IsDir() && isZipName(p) {
			// A collection packed as a ZIP file is a tree of its own.
			visited := 0
			entries, err := zipEntries(ctx, p, nil, &visited, opts.MaxFiles)
			if err != nil {
				errs = append(errs, err)
			}
			hosts = append(hosts, groupHosts(p, entries)...)
			continue
		}
		if st.IsDir() {
			hs, err := discoverDir(ctx, p, opts)
			if err != nil {
				errs = append(errs, err)
			}
			hosts = append(hosts, hs...)
			continue
		}
		loose = append(loose, p)
	}
	if len(loose) > 0 {
		hosts = append(hosts, looseHost(loose))
	}
	if len(hosts) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("evidence: no hives, traces, event logs or Group Policy files found under %s", strings.Join(paths, ", ")))
	}
	return hosts, errors.Join(errs...)
}

// looseHost groups loose files into one host, attaching logs given beside
// their hives.
func looseHost(paths []string) *Host {
	h := &Host{Name: "loose"}
	var logs []string
	for _, p := range paths {
		base := strings.ToLower(filepath.Base(p))
		switch {
		case isLogName(base):
			logs = append(logs, p)
		case strings.HasSuffix(base, ".etl"):
			h.Files = append(h.Files, File{Path: p, Kind: KindETL})
		case strings.HasSuffix(base, ".evtx"):
			h.Files = append(h.Files, File{Path: p, Kind: KindEVTX})
		case base == "registry.pol" || base == "scripts.ini" || base == "psscripts.ini" || base == "environmentvariables.xml" || base == "registry.xml":
			h.Files = append(h.Files, File{Path: p, Kind: KindGPO})
		default:
			h.Files = append(h.Files, File{Path: p, Kind: KindHive, Mandatory: base == "ntuser.man"})
		}
	}
	for i := range h.Files {
		f := &h.Files[i]
		if !f.Kind.IsHive() {
			continue
		}
		stem := strings.ToLower(filepath.Base(f.Path))
		for _, l := range logs {
			if logBelongsTo(strings.ToLower(filepath.Base(l)), stem) {
				f.Logs = append(f.Logs, l)
			}
		}
		if len(f.Logs) == 0 {
			f.Logs = siblingLogs(f.Path)
		}
	}
	if len(paths) > 0 {
		h.Name = "loose"
	}
	return h
}

func isLogName(lower string) bool {
	return strings.HasSuffix(lower, ".log") || strings.HasSuffix(lower, ".log1") || strings.HasSuffix(lower, ".log2")
}

func logBelongsTo(logLower, hiveLower string) bool {
	return logLower == hiveLower+".log" || logLower == hiveLower+".log1" || logLower == hiveLower+".log2"
}

// siblingLogs lists <hive>.LOG, .LOG1 and .LOG2 beside a hive,
// case-insensitively, skipping empty files.
func siblingLogs(hivePath string) []string {
	dir := filepath.Dir(hivePath)
	stem := strings.ToLower(filepath.Base(hivePath))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() || !logBelongsTo(strings.ToLower(e.Name()), stem) {
			continue
		}
		if info, err := e.Info(); err == nil && info.Size() > 0 && info.Mode().IsRegular() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// entry is one file met during a walk, with its path relative to the walk
// root, unescaped and split, in lower case for matching.
type entry struct {
	path    string
	parts   []string // lower-case, unescaped path elements relative to the walk root
	size    int64
	archive string // the ZIP file holding the entry, "" on disk
}

// unescapeName undoes the escaping triage tools apply to names (KAPE and
// Velociraptor write "C%3A" for "C:"); names that are not valid escapes are
// kept as they are.
func unescapeName(name string) string {
	if !strings.Contains(name, "%") {
		return name
	}
	if u, err := url.PathUnescape(name); err == nil {
		return u
	}
	return name
}

func discoverDir(ctx context.Context, root string, opts Options) ([]*Host, error) {
	var entries []entry
	var problems []error
	visited := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			problems = append(problems, fmt.Errorf("evidence: %v", err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if visited++; visited > opts.MaxFiles {
			return fmt.Errorf("evidence: %s: more than %d entries, stopped (raise the limit to read further)", root, opts.MaxFiles)
		}
		if visited%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if d.Type()&fs.ModeSymlink != 0 {
			problems = append(problems, fmt.Errorf("evidence: %s: symbolic link not followed", p))
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		for i, s := range parts {
			parts[i] = strings.ToLower(unescapeName(s))
		}
		if isZipName(d.Name()) && volumeStart(parts[:len(parts)-1]) < 0 {
			// A ZIP collection inside the tree: its members are entries
			// below the archive's own name, read in place. Archives inside
			// a Windows volume (a user's downloads, installers under
			// Program Files) are the machine's files, not collections:
			// they are not opened.
			zs, err := zipEntries(ctx, p, parts, &visited, opts.MaxFiles)
			if err != nil {
				if isCanceled(err) {
					return err
				}
				problems = append(problems, err)
			}
			entries = append(entries, zs...)
			return nil
		}
		var size int64
		if info, err := d.Info(); err == nil {
			size = info.Size()
		}
		entries = append(entries, entry{path: p, parts: parts, size: size})
		return nil
	})
	if err != nil {
		return nil, err
	}
	hosts := groupHosts(root, entries)
	if len(hosts) > 0 {
		hosts[0].Problems = append(hosts[0].Problems, problems...)
	}
	return hosts, nil
}

// volumeIndex returns the index in parts where a Windows volume's content
// starts (the element after the volume folder), or -1: the position of
// "windows" in windows/system32/config/..., or of "users" in users/<u>/...
func volumeStart(parts []string) int {
	for i := 0; i+1 < len(parts); i++ {
		switch parts[i] {
		case "windows", "windows.old":
			return i
		case "users", "documents and settings":
			if i+2 < len(parts) {
				return i
			}
		case "programdata":
			return i
		}
	}
	return -1
}

func groupHosts(root string, entries []entry) []*Host {
	// A volume is the directory holding Windows\System32\config\SYSTEM, or,
	// without one, holding Users\<name>\NTUSER.DAT.
	type vol struct {
		prefix []string
		host   *Host
	}
	var vols []*vol
	findVol := func(prefix []string) *vol {
		for _, v := range vols {
			if equalParts(v.prefix, prefix) {
				return v
			}
		}
		return nil
	}
	for _, e := range entries {
		n := len(e.parts)
		isSystem := n >= 4 && e.parts[n-1] == "system" && e.parts[n-2] == "config" && e.parts[n-3] == "system32" && e.parts[n-4] == "windows"
		isNTUser := n >= 3 && (e.parts[n-1] == "ntuser.dat" || e.parts[n-1] == "ntuser.man") && e.parts[n-3] == "users"
		var prefix []string
		switch {
		case isSystem:
			prefix = e.parts[:n-4]
		case isNTUser:
			prefix = e.parts[:n-3]
		default:
			continue
		}
		if findVol(prefix) == nil {
			vols = append(vols, &vol{prefix: append([]string(nil), prefix...)})
		}
	}
	// Windows.old holds the previous installation of the volume above it:
	// its hives are earlier states of that host, not a host of their own.
	kept := vols[:0]
	for _, v := range vols {
		if k := len(v.prefix); k > 0 && v.prefix[k-1] == "windows.old" && findVol(v.prefix[:k-1]) != nil {
			continue
		}
		kept = append(kept, v)
	}
	vols = kept
	// Longest prefix first, so nested layouts attach to the deepest volume.
	sort.SliceStable(vols, func(i, j int) bool { return len(vols[i].prefix) > len(vols[j].prefix) })
	for _, v := range vols {
		dir := filepath.Join(append([]string{root}, originalParts(root, entries, v.prefix)...)...)
		v.host = &Host{Name: hostName(root, v.prefix, dir), Root: hostRoot(root, v.prefix, dir), Volume: dir}
		if a := archiveOf(entries, v.prefix); a != "" {
			// The volume is inside a ZIP file: there is no folder on disk to
			// look files up in.
			v.host.Archive, v.host.Volume = a, ""
		}
	}
	var loose *Host
	for _, e := range entries {
		var v *vol
		for _, cand := range vols {
			if hasPrefix(e.parts, cand.prefix) {
				v = cand
				break
			}
		}
		if v != nil {
			if f, ok := classify(e.path, e.parts[len(v.prefix):]); ok {
				f.Size, f.Archive = e.size, e.archive
				v.host.Files = append(v.host.Files, f)
			}
			continue
		}
		// Files outside any volume: loose evidence of the walk root.
		if f, ok := classifyLoose(e.path, e.parts); ok {
			if loose == nil {
				loose = &Host{Name: rootName(root), Root: root}
				if isZipName(root) {
					loose.Archive = root
				}
			}
			f.Size, f.Archive = e.size, e.archive
			// Its path below the walked folder, in Windows form.
			f.WinPath = winPath(e.path, len(e.parts))
			loose.Files = append(loose.Files, f)
		}
	}
	var hosts []*Host
	for i := len(vols) - 1; i >= 0; i-- {
		hosts = append(hosts, vols[i].host)
	}
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Volume < hosts[j].Volume })
	if loose != nil && len(loose.Files) > 0 {
		hosts = append(hosts, loose)
	}
	attachEntryLogs(hosts, entries)
	return hosts
}

// rootName names a host after a walk root: its base name, without .zip.
func rootName(root string) string {
	b := filepath.Base(filepath.Clean(root))
	if isZipName(b) {
		b = b[:len(b)-4]
	}
	return b
}

// archiveOf returns the ZIP file holding the entries under prefix, "" when
// they are on disk.
func archiveOf(entries []entry, prefix []string) string {
	for _, e := range entries {
		if hasPrefix(e.parts, prefix) {
			return e.archive
		}
	}
	return ""
}

// attachEntryLogs gives each hive the non-empty <hive>.LOG, .LOG1 and .LOG2
// entries of its own folder (case-insensitively; on disk or in the same
// archive), from the walk's listing rather than a second directory read.
func attachEntryLogs(hosts []*Host, entries []entry) {
	byDir := map[string][]entry{}
	for _, e := range entries {
		if isLogName(e.parts[len(e.parts)-1]) && e.size > 0 {
			d := strings.Join(e.parts[:len(e.parts)-1], "/")
			byDir[d] = append(byDir[d], e)
		}
	}
	if len(byDir) == 0 {
		return
	}
	index := map[string][]string{} // entry path -> lower-case dir key
	for _, e := range entries {
		index[e.path] = e.parts
	}
	for _, h := range hosts {
		for i := range h.Files {
			f := &h.Files[i]
			parts, ok := index[f.Path]
			if !f.Kind.IsHive() || !ok || len(f.Logs) > 0 {
				continue
			}
			stem := parts[len(parts)-1]
			for _, l := range byDir[strings.Join(parts[:len(parts)-1], "/")] {
				if logBelongsTo(l.parts[len(l.parts)-1], stem) {
					f.Logs = append(f.Logs, l.path)
				}
			}
			sort.Strings(f.Logs)
		}
	}
}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func equalParts(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hasPrefix(parts, prefix []string) bool {
	return len(parts) > len(prefix) && equalParts(parts[:len(prefix)], prefix)
}

// originalParts returns the on-disk names for a lower-cased prefix, taken
// from any entry that has it.
func originalParts(root string, entries []entry, prefix []string) []string {
	for _, e := range entries {
		if hasPrefix(e.parts, prefix) {
			rel, _ := filepath.Rel(root, e.path)
			all := strings.Split(filepath.ToSlash(rel), "/")
			return all[:len(prefix)]
		}
	}
	return nil
}

// volumeFolder reports whether a folder name stands for a drive (KAPE's "C",
// Velociraptor's "C%3A", a copied "C:" or "C_").
func volumeFolder(lower string) bool {
	if len(lower) == 1 && lower[0] >= 'a' && lower[0] <= 'z' {
		return true
	}
	if len(lower) == 2 && lower[0] >= 'a' && lower[0] <= 'z' && (lower[1] == ':' || lower[1] == '_') {
		return true
	}
	// Velociraptor's raw NTFS accessor names the device: \\.\C:
	if d, ok := strings.CutPrefix(lower, `\\.\`); ok {
		return volumeFolder(d)
	}
	return false
}

// hostName names a host after its collection folder: the folder above the
// drive folder and the collector's own folders (uploads/auto, uploads/ntfs).
func hostName(root string, prefix []string, volDir string) string {
	i := len(prefix)
	if i > 0 && volumeFolder(prefix[i-1]) {
		i--
	}
	for i > 0 && (prefix[i-1] == "auto" || prefix[i-1] == "ntfs" || prefix[i-1] == "uploads" || prefix[i-1] == "mft" || strings.HasPrefix(prefix[i-1], `\\.\`)) {
		i--
	}
	if i == 0 {
		return rootName(root)
	}
	dir := volDir
	for k := len(prefix); k > i; k-- {
		dir = filepath.Dir(dir)
	}
	return rootName(dir)
}

func hostRoot(root string, prefix []string, volDir string) string {
	i := len(prefix)
	dir := volDir
	if i > 0 && volumeFolder(prefix[i-1]) {
		dir = filepath.Dir(dir)
	}
	return dir
}

// classify decides what a file inside a volume is from its path below the
// volume folder.
func classify(path string, rel []string) (File, bool) {
	n := len(rel)
	name := rel[n-1]
	win := winPath(path, n)
	f := File{Path: path, WinPath: win}
	at := func(seq ...string) bool { // rel starts with seq
		if len(rel) < len(seq) {
			return false
		}
		for i, s := range seq {
			if rel[i] != s {
				return false
			}
		}
		return true
	}
	inConfig := func(base []string) (string, bool) { // base.../config/NAME or config/regback/NAME
		if n == len(base)+1 && at(base...) {
			return "", true
		}
		if n == len(base)+2 && at(base...) && rel[len(base)] == "regback" {
			return "RegBack", true
		}
		return "", false
	}
	if isLogName(name) {
		return File{}, false // attached to their hive later
	}
	if n > 2 && rel[0] == "windows.old" && rel[1] != "windows" {
		// Profiles of the previous installation (Windows.old\Users\...):
		// earlier states of this host's user hives.
		if of, ok := classify(path, rel[1:]); ok && of.Kind.IsHive() {
			of.WinPath, of.Snapshot = win, "Windows.old"
			return of, true
		}
		return File{}, false
	}
	for _, base := range [][]string{{"windows", "system32", "config"}, {"windows.old", "windows", "system32", "config"}} {
		if snap, ok := inConfig(base); ok {
			if base[0] == "windows.old" {
				snap = "Windows.old"
			}
			f.Snapshot = snap
			switch name {
			case "system":
				f.Kind = KindSystem
			case "software":
				f.Kind = KindSoftware
			case "security":
				f.Kind = KindSecurity
			case "sam":
				f.Kind = KindSAM
			case "default":
				f.Kind = KindDefault
			default:
				return File{}, false
			}
			return f, true
		}
	}
	// Profiles: Users\<u>\NTUSER.DAT, ...\AppData\Local\Microsoft\Windows\UsrClass.dat,
	// Windows\ServiceProfiles\<s>\NTUSER.DAT.
	if n == 3 && (rel[0] == "users" || rel[0] == "documents and settings") && (name == "ntuser.dat" || name == "ntuser.man") {
		f.Kind, f.Profile, f.Mandatory = KindNTUSER, originalName(path, 1), name == "ntuser.man"
		return f, true
	}
	if n == 4 && at("windows", "serviceprofiles") && name == "ntuser.dat" {
		f.Kind, f.Profile = KindNTUSER, originalName(path, 1)
		return f, true
	}
	if n == 7 && rel[0] == "users" && name == "usrclass.dat" && rel[2] == "appdata" {
		f.Kind, f.Profile = KindUsrClass, originalName(path, 5)
		return f, true
	}
	if n == 6 && rel[0] == "users" && rel[2] == "appdata" && rel[3] == "roaming" && rel[4] == "go" && name == "env" {
		f.Kind, f.Profile = KindGoEnv, originalName(path, 4)
		return f, true
	}
	if name == "amcache.hve" {
		f.Kind = KindAmcache
		return f, true
	}
	if gf, ok := classifyLoose(path, rel); ok {
		gf.WinPath = win
		if (gf.Kind == KindGPO || gf.Kind == KindGPOScript) && len(rel) > 2 && rel[0] == "users" {
			gf.Profile = originalName(path, n-2)
			if gf.Scope == "" {
				gf.Scope = "User"
			}
		}
		return gf, true
	}
	return File{}, false
}

// classifyLoose recognises files that need no volume context: traces, event
// logs and Group Policy files.
func classifyLoose(path string, rel []string) (File, bool) {
	name := rel[len(rel)-1]
	switch {
	case strings.HasSuffix(name, ".etl"):
		return File{Path: path, Kind: KindETL}, true
	case strings.HasSuffix(name, ".evtx"):
		return File{Path: path, Kind: KindEVTX}, true
	case name == "registry.pol" || name == "scripts.ini" || name == "psscripts.ini" ||
		name == "environmentvariables.xml" || (name == "registry.xml" && containsPart(rel, "preferences", "history")) || name == "gpt.ini":
		f := File{Path: path, Kind: KindGPO}
		f.Scope, f.GPO, f.SID = gpoPlace(rel)
		return f, true
	case isScriptBody(rel):
		f := File{Path: path, Kind: KindGPOScript}
		f.Scope, f.GPO, f.SID = gpoPlace(rel)
		return f, true
	}
	return File{}, false
}

func containsPart(parts []string, names ...string) bool {
	for _, p := range parts {
		for _, n := range names {
			if p == n {
				return true
			}
		}
	}
	return false
}

// originalName returns the on-disk (unescaped) name of the element that is
// back elements above the file itself: originalName(p, 1) is the parent
// folder's name.
func originalName(path string, back int) string {
	d := path
	for i := 0; i < back; i++ {
		d = filepath.Dir(d)
	}
	return unescapeName(filepath.Base(d))
}

// winPath renders the last n elements of path as a Windows path.
func winPath(path string, n int) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	if n > len(parts) {
		n = len(parts)
	}
	tail := parts[len(parts)-n:]
	for i, s := range tail {
		tail[i] = unescapeName(s)
	}
	return strings.Join(tail, `\`)
}
