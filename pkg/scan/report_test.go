package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/report"
)

// demoInputs are the bundled demo collection and its roaming share.
var demoInputs = []string{"../../testdata/demo/WS-DEV-07"}

const demoRoaming = "../../testdata/demo/profiles"

func TestCollect_FindsWhatScanFindsAndHashesEveryFile(t *testing.T) {
	ctx := context.Background()
	opts := Options{Roaming: []string{demoRoaming}}
	var scanned []string
	if _, err := Scan(ctx, demoInputs, opts, func(f *report.Finding) error {
		scanned = append(scanned, f.RuleID+" "+f.Key+" "+f.Value)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var hosts []*HostEvidence
	if _, err := Collect(ctx, demoInputs, opts, func(he *HostEvidence) error {
		hosts = append(hosts, he)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 {
		t.Fatalf("hosts = %d, want 1", len(hosts))
	}
	he := hosts[0]
	var collected []string
	for _, f := range he.Findings {
		collected = append(collected, f.RuleID+" "+f.Key+" "+f.Value)
	}
	if len(collected) != len(scanned) {
		t.Fatalf("Collect found %d findings, Scan %d:\n%v\n%v", len(collected), len(scanned), collected, scanned)
	}
	for i := range scanned {
		if collected[i] != scanned[i] {
			t.Errorf("finding %d: Collect %q, Scan %q", i, collected[i], scanned[i])
		}
	}
	if len(he.Roaming) != 1 || he.Roaming[0].Summary == nil {
		t.Errorf("roaming copies = %+v, want alice's server copy compared", he.Roaming)
	}
	kinds := map[string]int{}
	for _, d := range he.Files {
		kinds[d.Kind]++
		data, err := os.ReadFile(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(data)) {
			t.Errorf("%s: digest %s size %d, want %x size %d", d.Path, d.SHA256, d.Size, sum, len(data))
		}
	}
	for kind, want := range map[string]int{"SYSTEM": 1, "SOFTWARE": 1, "NTUSER": 3, "log": 2, "roaming copy": 1} {
		if kinds[kind] != want {
			t.Errorf("%d files of kind %s, want %d (all: %v)", kinds[kind], kind, want, kinds)
		}
	}
	if len(he.OnDisk) != 1 {
		t.Errorf("on-disk copies of recovered hives = %d, want 1 (bob's)", len(he.OnDisk))
	}
}

func TestCollect_ManyHostsInDiscoveryOrderWhateverTheJobs(t *testing.T) {
	batch := t.TempDir()
	for _, site := range []string{"a", "b", "c", "d"} {
		copyDir(t, demoInputs[0], filepath.Join(batch, site, "WS-DEV-07"))
	}
	var want []string
	for _, jobs := range []int{1, 2, 8} {
		var roots []string
		sum, err := Collect(context.Background(), []string{batch}, Options{Jobs: jobs}, func(he *HostEvidence) error {
			roots = append(roots, he.Summary.Root)
			if len(he.Findings) == 0 || he.Machine == nil || len(he.Files) == 0 {
				t.Errorf("jobs %d: host %s came without findings, machine or files", jobs, he.Summary.Root)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(roots) != 4 || len(sum.Hosts) != 4 {
			t.Fatalf("jobs %d: %d hosts emitted", jobs, len(roots))
		}
		if want == nil {
			want = roots
		}
		for i := range roots {
			if roots[i] != want[i] || !strings.Contains(roots[i], string(rune('a'+i))+string(filepath.Separator)) {
				t.Errorf("jobs %d: host %d is %s, want %s in discovery order", jobs, i, roots[i], want[i])
			}
		}
	}
}

func TestCollect_EmitErrorStopsTheRun(t *testing.T) {
	batch := t.TempDir()
	for _, site := range []string{"a", "b", "c"} {
		copyDir(t, demoInputs[0], filepath.Join(batch, site, "WS-DEV-07"))
	}
	stop := errors.New("stop")
	n := 0
	_, err := Collect(context.Background(), []string{batch}, Options{Jobs: 2}, func(*HostEvidence) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d hosts, want the emit error after 1", err, n)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
