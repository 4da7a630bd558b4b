package envmodel

import (
	"os"
	"path/filepath"
	"strings"
)

// Flags that a PATH entry can carry. They describe the entry; rules decide
// what is abnormal (a temp directory in a user's own Path is not the same as
// one ahead of system32 in the machine Path).
const (
	FlagEmpty       = "empty"        // ";;" or a trailing ";"
	FlagRelative    = "relative"     // not an absolute path: resolved against the current directory
	FlagQuoted      = "quoted"       // wrapped in double quotes (Windows strips them)
	FlagUNC         = "unc"          // \\server\share\...: any machine on the path to it can serve binaries
	FlagUserProfile = "user-profile" // under a user profile folder (C:\Users\<name>)
	FlagOwnProfile  = "own-profile"  // under this user's own profile folder
	FlagPublic      = "public"       // under C:\Users\Public
	FlagProgramData = "programdata"  // under C:\ProgramData (users may create folders there)
	FlagTemp        = "temp"         // a temp directory
	FlagRootFolder  = "root-folder"  // a folder at the root of a drive that is not a Windows one (any user may create C:\tools)
	FlagWindows     = "windows"      // the Windows directory or below
	FlagProgramFile = "program-files"
	FlagDuplicate   = "duplicate"  // the same directory appears earlier
	FlagUnresolved  = "unresolved" // still holds a %VAR% after expansion
	FlagUserWrite   = "user-writable"
	FlagAheadOfSys  = "ahead-of-system32" // before %SystemRoot%\system32 in the effective Path
	FlagHasGo       = "has-go-exe"        // the directory holds go.exe (file system available)
)

// File states for the three-state checks.
const (
	Exists  = "exists"
	Missing = "missing"
	Unknown = "unknown"
)

// PathEntry is one directory of the effective PATH.
type PathEntry struct {
	Position int
	Raw      string
	Expanded string
	Origin   Origin
	Flags    []string
	// State is Exists, Missing or Unknown (the file system is not in the
	// evidence, or this part of it was not collected).
	State string
}

// Has reports whether the entry carries flag f.
func (p PathEntry) Has(f string) bool {
	for _, x := range p.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// pathEntries splits the effective Path of u into entries with their origin
// and flags.
func (b *builder) pathEntries(u *User) []PathEntry {
	var entries []PathEntry
	addFrom := func(v *Variable) {
		if v == nil {
			return
		}
		raws := strings.Split(v.Value, ";")
		exps := strings.Split(v.Expanded, ";")
		if len(raws) != len(exps) {
			// An expansion brought its own ';' (a variable holding a list):
			// keep the expanded split, raw text per entry is unknown.
			raws = make([]string, len(exps))
			for i := range exps {
				raws[i] = v.Value
			}
		}
		for i := range exps {
			if i == len(exps)-1 && exps[i] == "" && i > 0 {
				break // a single trailing ';' is how Windows writes Path
			}
			entries = append(entries, PathEntry{Raw: raws[i], Expanded: exps[i], Origin: v.Origin})
		}
	}
	addFrom(u.MachinePath)
	addFrom(u.UserPath)
	if u.MachinePath == nil && u.UserPath == nil {
		return nil
	}
	profile := strings.ToLower(strings.TrimRight(expandedOr(u, "USERPROFILE"), `\`))
	sysroot := strings.ToLower(strings.TrimRight(b.systemRoot, `\`))
	sys32 := sysroot + `\system32`
	seen := map[string]bool{}
	seenSys32 := false
	for i := range entries {
		e := &entries[i]
		e.Position = i + 1
		e.Flags = classify(e.Raw, e.Expanded, profile, sysroot)
		norm := normalizeDir(e.Expanded)
		if norm != "" {
			if seen[norm] {
				e.Flags = append(e.Flags, FlagDuplicate)
			}
			seen[norm] = true
		}
		if norm == sys32 {
			seenSys32 = true
		} else if !seenSys32 && norm != "" {
			e.Flags = append(e.Flags, FlagAheadOfSys)
		}
		e.State = Unknown
		if b.opts.Files != nil && norm != "" && !e.Has(FlagRelative) {
			e.State = b.opts.Files.State(e.Expanded)
			if e.State == Exists && b.opts.Files.State(strings.TrimRight(unquote(e.Expanded), `\`)+`\go.exe`) == Exists {
				e.Flags = append(e.Flags, FlagHasGo)
			}
		}
	}
	return entries
}

func expandedOr(u *User, name string) string {
	if v := u.Get(name); v != nil {
		return v.Expanded
	}
	return ""
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return strings.ReplaceAll(s, `"`, "")
}

// normalizeDir lower-cases, unquotes and trims trailing separators so that
// C:\Tools\ and "c:\tools" compare equal.
func normalizeDir(s string) string {
	s = strings.ToLower(unquote(s))
	for strings.HasSuffix(s, `\`) && len(s) > 3 {
		s = s[:len(s)-1]
	}
	return s
}

var windowsRootFolders = map[string]bool{
	"windows": true, "program files": true, "program files (x86)": true, "programdata": true, "users": true,
	"documents and settings": true, "$recycle.bin": true, "system volume information": true, "recovery": true,
	"perflogs": false, // any authenticated user may write C:\PerfLogs
}

func classify(raw, expanded, profile, sysroot string) []string {
	var flags []string
	add := func(f string) { flags = append(flags, f) }
	t := strings.TrimSpace(expanded)
	if t == "" {
		return []string{FlagEmpty}
	}
	if strings.Contains(t, `"`) {
		add(FlagQuoted)
	}
	if strings.Contains(t, "%") && strings.Count(t, "%") >= 2 {
		add(FlagUnresolved)
	}
	d := normalizeDir(t)
	isUNC := strings.HasPrefix(d, `\\`) || strings.HasPrefix(d, `//`)
	isAbs := len(d) >= 3 && d[1] == ':' && (d[2] == '\\' || d[2] == '/')
	switch {
	case isUNC:
		add(FlagUNC)
	case !isAbs && !strings.HasPrefix(d, "%"):
		add(FlagRelative)
	}
	userWritable := false
	if isAbs {
		rest := d[3:]
		first := rest
		if i := strings.IndexByte(rest, '\\'); i >= 0 {
			first = rest[:i]
		}
		switch {
		case sysroot != "" && (d == sysroot || strings.HasPrefix(d, sysroot+`\`)):
			if strings.HasPrefix(d, sysroot+`\temp`) || strings.HasPrefix(d, sysroot+`\tasks`) || strings.HasPrefix(d, sysroot+`\tracing`) {
				add(FlagTemp)
				userWritable = true
			} else {
				add(FlagWindows)
			}
		case first == "program files" || first == "program files (x86)":
			add(FlagProgramFile)
		case first == "programdata":
			add(FlagProgramData)
			userWritable = true
		case first == "users" || first == "documents and settings":
			if strings.HasPrefix(rest, `users\public`) {
				add(FlagPublic)
			} else if first == "users" && strings.Count(rest, `\`) >= 1 {
				add(FlagUserProfile)
				if profile != "" && (d == profile || strings.HasPrefix(d, profile+`\`)) {
					add(FlagOwnProfile)
				}
			}
			userWritable = true
			if strings.Contains(d, `\appdata\local\temp`) || strings.Contains(d, `\local settings\temp`) {
				add(FlagTemp)
			}
		case first != "" && !windowsRootFolders[first]:
			add(FlagRootFolder)
			userWritable = true
		case first == "":
			add(FlagRootFolder) // the drive root itself
			userWritable = true
		}
	}
	if isUNC {
		userWritable = true
	}
	if userWritable {
		add(FlagUserWrite)
	}
	return flags
}

// FileChecker tells whether a Windows path exists in the evidence.
type FileChecker interface {
	// State returns Exists, Missing or Unknown for a Windows path such as
	// C:\Program Files\Go\bin\go.exe.
	State(winPath string) string
}

// Volume maps a Windows drive to a folder on this machine. A Complete volume
// is a whole file system (a mounted image): a path absent from it is
// missing. A collection is not complete: absent means unknown.
type Volume struct {
	Drive    string // "C:"
	Dir      string
	Complete bool
}

// Volumes is a FileChecker over mapped drives, matching names
// case-insensitively.
type Volumes []Volume

// State implements FileChecker.
func (vs Volumes) State(winPath string) string {
	p := unquote(winPath)
	if len(p) < 2 || p[1] != ':' {
		return Unknown
	}
	for _, v := range vs {
		if !strings.EqualFold(v.Drive, p[:2]) {
			continue
		}
		rel := strings.Trim(p[2:], `\/`)
		if found := lookupFold(v.Dir, rel); found {
			return Exists
		}
		if v.Complete {
			return Missing
		}
		return Unknown
	}
	return Unknown
}

// lookupFold finds rel (backslash-separated) under dir, comparing each name
// case-insensitively, without following links out of dir.
func lookupFold(dir, rel string) bool {
	if rel == "" {
		return true
	}
	cur := dir
	for _, part := range strings.Split(strings.ReplaceAll(rel, "/", `\`), `\`) {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			return false
		}
		ents, err := os.ReadDir(cur)
		if err != nil {
			return false
		}
		next := ""
		for _, e := range ents {
			if strings.EqualFold(e.Name(), part) {
				if e.Type()&os.ModeSymlink != 0 {
					return false
				}
				next = filepath.Join(cur, e.Name())
				break
			}
		}
		if next == "" {
			return false
		}
		cur = next
	}
	return true
}
