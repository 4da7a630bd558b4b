package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
)

// committed is the collection as checked in.
var committed = filepath.Join("..", "..", "testdata", "demo")

func TestGenerate_MatchesCommittedCollection(t *testing.T) {
	dir := t.TempDir()
	files, err := generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(committed, filepath.FromSlash(f)))
		if err != nil {
			t.Errorf("%s: not committed (run: go run ./cmd/mkdemo -out testdata/demo): %v", f, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: committed bytes differ from the generator's (run: go run ./cmd/mkdemo -out testdata/demo)", f)
		}
	}
	// Every committed file comes from a generator, except the README.
	var total int64
	err = filepath.WalkDir(committed, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		rel, _ := filepath.Rel(committed, p)
		rel = filepath.ToSlash(rel)
		if rel != "README.md" && !slices.Contains(files, rel) {
			t.Errorf("%s is committed but no generator writes it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 1<<20 {
		t.Errorf("the demo collection is %d bytes; keep it well under 1 MB", total)
	}
}

func TestGenerate_TwoRunsGiveTheSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	fa, err := generate(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generate(b); err != nil {
		t.Fatal(err)
	}
	for _, f := range fa {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", f)
		}
	}
}

// demoHive opens a hive of a freshly generated collection.
func demoHive(t *testing.T, dir, rel string, opts ...hive.Option) *hive.Hive {
	t.Helper()
	h, err := hive.Open(filepath.Join(dir, filepath.FromSlash(rel)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Dirty() && (h.Partial() || len(h.Anomalies()) > 0) {
		t.Errorf("%s: partial %v, anomalies %v", rel, h.Partial(), h.Anomalies())
	}
	return h
}

func valueText(t *testing.T, h *hive.Hive, keyPath, name string) (string, bool) {
	t.Helper()
	k, err := h.OpenKey(keyPath)
	if err != nil {
		return "", false
	}
	v, err := k.Value(name)
	if err != nil {
		return "", false
	}
	d, err := v.Decode()
	if err != nil {
		t.Fatalf("%s\\%s: %v", keyPath, name, err)
	}
	if d.Type.IsInt() {
		return strconv.FormatUint(d.Int, 10), true
	}
	return d.Text, true
}

// TestDemo_PlantedItemsAreWhereTheReadmeSays reads the generated collection
// with the hive reader and checks each planted item README.md documents.
func TestDemo_PlantedItemsAreWhereTheReadmeSays(t *testing.T) {
	dir := t.TempDir()
	if _, err := generate(dir); err != nil {
		t.Fatal(err)
	}
	system := demoHive(t, dir, configDir+"/SYSTEM")
	software := demoHive(t, dir, configDir+"/SOFTWARE")
	alice := demoHive(t, dir, userFile(alice))
	roaming := demoHive(t, dir, roamingDir+"/alice.V6/NTUSER.DAT")
	bobOnDisk := demoHive(t, dir, userFile(bob), hive.WithoutLogs())
	bobRecovered := demoHive(t, dir, userFile(bob))
	carolHive := demoHive(t, dir, userFile(carol))

	checks := []struct {
		name       string
		h          *hive.Hive
		key, value string
		want       string
	}{
		{"computer name", system, `ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", hostName},
		{"current control set", system, `Select`, "Current", "1"},
		{"machine Path puts C:\\Users\\Public\\bin first", system, `ControlSet001\Control\Session Manager\Environment`, "Path", machinePath},
		{"kernel driver type", system, `ControlSet001\Services\wdfilter2`, "Type", "1"},
		{"kernel driver image", system, `ControlSet001\Services\wdfilter2`, "ImagePath", `\??\C:\Users\Public\drv\wdfilter2.sys`},
		{"alice's profile", software, `Microsoft\Windows NT\CurrentVersion\ProfileList\` + aliceSID, "ProfileImagePath", `C:\Users\alice`},
		{"alice roams", software, `Microsoft\Windows NT\CurrentVersion\ProfileList\` + aliceSID, "CentralProfile", `\\FS01\profiles$\alice`},
		{"carol's profile", software, `Microsoft\Windows NT\CurrentVersion\ProfileList\` + carolSID, "ProfileImagePath", `C:\Users\carol`},
		{"GPO state script", software, `Microsoft\Windows\CurrentVersion\Group Policy\State\` + aliceSID + `\Scripts\Logon\0\0`, "Parameters", logonParams},
		{"alice's logon script", alice, `Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon\0\0`, "Script", "reg.exe"},
		{"alice's logon script parameters", alice, `Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon\0\0`, "Parameters", logonParams},
		{"alice's local GOPATH", alice, `Environment`, "GOPATH", `D:\work\go`},
		{"roaming copy GOPATH", roaming, `Environment`, "GOPATH", `%USERPROFILE%\go`},
		{"roaming copy Path", roaming, `Environment`, "Path", `C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`},
		{"bob's logon script", bobOnDisk, `Environment`, "UserInitMprLogonScript", `C:\Users\Public\logon.bat`},
		{"bob's cmd AutoRun", bobOnDisk, `Software\Microsoft\Command Processor`, "AutoRun", `C:\Users\Public\a.cmd`},
		{"bob's GOROOT on disk", bobOnDisk, `Environment`, "GOROOT", `C:\Program Files\Go`},
		{"bob's GOROOT after the log", bobRecovered, `Environment`, "GOROOT", `C:\Users\Public\go`},
		{"bob's profiler after the log", bobRecovered, `Environment`, "COR_PROFILER_PATH", `C:\Users\Public\prof\clrhook.dll`},
		{"carol's default Path", carolHive, `Environment`, "Path", defaultUserPath},
	}
	for _, c := range checks {
		got, ok := valueText(t, c.h, c.key, c.value)
		if !ok || got != c.want {
			t.Errorf("%s: %s\\%s = %q (found %v), want %q", c.name, c.key, c.value, got, ok, c.want)
		}
	}
	if _, ok := valueText(t, bobOnDisk, `Environment`, "COR_ENABLE_PROFILING"); ok {
		t.Error("bob's COR_ENABLE_PROFILING is in the primary file; it must be only in the log")
	}
	// LOG1 applies (two entries); the stale LOG2 is considered and skipped.
	applied := map[string]int{}
	for _, r := range bobRecovered.Logs() {
		if r.Applied {
			applied[filepath.Base(r.File)] = r.Entries
		} else {
			applied[filepath.Base(r.File)] = -1
		}
	}
	if !bobRecovered.Recovered() || applied["NTUSER.DAT.LOG1"] != 2 || applied["NTUSER.DAT.LOG2"] != -1 {
		t.Errorf("bob's logs: recovered %v, reports %+v", bobRecovered.Recovered(), bobRecovered.Logs())
	}
	if p, _ := valueText(t, alice, `Environment`, "Path"); len(p) != setxLimit {
		t.Errorf("alice's Path has %d characters, want %d", len(p), setxLimit)
	}
	if _, err := system.OpenKey(`ControlSet001\Control\CI\Callbacks`); err != nil {
		t.Errorf("CI\\Callbacks: %v", err)
	}
	// The roaming copy is newer than the local hive by every clock.
	if !roaming.BaseBlock().LastWritten.After(alice.BaseBlock().LastWritten) {
		t.Error("roaming base block is not newer than the local one")
	}
	for _, h := range []*hive.Hive{alice, roaming} {
		k, _ := h.OpenKey("Environment")
		if h == roaming && !k.LastWrite().Equal(tRoaming) || h == alice && !k.LastWrite().Equal(tAliceSetx) {
			t.Errorf("%s: Environment last write %v", h.Name(), k.LastWrite())
		}
	}
	// Carol is clean: her Environment holds exactly the defaults and her
	// Software tree has no Command Processor or Group Policy keys.
	k, _ := carolHive.OpenKey("Environment")
	vals, _ := k.Values()
	var names []string
	for _, v := range vals {
		names = append(names, v.Name())
	}
	if strings.Join(names, ",") != "Path,TEMP,TMP" {
		t.Errorf("carol's Environment values %v", names)
	}
	for _, p := range []string{`Software\Microsoft\Command Processor`, `Software\Microsoft\Windows\CurrentVersion\Group Policy`} {
		if _, err := carolHive.OpenKey(p); err == nil {
			t.Errorf("carol has %s", p)
		}
	}
}
