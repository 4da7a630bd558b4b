package scan

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/report"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// A batch goes on past a host whose hive is damaged, names that host's
// problem, reports the other hosts' findings and calls OnHost once per host
// in discovery order.
func TestBatch_DamagedHostIsNamedAndOthersAreScanned(t *testing.T) {
	dir := t.TempDir()
	if err := writeBatchHosts(dir, 4); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "HOST-0002", "C", "Windows", "System32", "config", "SYSTEM")
	if err := os.WriteFile(bad, []byte("regf but not a hive"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := builtinrules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	findings := map[string]int{}
	sum, err := Scan(context.Background(), []string{dir}, Options{Rules: rs, Jobs: 2, OnHost: func(h *HostSummary) {
		order = append(order, h.Root)
	}}, func(f *report.Finding) error {
		findings[f.Host]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hosts) != 4 || len(order) != 4 {
		t.Fatalf("%d hosts summarised, OnHost called %d times", len(sum.Hosts), len(order))
	}
	for i, root := range order {
		if want := filepath.Join(dir, "HOST-000"+string(rune('0'+i))); root != want {
			t.Errorf("OnHost #%d for %s, want %s", i, root, want)
		}
	}
	if !sum.Partial() {
		t.Error("a damaged hive must make the batch partial")
	}
	problems := strings.Join(sum.Problems(), "\n")
	if !strings.Contains(problems, bad) {
		t.Errorf("the damaged file is not named: %s", problems)
	}
	// HOST-0000 has the planted machine Path; every host has the Run key.
	if findings["HOST-0000"] < 2 || findings["HOST-0001"] < 1 || findings["HOST-0003"] < 1 {
		t.Errorf("findings by host: %v", findings)
	}
}

func TestHostCount_CountsDiscoveredHosts(t *testing.T) {
	dir := t.TempDir()
	if err := writeBatchHosts(dir, 3); err != nil {
		t.Fatal(err)
	}
	n, err := HostCount(context.Background(), []string{dir})
	if err != nil || n != 3 {
		t.Fatalf("HostCount = %d, %v", n, err)
	}
}

// A hive inside a ZIP collection opens in place, with the log beside it
// applied from the archive, and nothing is written next to the evidence.
func TestOpenEvidenceHive_ZipMemberWithItsLog(t *testing.T) {
	before := &ht.Key{Name: "ROOT", Subkeys: []*ht.Key{{Name: "Environment", Values: []ht.Value{ht.SZ("GOPATH", `C:\go`)}}}}
	after := before.Clone()
	after.Path("Environment").SetValue(ht.SZ("GOPATH", `C:\Users\Public\go`))
	d, err := ht.BuildDirty(before, []*ht.Key{after})
	if err != nil {
		t.Fatal(err)
	}
	system, err := batchSystem("ZIPHOST", false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	zpath := filepath.Join(dir, "ZIPHOST.zip")
	f, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, data := range map[string][]byte{
		"uploads/auto/C%3A/Windows/System32/config/SYSTEM": system,
		"uploads/auto/C%3A/Users/u/NTUSER.DAT":             d.Primary,
		"uploads/auto/C%3A/Users/u/NTUSER.DAT.LOG1":        d.Log1,
	} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	f.Close()

	hosts, err := evidence.Discover(context.Background(), []string{zpath}, evidence.Options{})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("discover: %d hosts, %v", len(hosts), err)
	}
	var user evidence.File
	for _, f := range hosts[0].Files {
		if f.Kind == evidence.KindNTUSER {
			user = f
		}
	}
	if user.Archive != zpath || len(user.Logs) != 1 {
		t.Fatalf("NTUSER.DAT in the zip: %+v", user)
	}
	hv, err := openEvidenceHive(user, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hv.Dirty() || !hv.Recovered() {
		t.Errorf("dirty %v recovered %v: the log in the archive was not applied", hv.Dirty(), hv.Recovered())
	}
	k, err := hv.OpenKey("Environment")
	if err != nil {
		t.Fatal(err)
	}
	v, err := k.Value("GOPATH")
	if err != nil {
		t.Fatal(err)
	}
	d2, err := v.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got := d2.Text; got != `C:\Users\Public\go` {
		t.Errorf("GOPATH after recovery = %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files appeared beside the archive: %v", ents)
	}
}

// A loose hive whose log a triage tool renamed: the log is applied only
// when given explicitly (--log), and then the newest value is the one
// events report.
func TestEvents_RenamedLogGivenExplicitlyIsApplied(t *testing.T) {
	before := &ht.Key{Name: "ROOT", Subkeys: []*ht.Key{{Name: "Environment", Values: []ht.Value{ht.SZ("GOPATH", `C:\go`)}}}}
	after := before.Clone()
	after.Path("Environment").SetValue(ht.SZ("GOPATH", `C:\Users\Public\go`))
	d, err := ht.BuildDirty(before, []*ht.Key{after})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hivePath := filepath.Join(dir, "alice_ntuser_copy.dat")
	logPath := filepath.Join(dir, "collected-7.bin")
	if err := os.WriteFile(hivePath, d.Primary, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, d.Log1, 0o644); err != nil {
		t.Fatal(err)
	}
	gopath := func(logs []string) string {
		var got string
		_, err := Events(context.Background(), []string{hivePath}, Options{Logs: logs, Jobs: 1, Categories: []event.Category{event.RegistrySet}}, func(ev *event.Event) error {
			if strings.HasSuffix(ev.String("TargetObject"), `\Environment\GOPATH`) {
				got = ev.String("Details")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := gopath(nil); got != `C:\go` {
		t.Errorf("without the renamed log: GOPATH %q, want the on-disk C:\\go", got)
	}
	if got := gopath([]string{logPath}); got != `C:\Users\Public\go` {
		t.Errorf("with --log: GOPATH %q, want the logged C:\\Users\\Public\\go", got)
	}
}
