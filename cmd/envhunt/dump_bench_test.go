package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkDumpJSONL runs "dump --format jsonl" on the corpus SYSTEM hive
// (11 MB), output discarded.
func BenchmarkDumpJSONL(b *testing.B) {
	p := corpusPath(b, "hives", "regipy", "SYSTEM")
	b.ReportAllocs()
	for b.Loop() {
		if err := runDump(context.Background(), []string{"--format", "jsonl", "--no-logs", p}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
