package analyze

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// EnvEvents emits, for each user's effective environment, one env_path event
// per PATH entry and one env_var event per variable read from an
// Environment key (derived values are context, not evidence, and are left
// out).
func EnvEvents(ctx context.Context, m *winreg.Machine, users []*envmodel.User, f Filter, emit Emit) error {
	if f == nil {
		f = All
	}
	// Machine values are the same for every user: each is emitted once, as
	// the machine's, not once per user.
	seen := map[string]bool{}
	once := func(ev *event.Event) error {
		if ev.String("Scope") != string(envmodel.ScopeMachine) {
			return emit(ev)
		}
		k := string(ev.Category) + "\x00" + ev.String("Position") + "\x00" + ev.String("Name") + "\x00" + ev.String("Expanded")
		if seen[k] {
			return nil
		}
		seen[k] = true
		ev.Set("ProfileKind", "machine")
		ev.Fields.Delete("UserSid")
		ev.Fields.Delete("User")
		return emit(ev)
	}
	for _, u := range users {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.WantCategory(event.EnvPath) {
			if err := envPathEvents(m, u, once); err != nil {
				return err
			}
		}
		if f.WantCategory(event.EnvVar) {
			if err := envVarEvents(m, u, once); err != nil {
				return err
			}
		}
	}
	return nil
}

func envBase(c event.Category, m *winreg.Machine, u *envmodel.User, o envmodel.Origin) *event.Event {
	ev := event.New(c, o.LastWrite)
	ev.Source = event.Source{Host: m.Host, File: o.File, Offset: -1}
	target := o.Key
	if o.Value != "" {
		target += `\` + o.Value
	}
	ev.Set("ProfileKind", u.Kind).
		Set("Scope", string(o.Scope)).
		Set("OriginKey", o.Key).
		Set("OriginValue", o.Value).
		Set("LastWrite", o.LastWrite).
		Set("TargetObject", target).
		Set("KeyPath", o.Key).
		Set("ValueName", o.Value).
		Set("Host", m.Host).
		Set("EvidenceFile", o.File)
	if u.SID != "" {
		ev.Set("UserSid", u.SID)
	}
	if u.Name != "" {
		ev.Set("User", u.Name)
	}
	return ev
}

func envPathEvents(m *winreg.Machine, u *envmodel.User, emit Emit) error {
	gorootBin := ""
	if g := u.Get("GOROOT"); g != nil {
		gorootBin = strings.ToLower(strings.TrimRight(g.Expanded, `\`)) + `\bin`
	}
	gorootSeen := false
	for _, e := range u.Path {
		ev := envBase(event.EnvPath, m, u, e.Origin)
		dir := strings.ToLower(strings.TrimRight(strings.Trim(e.Expanded, `"`), `\`))
		if gorootBin != "" && dir == gorootBin {
			gorootSeen = true
		}
		shadows := e.Has(envmodel.FlagHasGo) && gorootBin != "" && !gorootSeen && dir != gorootBin
		ev.Set("Details", e.Expanded)
		ev.Set("Position", int64(e.Position)).
			Set("Raw", e.Raw).
			Set("Expanded", e.Expanded).
			Set("Flags", append([]string(nil), e.Flags...)).
			Set("UserWritable", e.Has(envmodel.FlagUserWrite)).
			Set("AheadOfSystem32", e.Has(envmodel.FlagAheadOfSys)).
			Set("State", e.State).
			Set("HasGoExe", e.Has(envmodel.FlagHasGo)).
			Set("ShadowsGo", shadows)
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

func envVarEvents(m *winreg.Machine, u *envmodel.User, emit Emit) error {
	goenv := map[string]envmodel.GoSetting{}
	for _, g := range u.Go {
		goenv[strings.ToUpper(g.Name)] = g
	}
	vars := make([]*envmodel.Variable, 0, len(u.Variables)+1)
	for _, v := range u.Variables {
		if v.Appended && v.Overrides != nil {
			// The machine part of an appended Path is a machine value of
			// its own.
			vars = append(vars, v.Overrides)
		}
		vars = append(vars, v)
	}
	for _, v := range vars {
		if v.Origin.Scope == envmodel.ScopeDerived {
			continue
		}
		ev := envBase(event.EnvVar, m, u, v.Origin)
		stored := v.Value
		if v.Appended && u.UserPath != nil && strings.EqualFold(v.Name, "Path") {
			stored = u.UserPath.Value
		}
		ev.Set("Details", v.Expanded)
		ev.Set("Name", v.Name).
			Set("Value", v.Value).
			Set("Expanded", v.Expanded).
			Set("ValueType", v.Origin.Type).
			Set("Length", int64(len([]rune(stored)))).
			Set("Unresolved", append([]string(nil), v.Unresolved...)).
			Set("UnexpandedReference", v.Origin.Type == "REG_SZ" && hasReference(stored))
		if v.Overrides != nil {
			ev.Set("Overrides", v.Overrides.Value)
		}
		if strings.EqualFold(v.Name, "Path") && v.Origin.Scope == envmodel.ScopeUser && u.MachinePath != nil && u.UserPath != nil {
			ev.Set("RepeatsMachinePath", repeatsPath(u.MachinePath.Expanded, u.UserPath.Expanded))
		}
		if v.Origin.Scope == envmodel.ScopeMachine && !v.Appended {
			otherControlSets(ev, m, v)
		}
		if g, ok := goenv[strings.ToUpper(v.Name)]; ok && g.InFile {
			ev.Set("GoEnvFileValue", g.FileValue).Set("OverridesGoEnv", g.Overridden)
		}
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// otherControlSets compares a machine value with the same value in the
// other ControlSet00N keys of SYSTEM (the last-known-good copies Windows
// can boot into): a difference explains a value that "comes back" after a
// boot into the other set.
func otherControlSets(ev *event.Event, m *winreg.Machine, v *envmodel.Variable) {
	if m.System == nil || m.CurrentControlSet == 0 {
		return
	}
	root, err := m.System.Root()
	if err != nil {
		return
	}
	subs, _ := root.Subkeys()
	current := m.CurrentControlSetPath()
	for _, cs := range subs {
		name := cs.Name()
		if !strings.HasPrefix(strings.ToLower(name), "controlset") || strings.EqualFold(name, current) {
			continue
		}
		k, err := m.System.OpenKey(name + `\Control\Session Manager\Environment`)
		if err != nil {
			continue
		}
		other := ""
		if val, err := k.Value(v.Origin.Value); err == nil {
			if d, err := val.Decode(); err == nil {
				other = d.Text
			}
		}
		ev.Set("OtherControlSet", name).Set("OtherControlSetValue", other).Set("DiffersFromOtherControlSet", other != v.Value)
		if other != v.Value {
			return
		}
	}
}

// hasReference reports whether s holds a %NAME% reference.
func hasReference(s string) bool {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(s[i+1:], '%')
	return j > 0
}

// repeatsPath reports whether the user Path holds most (at least half, and
// at least two) of the machine Path's directories: the mark of
// `setx PATH "%PATH%;..."`, which copies the expanded machine Path into the
// user's.
func repeatsPath(machine, user string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), `\`)) }
	userSet := map[string]bool{}
	for _, d := range strings.Split(user, ";") {
		if d = norm(d); d != "" {
			userSet[d] = true
		}
	}
	total, found := 0, 0
	for _, d := range strings.Split(machine, ";") {
		if d = norm(d); d == "" {
			continue
		}
		total++
		if userSet[d] {
			found++
		}
	}
	return found >= 2 && found*2 >= total
}

// ProfileEvents emits one user_profile event per ProfileList entry of
// SOFTWARE.
func ProfileEvents(ctx context.Context, m *winreg.Machine, file string, emit Emit) error {
	for _, sid := range slices.Sorted(maps.Keys(m.Profiles)) {
		p := m.Profiles[sid]
		target := `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\` + sid
		ev := event.New(event.UserProfile, p.LastWrite)
		ev.Source = event.Source{Host: m.Host, File: file, Offset: -1}
		mandatory := p.HasState && p.State&0x1 != 0
		for _, u := range m.Users {
			if u.SID == sid && u.Mandatory {
				mandatory = true
			}
		}
		ev.Set("TargetObject", target).
			Set("ProfileImagePath", p.ProfileImagePath).
			Set("State", int64(p.State)).
			Set("Mandatory", mandatory).
			Set("Temporary", (p.HasState && p.State&0x800 != 0) || p.Backup).
			Set("Backup", p.Backup).
			Set("CentralProfile", p.CentralProfile).
			Set("Roaming", p.CentralProfile != "").
			Set("LoadTime", p.LoadTime).
			Set("UnloadTime", p.UnloadTime).
			Set("LastWrite", p.LastWrite).
			Set("Host", m.Host).
			Set("EvidenceFile", file).
			Set("UserSid", sid)
		for _, u := range m.Users {
			if u.SID == sid && u.Name != "" {
				ev.Set("User", u.Name)
			}
		}
		if err := emit(ev); err != nil {
			return err
		}
	}
	return ctx.Err()
}
