package etl_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// benchDecodeAll reads every event, decodes its payload and follows the
// registry and process state: the work `envhunt etl` and the analyzers do.
func benchDecodeAll(b *testing.B, data []byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	events := 0
	var decoded int64
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f, err := etl.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		st := etl.NewState()
		it := f.Events(ctx)
		var d etl.Decoded
		for it.Next() {
			e := it.Event()
			etl.DecodeInto(e, &d)
			st.Observe(e, &d)
			events++
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		decoded += it.Stats().Bytes
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(events)/el, "events/s")
	b.ReportMetric(float64(decoded)/el/1e6, "decoded-MB/s")
}

// BenchmarkDecode_LargestCorpusTrace reads the largest trace of the shared
// corpus (AMSITrace.etl: TraceLogging events).
func BenchmarkDecode_LargestCorpusTrace(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "etl")
	if d := os.Getenv("ENVHUNT_CORPUS"); d != "" {
		dir = filepath.Join(d, "etl")
	}
	var best string
	var size int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && filepath.Ext(e.Name()) == ".etl" && info.Size() > size {
			best, size = filepath.Join(dir, e.Name()), info.Size()
		}
	}
	if best == "" {
		b.Skip("shared corpus not found")
	}
	data, err := os.ReadFile(best)
	if err != nil {
		b.Fatal(err)
	}
	benchDecodeAll(b, data)
}

// BenchmarkDecode_RegistryTrace reads a 16 MiB trace full of Kernel-Registry
// and kernel-logger Registry events (what a registry capture looks like).
func BenchmarkDecode_RegistryTrace(b *testing.B) {
	benchDecodeAll(b, registryTrace(false))
}

// BenchmarkDecode_CompressedRegistryTrace reads the same events from
// LZ77-compressed buffers (a relogged or WPR capture); MB/s counts the
// bytes of the file.
func BenchmarkDecode_CompressedRegistryTrace(b *testing.B) {
	benchDecodeAll(b, registryTrace(true))
}

// registryTraces caches the benchmark traces: the benchmark function runs
// several times and building 16 MiB each time would dominate `make bench`.
var registryTraces = map[bool][]byte{}

func registryTrace(compress bool) []byte {
	if b, ok := registryTraces[compress]; ok {
		return b
	}
	b := buildRegistryTrace(compress)
	registryTraces[compress] = b
	return b
}

func buildRegistryTrace(compress bool) []byte {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []etltest.Event
	data := etltest.UTF16Data(`C:\Users\Public;C:\Windows\system32;C:\Windows`)
	for i := 0; len(evs) < 120000; i++ {
		at := t0.Add(time.Duration(i) * time.Microsecond)
		evs = append(evs,
			etltest.Event{Header: etltest.Manifest, Time: at, CPU: uint16(i % 4), PID: 100, TID: 104, Provider: etltest.KernelRegistry, ID: 5,
				Payload: etltest.KernelRegistrySetValue(8, uint64(i%512), 0, 2, uint32(len(data)), "", "Path", data)},
			etltest.Event{Header: etltest.System, Time: at, CPU: uint16(i % 4), PID: 100, TID: 104, Group: etltest.GroupRegistry, Opcode: 14, Version: 2,
				Payload: etltest.RegistryV2(8, 0, 0, 0, uint64(i%512), "Path")},
		)
	}
	return etltest.Build(etltest.Trace{StartTime: t0, Events: evs, BufferSize: 0x10000, Compress: compress})
}
