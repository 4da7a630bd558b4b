package main

// Evidence integrity: envhunt reads evidence and never changes it. These
// tests hash every file of a copied collection before and after each
// command, check that bytes, sizes, modes and modification times are
// unchanged and that nothing was created or removed under the evidence
// root, and that the temp dir holds nothing afterwards: after success,
// after errors, and when the run is cancelled part way.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/internal/hostile"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// integrityEntry is what is recorded of one path under the evidence root.
type integrityEntry struct {
	mode    fs.FileMode
	size    int64
	modTime time.Time
	sha256  [32]byte
}

// integritySnapshot records every file and folder under root.
func integritySnapshot(t *testing.T, root string) map[string]integrityEntry {
	t.Helper()
	snap := map[string]integrityEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := integrityEntry{mode: st.Mode(), size: st.Size(), modTime: st.ModTime()}
		if st.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.sha256 = sha256.Sum256(b)
		}
		if d.IsDir() {
			// A folder's mtime changes when an entry is created or
			// removed in it, which the entry list catches by name.
			e.modTime = time.Time{}
		}
		rel, _ := filepath.Rel(root, p)
		snap[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// integrityCompare reports every difference between two snapshots.
func integrityCompare(t *testing.T, what string, before, after map[string]integrityEntry) {
	t.Helper()
	var names []string
	for n := range before {
		names = append(names, n)
	}
	for n := range after {
		if _, ok := before[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, inBefore := before[n]
		a, inAfter := after[n]
		switch {
		case !inAfter:
			t.Errorf("%s: %s was removed from the evidence", what, n)
		case !inBefore:
			t.Errorf("%s: %s was created under the evidence root", what, n)
		case a.sha256 != b.sha256 || a.size != b.size:
			t.Errorf("%s: %s changed content", what, n)
		case a.mode != b.mode:
			t.Errorf("%s: %s changed mode %v -> %v", what, n, b.mode, a.mode)
		case !a.modTime.Equal(b.modTime):
			t.Errorf("%s: %s changed modification time %v -> %v", what, n, b.modTime, a.modTime)
		}
	}
}

// integrityTempDir points TMPDIR (os.TempDir) at a fresh, empty folder for
// the test and returns it.
func integrityTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	if os.TempDir() != dir {
		t.Skipf("os.TempDir() does not follow TMPDIR on this system")
	}
	return dir
}

// integrityTempLeft lists what is left in the temp dir.
func integrityTempLeft(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			left = append(left, rel)
		}
		return nil
	})
	return left
}

// integrityCollection copies the demo collection (host folder and the
// roaming profile share) into a fresh evidence root and gives its files
// old, distinct modification times, so a write or touch shows.
func integrityCollection(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	hostileCopyTree(t, filepath.Join("..", "..", "testdata", "demo"), root)
	old := time.Date(2024, 3, 5, 10, 11, 12, 123456789, time.UTC)
	i := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		i++
		mt := old.Add(time.Duration(i) * time.Minute)
		return os.Chtimes(p, mt, mt)
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// integrityFind returns the first file under root whose slash path ends
// with suffix.
func integrityFind(t *testing.T, root, suffix string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && found == "" && !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), suffix) {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no %s under %s", suffix, root)
	}
	return found
}

// integrityCommands are the calls made against a collection at root; out
// is a folder outside the evidence for files the commands write.
func integrityCommands(t *testing.T, root, out string) [][]string {
	t.Helper()
	host := filepath.Join(root, "WS-DEV-07")
	roaming := filepath.Join(root, "profiles")
	alice := integrityFind(t, root, "Users/alice/NTUSER.DAT")
	bob := integrityFind(t, root, "Users/bob/NTUSER.DAT")
	server := integrityFind(t, root, "profiles/alice.V6/NTUSER.DAT")
	etl := integrityFind(t, root, ".etl")
	calls := [][]string{
		{"scan", "-q", "--roaming", roaming, host},
		{"scan", "-q", "--format", "jsonl", "--remediate", filepath.Join(out, "fix.ps1"), "--roaming", roaming, root},
		{"scan", "-q", "--format", "csv", "-o", filepath.Join(out, "findings.csv"), "--remediate", filepath.Join(out, "fix.reg"), host},
		{"events", "--format", "csv", "--category", "registry_set", host},
		{"env", host},
		{"dump", bob},
		{"dump", "--no-logs", "--format", "text", bob},
		{"info", bob},
		{"acl", alice, "Environment"},
		{"diff", alice, server},
		{"etl", etl},
		{"etl", "--summary", etl},
	}
	for _, opt := range [][]string{
		{"timeline", "--format", "bodyfile", "--roaming", roaming, host},
		{"history", bob},
		{"report", host},
	} {
		if _, ok := commands[opt[0]]; ok {
			calls = append(calls, opt)
		} else {
			t.Logf("no %s command in this build: not checked", opt[0])
		}
	}
	return calls
}

func TestIntegrity_CommandsLeaveEvidenceAndTempDirUntouched(t *testing.T) {
	tmp := integrityTempDir(t)
	root := integrityCollection(t)
	out := t.TempDir() // under TMPDIR's parent, not inside tmp
	before := integritySnapshot(t, root)
	for _, args := range integrityCommands(t, root, out) {
		what := strings.Join(args, " ")
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != exitOK && code != exitFindings && code != exitPartial {
			t.Errorf("%s: exit %d: %s", what, code, stderr.String())
		}
		integrityCompare(t, what, before, integritySnapshot(t, root))
		if left := integrityTempLeft(t, tmp); len(left) > 0 {
			t.Errorf("%s: left in the temp dir: %v", what, left)
		}
	}
	for _, f := range []string{"fix.ps1", "fix.reg", "findings.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s was not written where asked: %v", f, err)
		}
	}
}

// Built-in rule cases that name fixture files are copied out of the binary
// into the temp dir to be read; the copies must go when the run ends.
func TestIntegrity_RuleFixturesUseTempDirAndCleanUp(t *testing.T) {
	tmp := integrityTempDir(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"rules", "test"}, &stdout, &stderr)
	if code != exitOK && code != exitFindings {
		t.Errorf("rules test: exit %d: %s", code, stderr.String())
	}
	if left := integrityTempLeft(t, tmp); len(left) > 0 {
		t.Errorf("rules test left in the temp dir: %v", left)
	}
	// Cancelled part way, too.
	for _, after := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(after, cancel)
		run(ctx, []string{"rules", "test"}, io.Discard, io.Discard)
		timer.Stop()
		cancel()
		if left := integrityTempLeft(t, tmp); len(left) > 0 {
			t.Errorf("rules test cancelled after %v left in the temp dir: %v", after, left)
		}
	}
}

func TestIntegrity_DamagedEvidenceLeavesNothingBehind(t *testing.T) {
	tmp := integrityTempDir(t)
	root := integrityCollection(t)
	// Damage two hives in place (before the snapshot: this is the
	// evidence as collected).
	carol := integrityFind(t, root, "Users/carol/NTUSER.DAT")
	b, err := os.ReadFile(carol)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(carol, b[:len(b)-4096+100], 0o644); err != nil {
		t.Fatal(err)
	}
	alice := integrityFind(t, root, "Users/alice/NTUSER.DAT")
	if err := os.WriteFile(alice, []byte("regf but not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := integritySnapshot(t, root)
	for _, args := range [][]string{
		{"scan", "-q", filepath.Join(root, "WS-DEV-07")},
		{"dump", carol},
		{"info", alice},
		{"timeline", filepath.Join(root, "WS-DEV-07")},
		{"scan", "-q", filepath.Join(root, "no-such-folder")},
	} {
		if _, ok := commands[args[0]]; !ok {
			continue
		}
		var stderr bytes.Buffer
		code := run(context.Background(), args, io.Discard, &stderr)
		if code != exitPartial && code != exitUsage {
			t.Errorf("%s: exit %d on damaged evidence, want 2 or 3", strings.Join(args, " "), code)
		}
		integrityCompare(t, strings.Join(args, " "), before, integritySnapshot(t, root))
		if left := integrityTempLeft(t, tmp); len(left) > 0 {
			t.Errorf("%s: left in the temp dir: %v", strings.Join(args, " "), left)
		}
	}
}

// integrityZip packs the folder src into a ZIP file at dst (a collection as
// triage tools ship it).
func integrityZip(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrity_CancelledScanLeavesEvidenceAndTempDirUntouched(t *testing.T) {
	tmp := integrityTempDir(t)
	root := integrityCollection(t)
	// Enough hosts that a cancel lands in the middle of the work: the demo
	// host copied several times, and the same collection as a ZIP.
	for i := 0; i < 6; i++ {
		hostileCopyTree(t, filepath.Join(root, "WS-DEV-07"), filepath.Join(root, "batch", fmt.Sprintf("HOST-%02d", i)))
	}
	zipDir := t.TempDir()
	integrityZip(t, filepath.Join(root, "WS-DEV-07"), filepath.Join(zipDir, "WS-DEV-07.zip"))
	if err := os.Rename(filepath.Join(zipDir, "WS-DEV-07.zip"), filepath.Join(root, "WS-DEV-07.zip")); err != nil {
		t.Fatal(err)
	}
	before := integritySnapshot(t, root)

	// How long a full scan takes here, to cancel at fractions of it.
	start := time.Now()
	var stderr bytes.Buffer
	full := run(context.Background(), []string{"scan", "-q", "--jobs", "2", root}, io.Discard, &stderr)
	whole := time.Since(start)
	if full != exitOK && full != exitFindings && full != exitPartial {
		t.Fatalf("full scan: exit %d: %s", full, stderr.String())
	}
	integrityCompare(t, "scan", before, integritySnapshot(t, root))

	interrupted := 0
	for _, frac := range []float64{0, 0.1, 0.3, 0.6} {
		// As an interrupt does it: the context is cancelled (not timed out).
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(time.Duration(frac*float64(whole)), cancel)
		var errb bytes.Buffer
		code := run(ctx, []string{"scan", "-q", "--jobs", "2", root}, io.Discard, &errb)
		timer.Stop()
		cancel()
		what := fmt.Sprintf("scan cancelled after %.0f%% of a full run", frac*100)
		if code == exitPartial && strings.Contains(errb.String(), "interrupt") {
			interrupted++
		}
		// (Exit 2 when the cancel lands before the first host is read:
		// see TestIntegrityRegression_ScanCancelledEarlySaysInterrupted.)
		if code != exitOK && code != exitFindings && code != exitPartial && code != exitUsage {
			t.Errorf("%s: exit %d, want 3 (interrupted): %s", what, code, errb.String())
		}
		integrityCompare(t, what, before, integritySnapshot(t, root))
		if left := integrityTempLeft(t, tmp); len(left) > 0 {
			t.Errorf("%s: left in the temp dir: %v", what, left)
		}
	}
	if interrupted == 0 {
		t.Errorf("no cancelled scan said it was interrupted (a full scan takes %v)", whole)
	}
}

// An interrupt is an interrupt whenever it comes: a scan cancelled before
// its first host was read must say "interrupted" and exit 3 (partial), as
// one cancelled later does, not report "no usable input" (exit 2) with the
// bare "context canceled".
func TestIntegrityRegression_ScanCancelledEarlySaysInterrupted(t *testing.T) {
	root := integrityCollection(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"scan", "-q", filepath.Join(root, "WS-DEV-07")}, io.Discard, &stderr)
	if code != exitPartial || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("scan with a cancelled context: exit %d, stderr %q; want 3 and \"envhunt: interrupted\"", code, stderr.String())
	}
}

// A named pipe (FIFO) in a collection — possible in any tree extracted from
// an archive or copied off a Unix file system — blocks the first open(2)
// until something writes to it. Evidence readers must check that a path is
// a regular file before opening it, so a pipe can neither hang a scan nor
// an explicit read: it is refused with a line naming it.
func TestIntegrityRegression_NamedPipesDoNotBlockReaders(t *testing.T) {
	mkfifo, err := exec.LookPath("mkfifo")
	if err != nil {
		t.Skip("mkfifo not available")
	}
	dir := t.TempDir()
	pipe := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(mkfifo, p).CombinedOutput(); err != nil {
			t.Skipf("mkfifo: %v %s", err, out)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		pipe string
		args func(p string) []string
	}{
		{"evtx over a folder holding a pipe", "logs/Security.evtx", func(p string) []string { return []string{"evtx", filepath.Dir(p)} }},
		{"etl over a folder holding a pipe", "wmi/trace.etl", func(p string) []string { return []string{"etl", filepath.Dir(p)} }},
		{"dump of a pipe", "a/NTUSER.DAT", func(p string) []string { return []string{"dump", p} }},
		{"info of a pipe", "b/NTUSER.DAT", func(p string) []string { return []string{"info", p} }},
		{"etl of a pipe", "c/x.etl", func(p string) []string { return []string{"etl", p} }},
		{"evtx of a pipe", "d/x.evtx", func(p string) []string { return []string{"evtx", p} }},
		{"scan of a pipe", "e/NTUSER.DAT", func(p string) []string { return []string{"scan", "-q", p} }},
	} {
		p := pipe(tc.pipe)
		done := make(chan int, 1)
		var stderr bytes.Buffer
		go func() { done <- run(context.Background(), tc.args(p), io.Discard, &stderr) }()
		select {
		case code := <-done:
			if code == exitOK {
				t.Errorf("%s: exit 0, want the pipe reported (stderr %q)", tc.name, stderr.String())
			}
		case <-time.After(3 * time.Second):
			t.Errorf("%s: still blocked after 3 s opening the pipe", tc.name)
			// Unblock the reader: a writer that opens and closes gives it EOF.
			if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
	}
}

// Symbolic links inside a collection can point anywhere on the analyst's
// machine (/dev/zero, their own files). A folder walk does not follow
// them: it names each link on stderr and reads nothing through it.
func TestIntegrity_LinksOutOfTheCollectionAreNotFollowed(t *testing.T) {
	root := integrityCollection(t)
	outside := filepath.Join(t.TempDir(), "NTUSER.DAT")
	tree := hostile.BaseTree()
	tree.Path("Environment").SetValue(hivetest.SZ("GOPATH", `C:\outside-marker`))
	b, err := hivetest.Build(tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, b, 0o644); err != nil {
		t.Fatal(err)
	}
	carol := integrityFind(t, root, "Users/carol/NTUSER.DAT")
	if err := os.Remove(carol); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, carol); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
	zero := filepath.Join(filepath.Dir(carol), "..", "dave", "NTUSER.DAT")
	if err := os.MkdirAll(filepath.Dir(zero), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, zero); err != nil {
		t.Fatal(err)
	}
	before := integritySnapshot(t, root)
	r := hostileCall("scan", "-q", "--format", "jsonl", filepath.Join(root, "WS-DEV-07"))
	if r.panicked != nil || r.timedOut {
		t.Fatalf("scan: panic %v, timed out %v", r.panicked, r.timedOut)
	}
	if strings.Contains(r.stdout, "outside-marker") {
		t.Error("scan read a hive through a symbolic link out of the collection")
	}
	if r.code != exitPartial || !strings.Contains(r.stderr, "carol") || !strings.Contains(r.stderr, "dave") {
		t.Errorf("scan: exit %d, stderr %q; want 3 naming both links", r.code, r.stderr)
	}
	integrityCompare(t, "scan", before, integritySnapshot(t, root))
}
