package hive

import (
	"context"
	"os"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// BenchmarkWalk opens the corpus SYSTEM hive (11 MB), walks it and decodes
// every value, as dump does.
func BenchmarkWalk(b *testing.B) {
	path := testcorpus.Path(b, "hives", "regipy", "SYSTEM")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		h, err := Open(path, WithoutLogs())
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
