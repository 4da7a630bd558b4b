package hive

import (
	"context"
	"os"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// BenchmarkWalk walks the corpus SYSTEM hive (11 MB) and decodes every value,
// as dump does.
func BenchmarkWalk(b *testing.B) {
	data, err := os.ReadFile(testcorpus.Path(b, "hives", "regipy", "SYSTEM"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		h, err := Load("SYSTEM", data, WithoutLogs())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		h.Walk(context.Background(), func(k *Key) error {
			vs, _ := k.Values()
			for _, v := range vs {
				v.Decode()
				n++
			}
			return nil
		})
		if n != 73456 {
			b.Fatalf("%d values", n)
		}
	}
}
