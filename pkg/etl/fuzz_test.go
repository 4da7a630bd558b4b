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

func FuzzReader(f *testing.F) {
	at := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, ptr := range []int{4, 8} {
		for _, kl := range []bool{false, true} {
			f.Add(etltest.WriteTrace(etltest.Write{PointerSize: ptr, KernelLogger: kl, Time: at, PID: 7, PPID: 4, UserSID: "S-1-5-18",
				Image: "a.exe", CommandLine: "a.exe", Key: `\REGISTRY\MACHINE\SOFTWARE\A`, Value: "B", Type: 1, Data: []byte("x\x00")}))
		}
	}
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
