package evidence

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func touch(t *testing.T, root string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("regf"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func summary(h *Host) []string {
	var out []string
	for _, f := range h.Files {
		s := string(f.Kind) + " " + f.WinPath
		if f.Profile != "" {
			s += " profile=" + f.Profile
		}
		if f.Snapshot != "" {
			s += " snap=" + f.Snapshot
		}
		for _, l := range f.Logs {
			s += " log=" + filepath.Base(l)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestDiscover_Layouts(t *testing.T) {
	root := t.TempDir()
	touch(t, root,
		"WS1/C/Windows/System32/config/SYSTEM", "WS1/C/Windows/System32/config/SYSTEM.LOG1",
		"WS1/C/Windows/System32/config/software", "WS1/C/windows/system32/CONFIG/RegBack/SYSTEM",
		"WS1/C/Users/alice/NTUSER.DAT", "WS1/C/Users/alice/ntuser.dat.LOG2",
		"WS1/C/Users/Default/NTUSER.DAT",
		"WS1/C/Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat",
		"WS1/C/Users/alice/AppData/Roaming/go/env",
		"WS1/C/Windows/System32/winevt/Logs/Security.evtx",
		"WS1/C/Windows/System32/GroupPolicy/User/Registry.pol",
		// A Velociraptor collection of a second host, escaped names.
		"collections/WS2/uploads/auto/C%3A/Windows/System32/config/SYSTEM",
		"collections/WS2/uploads/auto/C%3A/Users/bob/NTUSER.DAT",
		"collections/WS2/uploads/auto/C%3A/Users/bob/NTUSER.DAT.LOG1",
	)
	hosts, err := Discover(context.Background(), []string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, h := range hosts {
		got[h.Name] = summary(h)
	}
	want := map[string][]string{
		"WS1": {
			"NTUSER Users\\Default\\NTUSER.DAT profile=Default",
			"NTUSER Users\\alice\\NTUSER.DAT profile=alice log=ntuser.dat.LOG2",
			"SOFTWARE Windows\\System32\\config\\software",
			"SYSTEM Windows\\System32\\config\\SYSTEM log=SYSTEM.LOG1",
			"SYSTEM windows\\system32\\CONFIG\\RegBack\\SYSTEM snap=RegBack",
			"UsrClass Users\\alice\\AppData\\Local\\Microsoft\\Windows\\UsrClass.dat profile=alice",
			"evtx Windows\\System32\\winevt\\Logs\\Security.evtx",
			"go-env Users\\alice\\AppData\\Roaming\\go\\env profile=alice",
			"gpo Windows\\System32\\GroupPolicy\\User\\Registry.pol",
		},
		"WS2": {
			"NTUSER Users\\bob\\NTUSER.DAT profile=bob log=NTUSER.DAT.LOG1",
			"SYSTEM Windows\\System32\\config\\SYSTEM",
		},
	}
	for name, w := range want {
		if strings.Join(got[name], "\n") != strings.Join(w, "\n") {
			t.Errorf("host %s:\n got %q\nwant %q", name, got[name], w)
		}
	}
	if len(hosts) != 2 {
		t.Errorf("got %d hosts, want 2: %v", len(hosts), got)
	}
}

func TestDiscover_LooseFilesFormOneHostWithTheirLogs(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "a/ntuser_copy.dat", "a/ntuser_copy.dat.LOG1", "b/SYSTEM", "c/trace.etl")
	hosts, err := Discover(context.Background(), []string{
		filepath.Join(dir, "a/ntuser_copy.dat"), filepath.Join(dir, "b/SYSTEM"), filepath.Join(dir, "c/trace.etl"),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 {
		t.Fatalf("got %d hosts", len(hosts))
	}
	got := summary(hosts[0])
	want := []string{"etl ", "hive  log=ntuser_copy.dat.LOG1", "hive "}
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestDiscover_DoesNotFollowSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	touch(t, outside, "Windows/System32/config/SYSTEM")
	touch(t, root, "H/C/Users/x/NTUSER.DAT")
	if err := os.Symlink(filepath.Join(outside, "Windows"), filepath.Join(root, "H/C/Windows")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	hosts, err := Discover(context.Background(), []string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		for _, f := range h.Files {
			if f.Kind == KindSystem {
				t.Fatalf("followed a link out of the evidence root: %s", f.Path)
			}
		}
		if len(h.Problems) == 0 {
			t.Error("the link not followed should be reported")
		}
	}
}

func TestDiscover_MissingPathIsAnError(t *testing.T) {
	if _, err := Discover(context.Background(), []string{filepath.Join(t.TempDir(), "nope")}, Options{}); err == nil {
		t.Fatal("want an error for a missing path")
	}
}
