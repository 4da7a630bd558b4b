package hostile

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

func TestTruncationOffsets_DistinctSortedInsideTheFile(t *testing.T) {
	for _, size := range []int{0, 1, 10, 5000, 1 << 20} {
		offs := TruncationOffsets(size, 40)
		if len(offs) > 40 {
			t.Errorf("size %d: %d offsets, want at most 40", size, len(offs))
		}
		for i, o := range offs {
			if o < 0 || o >= size {
				t.Errorf("size %d: offset %d outside the file", size, o)
			}
			if i > 0 && offs[i-1] >= o {
				t.Errorf("size %d: offsets not strictly increasing: %v", size, offs)
			}
		}
		if size >= 1<<20 && len(offs) != 40 {
			t.Errorf("size %d: %d offsets, want 40", size, len(offs))
		}
	}
}

func TestBitFlips_DeterministicAndDifferent(t *testing.T) {
	data := bytes.Repeat([]byte{0x55}, 10000)
	a := BitFlips(data, 7, 5, 4, 100)
	b := BitFlips(data, 7, 5, 4, 100)
	c := BitFlips(data, 8, 5, 4, 100)
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("case %d differs between runs with the same seed", i)
		}
		if bytes.Equal(a[i].Data, data) {
			t.Fatalf("case %d flipped nothing", i)
		}
	}
	if bytes.Equal(a[0].Data, c[0].Data) {
		t.Fatal("different seeds gave the same flips")
	}
	if !bytes.Equal(data, bytes.Repeat([]byte{0x55}, 10000)) {
		t.Fatal("BitFlips modified its input")
	}
}

func TestHives_EachCaseDiffersFromTheSoundHive(t *testing.T) {
	sound, err := hivetest.Build(BaseTree())
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Hives()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("duplicate case name %s", c.Name)
		}
		seen[c.Name] = true
		if bytes.Equal(c.Data, sound) {
			t.Errorf("%s: identical to the sound hive (the patch did nothing)", c.Name)
		}
		if string(c.Data[:4]) != "regf" {
			t.Errorf("%s: lost its signature", c.Name)
		}
	}
	if len(cases) < 40 {
		t.Errorf("%d hostile hives, want at least 40", len(cases))
	}
}

func TestHives_BaseBlockPatchesKeepAValidChecksum(t *testing.T) {
	cases, err := Hives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if got, want := binary.LittleEndian.Uint32(c.Data[bbChecksum:]), hivetest.Checksum(c.Data); got != want {
			t.Errorf("%s: checksum %#x, want %#x", c.Name, got, want)
		}
	}
}

func TestDirtyHives_LogsAreSignedAndDirty(t *testing.T) {
	cases, err := DirtyHives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		le := binary.LittleEndian
		if le.Uint32(c.Primary[4:]) == le.Uint32(c.Primary[8:]) {
			t.Errorf("%s: primary is not dirty", c.Name)
		}
		if strings.HasPrefix(c.Name, "log-entry-size-") || c.Name == "log-base-block-garbage" || c.Name == "log2-does-not-continue-log1" {
			// The size field decides what the hash covers: nothing to check.
			continue
		}
		if !hivetest.HashesValid(c.Log1[hivetest.LogBaseBlockSize:]) {
			t.Errorf("%s: first log entry's hashes are not valid", c.Name)
		}
	}
}

func TestHostileUserTree_Builds(t *testing.T) {
	b, err := hivetest.Build(HostileUserTree())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= hivetest.BaseBlockSize {
		t.Fatal("empty hive")
	}
}

func TestETLPatches_FindBuffersAndChangeOneField(t *testing.T) {
	// Three buffers of 0x100 bytes.
	data := bytes.Repeat([]byte{0x11}, 0x300)
	for i := 0; i < 3; i++ {
		binary.LittleEndian.PutUint32(data[i*0x100:], 0x100)
	}
	if got := ETLBuffers(data); len(got) != 3 || got[2] != 0x200 {
		t.Fatalf("buffers %v, want [0 0x100 0x200]", got)
	}
	for _, c := range ETLPatches(data) {
		diff := 0
		for i := range data {
			if c.Data[i] != data[i] {
				diff++
			}
		}
		if diff == 0 || diff > 4 {
			t.Errorf("%s: %d bytes changed, want 1 to 4", c.Name, diff)
		}
	}
}
