package scan

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/report"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// Batch triage: N generated hosts (SYSTEM, SOFTWARE and one NTUSER.DAT each,
// written with pkg/hive/hivetest), scanned with the built-in rules at 1 and
// 2 jobs. Reported per run: hosts/s, the peak Go heap in use during the scan
// (sampled), and the process's peak resident set (VmHWM, reset before each
// run where the kernel allows it).
//
//	go test -run '^$' -bench BatchScan -benchtime 1x ./pkg/scan

var batchT0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

const batchDomainSID = "S-1-5-21-4000000000-3000000000-2000000000"

// batchFiller adds n ordinary subkeys with a few values each, so that the
// hives have a realistic number of cells to walk.
func batchFiller(prefix string, n int) []*ht.Key {
	out := make([]*ht.Key, n)
	for i := range out {
		out[i] = &ht.Key{Name: fmt.Sprintf("%s%04d", prefix, i), LastWrite: batchT0, Values: []ht.Value{
			ht.SZ("DisplayName", fmt.Sprintf("%s component %d", prefix, i)),
			ht.DWORD("Start", uint32(i%5)),
			ht.ExpandSZ("ImagePath", fmt.Sprintf(`%%SystemRoot%%\System32\%s%04d.dll`, prefix, i)),
		}}
	}
	return out
}

func batchSystem(host string, planted bool) ([]byte, error) {
	path := `%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem`
	if planted {
		path = `C:\Users\Public\bin;` + path
	}
	root := &ht.Key{Name: "ROOT", LastWrite: batchT0, Subkeys: []*ht.Key{
		{Name: "Select", LastWrite: batchT0, Values: []ht.Value{ht.DWORD("Current", 1), ht.DWORD("Default", 1)}},
		{Name: "ControlSet001", LastWrite: batchT0, Subkeys: []*ht.Key{
			{Name: "Control", LastWrite: batchT0, Subkeys: []*ht.Key{
				{Name: "ComputerName", LastWrite: batchT0, Subkeys: []*ht.Key{{Name: "ComputerName", LastWrite: batchT0, Values: []ht.Value{ht.SZ("ComputerName", host)}}}},
				{Name: "Session Manager", LastWrite: batchT0, Subkeys: []*ht.Key{{Name: "Environment", LastWrite: batchT0, Values: []ht.Value{
					ht.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
					ht.ExpandSZ("Path", path),
					ht.SZ("PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"),
					ht.ExpandSZ("windir", `%SystemRoot%`),
				}}}},
			}},
			{Name: "Services", LastWrite: batchT0, Subkeys: batchFiller("svc", 300)},
		}},
	}}
	return ht.Build(root, ht.WithFileName(`\SystemRoot\System32\Config\SYSTEM`))
}

func batchSoftware(userSID string) ([]byte, error) {
	sid, err := ht.SID(userSID)
	if err != nil {
		return nil, err
	}
	root := &ht.Key{Name: "ROOT", LastWrite: batchT0, Subkeys: []*ht.Key{
		{Name: "Microsoft", LastWrite: batchT0, Subkeys: []*ht.Key{
			{Name: "Windows NT", LastWrite: batchT0, Subkeys: []*ht.Key{{Name: "CurrentVersion", LastWrite: batchT0, Subkeys: []*ht.Key{
				{Name: "ProfileList", LastWrite: batchT0, Subkeys: []*ht.Key{{Name: userSID, LastWrite: batchT0, Values: []ht.Value{
					ht.ExpandSZ("ProfileImagePath", `C:\Users\user`), ht.Binary("Sid", sid), ht.DWORD("State", 0),
				}}}},
			}}}},
			{Name: "Windows", LastWrite: batchT0, Subkeys: []*ht.Key{{Name: "CurrentVersion", LastWrite: batchT0, Subkeys: []*ht.Key{
				{Name: "Run", LastWrite: batchT0, Values: []ht.Value{ht.ExpandSZ("SecurityHealth", `%windir%\system32\SecurityHealthSystray.exe`)}},
			}}}},
			{Name: "Components", LastWrite: batchT0, Subkeys: batchFiller("cmp", 600)},
		}},
	}}
	return ht.Build(root, ht.WithFileName(`emRoot\System32\Config\SOFTWARE`))
}

func batchNTUser(userSID string) ([]byte, error) {
	sd, err := ht.UserKeySD(userSID)
	if err != nil {
		return nil, err
	}
	root := &ht.Key{Name: "ROOT", LastWrite: batchT0, Security: sd, Subkeys: []*ht.Key{
		{Name: "Environment", LastWrite: batchT0, Values: []ht.Value{
			ht.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
			ht.ExpandSZ("TEMP", `%USERPROFILE%\AppData\Local\Temp`),
			ht.ExpandSZ("TMP", `%USERPROFILE%\AppData\Local\Temp`),
		}},
		{Name: "Software", LastWrite: batchT0, Subkeys: batchFiller("app", 200)},
	}}
	return ht.Build(root, ht.WithFileName(`\??\C:\Users\user\ntuser.dat`))
}

// writeBatchHosts writes n hosts HOST-0000... under dir in the KAPE layout;
// every tenth host has a user-writable directory first in the machine Path.
func writeBatchHosts(dir string, n int) error {
	userSID := batchDomainSID + "-1001"
	software, err := batchSoftware(userSID)
	if err != nil {
		return err
	}
	ntuser, err := batchNTUser(userSID)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("HOST-%04d", i)
		system, err := batchSystem(name, i%10 == 0)
		if err != nil {
			return err
		}
		for rel, data := range map[string][]byte{
			"C/Windows/System32/config/SYSTEM":   system,
			"C/Windows/System32/config/SOFTWARE": software,
			"C/Users/user/NTUSER.DAT":            ntuser,
		} {
			p := filepath.Join(dir, name, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// peakSampler records the largest Go heap in use while running.
type peakSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startPeakSampler(every time.Duration) *peakSampler {
	p := &peakSampler{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > p.peak.Load() {
				p.peak.Store(ms.HeapInuse)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) Stop() uint64 {
	close(p.stop)
	p.wg.Wait()
	return p.peak.Load()
}

// resetPeakRSS asks the kernel to reset VmHWM (Linux: "5" to clear_refs);
// it reports whether that worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS returns VmHWM in bytes, or 0 where /proc is not available.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func BenchmarkBatchScan(b *testing.B) { benchmarkBatch(b, []int{1, 2}, nil) }

// BenchmarkBatchScanUnpinned is BenchmarkBatchScan with the host summaries'
// user strings copied as each host finishes. Names read from a hive share
// the hive image's memory (pkg/hive decodes ASCII names without copying),
// so a summary that keeps a user's SID (a ProfileList key name) keeps that
// host's whole SOFTWARE image alive until the scan ends: the difference
// between the two benchmarks' peaks is that retention.
func BenchmarkBatchScanUnpinned(b *testing.B) {
	benchmarkBatch(b, []int{2}, func(h *HostSummary) {
		for i := range h.Users {
			u := &h.Users[i]
			u.SID, u.Name, u.Folder, u.SIDSource, u.File = strings.Clone(u.SID), strings.Clone(u.Name), strings.Clone(u.Folder), strings.Clone(u.SIDSource), strings.Clone(u.File)
		}
	})
}

func benchmarkBatch(b *testing.B, jobList []int, onHost func(*HostSummary)) {
	rs, err := builtinrules.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{50, 500} {
		dir := b.TempDir()
		if err := writeBatchHosts(dir, n); err != nil {
			b.Fatal(err)
		}
		for _, jobs := range jobList {
			b.Run(fmt.Sprintf("hosts=%d/jobs=%d", n, jobs), func(b *testing.B) {
				runtime.GC()
				rssReset := resetPeakRSS()
				sampler := startPeakSampler(2 * time.Millisecond)
				cpu0 := cpuTime()
				start := time.Now()
				findings := 0
				for i := 0; i < b.N; i++ {
					sum, err := Scan(context.Background(), []string{dir}, Options{Rules: rs, Jobs: jobs, OnHost: onHost}, func(*report.Finding) error {
						findings++
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					if len(sum.Hosts) != n {
						b.Fatalf("scanned %d hosts, want %d", len(sum.Hosts), n)
					}
				}
				elapsed := time.Since(start)
				cpu := cpuTime() - cpu0
				heap := sampler.Stop()
				// CPU time per host does not depend on how busy the machine
				// is; hosts/s does.
				b.ReportMetric(float64(cpu.Milliseconds())/float64(n*b.N), "cpu-ms/host")
				b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "hosts/s")
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
				if rssReset {
					b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MiB")
				}
				b.ReportMetric(float64(findings)/float64(b.N), "findings")
			})
		}
	}
}

// TestWriteBatchHosts writes the benchmark's hosts for command-line
// measurements (scripts/bench.d/batch.sh) when ENVHUNT_BATCH_OUT names a
// directory; ENVHUNT_BATCH_N says how many (default 50). Skipped otherwise.
func TestWriteBatchHosts(t *testing.T) {
	out := os.Getenv("ENVHUNT_BATCH_OUT")
	if out == "" {
		t.Skip("set ENVHUNT_BATCH_OUT (and ENVHUNT_BATCH_N) to write benchmark hosts")
	}
	n := 50
	if s := os.Getenv("ENVHUNT_BATCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			t.Fatalf("ENVHUNT_BATCH_N=%q", s)
		}
	}
	if err := writeBatchHosts(out, n); err != nil {
		t.Fatal(err)
	}
}
