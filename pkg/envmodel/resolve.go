package envmodel

import (
	"strconv"
	"strings"
)

// Resolvers: the ways Windows turns a command name into a file, each with
// its own search order.
const (
	// ResolverCmd is cmd.exe: the current directory first (unless
	// NoDefaultCurrentDirectoryInExePath is set), then each PATH directory
	// with each PATHEXT extension in order.
	ResolverCmd = "cmd.exe"
	// ResolverPowerShell is PowerShell's search for an external command:
	// PATH directories with PATHEXT extensions; the current directory is
	// not searched.
	ResolverPowerShell = "PowerShell"
	// ResolverCreateProcess is CreateProcess with a bare name: the
	// application's directory (unknown offline), the current directory,
	// System32, System, the Windows directory, then PATH; only .exe is
	// appended.
	ResolverCreateProcess = "CreateProcess"
	// ResolverAppPaths is ShellExecute (Run dialog, Start menu): the App
	// Paths registration of the name wins before PATH.
	ResolverAppPaths = "App Paths"
)

// Candidate is one place a resolver looks, in order.
type Candidate struct {
	Path  string
	State string // Exists, Missing or Unknown
	// Where says why the place is searched ("current directory", "PATH
	// entry 3", "App Paths").
	Where string
}

// Resolution is where a command name leads for one resolver.
type Resolution struct {
	Name     string
	Resolver string
	// Candidates are the places searched, in order, up to and including
	// the winner (or all of them when none exists).
	Candidates []Candidate
	// Winner is the file that runs, "" when it cannot be told.
	Winner string
	// Undetermined names the first place whose state is unknown before any
	// existing one: the winner could be there.
	Undetermined string
}

// Resolve tells which file each resolver would run for name ("go",
// "gofmt") in u's effective environment. appPaths maps lower-case executable
// names ("go.exe") to their App Paths registration (HKCU then HKLM), when
// known. Without a file checker every state is Unknown.
func Resolve(u *User, name string, files FileChecker, appPaths map[string]string) []Resolution {
	pathext := []string{".COM", ".EXE", ".BAT", ".CMD"}
	if v := u.Get("PATHEXT"); v != nil && v.Expanded != "" {
		pathext = nil
		for _, e := range strings.Split(v.Expanded, ";") {
			if e = strings.TrimSpace(e); e != "" {
				pathext = append(pathext, e)
			}
		}
	}
	hasExt := strings.Contains(name, ".")
	withExts := func(dir string) []string {
		base := strings.TrimRight(unquote(dir), `\`) + `\` + name
		if hasExt {
			return []string{base}
		}
		out := make([]string, 0, len(pathext))
		for _, e := range pathext {
			out = append(out, base+strings.ToLower(e))
		}
		return out
	}
	state := func(p string) string {
		if files == nil {
			return Unknown
		}
		return files.State(p)
	}
	var pathCands []Candidate
	for _, e := range u.Path {
		if e.Has(FlagEmpty) || e.Has(FlagRelative) {
			continue
		}
		for _, p := range withExts(e.Expanded) {
			pathCands = append(pathCands, Candidate{Path: p, Where: "PATH entry " + strconv.Itoa(e.Position)})
		}
	}
	root := expandedOr(u, "SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	exe := name
	if !hasExt {
		exe = name + ".exe"
	}
	var out []Resolution
	cmd := []Candidate{}
	if u.Get("NoDefaultCurrentDirectoryInExePath") == nil {
		cmd = append(cmd, Candidate{Path: `.\` + name, Where: "current directory", State: Unknown})
	}
	out = append(out, decide(name, ResolverCmd, append(cmd, pathCands...), state))
	out = append(out, decide(name, ResolverPowerShell, pathCands, state))
	cp := []Candidate{
		{Path: `<application directory>\` + exe, Where: "application directory", State: Unknown},
		{Path: `.\` + exe, Where: "current directory", State: Unknown},
		{Path: root + `\System32\` + exe, Where: "System32"},
		{Path: root + `\System\` + exe, Where: "System"},
		{Path: root + `\` + exe, Where: "Windows directory"},
	}
	for _, c := range pathCands {
		if strings.HasSuffix(strings.ToLower(c.Path), ".exe") {
			cp = append(cp, c)
		}
	}
	out = append(out, decide(name, ResolverCreateProcess, cp, state))
	if reg, ok := appPaths[strings.ToLower(exe)]; ok && reg != "" {
		ap := append([]Candidate{{Path: unquote(reg), Where: "App Paths"}}, pathCands...)
		out = append(out, decide(name, ResolverAppPaths, ap, state))
	}
	return out
}

func decide(name, resolver string, cands []Candidate, state func(string) string) Resolution {
	r := Resolution{Name: name, Resolver: resolver}
	for _, c := range cands {
		if c.State == "" {
			c.State = state(c.Path)
		}
		r.Candidates = append(r.Candidates, c)
		switch c.State {
		case Exists:
			r.Winner = c.Path
			return r
		case Unknown:
			if r.Undetermined == "" {
				r.Undetermined = c.Path
			}
		}
	}
	return r
}
