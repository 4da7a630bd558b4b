package gpo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Phase is when a Group Policy script runs.
type Phase string

// The script phases: Logon and Logoff in a User policy, Startup and
// Shutdown in a Machine policy.
const (
	Logon    Phase = "Logon"
	Logoff   Phase = "Logoff"
	Startup  Phase = "Startup"
	Shutdown Phase = "Shutdown"
)

// phases maps a section name (lower case) to its phase.
var phases = map[string]Phase{"logon": Logon, "logoff": Logoff, "startup": Startup, "shutdown": Shutdown}

// Script is one entry of scripts.ini or psscripts.ini: the NCmdLine and
// NParameters keys of one index N in a phase section.
type Script struct {
	Phase Phase
	// Index is N of NCmdLine: the order in which scripts of a phase run.
	Index int
	// CmdLine is the script to run: a file name relative to the policy's
	// Scripts\<Phase> folder, or a full or UNC path.
	CmdLine    string
	Parameters string
	// PowerShell is true for entries of psscripts.ini (run by PowerShell).
	PowerShell bool
	// Line is the 1-based line of the CmdLine key.
	Line int
}

// Scripts is a parsed scripts.ini or psscripts.ini file.
type Scripts struct {
	Name string
	// PowerShell is true for psscripts.ini.
	PowerShell bool
	// Unicode is true when the file was UTF-16 (Windows writes these files
	// in UTF-16LE with a byte-order mark).
	Unicode bool
	Scripts []Script
	// Config holds the keys of sections other than the four phases
	// ([ScriptsConfig] of psscripts.ini: StartExecutePSFirst, ...), by
	// "Section.Key".
	Config map[string]string
}

// OpenScripts reads and parses a scripts.ini or psscripts.ini file; the
// file name decides PowerShell.
func OpenScripts(path string) (*Scripts, error) {
	data, err := readFile(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	base := path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	return LoadScripts(path, data, strings.EqualFold(base, "psscripts.ini"))
}

// LoadScripts parses the text of a scripts.ini (powerShell false) or
// psscripts.ini (true) file. Keys of a phase section must be NCmdLine or
// NParameters with N a decimal index; an NParameters without its NCmdLine,
// a repeated key, or a line that is neither a section, a key=value pair, a
// comment nor blank is an error.
func LoadScripts(name string, data []byte, powerShell bool) (*Scripts, error) {
	if len(data) > MaxFileSize {
		return nil, offErr(name, MaxFileSize, "file larger than %d bytes", MaxFileSize)
	}
	text, wide := decodeText(data)
	// Some copies carry NUL padding after the text (a fixed-size buffer,
	// slack picked up by a collector): it is not part of the file.
	text = strings.TrimRight(text, "\x00")
	out := &Scripts{Name: name, PowerShell: powerShell, Unicode: wide, Config: map[string]string{}}
	type key struct {
		phase Phase
		index int
	}
	entries := map[key]*Script{}
	params := map[key]int{} // NParameters seen before (or without) NCmdLine: line
	seen := map[string]bool{}
	var phase Phase
	section := ""
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if len(line) > MaxLineLength {
			return nil, lineErr(name, n, "line longer than %d bytes", MaxLineLength)
		}
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == ';' || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '[' {
			if !strings.HasSuffix(trimmed, "]") {
				return nil, lineErr(name, n, "section header %q without ']'", trimmed)
			}
			section = strings.TrimSpace(trimmed[1 : len(trimmed)-1])
			phase = phases[strings.ToLower(section)]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, lineErr(name, n, "%q is not a key=value line", trimmed)
		}
		k = strings.TrimSpace(k)
		if section == "" {
			return nil, lineErr(name, n, "key %q outside any section", k)
		}
		lk := strings.ToLower(section + "." + k)
		if seen[lk] {
			return nil, lineErr(name, n, "key %q repeated in [%s]", k, section)
		}
		seen[lk] = true
		if phase == "" {
			if len(out.Config) >= MaxScripts {
				return nil, lineErr(name, n, "more than %d keys", MaxScripts)
			}
			out.Config[section+"."+k] = v
			continue
		}
		idx, field, err := scriptKey(k)
		if err != nil {
			return nil, lineErr(name, n, "in [%s]: %v", section, err)
		}
		kk := key{phase, idx}
		switch field {
		case "cmdline":
			if len(entries) >= MaxScripts {
				return nil, lineErr(name, n, "more than %d scripts", MaxScripts)
			}
			if s := entries[kk]; s != nil && s.Line > 0 {
				return nil, lineErr(name, n, "script %d of [%s] given twice", idx, section)
			} else if s != nil {
				s.CmdLine, s.Line = strings.TrimSpace(v), n // its Parameters came first
				continue
			}
			entries[kk] = &Script{Phase: phase, Index: idx, CmdLine: strings.TrimSpace(v), PowerShell: powerShell, Line: n}
		case "parameters":
			if s := entries[kk]; s != nil {
				s.Parameters = strings.TrimSpace(v)
			} else {
				params[kk] = n
				// Kept until its CmdLine arrives (the order of keys inside a
				// section is not fixed by the format).
				entries[kk] = &Script{Phase: phase, Index: idx, Parameters: strings.TrimSpace(v), PowerShell: powerShell, Line: -n}
			}
		}
	}
	for kk, s := range entries {
		if s.Line < 0 {
			return nil, lineErr(name, params[kk], "%dParameters in [%s] without %dCmdLine", kk.index, kk.phase, kk.index)
		}
		out.Scripts = append(out.Scripts, *s)
	}
	order := map[Phase]int{Logon: 0, Logoff: 1, Startup: 2, Shutdown: 3}
	sort.Slice(out.Scripts, func(i, j int) bool {
		a, b := out.Scripts[i], out.Scripts[j]
		if a.Phase != b.Phase {
			return order[a.Phase] < order[b.Phase]
		}
		return a.Index < b.Index
	})
	return out, nil
}

// scriptKey splits "0CmdLine" into 0 and "cmdline".
func scriptKey(k string) (int, string, error) {
	i := 0
	for i < len(k) && k[i] >= '0' && k[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("key %q does not start with a script index", k)
	}
	if i > 4 {
		return 0, "", fmt.Errorf("key %q: index too large (at most %d scripts)", k, MaxScripts)
	}
	idx, _ := strconv.Atoi(k[:i])
	field := strings.ToLower(k[i:])
	if field != "cmdline" && field != "parameters" {
		return 0, "", fmt.Errorf("key %q: want NCmdLine or NParameters", k)
	}
	return idx, field, nil
}

// MarshalScripts renders scripts as Windows writes scripts.ini (UTF-16LE
// with a byte-order mark, sections in Logon, Logoff, Startup, Shutdown
// order). It is meant for tests and fixture generators.
func MarshalScripts(scripts []Script) []byte {
	var b strings.Builder
	for _, ph := range []Phase{Logon, Logoff, Startup, Shutdown} {
		first := true
		for _, s := range scripts {
			if s.Phase != ph {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n[%s]\n", ph)
				first = false
			}
			fmt.Fprintf(&b, "%dCmdLine=%s\n%dParameters=%s\n", s.Index, s.CmdLine, s.Index, s.Parameters)
		}
	}
	return EncodeUTF16Text(b.String())
}
