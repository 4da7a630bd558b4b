package envmodel

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/winreg"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func k(name string, vals []hivetest.Value, subs ...*hivetest.Key) *hivetest.Key {
	return &hivetest.Key{Name: name, LastWrite: t0, Values: vals, Subkeys: subs}
}

func load(t *testing.T, root *hivetest.Key, opts ...hivetest.Option) *hive.Hive {
	t.Helper()
	b, err := hivetest.Build(root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Load("fixture", b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func machine(t *testing.T, machinePath string, userEnv []hivetest.Value) *winreg.Machine {
	t.Helper()
	sys := load(t, k("ROOT", nil,
		k("ControlSet001", nil, k("Control", nil, k("Session Manager", nil, k("Environment", []hivetest.Value{
			hivetest.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
			hivetest.ExpandSZ("Path", machinePath),
			hivetest.SZ("PATHEXT", ".COM;.EXE;.BAT;.CMD"),
			hivetest.ExpandSZ("windir", `%SystemRoot%`),
		})))),
		k("Select", []hivetest.Value{hivetest.DWORD("Current", 1)})))
	soft := load(t, k("ROOT", nil, k("Microsoft", nil,
		k("Windows NT", nil, k("CurrentVersion", []hivetest.Value{hivetest.SZ("SystemRoot", `D:\WINNT`)},
			k("ProfileList", []hivetest.Value{hivetest.ExpandSZ("ProgramData", `%SystemDrive%\ProgramData`), hivetest.ExpandSZ("Public", `%SystemDrive%\Users\Public`)},
				k("S-1-5-21-1-2-3-1001", []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", `D:\Users\alice`)})))),
		k("Windows", nil, k("CurrentVersion", []hivetest.Value{hivetest.SZ("ProgramFilesDir", `D:\Program Files`)})))))
	user := load(t, k("ROOT", nil, k("Environment", userEnv), k("Software", nil), k("AppEvents", nil), k("Console", nil)),
		hivetest.WithFileName(`\??\D:\Users\alice\ntuser.dat`))
	return winreg.New("h", []winreg.HiveInfo{{Hive: sys}, {Hive: soft}, {Hive: user, Profile: "alice"}})
}

func TestBuild_ExpansionOrderAndAppend(t *testing.T) {
	m := machine(t, `%SystemRoot%\system32;%SystemRoot%;C:\tools`, []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\bin;%GOBIN%;%LATER%`),
		hivetest.ExpandSZ("GOBIN", `%USERPROFILE%\go\bin`),
		hivetest.SZ("LATER", `x`),
		hivetest.SZ("RAW", `%USERPROFILE%\never`),
	})
	users := Build(m, Options{})
	if len(users) != 1 {
		t.Fatalf("users = %d", len(users))
	}
	u := users[0]
	p := u.Get("Path")
	// GOBIN and LATER are set after Path in the user key: each value is
	// expanded once, with the variables set so far, so they stay as written.
	want := `D:\WINNT\system32;D:\WINNT;C:\tools;D:\Users\alice\bin;%GOBIN%;%LATER%`
	if p.Expanded != want {
		t.Fatalf("Path = %q\nwant   %q", p.Expanded, want)
	}
	if !p.Appended || p.Overrides == nil || p.Overrides.Origin.Scope != ScopeMachine {
		t.Errorf("user Path must be appended to the machine Path: %+v", p)
	}
	if !slices.Equal(p.Unresolved, []string{"GOBIN", "LATER"}) {
		t.Errorf("unresolved = %v", p.Unresolved)
	}
	if g := u.Get("GOBIN"); g.Expanded != `D:\Users\alice\go\bin` {
		t.Errorf("GOBIN = %q", g.Expanded)
	}
	if r := u.Get("RAW"); r.Expanded != `%USERPROFILE%\never` {
		t.Errorf("REG_SZ must not be expanded: %q", r.Expanded)
	}
	if pd := u.Get("ProgramData"); pd == nil || pd.Value != `%SystemDrive%\ProgramData` {
		t.Errorf("ProgramData from ProfileList = %+v", pd)
	}
	if pf := u.Get("ProgramFiles"); pf == nil || pf.Expanded != `D:\Program Files` {
		t.Errorf("ProgramFiles = %+v", pf)
	}
}

func entry(u *User, pos int) PathEntry { return u.Path[pos-1] }

func TestPath_FlagsAndOrigins(t *testing.T) {
	m := machine(t, `C:\Users\Public\bin;%SystemRoot%\system32;%SystemRoot%;\\srv\tools;C:\tools;;bin;"C:\Program Files\Go\bin"`, []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\go\bin;C:\ProgramData\x;D:\WINNT\system32;%TEMP%`),
	})
	u := Build(m, Options{})[0]
	if len(u.Path) != 12 {
		for _, e := range u.Path {
			t.Log(e.Position, e.Expanded, e.Flags)
		}
		t.Fatalf("entries = %d", len(u.Path))
	}
	checks := []struct {
		pos   int
		scope Scope
		has   []string
		not   []string
	}{
		{1, ScopeMachine, []string{FlagPublic, FlagUserWrite, FlagAheadOfSys}, nil},
		{2, ScopeMachine, []string{FlagWindows}, []string{FlagAheadOfSys, FlagUserWrite}},
		{4, ScopeMachine, []string{FlagUNC, FlagUserWrite}, []string{FlagAheadOfSys}},
		{5, ScopeMachine, []string{FlagRootFolder, FlagUserWrite}, nil},
		{6, ScopeMachine, []string{FlagEmpty}, nil},
		{7, ScopeMachine, []string{FlagRelative}, nil},
		{8, ScopeMachine, []string{FlagQuoted, FlagProgramFile}, []string{FlagUserWrite}},
		{9, ScopeUser, []string{FlagUserProfile, FlagOwnProfile, FlagUserWrite}, nil},
		{10, ScopeUser, []string{FlagProgramData, FlagUserWrite}, nil},
		{11, ScopeUser, []string{FlagWindows, FlagDuplicate}, nil},
		{12, ScopeUser, []string{FlagUnresolved}, nil},
	}
	for _, c := range checks {
		e := entry(u, c.pos)
		if e.Origin.Scope != c.scope {
			t.Errorf("%d %q: scope %s, want %s", c.pos, e.Expanded, e.Origin.Scope, c.scope)
		}
		for _, f := range c.has {
			if !e.Has(f) {
				t.Errorf("%d %q: missing flag %s (has %v)", c.pos, e.Expanded, f, e.Flags)
			}
		}
		for _, f := range c.not {
			if e.Has(f) {
				t.Errorf("%d %q: unexpected flag %s", c.pos, e.Expanded, f)
			}
		}
	}
}

func TestPath_FileStatesAndShadowingGo(t *testing.T) {
	vol := t.TempDir()
	for _, p := range []string{"Users/Public/bin/go.exe", "Program Files/Go/bin/go.exe"} {
		full := filepath.Join(vol, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := machine(t, `C:\Users\Public\bin;C:\Program Files\Go\bin;C:\nothere`, nil)
	for _, complete := range []bool{false, true} {
		u := Build(m, Options{Files: Volumes{{Drive: "C:", Dir: vol, Complete: complete}}})[0]
		if e := entry(u, 1); e.State != Exists || !e.Has(FlagHasGo) {
			t.Errorf("public bin: %+v", e)
		}
		wantMissing := Unknown
		if complete {
			wantMissing = Missing
		}
		if e := entry(u, 3); e.State != wantMissing {
			t.Errorf("complete=%v: absent dir state %s, want %s", complete, e.State, wantMissing)
		}
	}
}

func TestResolve_WhichGoWins(t *testing.T) {
	vol := t.TempDir()
	for _, p := range []string{"Users/Public/bin/go.exe", "Program Files/Go/bin/go.exe"} {
		full := filepath.Join(vol, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := machine(t, `C:\Users\Public\bin;C:\Program Files\Go\bin`, nil)
	u := Build(m, Options{Files: Volumes{{Drive: "C:", Dir: vol, Complete: true}}, Commands: []string{"go"}})[0]
	got := map[string]Resolution{}
	for _, r := range u.Which {
		got[r.Resolver] = r
	}
	// PATHEXT is .COM;.EXE;.BAT;.CMD: go.com is missing, go.exe wins.
	if r := got[ResolverPowerShell]; r.Winner != `C:\Users\Public\bin\go.exe` || r.Undetermined != "" {
		t.Errorf("PowerShell: %+v", r)
	}
	// cmd.exe looks in the current directory first, which is unknown offline.
	if r := got[ResolverCmd]; r.Winner != `C:\Users\Public\bin\go.exe` || r.Undetermined != `.\go` {
		t.Errorf("cmd.exe: %+v", r)
	}
	// CreateProcess looks in the Windows directories (on D: here, not
	// collected) before PATH.
	if r := got[ResolverCreateProcess]; r.Candidates[2].Path != `D:\WINNT\System32\go.exe` || r.Undetermined == "" {
		t.Errorf("CreateProcess: %+v", r)
	}
	if _, ok := got[ResolverAppPaths]; ok {
		t.Error("no App Paths registration: no App Paths resolution")
	}
}

func TestExpand_UnknownAndLonePercent(t *testing.T) {
	look := func(n string) (string, bool) {
		if strings.EqualFold(n, "A") {
			return "1", true
		}
		return "", false
	}
	for in, want := range map[string]string{
		`%A%\x`:       `1\x`,
		`100%`:        `100%`,
		`%B%%A%`:      `%B%1`,
		`50% of %A%`:  `50% of 1`, // "% of %" is tried as a name first
		`%%A%`:        `%1`,
		`%NOPE%\%A%%`: `%NOPE%\1%`,
	} {
		if got, _ := Expand(in, look); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoEnvFile_EnvironmentOverridesFile(t *testing.T) {
	m := machine(t, `%SystemRoot%\system32`, []hivetest.Value{hivetest.SZ("GOPATH", `C:\old\gopath`)})
	u := Build(m, Options{GoEnv: map[string][]byte{"alice": []byte("GOPATH=D:\\work\\go\nGOPROXY=https://proxy.golang.org,direct\n")}})[0]
	var gp, proxy *GoSetting
	for i := range u.Go {
		switch u.Go[i].Name {
		case "GOPATH":
			gp = &u.Go[i]
		case "GOPROXY":
			proxy = &u.Go[i]
		}
	}
	if gp == nil || gp.Winner != "environment" || !gp.Overridden || gp.FileValue != `D:\work\go` {
		t.Errorf("GOPATH = %+v", gp)
	}
	if proxy == nil || proxy.Winner != "go env file" || proxy.Overridden {
		t.Errorf("GOPROXY = %+v", proxy)
	}
}

// TestCorpus_MergedPath checks the effective PATH of the corpus SYSTEM hive
// with transactions_NTUSER.DAT entry by entry. The expected entries are the
// raw values of EXPECTED.md §3/§4 expanded by hand: SystemRoot is C:\Windows
// (no SOFTWARE hive), USERPROFILE is C:\Users\tony (the profile folder the
// hive's embedded file name gives).
func TestCorpus_MergedPath(t *testing.T) {
	sys, err := hive.Open(testcorpus.Path(t, "hives", "regipy", "SYSTEM"))
	if err != nil {
		t.Fatal(err)
	}
	nt, err := hive.Open(testcorpus.Path(t, "hives", "regipy", "transactions_NTUSER.DAT"))
	if err != nil {
		t.Fatal(err)
	}
	m := winreg.New("x", []winreg.HiveInfo{{Hive: sys}, {Hive: nt, Profile: "tony"}})
	u := Build(m, Options{})[0]
	want := []struct {
		expanded string
		scope    Scope
	}{
		{`C:\Windows\system32`, ScopeMachine},
		{`C:\Windows`, ScopeMachine},
		{`C:\Windows\System32\Wbem`, ScopeMachine},
		{`C:\Windows\System32\WindowsPowerShell\v1.0\`, ScopeMachine},
		{`C:\Users\tony\AppData\Local\Microsoft\WindowsApps`, ScopeUser},
	}
	if len(u.Path) != len(want) {
		for _, e := range u.Path {
			t.Log(e.Position, e.Expanded)
		}
		t.Fatalf("got %d entries, want %d", len(u.Path), len(want))
	}
	for i, w := range want {
		e := u.Path[i]
		if e.Expanded != w.expanded || e.Origin.Scope != w.scope {
			t.Errorf("entry %d = %q (%s), want %q (%s)", i+1, e.Expanded, e.Origin.Scope, w.expanded, w.scope)
		}
	}
	if o := u.Path[0].Origin; o.Key != `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment` || o.LastWrite.Format(time.RFC3339Nano) != "2011-09-16T20:48:46.7010798Z" {
		t.Errorf("machine origin = %+v", o)
	}
	if o := u.Path[4].Origin; o.LastWrite.UTC().Format("2006-01-02T15:04:05") != "2017-07-12T07:23:23" {
		t.Errorf("user origin = %+v", o)
	}
	if u.Get("OneDrive").Expanded != `C:\Users\tony\OneDrive` {
		t.Errorf("OneDrive = %+v", u.Get("OneDrive"))
	}
}
