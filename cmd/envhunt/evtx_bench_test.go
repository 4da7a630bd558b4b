package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkEvtxJSONL runs "evtx" (JSON Lines) on the largest corpus log.
func BenchmarkEvtxJSONL(b *testing.B) {
	path := corpusPath(b, "evtx", "PanacheSysmon_vs_AtomicRedTeam01.evtx")
	for b.Loop() {
		if code := run(context.Background(), []string{"evtx", path}, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(565*b.N)/b.Elapsed().Seconds(), "records/s")
}
