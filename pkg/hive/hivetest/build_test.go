package hivetest

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/wintime"
)

func TestBuild_SameTreeGivesSameBytes(t *testing.T) {
	a, err := Build(sampleTree(600), WithFileName(`\??\C:\Users\alice\ntuser.dat`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(sampleTree(600), WithFileName(`\??\C:\Users\alice\ntuser.dat`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same tree differ")
	}
}

func TestBuild_BaseBlockFields(t *testing.T) {
	const longName = `\??\C:\Users\alice-with-a-long-name\ntuser.dat`
	written := time.Date(2025, 1, 2, 3, 4, 5, 600_700_800, time.UTC)
	tests := []struct {
		name      string
		opts      []Option
		primary   uint32
		secondary uint32
		minor     uint32
		fileName  string
		badSum    bool
	}{
		{"defaults", nil, 1, 1, 5, "", false},
		{"dirty sequence", []Option{WithSequence(8, 7)}, 8, 7, 5, "", false},
		{"version 1.3", []Option{WithVersion(1, 3)}, 1, 1, 3, "", false},
		{"long file name keeps last 31 characters", []Option{WithFileName(longName)}, 1, 1, 5, longName[len(longName)-31:], false},
		{"forced bad checksum", []Option{WithChecksum(0x1234)}, 1, 1, 5, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Build(&Key{Name: "ROOT", LastWrite: sampleTime}, append(tc.opts, WithLastWritten(written))...)
			if err != nil {
				t.Fatal(err)
			}
			le := binary.LittleEndian
			if string(b[:4]) != "regf" || le.Uint32(b[4:]) != tc.primary || le.Uint32(b[8:]) != tc.secondary {
				t.Errorf("signature/sequence = %q %d %d", b[:4], le.Uint32(b[4:]), le.Uint32(b[8:]))
			}
			if got := wintime.FromFiletime(le.Uint64(b[12:])); !got.Equal(written) {
				t.Errorf("last written = %v, want %v", got, written)
			}
			if le.Uint32(b[24:]) != tc.minor {
				t.Errorf("minor = %d", le.Uint32(b[24:]))
			}
			if got := int(le.Uint32(b[40:])); got != len(b)-BaseBlockSize || got%PageSize != 0 {
				t.Errorf("hive bins size %d, file %d", got, len(b))
			}
			if string(b[4096:4100]) != "hbin" {
				t.Errorf("no hbin at 4096")
			}
			sumOK := le.Uint32(b[508:]) == xor127(b)
			if sumOK == tc.badSum {
				t.Errorf("checksum ok = %v", sumOK)
			}
			if tc.fileName != "" {
				if got := decodeUTF16Z(b[48:112]); got != tc.fileName {
					t.Errorf("file name = %q, want %q", got, tc.fileName)
				}
			}
		})
	}
}

// xor127 recomputes the checksum independently of Checksum.
func xor127(b []byte) uint32 {
	var x uint32
	for i := 0; i < 127; i++ {
		x ^= binary.LittleEndian.Uint32(b[4*i:])
	}
	return x
}

func decodeUTF16Z(b []byte) string {
	var r []rune
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		r = append(r, rune(c))
	}
	return string(r)
}

// cells scans every cell of a written hive and returns allocated ones by
// offset (relative to the hive bins).
func cells(t *testing.T, b []byte) map[int][]byte {
	t.Helper()
	out := map[int][]byte{}
	bins := b[BaseBlockSize:]
	for binOff := 0; binOff < len(bins); {
		if string(bins[binOff:binOff+4]) != "hbin" {
			t.Fatalf("no hbin at 0x%x", binOff)
		}
		size := int(binary.LittleEndian.Uint32(bins[binOff+8:]))
		for c := binOff + BinHeaderSize; c < binOff+size; {
			n := int32(binary.LittleEndian.Uint32(bins[c:]))
			if n == 0 || n%8 != 0 {
				t.Fatalf("bad cell size %d at 0x%x", n, c)
			}
			if n < 0 {
				out[c] = bins[c+4 : c+int(-n)]
				n = -n
			}
			c += int(n)
		}
		binOff += size
	}
	return out
}

func TestBuild_SecurityCellsSharedWithRefCountsAndRing(t *testing.T) {
	b, err := Build(sampleTree(20))
	if err != nil {
		t.Fatal(err)
	}
	all := cells(t, b)
	refs := map[uint32]uint32{}
	sks := map[uint32][]byte{}
	for off, c := range all {
		switch string(c[:2]) {
		case "nk":
			refs[binary.LittleEndian.Uint32(c[44:])]++
		case "sk":
			sks[uint32(off)] = c
		}
	}
	// Three distinct descriptors: the user's (root, Latin-1, UTF-16, forced
	// and Many's subtree inherit it), the open one shared by Environment and
	// Types.
	if len(sks) != 2 {
		t.Fatalf("%d sk cells, want 2", len(sks))
	}
	for off, c := range sks {
		if got := binary.LittleEndian.Uint32(c[12:]); got != refs[off] {
			t.Errorf("sk 0x%x: RefCount %d, keys pointing at it %d", off, got, refs[off])
		}
		flink, blink := binary.LittleEndian.Uint32(c[4:]), binary.LittleEndian.Uint32(c[8:])
		if sks[flink] == nil || sks[blink] == nil {
			t.Errorf("sk 0x%x: Flink 0x%x / Blink 0x%x do not point at sk cells", off, flink, blink)
		}
		if got := binary.LittleEndian.Uint32(sks[flink][8:]); got != off {
			t.Errorf("sk 0x%x: Blink of its Flink is 0x%x", off, got)
		}
	}
	if refs[0] != 0 {
		t.Errorf("some key has no security cell")
	}
}

func TestBuild_SubkeyListsSortedInWindowsOrder(t *testing.T) {
	root := &Key{Name: "R", Subkeys: []*Key{{Name: "b"}, {Name: "_x"}, {Name: "A"}, {Name: "a1"}, {Name: "Ä"}, {Name: "Z"}}}
	b, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	all := cells(t, b)
	rootOff := int(binary.LittleEndian.Uint32(b[36:]))
	list := all[int(binary.LittleEndian.Uint32(all[rootOff][28:]))]
	if string(list[:2]) != "lh" {
		t.Fatalf("list %q", list[:2])
	}
	var got []string
	for i := 0; i < int(binary.LittleEndian.Uint16(list[2:])); i++ {
		nk := all[int(binary.LittleEndian.Uint32(list[4+8*i:]))]
		name := string(nk[76 : 76+binary.LittleEndian.Uint16(nk[72:])])
		got = append(got, name)
		// The lh hash over the upcased name: h = h*37 + c.
		var h uint32
		for _, c := range []byte(name) {
			if c >= 'a' && c <= 'z' {
				c -= 32
			}
			if c == 0xE4 { // ä is stored Latin-1; upcase Ä is 0xC4
				c = 0xC4
			}
			h = h*37 + uint32(c)
		}
		if stored := binary.LittleEndian.Uint32(list[8+8*i:]); stored != h {
			t.Errorf("%q: hash 0x%x, want 0x%x", name, stored, h)
		}
	}
	// Upcased code units: A(41) A1 B Z _(5F) Ä(C4)
	want := []string{"A", "a1", "b", "Z", "_x", "\xc4"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %q, want %q", got, want)
		}
	}
}

func TestBuild_RejectsTreesWindowsCannotStore(t *testing.T) {
	long := make([]rune, MaxNameLen+1)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name string
		root *Key
	}{
		{"nil root", nil},
		{"nil subkey", &Key{Name: "R", Subkeys: []*Key{nil}}},
		{"key name too long", &Key{Name: "R", Subkeys: []*Key{{Name: string(long)}}}},
		{"value name too long", &Key{Name: "R", Values: []Value{{Name: string(long)}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.root); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func BenchmarkBuild_5000Subkeys(b *testing.B) {
	root := sampleTree(5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(root); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildDirty_TwoEntries(b *testing.B) {
	base, mid, last := envStates()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildDirty(base, []*Key{mid, last}); err != nil {
			b.Fatal(err)
		}
	}
}
