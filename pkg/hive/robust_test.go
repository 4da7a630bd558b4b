package hive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// exercise reads everything a caller can ask for and returns the number of
// keys and values met. It must never panic.
func exercise(t *testing.T, h *Hive) (work int) {
	t.Helper()
	h.Type()
	err := h.Walk(context.Background(), func(k *Key) error {
		work++
		k.Name()
		k.ClassName()
		k.Security()
		vs, _ := k.Values()
		for _, v := range vs {
			work++
			v.Decode()
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s: Walk: %v", h.Name(), err)
	}
	return work
}

// boundedWork is the most keys plus values a hive of n bytes can hold: every
// nk or vk cell takes at least 16 bytes and each is visited once (values can
// be shared by several lists, so allow a factor for that).
func boundedWork(n int) int { return 4 * n / 16 }

func TestDamaged_CorpusHivesArePartialWithAnomalies(t *testing.T) {
	tests := []struct {
		file        string
		keys        int // -1: any
		wantAnomaly string
		wantPartial bool
	}{
		{"regipy/corrupted_system_hive", -1, AnomalyBadCell, true},
		{"regipy/corrupted_system_hive", -1, AnomalyBadBin, true},
		{"yarp/BadListHive", 6, AnomalyParentMismatch, true},
		{"yarp/BadSubkeyHive", 6, AnomalyParentMismatch, true},
		{"yarp/GarbageHive", 1, AnomalyDirty, true},
		{"yarp/BadBaseBlockHive/BadBaseBlockHive", 5003, AnomalyDirty, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := openCorpus(t, tc.file)
			keys, _ := walkCount(t, h)
			if tc.keys >= 0 && keys != tc.keys {
				t.Errorf("%d keys, want %d", keys, tc.keys)
			}
			if h.Partial() != tc.wantPartial {
				t.Errorf("Partial() = %v, want %v", h.Partial(), tc.wantPartial)
			}
			found := false
			for _, a := range h.Anomalies() {
				found = found || a.Kind == tc.wantAnomaly
				if a.Message == "" {
					t.Errorf("anomaly without message: %+v", a)
				}
			}
			if !found {
				t.Errorf("no %s anomaly in %v", tc.wantAnomaly, h.Anomalies())
			}
		})
	}
}

func TestTruncated_ErrorOrPartialAtEveryCut(t *testing.T) {
	files := []string{"regipy/NTUSER.DAT", "regipy/SAM", "yarp/BigDataHive"}
	if !testing.Short() {
		files = append(files, "regipy/SYSTEM")
	}
	for _, file := range files {
		data, err := os.ReadFile(testcorpus.Path(t, append([]string{"hives"}, splitSlash(file)...)...))
		if err != nil {
			t.Fatal(err)
		}
		full, err := Load(file, data, WithoutLogs())
		if err != nil {
			t.Fatal(err)
		}
		binsEnd := full.end
		cuts := []int{0, 3, 4, 511, 512, 4095, 4096, 4100, 4128, 8191, 8192}
		steps := 64
		if len(data) > 4<<20 {
			steps = 12
		}
		for i := 1; i < steps; i++ {
			cuts = append(cuts, len(data)*i/steps, len(data)*i/steps+13)
		}
		cuts = append(cuts, binsEnd-1, len(data)-1)
		for _, cut := range cuts {
			if cut < 0 || cut > len(data) {
				continue
			}
			h, err := Load("cut", data[:cut], WithoutLogs())
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) || fe.File != "cut" {
					t.Errorf("%s cut at %d: error %v is not a FormatError naming the file", file, cut, err)
				}
				continue
			}
			if w := exercise(t, h); w > boundedWork(cut) {
				t.Errorf("%s cut at %d: %d keys+values from %d bytes", file, cut, w, cut)
			}
			if cut < binsEnd && !h.Partial() {
				t.Errorf("%s cut at %d (bins end at %d): not partial; anomalies %v", file, cut, binsEnd, h.Anomalies())
			}
		}
	}
}

func splitSlash(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestMutated_NeverPanicsWorkBounded(t *testing.T) {
	data, err := os.ReadFile(testcorpus.Path(t, "hives", "regipy", "NTUSER.DAT"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	n := 300
	if testing.Short() {
		n = 60
	}
	for i := 0; i < n; i++ {
		m := append([]byte(nil), data...)
		for j := 0; j < 1+rng.Intn(20); j++ {
			off := 4096 + rng.Intn(len(m)-4096)
			switch rng.Intn(3) {
			case 0:
				m[off] = byte(rng.Intn(256))
			case 1: // a plausible huge count or length
				if off+4 <= len(m) {
					binary.LittleEndian.PutUint32(m[off:], []uint32{0xFFFFFFFF, 0x7FFFFFF0, 0x80000000, 0}[rng.Intn(4)])
				}
			case 2: // point somewhere else in the hive
				if off+4 <= len(m) {
					binary.LittleEndian.PutUint32(m[off:], uint32(rng.Intn(len(m)-4096))&^7)
				}
			}
		}
		h, err := Load("mutant", m, WithoutLogs())
		if err != nil {
			continue
		}
		if w := exercise(t, h); w > boundedWork(len(m)) {
			t.Errorf("mutant %d: %d keys+values", i, w)
		}
	}
}

// patch32 overwrites a 32-bit field of the cell at cellOff (payload offset).
func patch32(b []byte, cellOff int64, field int, v uint32) {
	binary.LittleEndian.PutUint32(b[binsStart+cellOff+4+int64(field):], v)
}

func patch16(b []byte, cellOff int64, field int, v uint16) {
	binary.LittleEndian.PutUint16(b[binsStart+cellOff+4+int64(field):], v)
}

// hostileBase builds a small hive and returns it with the reader's view.
func hostileBase(t *testing.T) ([]byte, *Hive) {
	t.Helper()
	root := &hivetest.Key{Name: "ROOT", Subkeys: []*hivetest.Key{
		{Name: "A", Values: []hivetest.Value{
			hivetest.SZ("s", "hello"),
			hivetest.DWORD("d", 7),
			hivetest.Binary("b", append([]byte("db"), make([]byte, 90)...)),
			hivetest.Binary("big", make([]byte, 300)),
		}, Subkeys: []*hivetest.Key{{Name: "A1"}, {Name: "A2"}}},
		{Name: "B"},
	}}
	data, err := hivetest.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("base", data)
	if err != nil {
		t.Fatal(err)
	}
	return data, h
}

func mustKey(t *testing.T, h *Hive, path string) *Key {
	t.Helper()
	k, err := h.OpenKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostile_CraftedCellsGiveAnomalies(t *testing.T) {
	tests := []struct {
		name    string
		patch   func(b []byte, h *Hive)
		anomaly string
	}{
		{"subkey list points back at the root (cycle)", func(b []byte, h *Hive) {
			// A\A1 lists the root, whose parent pointer names A\A1: the
			// list is A's value-list cell rewritten as a one-entry li.
			root, _ := h.Root()
			a, a1 := mustKey(t, h, "A"), mustKey(t, h, `A\A1`)
			li := le32(a.nk[nkValueList:])
			b[binsStart+int64(li)+4], b[binsStart+int64(li)+5] = 'l', 'i'
			patch16(b, int64(li), 2, 1)
			patch32(b, int64(li), 4, uint32(root.Offset()))
			patch32(b, a1.Offset(), nkSubkeyCount, 1)
			patch32(b, a1.Offset(), nkSubkeyList, li)
			patch32(b, root.Offset(), nkParent, uint32(a1.Offset()))
		}, AnomalyCycle},
		{"key points at another key's subkey list", func(b []byte, h *Hive) {
			a, b2 := mustKey(t, h, "A"), mustKey(t, h, "B")
			patch32(b, b2.Offset(), nkSubkeyCount, 2)
			patch32(b, b2.Offset(), nkSubkeyList, le32(a.nk[nkSubkeyList:]))
		}, AnomalyParentMismatch},
		{"key uses another key's value list", func(b []byte, h *Hive) {
			a, b2 := mustKey(t, h, "A"), mustKey(t, h, "B")
			patch32(b, b2.Offset(), nkValueCount, 4)
			patch32(b, b2.Offset(), nkValueList, le32(a.nk[nkValueList:]))
		}, AnomalySharedList},
		{"value cell listed twice", func(b []byte, h *Hive) {
			a := mustKey(t, h, "A")
			list := int64(le32(a.nk[nkValueList:]))
			patch32(b, list, 8, le32(b[binsStart+list+4:]))
		}, AnomalySharedValue},
		{"two values share a large data cell", func(b []byte, h *Hive) {
			a := mustKey(t, h, "A")
			big, _ := a.Value("big")
			v, _ := a.Value("b")
			patch32(b, v.Offset(), vkDataLength, 300)
			patch32(b, v.Offset(), vkDataOffset, le32(big.vk[vkDataOffset:]))
		}, AnomalySharedData},
		{"ri list pointing at itself", func(b []byte, h *Hive) {
			a := mustKey(t, h, "A")
			list := le32(a.nk[nkSubkeyList:])
			b[binsStart+int64(list)+4] = 'r'
			b[binsStart+int64(list)+5] = 'i'
			patch16(b, int64(list), 2, 1)
			patch32(b, int64(list), 4, list)
		}, AnomalyListDepth},
		{"value count far larger than its list", func(b []byte, h *Hive) {
			patch32(b, mustKey(t, h, "A").Offset(), nkValueCount, 0xFFFFFFFF)
		}, AnomalyCountCapped},
		{"subkey count larger than the list", func(b []byte, h *Hive) {
			patch32(b, mustKey(t, h, "A").Offset(), nkSubkeyCount, 1000)
		}, AnomalyCountMismatch},
		{"data length larger than its cell", func(b []byte, h *Hive) {
			v, _ := mustKey(t, h, "A").Value("s")
			patch32(b, v.Offset(), vkDataLength, 0x7FFFFFF0)
		}, AnomalyBadData},
		{"DWORD data offset past the end", func(b []byte, h *Hive) {
			v, _ := mustKey(t, h, "A").Value("s")
			patch32(b, v.Offset(), vkDataLength, 4)
			patch32(b, v.Offset(), vkDataOffset, 0x7FFFFFF8)
		}, AnomalyBadData},
		{"key name longer than its cell", func(b []byte, h *Hive) {
			patch16(b, mustKey(t, h, "B").Offset(), nkNameLength, 0xFFFF)
		}, AnomalyLengthCapped},
		{"subkey cell that is not a key", func(b []byte, h *Hive) {
			a := mustKey(t, h, "A")
			list := le32(a.nk[nkSubkeyList:])
			v, _ := a.Value("s")
			patch32(b, int64(list), 4, uint32(v.Offset()))
		}, AnomalyBadCell},
		{"cell size zero", func(b []byte, h *Hive) {
			binary.LittleEndian.PutUint32(b[binsStart+mustKey(t, h, "B").Offset():], 0)
		}, AnomalyBadCell},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, h := hostileBase(t)
			b := append([]byte(nil), data...)
			tc.patch(b, h)
			h2, err := Load("hostile", b)
			if err != nil {
				t.Fatal(err)
			}
			if w := exercise(t, h2); w > boundedWork(len(b)) {
				t.Errorf("%d keys+values", w)
			}
			found := false
			for _, a := range h2.Anomalies() {
				found = found || a.Kind == tc.anomaly
			}
			if !found || !h2.Partial() {
				t.Errorf("want partial with a %s anomaly; partial %v, anomalies %v", tc.anomaly, h2.Partial(), h2.Anomalies())
			}
		})
	}
}

// A 92-byte REG_BINARY that starts with "db" is plain data, not a big-data
// record (big data needs more than 16344 bytes).
func TestData_DBPrefixIsNotBigData(t *testing.T) {
	_, h := hostileBase(t)
	v, err := mustKey(t, h, "A").Value("b")
	if err != nil {
		t.Fatal(err)
	}
	d, err := v.Data()
	if err != nil || len(d) != 92 || string(d[:2]) != "db" {
		t.Errorf("data %q (%v), want 92 bytes starting with db", d, err)
	}
}

func TestLimits_NamedInErrors(t *testing.T) {
	data, _ := hostileBase(t)
	_, err := Load("big", data, WithLimits(Limits{MaxHiveSize: 100}))
	if err == nil || !containsAll(err.Error(), "big", "MaxHiveSize") {
		t.Errorf("MaxHiveSize: error %v", err)
	}
	h, err := Load("deep", data, WithLimits(Limits{MaxDepth: 1}))
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	h.Walk(t.Context(), func(*Key) error { keys++; return nil })
	if keys != 3 || !h.Partial() {
		t.Errorf("MaxDepth 1: %d keys (want root, A, B), partial %v", keys, h.Partial())
	}
	as := h.Anomalies()
	if len(as) == 0 || as[len(as)-1].Kind != AnomalyDepthLimit || !containsAll(as[len(as)-1].Message, "MaxDepth") {
		t.Errorf("anomalies %v, want a depth-limit one naming MaxDepth", as)
	}
	h, _ = Load("value", data, WithLimits(Limits{MaxValueSize: 8}))
	v, _ := mustKey(t, h, "A").Value("b")
	if _, err := v.Data(); err == nil || !containsAll(err.Error(), "MaxValueSize", "value") {
		t.Errorf("MaxValueSize: error %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestWalk_SkipKeyAndCancel(t *testing.T) {
	_, h := hostileBase(t)
	var seen []string
	h.Walk(t.Context(), func(k *Key) error {
		seen = append(seen, k.Path())
		if k.Path() == "A" {
			return SkipKey
		}
		return nil
	})
	if len(seen) != 3 || seen[0] != "" || seen[1] != "A" || seen[2] != "B" {
		t.Errorf("SkipKey: walked %q, want root, A, B", seen)
	}
	stop := errors.New("stop")
	if err := h.Walk(t.Context(), func(*Key) error { return stop }); err != stop {
		t.Errorf("callback error: Walk returned %v", err)
	}
	h2 := openCorpus(t, "yarp/ManySubkeysHive")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h2.Walk(ctx, func(*Key) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk returned %v", err)
	}
}

// Keys pointing at another key's subkey list are skipped after one entry:
// a walk does not read the shared list once per key.
func TestHostile_SharedSubkeyListReadOnce(t *testing.T) {
	root := &hivetest.Key{Name: "ROOT"}
	x := &hivetest.Key{Name: "X"}
	for i := 0; i < 500; i++ {
		x.Subkeys = append(x.Subkeys, &hivetest.Key{Name: fmt.Sprintf("c%03d", i)})
		root.Subkeys = append(root.Subkeys, &hivetest.Key{Name: fmt.Sprintf("k%03d", i)})
	}
	root.Subkeys = append(root.Subkeys, x)
	data, err := hivetest.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := Load("shared", data)
	xk := mustKey(t, h, "X")
	list := le32(xk.nk[nkSubkeyList:])
	for i := 0; i < 500; i++ {
		k := mustKey(t, h, fmt.Sprintf("k%03d", i))
		patch32(data, k.Offset(), nkSubkeyCount, 500)
		patch32(data, k.Offset(), nkSubkeyList, list)
	}
	h, err = Load("shared", data)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := walkCount(t, h)
	if keys != 1+500+1+500 || !h.Partial() {
		t.Errorf("%d keys, partial %v; want 1002 and partial", keys, h.Partial())
	}
}
