package hive

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// carveFixture is an Environment key whose replaced Path and GOPATH are left
// in free cells, and whose live TEMP was rewritten in place over a longer
// value (its tail in slack).
func carveFixture() *hivetest.Key {
	temp := hivetest.ExpandSZ("TEMP", `C:\T`)
	temp.Slack = hivetest.UTF16(`\AppData\Local\Temp`)[2:]
	return &hivetest.Key{Name: "ROOT", LastWrite: time.Date(2025, 5, 21, 16, 22, 9, 0, time.UTC), Subkeys: []*hivetest.Key{{
		Name:      "Environment",
		LastWrite: time.Date(2025, 5, 21, 16, 22, 9, 0, time.UTC),
		Values: []hivetest.Value{
			hivetest.SZ("Path", `C:\Users\alice\bin`),
			temp,
			hivetest.SZ("GOPATH", `D:\work\go`),
		},
		DeletedValues: []hivetest.Value{
			hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\old\bin`),
			hivetest.ExpandSZ("GOPATH", `%USERPROFILE%\go`),
			hivetest.DWORD("Flag", 7),
		},
	}}}
}

func carveAll(t *testing.T, h *Hive) []CarvedValue {
	t.Helper()
	var got []CarvedValue
	if err := h.CarveValues(context.Background(), CarveOptions{}, func(c CarvedValue) error {
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatalf("CarveValues: %v", err)
	}
	return got
}

func TestCarveValues_FindsDeletedValuesWithTheirData(t *testing.T) {
	root := carveFixture()
	data, layout, err := hivetest.BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("carve", data, WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	got := carveAll(t, h)
	deleted := root.Subkeys[0].DeletedValues
	cells := layout.Keys["Environment"].DeletedValues
	if len(got) != len(deleted) {
		for _, c := range got {
			t.Logf("carved %q at %#x", c.Name, c.Offset)
		}
		t.Fatalf("carved %d values, want the %d deleted ones", len(got), len(deleted))
	}
	for i, want := range deleted {
		c := got[i]
		if c.Name != want.Name || uint32(c.Type) != want.Type || !bytes.Equal(c.Data, want.Data) {
			t.Errorf("value %d: carved %q type %d data %x, want %q type %d data %x", i, c.Name, c.Type, c.Data, want.Name, want.Type, want.Data)
		}
		if c.Offset != int64(cells[i].VK) {
			t.Errorf("value %q: offset %#x, want the vk cell at %#x", want.Name, c.Offset, cells[i].VK)
		}
		if !c.Complete || !c.DataFree || c.Problem != "" {
			t.Errorf("value %q: complete %v, data free %v, problem %q; want complete, free data and no problem", want.Name, c.Complete, c.DataFree, c.Problem)
		}
	}
	if d := got[0].Decode(); d.Text != `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\old\bin` {
		t.Errorf("decoded Path = %q", d.Text)
	}
}

func TestCarveValues_IgnoresLiveValues(t *testing.T) {
	root := carveFixture()
	root.Subkeys[0].DeletedValues = nil
	data, err := hivetest.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("live", data, WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	if got := carveAll(t, h); len(got) != 0 {
		t.Errorf("carved %d values from a hive with no free value cells: first %q", len(got), got[0].Name)
	}
}

func TestValueSlack_HoldsTheOverwrittenTail(t *testing.T) {
	data, err := hivetest.Build(carveFixture())
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("slack", data, WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.OpenKey("Environment")
	if err != nil {
		t.Fatal(err)
	}
	temp, err := k.Value("TEMP")
	if err != nil {
		t.Fatal(err)
	}
	want := hivetest.UTF16(`\AppData\Local\Temp`)[2:]
	if s := temp.Slack(); !bytes.HasPrefix(s, want) {
		t.Errorf("TEMP slack = %x, want it to start with %x", s, want)
	}
	if temp.DataOffset() < 0 {
		t.Errorf("TEMP data offset = %d, want its data cell", temp.DataOffset())
	}
	// A value without slack has at most the cell's alignment padding.
	gopath, _ := k.Value("GOPATH")
	if s := gopath.Slack(); len(s) >= 8 || !allZero(s) {
		t.Errorf("GOPATH slack = %x, want only zero padding", s)
	}
}

func TestCarveValues_ReportsDataItCannotRead(t *testing.T) {
	root := carveFixture()
	data, layout, err := hivetest.BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	cells := layout.Keys["Environment"].DeletedValues
	tests := []struct {
		name    string
		patch   func(b []byte)
		problem string
	}{
		{"data offset outside the hive", func(b []byte) {
			binary.LittleEndian.PutUint32(b[hivetest.FileOffset(cells[0].VK)+4+8:], 0x7FFFFFF8)
		}, "not a cell"},
		{"data offset unaligned", func(b []byte) {
			binary.LittleEndian.PutUint32(b[hivetest.FileOffset(cells[0].VK)+4+8:], 0x1003)
		}, "not a cell"},
		{"data longer than the hive", func(b []byte) {
			binary.LittleEndian.PutUint32(b[hivetest.FileOffset(cells[0].VK)+4+4:], 0x00FFFFF0)
		}, "holds"},
		{"data cell allocated again", func(b []byte) {
			binary.LittleEndian.PutUint32(b[hivetest.FileOffset(cells[0].VK)+4+8:], uint32(layout.Keys["Environment"].NK))
		}, "allocated again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), data...)
			tc.patch(b)
			h, err := Load("patched", b, WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			got := carveAll(t, h)
			if len(got) == 0 || got[0].Name != "Path" {
				t.Fatalf("carved %d values, want Path first", len(got))
			}
			if !strings.Contains(got[0].Problem, tc.problem) {
				t.Errorf("problem = %q, want it to mention %q", got[0].Problem, tc.problem)
			}
		})
	}
}

func TestCarveValues_StopsAtLimitAndOnError(t *testing.T) {
	data, err := hivetest.Build(carveFixture())
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("bounded", data, WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := h.CarveValues(context.Background(), CarveOptions{MaxValues: 2}, func(CarvedValue) error { n++; return nil }); !errors.Is(err, ErrCarveLimit) || n != 2 {
		t.Errorf("MaxValues 2: got %d values, err %v; want 2 and ErrCarveLimit", n, err)
	}
	stop := errors.New("stop")
	if err := h.CarveValues(context.Background(), CarveOptions{}, func(CarvedValue) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error: got %v, want it returned", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.CarveValues(ctx, CarveOptions{}, func(CarvedValue) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
}

// FuzzCarveValues checks that carving and slack reading never panic and
// return only data inside the image.
func FuzzCarveValues(f *testing.F) {
	data, err := hivetest.Build(carveFixture())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(fuzzSeedHive(f, hivetest.ListAuto))
	f.Add(data[:4096+4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Load("fuzz", b, WithoutLogs())
		if err != nil {
			return
		}
		_ = h.CarveValues(context.Background(), CarveOptions{MaxValues: 1000}, func(c CarvedValue) error {
			if len(c.Data) > len(b) || (c.Complete && len(c.Data) != c.Size) {
				t.Fatalf("carved %q: %d bytes of data, size %d, complete %v", c.Name, len(c.Data), c.Size, c.Complete)
			}
			_ = c.Decode()
			return nil
		})
		_ = h.Walk(context.Background(), func(k *Key) error {
			_, _ = k.ValueListSlack(context.Background())
			vals, _ := k.Values()
			for _, v := range vals {
				if s := v.Slack(); len(s) > len(b) {
					t.Fatalf("slack of %q is %d bytes, longer than the file", v.Name(), len(s))
				}
				_ = v.DataOffset()
			}
			return nil
		})
	})
}

func TestValueListSlack_NamesAValueRemovedFromTheEnd(t *testing.T) {
	root := carveFixture()
	root.Subkeys[0].DeletedValues = nil
	data, layout, err := hivetest.BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	env := layout.Keys["Environment"]
	// Remove the last value (GOPATH) the way Windows does: the count drops,
	// the list cell keeps its offset; then free its vk cell.
	nk := hivetest.FileOffset(env.NK) + 4
	binary.LittleEndian.PutUint32(data[nk+0x24:], 2)
	gopath := env.Values[2]
	for _, tc := range []struct {
		name string
		free bool
	}{{"vk cell still allocated", false}, {"vk cell freed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), data...)
			if tc.free {
				vk := hivetest.FileOffset(gopath.VK)
				size := -int32(binary.LittleEndian.Uint32(b[vk:]))
				binary.LittleEndian.PutUint32(b[vk:], uint32(size))
			}
			h, err := Load("list-slack", b, WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			k, err := h.OpenKey("Environment")
			if err != nil {
				t.Fatal(err)
			}
			if vals, _ := k.Values(); len(vals) != 2 {
				t.Fatalf("%d live values, want 2 after the patch", len(vals))
			}
			got, err := k.ValueListSlack(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Name != "GOPATH" || got[0].Decode().Text != `D:\work\go` || got[0].Offset != int64(gopath.VK) {
				t.Fatalf("value list slack = %+v, want GOPATH at %#x", got, gopath.VK)
			}
			if got[0].CellFree != tc.free {
				t.Errorf("CellFree = %v, want %v", got[0].CellFree, tc.free)
			}
		})
	}
	// A list without spare slots has no slack.
	h, err := Load("no-slack", data, WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	root2, _ := h.Root()
	if got, err := root2.ValueListSlack(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("root key: %d values, err %v; want none", len(got), err)
	}
}

// BenchmarkCarveValues scans the free space of a large real hive: the
// corpus SYSTEM_B as on disk (12 MB; 413 free cells holding 4487 value
// cells, counted independently by walking its bins). After its logs are
// replayed the hive is rewritten and little free space is left.
func BenchmarkCarveValues(b *testing.B) {
	h, err := Open(testcorpus.Path(b, "hives", "regipy", "SYSTEM_B"), WithoutLogs())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(h.Size())
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		n = 0
		if err := h.CarveValues(context.Background(), CarveOptions{}, func(CarvedValue) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "values")
}

// TestCarveValues_CorpusHivesAsOnDisk checks the carver against counts made
// by a separate walk of the raw files (every "vk" signature 4 bytes after an
// 8-byte boundary inside a free cell of a well-formed bin).
func TestCarveValues_CorpusHivesAsOnDisk(t *testing.T) {
	for _, tc := range []struct {
		file  string
		count int
	}{
		{"regipy/NTUSER.DAT", 29},
		{"regipy/SYSTEM_B", 4487},
		{"regipy/SYSTEM", 0},
		{"velocidex/velocidex_NTUSER.DAT", 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...), WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			got := carveAll(t, h)
			if len(got) != tc.count {
				t.Errorf("carved %d values, want %d", len(got), tc.count)
			}
			for _, c := range got {
				if c.Complete && len(c.Data) != c.Size {
					t.Errorf("%q at %#x: complete with %d of %d bytes", c.Name, c.Offset, len(c.Data), c.Size)
				}
			}
		})
	}
}
