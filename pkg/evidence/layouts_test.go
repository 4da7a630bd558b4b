package evidence

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (slash paths relative to root) with the given
// contents ("regf" when empty).
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		if body == "" {
			body = "regf"
		}
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeZip writes a ZIP file holding files (member name -> content).
func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		body := files[n]
		if body == "" {
			body = "regf"
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// describe renders a host's files one line each, with every attribute
// discovery sets, sorted.
func describe(h *Host) []string {
	var out []string
	for _, f := range h.Files {
		s := string(f.Kind) + " " + f.WinPath
		for _, kv := range [][2]string{{"profile", f.Profile}, {"snap", f.Snapshot}, {"scope", f.Scope}, {"gpo", f.GPO}, {"sid", f.SID}} {
			if kv[1] != "" {
				s += " " + kv[0] + "=" + kv[1]
			}
		}
		if f.Mandatory {
			s += " mandatory"
		}
		for _, l := range f.Logs {
			s += " log=" + filepath.Base(l)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func discoverMap(t *testing.T, paths ...string) map[string]*Host {
	t.Helper()
	hosts, err := Discover(context.Background(), paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Host{}
	for _, h := range hosts {
		if m[h.Name] != nil {
			t.Fatalf("two hosts named %s", h.Name)
		}
		m[h.Name] = h
	}
	return m
}

func checkHost(t *testing.T, hosts map[string]*Host, name string, want []string) {
	t.Helper()
	h := hosts[name]
	if h == nil {
		var names []string
		for n := range hosts {
			names = append(names, n)
		}
		t.Fatalf("no host %s (hosts: %v)", name, names)
	}
	got := describe(h)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("host %s:\n got:\n  %s\nwant:\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const (
	guidA = "{31B2F340-016D-11D2-945F-00C04FB984F9}"
	sidA  = "S-1-5-21-1111111111-2222222222-3333333333-1001"
)

func TestDiscover_MountedVolumeWithEveryHiveAndGroupPolicyPlace(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"Windows/System32/config/SYSTEM":                                                                     "",
		"Windows/System32/config/SYSTEM.LOG1":                                                                "log",
		"Windows/System32/config/SYSTEM.LOG2":                                                                "", // empty "regf" is 4 bytes; made empty below
		"Windows/System32/config/DEFAULT":                                                                    "",
		"Windows/System32/config/RegBack/SOFTWARE":                                                           "",
		"Windows/ServiceProfiles/NetworkService/NTUSER.DAT":                                                  "",
		"Users/Default/NTUSER.DAT":                                                                           "",
		"Users/kiosk/NTUSER.MAN":                                                                             "",
		"Windows.old/Windows/System32/config/SYSTEM":                                                         "",
		"Windows.old/Users/alice/NTUSER.DAT":                                                                 "",
		"Windows/System32/GroupPolicy/Machine/Registry.pol":                                                  "",
		"Windows/System32/GroupPolicy/User/Registry.pol":                                                     "",
		"Windows/System32/GroupPolicy/User/Scripts/scripts.ini":                                              "",
		"Windows/System32/GroupPolicy/User/Scripts/Logon/setpath.cmd":                                        "",
		"Windows/System32/GroupPolicy/Machine/Scripts/Startup/boot.ps1":                                      "",
		"ProgramData/Microsoft/Group Policy/History/" + guidA + "/Machine/Preferences/Registry/Registry.xml": "",
		"ProgramData/Microsoft/Group Policy/History/" + guidA + "/" + sidA + "/Preferences/EnvironmentVariables/EnvironmentVariables.xml":       "",
		"Users/alice/AppData/Local/Microsoft/Group Policy/History/" + guidA + "/User/Preferences/EnvironmentVariables/EnvironmentVariables.xml": "",
		"Users/alice/NTUSER.DAT":                        "",
		"Users/alice/Documents/Scripts/Logon/notes.txt": "", // not in a policy tree
		"Windows/System32/GroupPolicy/DataStore/0/SysVol/corp.example/Policies/" + guidA + "/User/Registry.pol": "",
		"Windows/System32/GroupPolicyUsers/" + sidA + "/User/Registry.pol":                                      "",
	})
	if err := os.Truncate(filepath.Join(root, "Windows/System32/config/SYSTEM.LOG2"), 0); err != nil {
		t.Fatal(err)
	}
	hosts := discoverMap(t, root)
	if len(hosts) != 1 {
		t.Fatalf("Windows.old must not be a host of its own: %d hosts", len(hosts))
	}
	checkHost(t, hosts, filepath.Base(root), []string{
		`SYSTEM Windows\System32\config\SYSTEM log=SYSTEM.LOG1`,
		`DEFAULT Windows\System32\config\DEFAULT`,
		`SOFTWARE Windows\System32\config\RegBack\SOFTWARE snap=RegBack`,
		`NTUSER Windows\ServiceProfiles\NetworkService\NTUSER.DAT profile=NetworkService`,
		`NTUSER Users\Default\NTUSER.DAT profile=Default`,
		`NTUSER Users\kiosk\NTUSER.MAN profile=kiosk mandatory`,
		`NTUSER Users\alice\NTUSER.DAT profile=alice`,
		`SYSTEM Windows.old\Windows\System32\config\SYSTEM snap=Windows.old`,
		`NTUSER Windows.old\Users\alice\NTUSER.DAT profile=alice snap=Windows.old`,
		`gpo Windows\System32\GroupPolicy\Machine\Registry.pol scope=Machine`,
		`gpo Windows\System32\GroupPolicy\User\Registry.pol scope=User`,
		`gpo Windows\System32\GroupPolicy\User\Scripts\scripts.ini scope=User`,
		`gpo-script Windows\System32\GroupPolicy\User\Scripts\Logon\setpath.cmd scope=User`,
		`gpo-script Windows\System32\GroupPolicy\Machine\Scripts\Startup\boot.ps1 scope=Machine`,
		`gpo ProgramData\Microsoft\Group Policy\History\` + guidA + `\Machine\Preferences\Registry\Registry.xml scope=Machine gpo=` + guidA,
		`gpo ProgramData\Microsoft\Group Policy\History\` + guidA + `\` + sidA + `\Preferences\EnvironmentVariables\EnvironmentVariables.xml scope=User gpo=` + guidA + ` sid=` + sidA,
		`gpo Users\alice\AppData\Local\Microsoft\Group Policy\History\` + guidA + `\User\Preferences\EnvironmentVariables\EnvironmentVariables.xml profile=alice scope=User gpo=` + guidA,
		`gpo Windows\System32\GroupPolicy\DataStore\0\SysVol\corp.example\Policies\` + guidA + `\User\Registry.pol scope=User gpo=` + guidA,
		`gpo Windows\System32\GroupPolicyUsers\` + sidA + `\User\Registry.pol scope=User sid=` + sidA,
	})
}

func TestDiscover_KapeAndVelociraptorTreesEscapedAndMixedCase(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		// KAPE: C/..., mixed case, logs in lower case.
		"kape/WS1/C/WINDOWS/system32/Config/SYSTEM":      "",
		"kape/WS1/C/WINDOWS/system32/Config/system.log1": "log",
		"kape/WS1/C/users/Bob/ntuser.dat":                "",
		"kape/WS1/C/users/Bob/NTUSER.DAT.LOG2":           "log",
		// KAPE with an escaped drive folder.
		"kape/WS2/C%3A/Windows/System32/config/SYSTEM": "",
		// Velociraptor, the raw NTFS accessor: uploads/ntfs/%5C%5C.%5CC%3A.
		"velo/C.1a2b3c/uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/config/SYSTEM":                 "",
		"velo/C.1a2b3c/uploads/ntfs/%5C%5C.%5CC%3A/Users/carol/NTUSER.DAT":                         "",
		"velo/C.1a2b3c/uploads/ntfs/%5C%5C.%5CC%3A/Users/carol/NTUSER.DAT.LOG1":                    "log",
		"velo/C.1a2b3c/uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/GroupPolicy/User/Registry.pol": "",
		// Velociraptor auto accessor with an escaped space in a folder name.
		"velo/C.4d5e6f/uploads/auto/C%3A/ProgramData/Microsoft/Group%20Policy/History/" + guidA + "/Machine/Preferences/Registry/Registry.xml": "",
		"velo/C.4d5e6f/uploads/auto/C%3A/Windows/System32/config/SYSTEM":                                                                       "",
	})
	hosts := discoverMap(t, root)
	checkHost(t, hosts, "WS1", []string{
		`SYSTEM WINDOWS\system32\Config\SYSTEM log=system.log1`,
		`NTUSER users\Bob\ntuser.dat profile=Bob log=NTUSER.DAT.LOG2`,
	})
	checkHost(t, hosts, "WS2", []string{`SYSTEM Windows\System32\config\SYSTEM`})
	checkHost(t, hosts, "C.1a2b3c", []string{
		`SYSTEM Windows\System32\config\SYSTEM`,
		`NTUSER Users\carol\NTUSER.DAT profile=carol log=NTUSER.DAT.LOG1`,
		`gpo Windows\System32\GroupPolicy\User\Registry.pol scope=User`,
	})
	checkHost(t, hosts, "C.4d5e6f", []string{
		`SYSTEM Windows\System32\config\SYSTEM`,
		`gpo ProgramData\Microsoft\Group Policy\History\` + guidA + `\Machine\Preferences\Registry\Registry.xml scope=Machine gpo=` + guidA,
	})
	if len(hosts) != 4 {
		t.Errorf("got %d hosts, want 4", len(hosts))
	}
}

func TestDiscover_SysvolPoliciesTree(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"sysvol/corp.example/Policies/" + guidA + "/GPT.INI":                                                           "",
		"sysvol/corp.example/Policies/" + guidA + "/User/Registry.pol":                                                 "",
		"sysvol/corp.example/Policies/" + guidA + "/User/Scripts/psscripts.ini":                                        "",
		"sysvol/corp.example/Policies/" + guidA + "/User/Scripts/Logon/env.ps1":                                        "",
		"sysvol/corp.example/Policies/" + guidA + "/Machine/Preferences/EnvironmentVariables/EnvironmentVariables.xml": "",
	})
	hosts := discoverMap(t, filepath.Join(root, "sysvol"))
	h := hosts["sysvol"]
	if h == nil {
		t.Fatalf("no host for the SYSVOL tree: %v", hosts)
	}
	got := describe(h)
	p := `corp.example\Policies\` + guidA + `\`
	want := []string{
		"gpo " + p + "GPT.INI gpo=" + guidA,
		"gpo " + p + `Machine\Preferences\EnvironmentVariables\EnvironmentVariables.xml scope=Machine gpo=` + guidA,
		"gpo " + p + `User\Registry.pol scope=User gpo=` + guidA,
		"gpo " + p + `User\Scripts\psscripts.ini scope=User gpo=` + guidA,
		"gpo-script " + p + `User\Scripts\Logon\env.ps1 scope=User gpo=` + guidA,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiscover_ZipCollectionsReadInPlace(t *testing.T) {
	root := t.TempDir()
	// A Velociraptor offline collection and a KAPE zip, side by side in a
	// triage share, and a zip given directly on the command line.
	writeZip(t, filepath.Join(root, "share", "Collection-WS9.zip"), map[string]string{
		"uploads/auto/C%3A/Windows/System32/config/SYSTEM":                 "system-hive",
		"uploads/auto/C%3A/Windows/System32/config/SYSTEM.LOG1":            "system-log",
		"uploads/auto/C%3A/Users/dave/NTUSER.DAT":                          "",
		"uploads/auto/C%3A/Windows/System32/GroupPolicy/User/Registry.pol": "PReg",
		"../../escape/SYSTEM":                                              "", // never a path we join
	})
	writeZip(t, filepath.Join(root, "share", "WS10.zip"), map[string]string{
		"C/Windows/System32/config/SYSTEM": "",
	})
	// A ZIP inside a collected volume is the machine's file, not a
	// collection: it is not opened.
	writeZip(t, filepath.Join(root, "share", "WS12", "C", "Users", "gail", "Downloads", "backup.zip"), map[string]string{
		"C/Windows/System32/config/SYSTEM": "",
	})
	writeTree(t, filepath.Join(root, "share"), map[string]string{"WS12/C/Windows/System32/config/SYSTEM": ""})
	direct := filepath.Join(root, "WS11.ZIP")
	writeZip(t, direct, map[string]string{"C/Windows/System32/config/SYSTEM": "", "C/Users/erin/NTUSER.DAT": ""})
	before := listTree(t, root)

	hosts := discoverMap(t, filepath.Join(root, "share"), direct)
	checkHost(t, hosts, "Collection-WS9", []string{
		`SYSTEM Windows\System32\config\SYSTEM log=SYSTEM.LOG1`,
		`NTUSER Users\dave\NTUSER.DAT profile=dave`,
		`gpo Windows\System32\GroupPolicy\User\Registry.pol scope=User`,
	})
	checkHost(t, hosts, "WS10", []string{`SYSTEM Windows\System32\config\SYSTEM`})
	checkHost(t, hosts, "WS12", []string{`SYSTEM Windows\System32\config\SYSTEM`})
	if len(hosts) != 4 {
		t.Errorf("got %d hosts, want 4 (the ZIP in WS12's downloads is not a collection)", len(hosts))
	}
	checkHost(t, hosts, "WS11", []string{`SYSTEM Windows\System32\config\SYSTEM`, `NTUSER Users\erin\NTUSER.DAT profile=erin`})

	h := hosts["Collection-WS9"]
	if h.Archive == "" || h.Volume != "" {
		t.Errorf("archive host: Archive %q Volume %q", h.Archive, h.Volume)
	}
	for _, f := range h.Files {
		if f.Kind != KindSystem {
			continue
		}
		data, err := ReadFile(f.Path, 1<<20)
		if err != nil || string(data) != "system-hive" {
			t.Errorf("ReadFile(%s) = %q, %v", f.Path, data, err)
		}
		logData, err := ReadFile(f.Logs[0], 1<<20)
		if err != nil || string(logData) != "system-log" {
			t.Errorf("ReadFile(log) = %q, %v", logData, err)
		}
		if _, err := ReadFile(f.Path, 4); err == nil || !strings.Contains(err.Error(), "larger than 4") {
			t.Errorf("a member over the bound must be refused, got %v", err)
		}
		rc, err := Open(f.Path, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if f.Archive == "" || f.Size != int64(len("system-hive")) {
			t.Errorf("file Archive %q Size %d", f.Archive, f.Size)
		}
	}
	if after := listTree(t, root); after != before {
		t.Errorf("discovery or reading wrote to the evidence folder:\nbefore %s\nafter  %s", before, after)
	}
}

func listTree(t *testing.T, root string) string {
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			out = append(out, fmt.Sprintf("%s:%d", p, info.Size()))
		}
		return nil
	})
	return strings.Join(out, ",")
}

func TestDiscover_TwoHostsInOneTreeAndLooseFilesWithRenamedLogs(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cases/HOST-A/C/Windows/System32/config/SYSTEM": "",
		"cases/HOST-A/C/Users/u1/NTUSER.DAT":            "",
		"cases/HOST-B/Windows/System32/config/SYSTEM":   "",
		"cases/HOST-B/Users/u2/NTUSER.DAT":              "",
		"loose/alice_ntuser.dat":                        "",
		"loose/alice_ntuser.dat.LOG1":                   "log",
		"loose/renamed-log-1.bin":                       "log",
	})
	hosts := discoverMap(t, filepath.Join(root, "cases"))
	checkHost(t, hosts, "HOST-A", []string{`SYSTEM Windows\System32\config\SYSTEM`, `NTUSER Users\u1\NTUSER.DAT profile=u1`})
	checkHost(t, hosts, "HOST-B", []string{`SYSTEM Windows\System32\config\SYSTEM`, `NTUSER Users\u2\NTUSER.DAT profile=u2`})
	// Loose files: the log named after its hive is attached; a renamed log
	// is not guessed (the scanner attaches it when given with --log).
	loose := discoverMap(t, filepath.Join(root, "loose/alice_ntuser.dat"))
	checkHost(t, loose, "loose", []string{`hive  log=alice_ntuser.dat.LOG1`})
}

func TestIsGUIDName(t *testing.T) {
	for s, want := range map[string]bool{
		"{31b2f340-016d-11d2-945f-00c04fb984f9}": true,
		"{31B2F340-016D-11D2-945F-00C04FB984F9}": true,
		"31b2f340-016d-11d2-945f-00c04fb984f9":   false,
		"{31b2f340-016d-11d2-945f-00c04fb984fz}": false,
		"{31b2f340x016d-11d2-945f-00c04fb984f9}": false,
	} {
		if isGUIDName(s) != want {
			t.Errorf("isGUIDName(%q) = %v", s, !want)
		}
	}
}

// A named pipe given as evidence, or read through Open/ReadFile, is refused
// at once instead of blocking the reader.
func TestDiscoverAndRead_NamedPipeIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "NTUSER.DAT")
	z := filepath.Join(dir, "Collection-WS1.zip")
	for _, f := range []string{p, z} {
		if err := mkfifo(f); err != nil {
			t.Skip("cannot make a named pipe:", err)
		}
	}
	done := make(chan error, 4)
	go func() {
		_, err := Discover(context.Background(), []string{p}, Options{})
		done <- err
		_, err = Discover(context.Background(), []string{z}, Options{})
		done <- err
		_, err = ReadFile(p, 1<<20)
		done <- err
		_, err = Open(p, 1<<20)
		done <- err
	}()
	for i := 0; i < 4; i++ {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("call %d: %v, want a refusal", i, err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("call %d blocked on the pipe", i)
		}
	}
}
