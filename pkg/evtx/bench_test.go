package evtx_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// largestCorpusLog returns the largest .evtx file of the corpus.
func largestCorpusLog(b *testing.B) []byte {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(testcorpus.Dir(b), "evtx", "*.evtx"))
	var best string
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			best, size = f, st.Size()
		}
	}
	if best == "" {
		b.Skip("no .evtx file in the corpus")
	}
	data, err := os.ReadFile(best)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchRecords(b *testing.B, data []byte, xml bool) { benchRecordsN(b, data, xml, 1) }

func benchRecordsN(b *testing.B, data []byte, xml bool, workers int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		f, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "")
		if err != nil {
			b.Fatal(err)
		}
		for r, err := range f.RecordsParallel(context.Background(), workers) {
			if err != nil {
				b.Fatal(err)
			}
			if xml {
				_ = r.XML()
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecords_LargestCorpusLog decodes every record into System and
// EventData fields.
func BenchmarkRecords_LargestCorpusLog(b *testing.B) { benchRecords(b, largestCorpusLog(b), false) }

// BenchmarkRecordsXML_LargestCorpusLog also renders each record as XML.
func BenchmarkRecordsXML_LargestCorpusLog(b *testing.B) { benchRecords(b, largestCorpusLog(b), true) }

// BenchmarkRecordsParallel_LargestCorpusLog decodes chunks on every CPU.
func BenchmarkRecordsParallel_LargestCorpusLog(b *testing.B) {
	benchRecordsN(b, largestCorpusLog(b), false, runtime.GOMAXPROCS(0))
}
