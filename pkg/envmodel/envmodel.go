// Package envmodel rebuilds offline the environment a user's logon would
// produce on the machine a collection came from: the machine values of
// Session Manager\Environment, then the user's HKCU\Environment (a user Path,
// LibPath or Os2LibPath appended to the machine one, other user values
// overriding machine values), with REG_EXPAND_SZ values expanded once, in
// block order, with the variables set so far. Each variable and each PATH
// entry carries its origin (which hive, key and last-write time) and flags
// saying what is risky about it, so a responder sees where every directory of
// the effective PATH came from.
//
// Variables Windows takes from elsewhere at logon (the Volatile Environment,
// which is not in the hive file) are derived from where Windows takes them:
// USERPROFILE from ProfileList, SystemRoot and ProgramFiles* from SOFTWARE's
// CurrentVersion, APPDATA and LOCALAPPDATA from the user's User Shell Folders.
// HOMEDRIVE/HOMEPATH/HOMESHARE come from the directory service and are
// reported as unknown.
//
// See docs/environment.md for the model and its sources.
package envmodel

import (
	"sort"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// Scope says where a variable's value came from.
type Scope string

const (
	// ScopeDerived values are set at logon from other registry data
	// (ProfileList, CurrentVersion, User Shell Folders): the Volatile
	// Environment and the built-in variables.
	ScopeDerived Scope = "derived"
	ScopeMachine Scope = "machine"
	ScopeUser    Scope = "user"
)

// Origin is where a value was read.
type Origin struct {
	Scope Scope
	// Key is the full registry name of the key (HKU\<SID>\Environment) or,
	// for derived values, of the key it was derived from.
	Key string
	// Value is the registry value name it was read from.
	Value string
	// File is the hive file.
	File      string
	LastWrite time.Time
	// Type is the registry type (REG_SZ, REG_EXPAND_SZ), "" for derived.
	Type string
}

// String renders an origin briefly: "user HKU\...\Environment (Path)".
func (o Origin) String() string {
	s := string(o.Scope)
	if o.Key != "" {
		s += " " + o.Key
	}
	if o.Value != "" {
		s += " (" + o.Value + ")"
	}
	return s
}

// Variable is one variable of the effective environment.
type Variable struct {
	Name string
	// Value is the data as stored; Expanded is the value the process sees.
	Value    string
	Expanded string
	Origin   Origin
	// Overrides is the machine value a user value replaced (nil if none).
	Overrides *Variable
	// Appended is the user part of a Path/LibPath/Os2LibPath appended to
	// the machine value; Origin then names the user value.
	Appended bool
	// Unresolved lists %VAR% references left as written because the
	// variable was not set when the value was expanded.
	Unresolved []string
}

// User is the effective environment of one user (or of LocalSystem, whose
// profile is the DEFAULT hive, or of the Default template).
type User struct {
	SID         string
	Name        string
	ProfilePath string
	// Kind is "user", "template" (Users\Default) or "system" (DEFAULT).
	Kind      string
	Hive      *hive.Hive
	Variables []*Variable
	Path      []PathEntry
	// Unknown names variables a logon sets that cannot be known offline
	// (HOMEDRIVE, HOMEPATH, HOMESHARE, LOGONSERVER, USERDOMAIN).
	Unknown []string
	// Go is Go's own configuration for this user (go env -w) against the
	// environment, when the collection holds %APPDATA%\go\env.
	Go []GoSetting
	// MachinePath and UserPath are the raw Path values, for the benign
	// explanations (truncation by setx, duplicates).
	MachinePath, UserPath *Variable
	// Which tells, for each command of Options.Commands, which file each
	// resolver (cmd.exe, PowerShell, CreateProcess, App Paths) runs.
	Which []Resolution
}

// Get returns the effective variable by name (case-insensitive), or nil.
func (u *User) Get(name string) *Variable {
	for _, v := range u.Variables {
		if strings.EqualFold(v.Name, name) {
			return v
		}
	}
	return nil
}

// Options tunes Build.
type Options struct {
	// Files answers whether a Windows path exists in the collection; nil
	// means the file system is not available and every check is unknown.
	Files FileChecker
	// GoEnv maps a profile folder name to the content of its
	// AppData\Roaming\go\env file.
	GoEnv map[string][]byte
	// HiveFiles maps hives to their evidence file names, for origins.
	HiveFiles map[*hive.Hive]string
	// Commands are the command names to resolve for each user (default
	// "go" and "gofmt").
	Commands []string
}

// Build returns the effective environment of every user of m: each profile
// hive, the Default template and LocalSystem (DEFAULT hive) when present.
func Build(m *winreg.Machine, opts Options) []*User {
	b := &builder{m: m, opts: opts}
	b.readMachine()
	var out []*User
	for _, mu := range m.Users {
		kind := "user"
		if mu.Template {
			kind = "template"
		}
		out = append(out, b.user(mu.SID, mu.Name, mu.ProfilePath, mu.Folder, kind, mu.Hive))
	}
	if m.Default != nil {
		out = append(out, b.user("S-1-5-18", `NT AUTHORITY\SYSTEM`, systemProfile(b.systemRoot), "", "system", m.Default))
	}
	if len(out) == 0 && m.System != nil {
		// Machine only: show the machine environment as a process started
		// by a service would see it.
		out = append(out, b.user("", "", "", "", "machine", nil))
	}
	return out
}

func systemProfile(root string) string { return root + `\system32\config\systemprofile` }

type builder struct {
	m          *winreg.Machine
	opts       Options
	systemRoot string
	machine    []rawValue
	machineKey string
	derived    []*Variable // machine-wide derived values
}

// rawValue is one value of an Environment key, in hive order.
type rawValue struct {
	name, data string
	expand     bool
	origin     Origin
}

func (b *builder) file(h *hive.Hive) string {
	if f, ok := b.opts.HiveFiles[h]; ok {
		return f
	}
	if h != nil {
		return h.Name()
	}
	return ""
}

func (b *builder) readMachine() {
	m := b.m
	b.systemRoot = `C:\Windows`
	var cv *hive.Key
	if m.Software != nil {
		cv, _ = m.Software.OpenKey(`Microsoft\Windows NT\CurrentVersion`)
		if cv != nil {
			if s, ok := winreg.StringValue(cv, "SystemRoot"); ok && s != "" {
				b.systemRoot = strings.TrimRight(s, `\`)
			}
		}
	}
	drive := "C:"
	if len(b.systemRoot) >= 2 && b.systemRoot[1] == ':' {
		drive = b.systemRoot[:2]
	}
	cvName := `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	add := func(name, value, key, valueName string, lw time.Time) {
		b.derived = append(b.derived, &Variable{Name: name, Value: value, Expanded: value,
			Origin: Origin{Scope: ScopeDerived, Key: key, Value: valueName, File: b.file(m.Software), LastWrite: lw}})
	}
	var cvTime time.Time
	if cv != nil {
		cvTime = cv.LastWrite()
	}
	add("SystemRoot", b.systemRoot, cvName, "SystemRoot", cvTime)
	add("SystemDrive", drive, cvName, "SystemRoot", cvTime)
	if m.Host != "" {
		add("COMPUTERNAME", strings.ToUpper(m.Host), `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`, "ComputerName", time.Time{})
	}
	if m.Software != nil {
		wcv, _ := m.Software.OpenKey(`Microsoft\Windows\CurrentVersion`)
		wcvName := `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion`
		for _, pair := range [][2]string{
			{"ProgramFiles", "ProgramFilesDir"}, {"ProgramFiles(x86)", "ProgramFilesDir (x86)"}, {"ProgramW6432", "ProgramW6432Dir"},
			{"CommonProgramFiles", "CommonFilesDir"}, {"CommonProgramFiles(x86)", "CommonFilesDir (x86)"}, {"CommonProgramW6432", "CommonW6432Dir"},
		} {
			if wcv == nil {
				break
			}
			if s, ok := winreg.StringValue(wcv, pair[1]); ok && s != "" {
				add(pair[0], s, wcvName, pair[1], wcv.LastWrite())
			}
		}
		pl, _ := m.Software.OpenKey(`Microsoft\Windows NT\CurrentVersion\ProfileList`)
		plName := cvName + `\ProfileList`
		for _, pair := range [][2]string{{"ALLUSERSPROFILE", "ProgramData"}, {"ProgramData", "ProgramData"}, {"PUBLIC", "Public"}} {
			if pl == nil {
				break
			}
			if s, ok := winreg.StringValue(pl, pair[1]); ok && s != "" {
				add(pair[0], s, plName, pair[1], pl.LastWrite())
			}
		}
	}
	if m.System == nil || m.CurrentControlSetPath() == "" {
		return
	}
	rel := m.CurrentControlSetPath() + `\Control\Session Manager\Environment`
	k, err := m.System.OpenKey(rel)
	if err != nil {
		return
	}
	b.machineKey = m.KeyName(m.System, rel)
	b.machine = readEnvKey(k, Origin{Scope: ScopeMachine, Key: b.machineKey, File: b.file(m.System), LastWrite: k.LastWrite()})
}

// readEnvKey reads an Environment key's string values in hive order.
func readEnvKey(k *hive.Key, base Origin) []rawValue {
	vals, _ := k.Values()
	var out []rawValue
	for _, v := range vals {
		d, err := v.Decode()
		if err != nil {
			continue
		}
		var data string
		switch d.Type {
		case hive.RegSZ, hive.RegExpandSZ:
			data = d.Text
		default:
			continue // only string values make it into the block
		}
		o := base
		o.Value = v.Name()
		o.Type = d.Type.String()
		out = append(out, rawValue{name: v.Name(), data: data, expand: d.Type == hive.RegExpandSZ, origin: o})
	}
	return out
}

// appendedNames are the user values appended to the machine value instead of
// replacing it.
func appended(name string) bool {
	return strings.EqualFold(name, "Path") || strings.EqualFold(name, "LibPath") || strings.EqualFold(name, "Os2LibPath")
}

func (b *builder) user(sid, name, profile, folder, kind string, h *hive.Hive) *User {
	u := &User{SID: sid, Name: name, ProfilePath: profile, Kind: kind, Hive: h}
	env := newBlock()
	for _, d := range b.derived {
		env.set(cloneVar(d))
	}
	if profile != "" {
		env.set(&Variable{Name: "USERPROFILE", Value: profile, Expanded: profile,
			Origin: Origin{Scope: ScopeDerived, Key: `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\` + sid, Value: "ProfileImagePath", File: b.file(b.m.Software)}})
	}
	if folder != "" || name != "" {
		n := folder
		if n == "" {
			n = name
		}
		if i := strings.LastIndex(n, `\`); i >= 0 {
			n = n[i+1:]
		}
		env.set(&Variable{Name: "USERNAME", Value: n, Expanded: n, Origin: Origin{Scope: ScopeDerived, Key: "profile folder"}})
	}
	if h != nil {
		b.shellFolders(env, h)
	}
	u.Unknown = []string{"HOMEDRIVE", "HOMEPATH", "HOMESHARE", "LOGONSERVER", "USERDOMAIN", "USERDNSDOMAIN"}
	// Machine values, in hive order, each expanded with what is set so far.
	for _, rv := range b.machine {
		v := expandValue(rv, env)
		env.set(v)
		if strings.EqualFold(rv.name, "Path") {
			u.MachinePath = v
		}
	}
	// The user's values: Path-like ones appended, the rest override.
	if h != nil {
		if k, err := h.OpenKey("Environment"); err == nil {
			keyName := b.m.KeyName(h, "Environment")
			for _, rv := range readEnvKey(k, Origin{Scope: ScopeUser, Key: keyName, File: b.file(h), LastWrite: k.LastWrite()}) {
				v := expandValue(rv, env)
				if strings.EqualFold(rv.name, "Path") {
					u.UserPath = v
				}
				prev := env.get(rv.name)
				if appended(rv.name) && prev != nil && prev.Origin.Scope == ScopeMachine {
					joined := cloneVar(v)
					joined.Name = prev.Name
					joined.Value = joinPath(prev.Value, v.Value)
					joined.Expanded = joinPath(prev.Expanded, v.Expanded)
					joined.Appended = true
					joined.Overrides = prev
					joined.Unresolved = append(append([]string(nil), prev.Unresolved...), v.Unresolved...)
					env.set(joined)
					continue
				}
				if prev != nil {
					v.Overrides = prev
				}
				env.set(v)
			}
		}
	}
	u.Variables = env.list()
	u.Path = b.pathEntries(u)
	cmds := b.opts.Commands
	if cmds == nil {
		cmds = []string{"go", "gofmt"}
	}
	appPaths := b.appPaths(h)
	for _, c := range cmds {
		u.Which = append(u.Which, Resolve(u, c, b.opts.Files, appPaths)...)
	}
	if folder != "" {
		if data, ok := b.opts.GoEnv[strings.ToLower(folder)]; ok {
			u.Go = goSettings(data, u)
		}
	}
	return u
}

// appPaths reads the App Paths registrations (the key's default value) of
// the user (HKCU, which wins) and the machine.
func (b *builder) appPaths(h *hive.Hive) map[string]string {
	out := map[string]string{}
	read := func(hv *hive.Hive, rel string) {
		if hv == nil {
			return
		}
		k, err := hv.OpenKey(rel)
		if err != nil {
			return
		}
		subs, _ := k.Subkeys()
		for _, sk := range subs {
			name := strings.ToLower(sk.Name())
			if _, done := out[name]; done {
				continue
			}
			if s, ok := winreg.StringValue(sk, ""); ok && s != "" {
				if v, err := sk.Value(""); err == nil && v.Type() == hive.RegExpandSZ {
					s, _ = Expand(s, func(n string) (string, bool) {
						for _, d := range b.derived {
							if strings.EqualFold(d.Name, n) {
								return d.Expanded, true
							}
						}
						return "", false
					})
				}
				out[name] = s
			}
		}
	}
	read(h, `Software\Microsoft\Windows\CurrentVersion\App Paths`)
	read(b.m.Software, `Microsoft\Windows\CurrentVersion\App Paths`)
	return out
}

// shellFolders sets APPDATA and LOCALAPPDATA from the user's
// Explorer\User Shell Folders (REG_EXPAND_SZ, expanded with USERPROFILE).
func (b *builder) shellFolders(env *block, h *hive.Hive) {
	rel := `Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders`
	k, err := h.OpenKey(rel)
	prof := env.get("USERPROFILE")
	for _, pair := range [][3]string{{"APPDATA", "AppData", `AppData\Roaming`}, {"LOCALAPPDATA", "Local AppData", `AppData\Local`}} {
		if k != nil && err == nil {
			if s, ok := winreg.StringValue(k, pair[1]); ok && s != "" {
				rv := rawValue{name: pair[0], data: s, expand: true, origin: Origin{Scope: ScopeDerived, Key: b.m.KeyName(h, rel), Value: pair[1], File: b.file(h), LastWrite: k.LastWrite(), Type: "REG_EXPAND_SZ"}}
				env.set(expandValue(rv, env))
				continue
			}
		}
		if prof != nil {
			p := prof.Expanded + `\` + pair[2]
			env.set(&Variable{Name: pair[0], Value: p, Expanded: p, Origin: Origin{Scope: ScopeDerived, Key: "Windows default under USERPROFILE"}})
		}
	}
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasSuffix(a, ";"):
		return a + b
	}
	return a + ";" + b
}

func cloneVar(v *Variable) *Variable {
	c := *v
	return &c
}

// expandValue returns the variable for rv, expanding a REG_EXPAND_SZ value
// once with the block as it is now. REG_SZ values are never expanded.
func expandValue(rv rawValue, env *block) *Variable {
	v := &Variable{Name: rv.name, Value: rv.data, Expanded: rv.data, Origin: rv.origin}
	if rv.expand {
		v.Expanded, v.Unresolved = Expand(rv.data, env.lookup)
	}
	return v
}

// Expand replaces each %NAME% in s with lookup(NAME), once, left to right,
// as ExpandEnvironmentStrings does: a reference to an unset variable is left
// as written (and returned in unresolved), and a lone % is kept.
func Expand(s string, lookup func(string) (string, bool)) (out string, unresolved []string) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			b.WriteString(s)
			break
		}
		name := s[i+1 : i+1+j]
		b.WriteString(s[:i])
		if val, ok := lookup(name); ok && name != "" {
			b.WriteString(val)
			s = s[i+2+j:]
			continue
		}
		if name != "" && !strings.ContainsAny(name, `;\/:`) {
			unresolved = append(unresolved, name)
		}
		// Keep the first % and continue from the second one, which may
		// open the next reference (as Windows does).
		b.WriteString(s[i : i+1+j])
		s = s[i+1+j:]
	}
	return b.String(), unresolved
}

// block is an environment block under construction: case-insensitive names,
// first-set order kept.
type block struct {
	order []string
	vars  map[string]*Variable
}

func newBlock() *block { return &block{vars: map[string]*Variable{}} }

func (e *block) set(v *Variable) {
	k := strings.ToUpper(v.Name)
	if _, ok := e.vars[k]; !ok {
		e.order = append(e.order, k)
	}
	e.vars[k] = v
}

func (e *block) get(name string) *Variable { return e.vars[strings.ToUpper(name)] }

func (e *block) lookup(name string) (string, bool) {
	v := e.get(name)
	if v == nil {
		return "", false
	}
	return v.Expanded, true
}

func (e *block) list() []*Variable {
	out := make([]*Variable, 0, len(e.order))
	for _, k := range e.order {
		out = append(out, e.vars[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToUpper(out[i].Name) < strings.ToUpper(out[j].Name) })
	return out
}
