package etl_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

func FuzzReader(f *testing.F) {
	at := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, ptr := range []int{4, 8} {
		for _, kl := range []bool{false, true} {
			f.Add(etltest.WriteTrace(etltest.Write{PointerSize: ptr, KernelLogger: kl, Time: at, PID: 7, PPID: 4, UserSID: "S-1-5-18",
				Image: "a.exe", CommandLine: "a.exe", Key: `\REGISTRY\MACHINE\SOFTWARE\A`, Value: "B", Type: 1, Data: []byte("x\x00")}))
		}
	}
	f.Add(etltest.WriteTrace(etltest.Write{Compress: true, Time: at, PID: 7, Key: `\REGISTRY\MACHINE\SOFTWARE\A`, Value: "B"}))
	// Small real traces (one with compressed buffers) when the corpus is
	// present.
	for _, name := range []string{"perfview-SelfDescribingSingleEvent.etl", "lxcore_kernel.etl"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "etl", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		ctx := context.Background()
		etl.Summarize(ctx, r)
		st := etl.NewState()
		st.Prescan(ctx, r)
		for e, err := range r.Timeline(ctx) {
			if err != nil {
				break
			}
			st.Observe(e, etl.Decode(e))
			if pid, ok := st.PID(e); ok {
				st.Process(pid, e.Time)
			}
		}
	})
}

// TestReader_SurvivesFieldMutations hammers the size, offset and flag fields
// the reader trusts with boundary values (a deterministic complement to
// FuzzReader): no panic, no hang, whatever the damage.
func TestReader_SurvivesFieldMutations(t *testing.T) {
	at := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	seeds := [][]byte{
		etltest.WriteTrace(etltest.Write{PointerSize: 4, Time: at, PID: 7, Key: `\REGISTRY\MACHINE\SOFTWARE\A`, Value: "B", Data: []byte("x\x00")}),
		etltest.WriteTrace(etltest.Write{KernelLogger: true, Time: at, PID: 7, UserSID: "S-1-5-18", Key: `\REGISTRY\MACHINE\SOFTWARE\A`, Value: "B"}),
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "etl", "perfview-SelfDescribingSingleEvent.etl")); err == nil {
		seeds = append(seeds, b) // compressed buffers
	}
	rng := rand.New(rand.NewSource(1))
	vals := []uint32{0, 1, 7, 8, 0x40, 0x48, 0x50, 0xFFFF, 0x10000, 0x1000000, 0x7FFFFFFF, 0xFFFFFFFF}
	ctx := context.Background()
	for i := 0; i < 3000; i++ {
		b := append([]byte(nil), seeds[i%len(seeds)]...)
		for k := 0; k < 1+rng.Intn(3); k++ {
			o := rng.Intn(len(b) - 4)
			if rng.Intn(2) == 0 {
				o &^= 3 // field-aligned
			}
			binary.LittleEndian.PutUint32(b[o:], vals[rng.Intn(len(vals))])
		}
		if rng.Intn(4) == 0 {
			b = b[:rng.Intn(len(b))]
		}
		r, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		etl.Summarize(ctx, r)
		st := etl.NewState()
		for e, err := range r.Timeline(ctx) {
			if err != nil {
				break
			}
			st.Observe(e, etl.Decode(e))
		}
	}
}
