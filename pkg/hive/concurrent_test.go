package hive

import (
	"sync"
	"testing"
)

// A Hive is safe for concurrent readers: walks, lookups and security reads
// from several goroutines (run with -race).
func TestHive_ConcurrentReaders(t *testing.T) {
	h := openCorpus(t, "regipy/NTUSER.DAT")
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Walk(t.Context(), func(k *Key) error {
				counts[i]++
				k.Security()
				vs, _ := k.Values()
				for _, v := range vs {
					v.Decode()
				}
				h.Anomalies()
				return nil
			})
			h.Type()
		}()
	}
	wg.Wait()
	for i, n := range counts {
		if n != 1812 {
			t.Errorf("reader %d saw %d keys, want 1812", i, n)
		}
	}
}
