package winreg

import (
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 1234500, time.UTC)

func build(t *testing.T, root *hivetest.Key, opts ...hivetest.Option) *hive.Hive {
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

func key(name string, subs ...*hivetest.Key) *hivetest.Key {
	return &hivetest.Key{Name: name, LastWrite: t0, Subkeys: subs}
}

func systemHive(t *testing.T, current uint32) *hive.Hive {
	sel := key("Select")
	sel.Values = []hivetest.Value{hivetest.DWORD("Current", current), hivetest.DWORD("Default", 1)}
	cn := key("ComputerName")
	cn.Values = []hivetest.Value{hivetest.SZ("ComputerName", "WS-TEST-01")}
	cs := func(n string) *hivetest.Key {
		return key(n, key("Control", key("ComputerName", cn), key("Session Manager", key("Environment"))))
	}
	return build(t, key("ROOT", cs("ControlSet001"), cs("ControlSet002"), sel))
}

func softwareHive(t *testing.T) *hive.Hive {
	prof := func(sid, path string) *hivetest.Key {
		k := key(sid)
		k.Values = []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", path), hivetest.DWORD("State", 0x800)}
		return k
	}
	pl := key("ProfileList", prof("S-1-5-18", `%systemroot%\system32\config\systemprofile`),
		prof("S-1-5-21-1-2-3-1001", `C:\Users\alice`), key("S-1-5-21-1-2-3-1001.bak"))
	return build(t, key("ROOT", key("Microsoft", key("Windows NT", key("CurrentVersion", pl)), key("Windows", key("CurrentVersion")))))
}

func ntuser(t *testing.T, embedded string) *hive.Hive {
	return build(t, key("ROOT", key("Environment"), key("Software", key("Microsoft")), key("AppEvents"), key("Console")), hivetest.WithFileName(embedded))
}

func TestNew_ResolvesControlSetHostAndUsers(t *testing.T) {
	m := New("collected-folder", []HiveInfo{
		{Hive: systemHive(t, 2)},
		{Hive: softwareHive(t)},
		{Hive: ntuser(t, `\??\C:\Users\alice\ntuser.dat`), Profile: "alice"},
		{Hive: ntuser(t, `\??\C:\Users\zed\ntuser.dat`)},
	})
	if m.CurrentControlSet != 2 || m.ControlSetSource != `Select\Current` {
		t.Errorf("control set = %d from %q, want 2 from Select\\Current", m.CurrentControlSet, m.ControlSetSource)
	}
	if m.Host != "WS-TEST-01" {
		t.Errorf("host = %q, want the ComputerName", m.Host)
	}
	if len(m.Users) != 2 {
		t.Fatalf("users = %d", len(m.Users))
	}
	alice, zed := m.Users[0], m.Users[1]
	if alice.SID != "S-1-5-21-1-2-3-1001" || alice.SIDSource != "ProfileList" || alice.ProfilePath != `C:\Users\alice` {
		t.Errorf("alice = %+v", *alice)
	}
	if zed.SID != "" || zed.Folder != "zed" || zed.ProfilePath != `C:\Users\zed` {
		t.Errorf("zed (no ProfileList entry, folder from the embedded name) = %+v", *zed)
	}
	p := m.Profiles["S-1-5-21-1-2-3-1001"]
	if p == nil || !p.Backup || p.State != 0x800 {
		t.Errorf("profile = %+v", p)
	}
	if got := m.KeyName(m.System, `ControlSet002\Control\Session Manager\Environment`); got != `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment` {
		t.Errorf("KeyName current set = %s", got)
	}
	if got := m.KeyName(m.System, `ControlSet001\Control`); got != `HKLM\SYSTEM\ControlSet001\Control` {
		t.Errorf("KeyName other set = %s", got)
	}
	if got := m.KeyName(m.System, `ControlSet0020`); got != `HKLM\SYSTEM\ControlSet0020` {
		t.Errorf("KeyName must not rewrite a longer name: %s", got)
	}
	if got := m.KeyName(alice.Hive, "Environment"); got != `HKU\S-1-5-21-1-2-3-1001\Environment` {
		t.Errorf("KeyName user = %s", got)
	}
	if got := m.KeyName(zed.Hive, "Environment"); got != `HKCU\Environment` {
		t.Errorf("KeyName unknown user = %s", got)
	}
	k, h, err := m.OpenKey(`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`)
	if err != nil || h != m.System || k.Path() != `ControlSet002\Control\Session Manager\Environment` {
		t.Errorf("OpenKey through CurrentControlSet: %v %v", k, err)
	}
	if _, _, err := m.OpenKey(`HKU\S-1-5-21-1-2-3-1001\Environment`); err != nil {
		t.Errorf("OpenKey HKU: %v", err)
	}
	if _, _, err := m.OpenKey(`HKLM\SAM\SAM`); err == nil {
		t.Error("OpenKey of an absent hive must fail")
	}
}

func TestCurrentControlSet_FallsBackToDefault(t *testing.T) {
	// Select\Current names a set that does not exist: Default (1) is used.
	m := New("x", []HiveInfo{{Hive: systemHive(t, 7)}})
	if m.CurrentControlSet != 1 || m.ControlSetSource != `Select\Default` {
		t.Fatalf("got %d from %q", m.CurrentControlSet, m.ControlSetSource)
	}
}

func TestProfileFromEmbeddedName(t *testing.T) {
	for in, want := range map[string]string{
		`\??\C:\Users\alice\ntuser.dat`:         `C:\Users\alice`,
		`?\C:\Users\vibranium\ntuser.dat`:       `C:\Users\vibranium`,
		`emRoot\System32\Config\SYSTEM`:         "",
		`sers\averyveryverylongname\ntuser.dat`: "",
	} {
		if got := profileFromEmbeddedName(in); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func TestNew_InfersSIDOfLooseProfileFromRootACL(t *testing.T) {
	sd, err := hivetest.UserKeySD("S-1-5-21-9-8-7-1104")
	if err != nil {
		t.Fatal(err)
	}
	root := key("ROOT", key("Environment"), key("Software"), key("AppEvents"), key("Console"))
	root.Security = sd
	m := New("x", []HiveInfo{{Hive: build(t, root, hivetest.WithFileName(`\??\C:\Users\eve\ntuser.dat`))}})
	u := m.Users[0]
	if u.SID != "S-1-5-21-9-8-7-1104" || u.SIDSource != "root ACL" || u.Folder != "eve" {
		t.Fatalf("user = %+v", *u)
	}
	if got := m.KeyName(u.Hive, "Environment"); got != `HKU\S-1-5-21-9-8-7-1104\Environment` {
		t.Fatalf("KeyName = %s", got)
	}
}
