package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs envhunt with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestRun_UnknownCommandIsUsageError(t *testing.T) {
	_, stderr, code := runCLI(t, "no-such-command")
	if code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}

func TestVisible_EscapesTerminalControls(t *testing.T) {
	got := visible("a\x1b[31mred\x07\u202eevil")
	if strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Fatalf("visible left control characters: %q", got)
	}
}

// updateGolden (-update) rewrites the golden files from the current output,
// for review as a diff.
var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// checkGolden compares got with testdata/golden/NAME, or rewrites the file
// when the tests run with -update (after review of the diff).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after review):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// corpusPath finds an entry of the shared corpus (ENVHUNT_CORPUS, or
// ../shared/corpus beside the checkout), skipping the test when it is
// absent. The command package cannot import pkg/internal/testcorpus.
func corpusPath(t testing.TB, elem ...string) string {
	t.Helper()
	dir := os.Getenv("ENVHUNT_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	p := filepath.Join(append([]string{dir}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared corpus entry %s not found: skipping test on real samples", p)
	}
	return p
}
