package hivetest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// TestLogEntry_RealLogsReemitByteForByte parses every HvLE entry of the real
// logs in the corpus into LogEntry and marshals it back: the bytes, and so
// the layout and the Marvin32 hashes the writer computes, must be exactly
// what Windows wrote.
func TestLogEntry_RealLogsReemitByteForByte(t *testing.T) {
	tests := []struct {
		path    []string
		entries int
	}{
		// Entry counts: SYSTEM_B 4 + 20 = 24 (EXPECTED.md), transactions
		// log1 23 (EXPECTED.md), log2 one stale entry, NewDirtyHive 1 + 3.
		{[]string{"hives", "regipy", "SYSTEM_B.LOG1"}, 4},
		{[]string{"hives", "regipy", "SYSTEM_B.LOG2"}, 20},
		{[]string{"hives", "regipy", "transactions_ntuser.dat.log1"}, 23},
		{[]string{"hives", "regipy", "transactions_ntuser.dat.log2"}, 1},
		{[]string{"hives", "yarp", "NewDirtyHive1", "NewDirtyHive.LOG1"}, 1},
		{[]string{"hives", "yarp", "NewDirtyHive1", "NewDirtyHive.LOG2"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.path[len(tc.path)-1], func(t *testing.T) {
			data, err := os.ReadFile(testcorpus.Path(t, tc.path...))
			if err != nil {
				t.Fatal(err)
			}
			if ft := binary.LittleEndian.Uint32(data[28:]); ft != LogFileTypeHvLE {
				t.Fatalf("file type %d", ft)
			}
			var parsed []LogEntry
			for off := LogBaseBlockSize; off+4 <= len(data) && string(data[off:off+4]) == "HvLE"; {
				e, err := ParseLogEntry(data[off:])
				if err != nil {
					t.Fatalf("entry at %d: %v", off, err)
				}
				orig := data[off : off+int(e.Size)]
				if !HashesValid(orig) {
					t.Errorf("entry %d at %d: stored hashes do not verify", e.Sequence, off)
				}
				again, err := e.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, orig) {
					t.Errorf("entry %d at %d: re-emitted bytes differ", e.Sequence, off)
				}
				parsed = append(parsed, e)
				off += int(e.Size)
			}
			if len(parsed) != tc.entries {
				t.Fatalf("%d entries, want %d", len(parsed), tc.entries)
			}
			// The layout rule BuildLog uses (each entry padded to end on a
			// 4096-byte boundary of the file) reproduces Windows' files.
			for i := range parsed {
				parsed[i].Size, parsed[i].Padding = 0, nil
			}
			rebuilt, err := BuildLog(data[:BaseBlockSize], parsed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rebuilt[LogBaseBlockSize:], data[LogBaseBlockSize:len(rebuilt)]) {
				t.Errorf("entries laid out by BuildLog differ from the real file")
			}
			if got, want := binary.LittleEndian.Uint32(rebuilt[4:]), binary.LittleEndian.Uint32(data[4:]); got != want {
				t.Errorf("log base block sequence %d, real %d", got, want)
			}
		})
	}
}

func TestLogEntry_ParseRejectsDamagedEntries(t *testing.T) {
	good, err := LogEntry{Sequence: 5, HiveBinsSize: 4096, Pages: []DirtyPage{{0, make([]byte, 4096)}}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(b []byte) []byte
	}{
		{"short", func(b []byte) []byte { return b[:20] }},
		{"bad signature", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"size not a multiple of 512", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 1000); return b }},
		{"size past the data", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 1<<20); return b }},
		{"page count too large", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[20:], 1<<30); return b }},
		{"page runs past the entry", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[44:], 1<<20); return b }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseLogEntry(tc.mutate(bytes.Clone(good))); err == nil {
				t.Fatal("no error")
			}
		})
	}
	bad := bytes.Clone(good)
	bad[4096] ^= 1
	if HashesValid(bad) {
		t.Error("HashesValid accepts a changed page")
	}
}

// envStates is an NTUSER-like tree in three states: the Path the user set,
// a first rewrite and a second rewrite, each with a newer key time.
func envStates() (*Key, *Key, *Key) {
	sd, _ := UserKeySD("S-1-5-21-1-2-3-1002")
	base := &Key{Name: "ROOT", LastWrite: sampleTime, Security: sd, Subkeys: []*Key{
		{Name: "Environment", LastWrite: sampleTime, Values: []Value{
			ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
			ExpandSZ("TEMP", `%USERPROFILE%\AppData\Local\Temp`),
		}},
		{Name: "Software", LastWrite: sampleTime, Subkeys: []*Key{{Name: "Microsoft", LastWrite: sampleTime}}},
	}}
	mid := base.Clone()
	env := mid.Path("Environment")
	env.LastWrite = sampleTime.Add(3600e9)
	env.SetValue(ExpandSZ("Path", `C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`))
	last := mid.Clone()
	env = last.Path("Environment")
	env.LastWrite = sampleTime.Add(7200e9)
	env.SetValue(ExpandSZ("Path", `C:\Users\Public\tools;C:\Users\Public\go\bin;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`))
	return base, mid, last
}

func TestBuildDirty_EntriesTurnThePrimaryIntoEachState(t *testing.T) {
	base, mid, last := envStates()
	for _, split := range []int{-1, 1} {
		d, err := BuildDirty(base, []*Key{mid, last}, WithSequence(0, 41), WithLog2From(split))
		if err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		if p, s := le.Uint32(d.Primary[4:]), le.Uint32(d.Primary[8:]); p != 42 || s != 41 {
			t.Errorf("primary sequence %d/%d, want 42/41", p, s)
		}
		if le.Uint32(d.Primary[508:]) != Checksum(d.Primary) {
			t.Error("primary checksum wrong")
		}
		if !bytes.Equal(d.Primary[BaseBlockSize:], d.States[0][BaseBlockSize:]) {
			t.Error("primary does not hold the first state")
		}
		if len(d.Entries) != 2 || d.Entries[0].Sequence != 41 || d.Entries[1].Sequence != 42 {
			t.Fatalf("entries %+v", d.Entries)
		}
		for i := range d.Entries {
			img := ApplyEntries(d.Primary, d.Entries[:i+1])
			if !bytes.Equal(img[BaseBlockSize:], d.States[i+1][BaseBlockSize:]) {
				t.Errorf("after entry %d the hive bins differ from state %d", i, i+1)
			}
		}
		logs := [][]byte{d.Log1}
		if split == 1 {
			if d.Log2 == nil {
				t.Fatal("no LOG2")
			}
			logs = append(logs, d.Log2)
		} else if d.Log2 != nil {
			t.Fatal("unexpected LOG2")
		}
		n := 0
		for _, l := range logs {
			if le.Uint32(l[28:]) != LogFileTypeHvLE || le.Uint32(l[508:]) != Checksum(l) {
				t.Error("log base block wrong")
			}
			for off := LogBaseBlockSize; off < len(l); {
				e, err := ParseLogEntry(l[off:])
				if err != nil {
					t.Fatal(err)
				}
				if !HashesValid(l[off:]) {
					t.Errorf("entry %d hashes invalid", e.Sequence)
				}
				if (off+int(e.Size))%PageSize != 0 {
					t.Errorf("entry %d does not end on a page boundary", e.Sequence)
				}
				off += int(e.Size)
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d entries in the logs", n)
		}
	}
}
