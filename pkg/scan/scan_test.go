package scan

import (
	"archive/zip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/report"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func k(name string, vals []hivetest.Value, subs ...*hivetest.Key) *hivetest.Key {
	return &hivetest.Key{Name: name, LastWrite: t0, Values: vals, Subkeys: subs}
}

func write(t *testing.T, path string, root *hivetest.Key, opts ...hivetest.Option) {
	t.Helper()
	b, err := hivetest.Build(root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

const aliceSID = "S-1-5-21-1111111111-2222222222-3333333333-1001"

// fixtureHost writes a KAPE-style host with a few planted items and a clean
// user, and returns the collection folder.
func fixtureHost(t *testing.T) string {
	dir := t.TempDir()
	vol := filepath.Join(dir, "WS-FIX-01", "C")
	write(t, filepath.Join(vol, "Windows/System32/config/SYSTEM"), k("ROOT", nil,
		k("ControlSet001", nil,
			k("Control", nil,
				k("ComputerName", nil, k("ComputerName", []hivetest.Value{hivetest.SZ("ComputerName", "WS-FIX-01")})),
				k("CI", nil, k("Callbacks", nil)),
				k("Session Manager", nil, k("Environment", []hivetest.Value{
					hivetest.ExpandSZ("Path", `%SystemRoot%\system32;%SystemRoot%`),
					hivetest.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
				}))),
			k("Services", nil,
				k("disk", []hivetest.Value{hivetest.DWORD("Type", 1), hivetest.DWORD("Start", 0), hivetest.ExpandSZ("ImagePath", `System32\drivers\disk.sys`)}),
				k("wdfilter2", []hivetest.Value{hivetest.DWORD("Type", 1), hivetest.DWORD("Start", 1), hivetest.ExpandSZ("ImagePath", `\??\C:\Users\Public\drv\wdfilter2.sys`)}))),
		// The last-known-good copy still has the older machine Path.
		k("ControlSet002", nil, k("Control", nil, k("Session Manager", nil, k("Environment", []hivetest.Value{
			hivetest.ExpandSZ("Path", `%SystemRoot%\system32`),
			hivetest.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
		})))),
		k("Select", []hivetest.Value{hivetest.DWORD("Current", 1)})))
	write(t, filepath.Join(vol, "Windows/System32/config/SOFTWARE"), k("ROOT", nil, k("Microsoft", nil,
		k("Windows NT", nil, k("CurrentVersion", []hivetest.Value{hivetest.SZ("SystemRoot", `C:\Windows`)},
			k("ProfileList", nil,
				k(aliceSID, []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", `C:\Users\alice`)}),
				k("S-1-5-21-1111111111-2222222222-3333333333-1003", []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", `C:\Users\carol`)})))),
		k("Windows", nil, k("CurrentVersion", nil)))))
	user := func(name, sid string, env []hivetest.Value, extra ...*hivetest.Key) {
		// A Windows 10 profile: the user, SYSTEM and Administrators have
		// full control of the root and of Environment.
		sd, err := hivetest.UserKeySD(sid)
		if err != nil {
			t.Fatal(err)
		}
		envKey := k("Environment", env)
		envKey.Security = sd
		subs := append([]*hivetest.Key{envKey, k("AppEvents", nil), k("Console", nil)}, extra...)
		root := k("ROOT", nil, subs...)
		root.Security = sd
		write(t, filepath.Join(vol, "Users", name, "NTUSER.DAT"), root, hivetest.WithFileName(`\??\C:\Users\`+name+`\ntuser.dat`))
	}
	user("alice", aliceSID, []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
		hivetest.SZ("UserInitMprLogonScript", `C:\Users\Public\logon.bat`),
	}, k("Software", nil, k("Microsoft", nil, k("Command Processor", []hivetest.Value{hivetest.SZ("AutoRun", `C:\Users\Public\a.cmd`)}))))
	user("carol", "S-1-5-21-1111111111-2222222222-3333333333-1003", []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
		hivetest.ExpandSZ("TEMP", `%USERPROFILE%\AppData\Local\Temp`),
	}, k("Software", nil))
	return dir
}

func TestScan_FixtureHostFiresPlantedRulesOnly(t *testing.T) {
	dir := fixtureHost(t)
	var got []*report.Finding
	sum, err := Scan(context.Background(), []string{dir}, Options{}, func(f *report.Finding) error {
		got = append(got, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hosts) != 1 || sum.Hosts[0].Name != "WS-FIX-01" {
		t.Fatalf("hosts = %+v", sum.Hosts)
	}
	if p := sum.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	type key struct{ title, level, pattern, key, value string }
	var keys []string
	for _, f := range got {
		keys = append(keys, strings.Join([]string{f.Level.String(), f.Pattern, f.Key, f.Value, f.UserSID}, " | "))
		if strings.Contains(f.Key, "carol") || strings.HasSuffix(f.UserSID, "-1003") {
			t.Errorf("clean user carol has a finding: %+v", f)
		}
		if f.Host != "WS-FIX-01" || f.Explain == "" || f.RuleID == "" {
			t.Errorf("finding lacks host/explain/rule: %+v", f)
		}
	}
	sort.Strings(keys)
	want := []string{
		`high | callback | HKLM\SYSTEM\CurrentControlSet\Services\wdfilter2 |  | `,
		`high | persistence | HKU\` + aliceSID + `\Environment | UserInitMprLogonScript | ` + aliceSID,
		`high | persistence | HKU\` + aliceSID + `\Software\Microsoft\Command Processor | AutoRun | ` + aliceSID,
		`medium | callback | HKLM\SYSTEM\CurrentControlSet\Control\CI\Callbacks |  | `,
		`informational | misconfig | HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment | Path | `,
	}
	sort.Strings(want)
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}

func TestScan_MinLevelAndEvents(t *testing.T) {
	dir := fixtureHost(t)
	n := 0
	if _, err := Scan(context.Background(), []string{dir}, Options{MinLevel: report.LevelHigh}, func(f *report.Finding) error {
		if f.Level < report.LevelHigh {
			t.Errorf("below --min-level: %+v", f)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("high findings = %d, want 3", n)
	}
	cats := map[event.Category]int{}
	if _, err := Events(context.Background(), []string{dir}, Options{Categories: []event.Category{event.WindowsService}}, func(ev *event.Event) error {
		cats[ev.Category]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(cats) != 1 || cats[event.WindowsService] != 2 {
		t.Errorf("events by category = %v, want 2 windows_service", cats)
	}
}

func TestScan_NoEvidenceIsAnError(t *testing.T) {
	if _, err := Scan(context.Background(), []string{t.TempDir()}, Options{}, func(*report.Finding) error { return nil }); err == nil {
		t.Fatal("want an error for a folder with no evidence")
	}
}

// zipDir writes every file under dir into a ZIP archive at dst, with
// slash-separated names relative to dir.
func zipDir(t *testing.T, dir, dst string) {
	t.Helper()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestScan_ZIPCollectionGivesTheSameFindings(t *testing.T) {
	dir := fixtureHost(t)
	zpath := filepath.Join(t.TempDir(), "collection.zip")
	zipDir(t, dir, zpath)
	summary := func(input string) []string {
		var out []string
		if _, err := Scan(context.Background(), []string{input}, Options{}, func(f *report.Finding) error {
			out = append(out, f.RuleID+" "+f.Key+" "+f.Value)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	fromDir, fromZip := summary(dir), summary(zpath)
	if len(fromDir) == 0 || strings.Join(fromDir, "\n") != strings.Join(fromZip, "\n") {
		t.Errorf("directory:\n%s\nzip:\n%s", strings.Join(fromDir, "\n"), strings.Join(fromZip, "\n"))
	}
}

// A directory of the machine Path that comes before GOROOT\bin and holds its
// own go.exe is reported when the collection holds the files.
func TestScan_ShadowingGoExeWhenFilesAreCollected(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "WS-GO-01", "C")
	write(t, filepath.Join(vol, "Windows/System32/config/SYSTEM"), k("ROOT", nil,
		k("ControlSet001", nil, k("Control", nil, k("Session Manager", nil, k("Environment", []hivetest.Value{
			hivetest.ExpandSZ("Path", `%SystemRoot%\system32;C:\tools\bin;C:\Program Files\Go\bin`),
			hivetest.SZ("GOROOT", `C:\Program Files\Go`),
		})))),
		k("Select", []hivetest.Value{hivetest.DWORD("Current", 1)})))
	for _, p := range []string{"tools/bin/go.exe", "Program Files/Go/bin/go.exe"} {
		full := filepath.Join(vol, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("MZ"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var shadow []*report.Finding
	if _, err := Scan(context.Background(), []string{dir}, Options{}, func(f *report.Finding) error {
		if strings.Contains(f.Title, "go.exe Found Before GOROOT") {
			shadow = append(shadow, f)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(shadow) != 1 || shadow[0].Level != report.LevelHigh || shadow[0].Data != `C:\tools\bin` {
		t.Fatalf("shadowing go.exe findings: %+v", shadow)
	}
}
