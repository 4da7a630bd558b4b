package scan

import (
	"context"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/report"
)

// BenchmarkScanOneHost scans SYSTEM, a SOFTWARE-sized hive and three
// NTUSER.DAT of the corpus with the built-in rules, as one host.
func BenchmarkScanOneHost(b *testing.B) {
	files := []string{
		testcorpus.Path(b, "hives", "regipy", "SYSTEM"),
		testcorpus.Path(b, "hives", "regipy", "ntuser_software_partial"),
		testcorpus.Path(b, "hives", "regipy", "NTUSER.DAT"),
		testcorpus.Path(b, "hives", "regipy", "transactions_NTUSER.DAT"),
		testcorpus.Path(b, "hives", "velocidex", "velocidex_NTUSER.DAT"),
	}
	for b.Loop() {
		if _, err := Scan(context.Background(), files, Options{Jobs: 1}, func(*report.Finding) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
