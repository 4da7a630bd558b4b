package history

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// systemHive is a SYSTEM-shaped hive whose current control set (2) holds
// the machine Path; ControlSet001 holds a decoy.
func systemHive(when time.Time, path string) *ht.Key {
	env := func(p string) *ht.Key {
		return &ht.Key{Name: "Control", LastWrite: t0, Subkeys: []*ht.Key{{Name: "Session Manager", LastWrite: t0, Subkeys: []*ht.Key{{
			Name: "Environment", LastWrite: when, Values: []ht.Value{ht.ExpandSZ("Path", p), ht.SZ("OS", "Windows_NT")},
		}}}}}
	}
	return &ht.Key{Name: "ROOT", LastWrite: when, Subkeys: []*ht.Key{
		{Name: "ControlSet001", LastWrite: t0, Subkeys: []*ht.Key{env(`C:\decoy`)}},
		{Name: "ControlSet002", LastWrite: t0, Subkeys: []*ht.Key{env(path)}},
		{Name: "Select", LastWrite: t0, Values: []ht.Value{ht.DWORD("Current", 2), ht.DWORD("Default", 2)}},
	}}
}

func writeHive(t *testing.T, path string, root *ht.Key) {
	t.Helper()
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscover_RegBackAndWindowsOldAreEarlierStates(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "HOST1", "C")
	config := filepath.Join(host, "Windows", "System32", "config")
	writeHive(t, filepath.Join(host, "Windows.old", "Windows", "System32", "config", "SYSTEM"), systemHive(t0, `%SystemRoot%\system32`))
	writeHive(t, filepath.Join(config, "RegBack", "SYSTEM"), systemHive(t1, `C:\tools;%SystemRoot%\system32`))
	writeHive(t, filepath.Join(config, "SYSTEM"), systemHive(t2, `C:\Users\Public\bin;C:\tools;%SystemRoot%\system32`))
	writeHive(t, filepath.Join(host, "Users", "dave", "NTUSER.DAT"), userHive(t1, ht.SZ("Path", `C:\x`)))
	writeHive(t, filepath.Join(host, "Windows.old", "Users", "dave", "NTUSER.DAT"), userHive(t0, ht.SZ("Path", `C:\old`)))

	groups, problems := Discover(context.Background(), []string{dir}, DiscoverOptions{})
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
	var sys, dave *Group
	names := []string{}
	for i := range groups {
		names = append(names, groups[i].Host+"/"+groups[i].Name)
		switch groups[i].Name {
		case "SYSTEM":
			sys = &groups[i]
		case "NTUSER dave":
			dave = &groups[i]
		}
	}
	if sys == nil || dave == nil || len(groups) != 2 {
		t.Fatalf("groups %v, want SYSTEM and dave's NTUSER", names)
	}
	if len(dave.Files) != 2 || dave.Files[0].Snapshot+dave.Files[1].Snapshot != SourceWindowsOld {
		t.Errorf("dave's files %+v, want the live hive and the Windows.old copy", dave.Files)
	}
	h, err := States(context.Background(), *sys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ source, path, changed string }{
		{SourceWindowsOld, `%SystemRoot%\system32`, ChangeFirst},
		{SourceRegBack, `C:\tools;%SystemRoot%\system32`, ChangeModified},
		{SourcePrimary, `C:\Users\Public\bin;C:\tools;%SystemRoot%\system32`, ChangeModified},
	}
	got := dated(h)
	if len(got) != len(want) {
		t.Fatalf("got %d states, want %d", len(got), len(want))
	}
	for i, w := range want {
		p, _ := valueOf(got[i], "Path")
		if got[i].Source != w.source || p.Data.Text != w.path || p.Changed != w.changed {
			t.Errorf("state %d: %s Path=%q (%q), want %s Path=%q (%q)", i, got[i].Source, p.Data.Text, p.Changed, w.source, w.path, w.changed)
		}
		if got[i].Key != `ControlSet002\Control\Session Manager\Environment` {
			t.Errorf("state %d: key %q, want the current control set's", i, got[i].Key)
		}
	}
}

func TestDiscover_LooseFilesGroupByContentAndFolder(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "SYSTEM")
	back := filepath.Join(dir, "RegBack", "SYSTEM")
	other := filepath.Join(dir, "copy-of-system")
	writeHive(t, live, systemHive(t2, `C:\c`))
	writeHive(t, back, systemHive(t1, `C:\b`))
	writeHive(t, other, systemHive(t0, `C:\a`))
	groups, problems := Discover(context.Background(), []string{back, live, other}, DiscoverOptions{})
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
	if len(groups) != 1 || len(groups[0].Files) != 3 {
		t.Fatalf("got %d groups, want one SYSTEM group of 3 files", len(groups))
	}
	snaps := map[string]string{}
	for _, f := range groups[0].Files {
		snaps[f.Path] = f.Snapshot
	}
	if snaps[back] != SourceRegBack || snaps[live] != "" || snaps[other] != SourceSnapshot {
		t.Errorf("snapshot kinds %v: want RegBack, live, snapshot", snaps)
	}
	h, err := States(context.Background(), groups[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range dated(h) {
		order = append(order, s.Source)
	}
	if strings.Join(order, ",") != "snapshot,RegBack,primary" {
		t.Errorf("order %v, want the copies by key time: snapshot, RegBack, primary", order)
	}
}

// demo returns a file of the bundled demo collection.
func demo(t *testing.T, parts ...string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	p := filepath.Join(append([]string{filepath.Dir(self), "..", "..", "testdata", "demo"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("demo collection not found: %v", err)
	}
	return p
}

func TestStates_DemoBobGOROOTRewrittenByLogEntry1(t *testing.T) {
	file := demo(t, "WS-DEV-07", "C", "Users", "bob", "NTUSER.DAT")
	groups, problems := Discover(context.Background(), []string{file}, DiscoverOptions{})
	if len(problems) > 0 || len(groups) != 1 {
		t.Fatalf("groups %v, problems %v", groups, problems)
	}
	h, err := States(context.Background(), groups[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := dated(h)
	if len(got) != 3 {
		t.Fatalf("got %d dated states, want primary and 2 log entries (LOG2 is stale)", len(got))
	}
	want := []struct{ source, goroot, changed string }{
		{"primary", `C:\Program Files\Go`, ChangeFirst},
		{"log:NTUSER.DAT.LOG1#entry1 seq 93", `C:\Users\Public\go`, ChangeModified},
		{"log:NTUSER.DAT.LOG1#entry2 seq 94", `C:\Users\Public\go`, ChangeSame},
	}
	for i, w := range want {
		g, _ := valueOf(got[i], "GOROOT")
		if got[i].Source != w.source || g.Data.Text != w.goroot || g.Changed != w.changed {
			t.Errorf("state %d: %s GOROOT=%q (%q), want %s %q (%q)", i, got[i].Source, g.Data.Text, g.Changed, w.source, w.goroot, w.changed)
		}
	}
	if p, _ := valueOf(got[1], "Path"); p.Data.Text != `C:\Users\Public\go\bin;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;` || p.Changed != ChangeModified {
		t.Errorf("entry 1 Path = %q (%q)", p.Data.Text, p.Changed)
	}
	if v, ok := valueOf(got[2], "COR_PROFILER_PATH"); !ok || v.Changed != ChangeAdded {
		t.Errorf("entry 2: COR_PROFILER_PATH %v %q, want added", ok, v.Changed)
	}
	wantTimes := []string{"2025-06-11T08:30:00.1Z", "2025-06-12T09:14:27.2718281Z", "2025-06-12T09:15:03.1415926Z"}
	for i, w := range wantTimes {
		wt, _ := time.Parse(time.RFC3339Nano, w)
		if !got[i].Time.Equal(wt) {
			t.Errorf("state %d: time %v, want %s", i, got[i].Time, w)
		}
	}
}

func TestStates_DemoAliceReplacedValuesInFreeCells(t *testing.T) {
	file := demo(t, "WS-DEV-07", "C", "Users", "alice", "NTUSER.DAT")
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Path":   `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`,
		"GOPATH": `%USERPROFILE%\go`,
	}
	found := map[string]bool{}
	for _, s := range h.States {
		if s.Kind != SourceFreeCell {
			continue
		}
		v := s.Values[0]
		if w, ok := want[v.Name]; ok && v.Data.Text == w && v.Type.String() == "REG_EXPAND_SZ" {
			found[v.Name] = true
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("alice's replaced %s not carved from a free cell", name)
		}
	}
}

func TestDiscover_ZIPCollectionIsReadInPlace(t *testing.T) {
	bob := demo(t, "WS-DEV-07", "C", "Users", "bob")
	zpath := filepath.Join(t.TempDir(), "collection.zip")
	zf, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for _, name := range []string{"NTUSER.DAT", "NTUSER.DAT.LOG1", "NTUSER.DAT.LOG2"} {
		data, err := os.ReadFile(filepath.Join(bob, name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create("HOST9/C/Users/bob/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	groups, problems := Discover(context.Background(), []string{zpath}, DiscoverOptions{})
	if len(problems) > 0 || len(groups) != 1 || groups[0].Files[0].Archive == "" {
		t.Fatalf("groups %+v, problems %v; want bob's hive in the archive", groups, problems)
	}
	h, err := States(context.Background(), groups[0], Options{Value: "GOROOT"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Problems) > 0 {
		t.Errorf("problems: %v", h.Problems)
	}
	got := dated(h)
	if len(got) != 3 {
		t.Fatalf("%d dated states, want the primary and LOG1's two entries (LOG2 is stale)", len(got))
	}
	if g, _ := valueOf(got[1], "GOROOT"); g.Data.Text != `C:\Users\Public\go` || g.Changed != ChangeModified {
		t.Errorf("entry 1 GOROOT = %q (%q), want C:\\Users\\Public\\go (modified)", g.Data.Text, g.Changed)
	}
}
