package casereport

import (
	"context"
	"io"
	"testing"

	"github.com/envhunt/envhunt/pkg/scan"
)

// BenchmarkBuild_Demo builds and renders the demo's report (three users, a
// roaming copy, log replay, history), as envhunt report does.
func BenchmarkBuild_Demo(b *testing.B) {
	for _, history := range []bool{true, false} {
		name := "history"
		if !history {
			name = "no-history"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := Build(context.Background(), []string{demoHost}, Options{Scan: scan.Options{Roaming: []string{demoRoaming}}, Version: "bench", NoHistory: !history})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.WriteHTML(io.Discard); err != nil {
					b.Fatal(err)
				}
				if err := r.WriteMarkdown(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
