// Package testcorpus locates the shared evidence corpus (real hives, traces
// and event logs from public projects) that sits beside a checkout as
// ../shared/corpus. Tests that need it skip with a clear message when it is
// absent, so a fresh clone still passes on generated fixtures alone.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus directory, or skips t when there is none. The
// ENVHUNT_CORPUS environment variable overrides the default location.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ENVHUNT_CORPUS"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		t.Skipf("ENVHUNT_CORPUS=%s is not a directory", d)
	}
	root, ok := repoRoot()
	if ok {
		d := filepath.Join(root, "..", "shared", "corpus")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skip("shared corpus not found (expected ../shared/corpus beside the checkout, or ENVHUNT_CORPUS): skipping test on real samples")
	return ""
}

// Path returns a file or directory inside the corpus, skipping t when the
// corpus or that entry is missing.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus entry %s missing: %v", p, err)
	}
	return p
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, bool) {
	d, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}
