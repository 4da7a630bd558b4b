// Package casereport builds the document a responder hands over for each host
// of a collection: a case header (tool and rule-set versions, the command,
// the run time and every evidence file with its size and SHA-256), the
// host's identity (name, domain, operating system, install date, time zone),
// each user profile's identity and status, the findings grouped by pattern
// and level with their evidence and remediation, the effective PATH of every
// user with a small chart of how Path, GOROOT and GOPATH changed across every
// state the evidence holds, and the list of what could not be checked and
// why.
//
// Build reads the evidence (through scan.Collect and history.States) into a
// Report; WriteHTML renders it as one self-contained HTML file (inline CSS,
// inline SVG, no script, no network, a Content-Security-Policy that forbids
// both, readable printed) and WriteMarkdown as Markdown for tickets.
//
// # Security
//
// Everything a report shows from the evidence is attacker-controlled. The HTML
// writer renders through html/template, so every string is escaped for the
// context it lands in, and none is ever marked safe; control characters,
// bidirectional overrides and other invisible characters are first made
// visible (\x1b, \u202e) with report.SafeTerminal, so a name cannot hide or
// reorder what is around it. The Markdown writer escapes every Markdown and
// HTML metacharacter (a backslash before each, | included, so a table cell
// cannot be split and no raw HTML reaches a renderer) and puts data in code
// spans with fences longer than any backtick run in it. Fuzz targets check
// that no string adds a tag to the HTML or a line or table cell to the
// Markdown.
//
// Value data is shown up to MaxData characters (the rest is counted); the
// report grows linearly with the findings, PATH entries and history states
// the evidence holds (pkg/history bounds the carved values per file).
// Nothing under the evidence paths is written; each hive's and log's digest
// is of the bytes the analysis parsed.
package casereport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/wintime"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// Options configures Build.
type Options struct {
	// Scan configures how the evidence is read (rules, logs, roaming
	// copies); its Rules must be the rule set RuleFiles describe.
	Scan scan.Options
	// Version is the envhunt version shown in the header.
	Version string
	// CommandLine is the command that produced the report, as typed.
	CommandLine string
	// Builtin says whether the built-in rules are part of the rule set
	// (they are unless --rules-only replaced them).
	Builtin bool
	// RulePaths are the rule folders or files loaded besides (or instead
	// of) the built-in rules; their files are part of the rule-set digest.
	RulePaths []string
	// Now returns the run time (default time.Now); tests fix it.
	Now func() time.Time
	// Platform describes where the report was made (default: the Go
	// version, operating system and architecture of this binary).
	Platform string
	// NoHistory leaves out the history of Path, GOROOT and GOPATH (it reads
	// every hive again, once per state).
	NoHistory bool
}

// Report is the case report of one run: a header and one section per host.
type Report struct {
	Header Header
	Hosts  []*Host
}

// Header identifies the run and its evidence.
type Header struct {
	Tool    string
	Version string
	// Platform is the Go version, OS and architecture envhunt ran on.
	Platform    string
	RuleSet     RuleSet
	CommandLine string
	// RunTime is when the report was made (UTC).
	RunTime time.Time
	Inputs  []string
	Roaming []string
	// Evidence lists every evidence file read, of every host.
	Evidence []scan.FileDigest
}

// RuleSet describes the rules that ran.
type RuleSet struct {
	// Version names the rule set: "built-in rules of envhunt 0.1.0" and
	// the folders added.
	Version string
	Rules   int
	Files   int
	// SHA256 is a digest over the rule files: for each file in path order,
	// its path, a NUL, its SHA-256 in hex and a newline.
	SHA256 string
}

// Fact is one piece of identity with where it was read.
type Fact struct {
	Value  string
	Source string
}

// Host is the report of one host.
type Host struct {
	Name     string
	Root     string
	Identity Identity
	Users    []User
	// Groups are the findings by pattern, then level (highest first).
	Groups   []FindingGroup
	Findings report.Tally
	// Environment is the effective environment of each user.
	Environment []UserEnv
	// History is Path, GOROOT and GOPATH across every state found, per hive.
	History []Series
	// HistorySource says where the states came from.
	HistorySource string
	NotChecked    []Gap
	// Problems are what could not be read, one line each.
	Problems []string
	// Files counts the evidence files read, by kind.
	Files map[string]int
	// Evidence are this host's evidence files (the header lists those of
	// every host).
	Evidence []scan.FileDigest

	historyGaps []Gap
}

// Gap is one thing that was not checked, and why.
type Gap struct {
	What string
	Why  string
}

// FindingGroup is the findings of one pattern at one level.
type FindingGroup struct {
	Pattern  string
	Title    string
	Level    report.Level
	Findings []Finding
}

// Finding is one finding with what the report adds to it: the writing
// process when a trace or log names it, the user's label and the
// remediation steps.
type Finding struct {
	*report.Finding
	UserLabel string
	// Process is the image (and process id) that wrote the value, from a
	// trace or event log; "" for hive state.
	Process string
	// Steps are the remediation steps, one line each.
	Steps []string
	// Writes are the writes of the same value that traces and event logs
	// record (process, time, and whether the data is what the finding
	// shows), for a finding on hive state.
	Writes []string
}

// UserEnv is the effective environment of one user.
type UserEnv struct {
	Label string
	SID   string
	Kind  string
	// PathSources are the registry values the PATH entries come from,
	// one line each ("machine: Path of HKLM\...\Environment, REG_EXPAND_SZ,
	// key last written ..."); each row names its source by scope.
	PathSources []PathSource
	Path        []PathRow
	// Vars are the Go variables and the other variables a hijack touches
	// (ComSpec, PATHEXT, windir), when set.
	Vars []VarRow
	// Go compares Go's own configuration (%APPDATA%\go\env, written by
	// go env -w) with the environment, when the collection holds the file.
	Go []GoRow
}

// GoRow is one Go setting: the environment's value, the go env file's, and
// which one the go command uses.
type GoRow struct {
	Name       string
	Env        string
	File       string
	Winner     string
	Overridden bool
}

// PathSource is a registry value the effective PATH is built from.
type PathSource struct {
	Scope     string
	Key       string
	Value     string
	Type      string
	File      string
	LastWrite time.Time
}

// PathRow is one entry of the effective PATH.
type PathRow struct {
	Position int
	Raw      string
	Expanded string
	// Origin is the full origin; Scope ("machine", "user") is what the
	// table shows, PathSources saying which value each scope is.
	Origin string
	Scope  string
	Flags  []string
	State  string
}

// VarRow is one variable of the effective environment.
type VarRow struct {
	Name     string
	Value    string
	Expanded string
	Origin   string
}

// patterns orders and names the finding patterns.
var patterns = []struct{ id, title string }{
	{"acl", "ACL abuse of the Environment keys"},
	{"gpo", "Group Policy rewriting the environment"},
	{"callback", "Registry callback and driver indicators"},
	{"roaming", "Roaming-profile sync conflict"},
	{"persistence", "Persistence next to the environment"},
	{"path", "PATH, GOROOT and GOPATH interception"},
	{"misconfig", "Benign explanations of a rollback"},
}

// Build reads the evidence under inputs and assembles the report.
func Build(ctx context.Context, inputs []string, opts Options) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.Scan.Rules == nil {
		rs, err := builtinrules.Load()
		if err != nil {
			return nil, err
		}
		opts.Scan.Rules = rs
		opts.Builtin = true
	}
	if opts.Platform == "" {
		opts.Platform = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	}
	r := &Report{Header: Header{
		Tool: "envhunt", Version: opts.Version, Platform: opts.Platform, CommandLine: opts.CommandLine,
		RunTime: now().UTC(), Inputs: inputs, Roaming: opts.Scan.Roaming,
	}}
	rsInfo, err := ruleSetInfo(opts)
	if err != nil {
		return nil, err
	}
	r.Header.RuleSet = rsInfo
	var groups []history.Group
	if !opts.NoHistory {
		groups = discoverHistory(ctx, inputs, opts)
	}
	_, err = scan.Collect(ctx, inputs, opts.Scan, func(he *scan.HostEvidence) error {
		h := buildHost(he, opts)
		if !opts.NoHistory {
			reread := addHistory(ctx, h, he, groups)
			for i := range he.Files {
				p := filepath.Clean(he.Files[i].Path)
				if he.Files[i].Kind == "log" {
					// Logs found beside a hive are read with it.
					if j := strings.LastIndex(p, "."); j > 0 && reread[p[:j]] {
						reread[p] = true
					}
				}
				if reread[p] {
					he.Files[i].Note = strings.TrimPrefix(he.Files[i].Note+"; read again by the history", "; ")
				}
			}
		}
		h.NotChecked = append(gaps(he, h, opts), h.historyGaps...)
		r.Hosts = append(r.Hosts, h)
		h.Evidence = he.Files
		r.Header.Evidence = append(r.Header.Evidence, he.Files...)
		return ctx.Err()
	})
	if err != nil && len(r.Hosts) == 0 {
		return nil, err
	}
	return r, err
}

// Split returns one report per host, each with the header's evidence list
// narrowed to that host's files: the per-host documents of a batch.
func (r *Report) Split() []*Report {
	out := make([]*Report, 0, len(r.Hosts))
	for _, h := range r.Hosts {
		one := &Report{Header: r.Header, Hosts: []*Host{h}}
		one.Header.Evidence = h.Evidence
		out = append(out, one)
	}
	return out
}

// Partial reports whether some evidence could not be read, or only in part.
func (r *Report) Partial() bool {
	for _, h := range r.Hosts {
		if len(h.Problems) > 0 {
			return true
		}
	}
	return false
}

// buildHost assembles a host's sections from what the scan read.
func buildHost(he *scan.HostEvidence, opts Options) *Host {
	h := &Host{Name: he.Summary.Name, Root: he.Summary.Root, Problems: he.Summary.Problems, Files: he.Summary.Files, Findings: he.Summary.Findings}
	h.Identity = hostIdentity(he.Machine)
	h.Users = userIdentities(he)
	labels := map[string]string{}
	for _, u := range h.Users {
		labels[strings.ToUpper(u.SID)] = u.Label()
	}
	h.Groups = groupFindings(he.Findings, labels, he.Writes)
	for _, u := range he.Environment {
		if u.Kind == "template" {
			continue
		}
		h.Environment = append(h.Environment, userEnv(u, labels))
	}
	return h
}

func groupFindings(fs []*report.Finding, labels map[string]string, writes []*event.Event) []FindingGroup {
	byKey := map[string]*FindingGroup{}
	var order []string
	for _, f := range fs {
		key := f.Pattern + "\x00" + f.Level.String()
		g := byKey[key]
		if g == nil {
			g = &FindingGroup{Pattern: f.Pattern, Title: patternTitle(f.Pattern), Level: f.Level}
			byKey[key] = g
			order = append(order, key)
		}
		g.Findings = append(g.Findings, reportFinding(f, labels, writes))
	}
	out := make([]FindingGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := patternRank(out[i].Pattern), patternRank(out[j].Pattern)
		if pi != pj {
			return pi < pj
		}
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Level > out[j].Level
	})
	return out
}

func patternRank(p string) int {
	for i, x := range patterns {
		if x.id == p {
			return i
		}
	}
	return len(patterns)
}

func patternTitle(p string) string {
	for _, x := range patterns {
		if x.id == p {
			return x.title
		}
	}
	if p == "" {
		return "Other rules"
	}
	return "Pattern " + p
}

func reportFinding(f *report.Finding, labels map[string]string, writes []*event.Event) Finding {
	out := Finding{Finding: f, UserLabel: labels[strings.ToUpper(f.UserSID)]}
	if out.UserLabel == "" && f.UserSID != "" {
		out.UserLabel = userLabel(f.User, f.UserSID)
	}
	if f.Event != nil {
		img, _ := f.Event.Get("Image")
		if s, ok := img.(string); ok && s != "" {
			out.Process = s
			if pid, ok := f.Event.Get("ProcessId"); ok && pid != nil {
				out.Process += " (PID " + report.CellText(pid) + ")"
			}
		}
	}
	if out.Process == "" && f.Value != "" {
		target := f.Key + `\` + f.Value
		if f.Event != nil {
			if v, ok := f.Event.Get("TargetObject"); ok {
				if s, ok := v.(string); ok && s != "" {
					target = s
				}
			}
		}
		for _, w := range writes {
			if !strings.EqualFold(w.String("TargetObject"), target) {
				continue
			}
			line := w.String("Image")
			if pid, ok := w.Get("ProcessId"); ok && pid != nil {
				line += " (PID " + report.CellText(pid) + ")"
			}
			line += " at " + wintime.Format(w.Time)
			if d, ok := w.Get("Details"); ok && d != nil && report.CellText(d) == f.Data {
				line += " wrote this data"
			} else if ok {
				line += " wrote other data: " + clip(report.CellText(d), 300)
			} else {
				line += " wrote it (data not captured)"
			}
			out.Writes = append(out.Writes, line+" ("+filepath.Base(w.Source.File)+")")
		}
	}
	for _, a := range report.DefaultActions(f) {
		out.Steps = append(out.Steps, actionText(a))
	}
	return out
}

// actionText is a remediation step as one line of prose.
func actionText(a report.Action) string {
	var s string
	switch a.Kind {
	case report.ActionSetValue:
		s = "set " + valueName(a.Value) + " of " + a.Key + " to " + report.CellText(a.Data) + " (" + a.Type + ")"
	case report.ActionDeleteValue:
		s = "delete " + valueName(a.Value) + " of " + a.Key
	case report.ActionResetACL:
		s = "reset the DACL of " + a.Key + " to " + a.SDDL
	default:
		s = "review"
		if a.GPOName != "" || a.GPOID != "" {
			s += " Group Policy object " + strings.TrimSpace(a.GPOName+" "+a.GPOID)
		}
	}
	if a.Note != "" {
		s += ": " + a.Note
	}
	return s
}

func valueName(v string) string {
	if v == "" {
		return "the default value"
	}
	return "value " + v
}

func userLabel(name, sid string) string {
	switch {
	case name != "" && sid != "":
		return name + " (" + sid + ")"
	case name != "":
		return name
	}
	return sid
}

// envVars are the variables shown beside the PATH.
var envVars = append(append([]string(nil), envmodel.GoVariables...), "ComSpec", "PATHEXT", "windir", "TEMP", "TMP")

func userEnv(u *envmodel.User, labels map[string]string) UserEnv {
	label := labels[strings.ToUpper(u.SID)]
	if label == "" {
		label = userLabel(u.Name, u.SID)
	}
	if u.Kind == "system" {
		label = "LocalSystem (DEFAULT hive)"
	}
	ue := UserEnv{Label: label, SID: u.SID, Kind: u.Kind}
	seen := map[string]bool{}
	for _, p := range u.Path {
		ue.Path = append(ue.Path, PathRow{Position: p.Position, Raw: p.Raw, Expanded: p.Expanded, Origin: p.Origin.String(), Scope: string(p.Origin.Scope), Flags: p.Flags, State: p.State})
		o := p.Origin
		if k := string(o.Scope) + "\x00" + o.Key + "\x00" + o.Value; !seen[k] {
			seen[k] = true
			ue.PathSources = append(ue.PathSources, PathSource{Scope: string(o.Scope), Key: o.Key, Value: o.Value, Type: o.Type, File: o.File, LastWrite: o.LastWrite})
		}
	}
	for _, g := range u.Go {
		if g.InEnv || g.InFile {
			ue.Go = append(ue.Go, GoRow{Name: g.Name, Env: g.Env, File: g.FileValue, Winner: g.Winner, Overridden: g.Overridden})
		}
	}
	for _, n := range envVars {
		if v := u.Get(n); v != nil {
			ue.Vars = append(ue.Vars, VarRow{Name: v.Name, Value: v.Value, Expanded: v.Expanded, Origin: v.Origin.String()})
		}
	}
	return ue
}

// ruleSetInfo names and digests the rule files.
func ruleSetInfo(opts Options) (RuleSet, error) {
	type file struct{ path, sum string }
	var files []file
	add := func(name string, data []byte) {
		s := sha256.Sum256(data)
		files = append(files, file{name, hex.EncodeToString(s[:])})
	}
	var parts []string
	if opts.Builtin {
		parts = append(parts, "built-in rules of envhunt "+opts.Version)
		err := fs.WalkDir(builtinrules.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isRuleFile(p) {
				return err
			}
			data, err := fs.ReadFile(builtinrules.FS(), p)
			if err == nil {
				add("builtin:"+p, data)
			}
			return err
		})
		if err != nil {
			return RuleSet{}, err
		}
	}
	for _, root := range opts.RulePaths {
		parts = append(parts, root)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !isRuleFile(p) && p != root {
				return nil
			}
			data, err := os.ReadFile(p)
			if err == nil {
				add(p, data)
			}
			return err
		})
		if err != nil {
			return RuleSet{}, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.path + "\x00" + f.sum + "\n"))
	}
	n := 0
	if opts.Scan.Rules != nil {
		n = opts.Scan.Rules.Len()
	}
	return RuleSet{Version: strings.Join(parts, " + "), Rules: n, Files: len(files), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func isRuleFile(p string) bool {
	base := filepath.Base(p)
	if strings.HasPrefix(base, ".") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(base))
	return ext == ".yml" || ext == ".yaml"
}
