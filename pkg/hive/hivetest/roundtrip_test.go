package hivetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
)

// describeWritten lists the tree as written: one line per key with its
// path, exact FILETIME, class and security descriptor, one per value with
// its type and data.
func describeWritten(root *Key) []string {
	var out []string
	var walk func(k *Key, path string, sd []byte)
	walk = func(k *Key, path string, sd []byte) {
		if k.Security != nil {
			sd = k.Security
		}
		out = append(out, fmt.Sprintf("key %q t=%d class=%q sd=%x", path, toFT(k.LastWrite), k.Class, sd))
		for _, v := range k.Values {
			out = append(out, fmt.Sprintf("  value %q type=%d data=%x", v.Name, v.Type, v.Data))
		}
		for _, s := range k.Subkeys {
			p := s.Name
			if path != "" {
				p = path + `\` + s.Name
			}
			walk(s, p, sd)
		}
	}
	sd := root.Security
	if sd == nil {
		sd = DefaultSD()
	}
	walk(root, "", sd)
	return out
}

// describeRead lists the same facts as pkg/hive reads them, subkeys in the
// order of the tree as written (the reader walks the sorted on-disk lists).
func describeRead(t *testing.T, h *hive.Hive, want *Key) []string {
	t.Helper()
	var out []string
	var walk func(k *hive.Key, w *Key)
	walk = func(k *hive.Key, w *Key) {
		sec, err := k.Security()
		if err != nil {
			t.Fatalf("%s: security: %v", k.Path(), err)
		}
		out = append(out, fmt.Sprintf("key %q t=%d class=%q sd=%x", k.Path(), k.LastWriteRaw(), k.ClassName(), sec.Descriptor))
		vals, err := k.Values()
		if err != nil {
			t.Fatalf("%s: values: %v", k.Path(), err)
		}
		for _, v := range vals {
			data, err := v.Data()
			if err != nil {
				t.Fatalf("%s: value %q: %v", k.Path(), v.Name(), err)
			}
			out = append(out, fmt.Sprintf("  value %q type=%d data=%x", v.Name(), uint32(v.Type()), data))
		}
		subs, err := k.Subkeys()
		if err != nil {
			t.Fatalf("%s: subkeys: %v", k.Path(), err)
		}
		byName := map[string]*hive.Key{}
		for _, s := range subs {
			byName[s.Name()] = s
		}
		for _, ws := range w.Subkeys {
			s := byName[ws.Name]
			if s == nil {
				t.Fatalf("%s: no subkey %q", k.Path(), ws.Name)
			}
			walk(s, ws)
		}
		if k.SubkeyCount() != len(w.Subkeys) {
			t.Errorf("%s: %d subkeys, want %d", k.Path(), k.SubkeyCount(), len(w.Subkeys))
		}
	}
	root, err := h.Root()
	if err != nil {
		t.Fatal(err)
	}
	walk(root, want)
	return out
}

func compareLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d lines read, %d written", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("first difference at line %d:\nread:    %.300s\nwritten: %.300s", i, got[i], want[i])
		}
	}
}

func TestBuild_RoundTripThroughHiveReader(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{"version 1.5", nil},
		{"version 1.3 (no big data lists)", []Option{WithVersion(1, 3)}},
		{"small leaves force ri indexes", []Option{WithLeafCapacity(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := sampleTree(5000)
			b, err := Build(root, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			h, err := hive.Load("sample", b)
			if err != nil {
				t.Fatal(err)
			}
			if h.Dirty() || h.Partial() || len(h.Anomalies()) != 0 {
				t.Errorf("dirty %v partial %v anomalies %v", h.Dirty(), h.Partial(), h.Anomalies())
			}
			compareLines(t, describeRead(t, h, root), describeWritten(root))
			keys := 0
			if err := h.Walk(context.Background(), func(k *hive.Key) error { keys++; return nil }); err != nil {
				t.Fatal(err)
			}
			if keys != 5007 {
				t.Errorf("walk saw %d keys, want 5007", keys)
			}
			// Lookups by name (the reader compares case-insensitively).
			for _, p := range []string{"Environment", "ENVIRONMENT", "Latin1-Café-ÿ", "UTF16-Ключ-鍵", `many\SUB04999`, `Many\sub00000`, "ascii-forced-UTF16"} {
				if _, err := h.OpenKey(p); err != nil {
					t.Errorf("OpenKey(%q): %v", p, err)
				}
			}
		})
	}
}

func TestBuild_ListFormsReadBack(t *testing.T) {
	for _, kind := range []ListKind{ListLH, ListLF, ListLI, ListRI} {
		root := &Key{Name: "R", List: kind, LastWrite: sampleTime}
		for i := range 40 {
			root.Subkeys = append(root.Subkeys, &Key{Name: fmt.Sprintf("k%02d", 39-i), LastWrite: sampleTime})
		}
		b, err := Build(root, WithLeafCapacity(16))
		if err != nil {
			t.Fatal(err)
		}
		h, err := hive.Load("lists", b)
		if err != nil {
			t.Fatal(err)
		}
		compareLines(t, describeRead(t, h, root), describeWritten(root))
		r, _ := h.Root()
		subs, err := r.Subkeys()
		if err != nil || len(subs) != 40 || subs[0].Name() != "k00" || subs[39].Name() != "k39" {
			t.Errorf("list kind %d: %d subkeys, err %v", kind, len(subs), err)
		}
	}
}

func TestBuild_HostileNamesReadBackRaw(t *testing.T) {
	lone := []byte{0x41, 0x00, 0x00, 0xD8, 0x42, 0x00} // "A", lone high surrogate, "B"
	root := &Key{Name: "R", Subkeys: []*Key{
		{Name: "raw", NameRaw: lone, NameUTF16: true, Values: []Value{{Name: "v", NameRaw: []byte{'x', 0xFF}, Type: RegSZ, Data: []byte{0x00, 0xD8, 0, 0}}}},
	}}
	b, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Load("hostile", b)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := h.Root()
	subs, err := r.Subkeys()
	if err != nil || len(subs) != 1 {
		t.Fatalf("subkeys %v %v", subs, err)
	}
	k := subs[0]
	if !bytes.Equal(k.NameRaw(), lone) || k.NameValid() {
		t.Errorf("name raw %x valid %v", k.NameRaw(), k.NameValid())
	}
	vals, _ := k.Values()
	if len(vals) != 1 || vals[0].Name() != "xÿ" {
		t.Fatalf("values %v", vals)
	}
	d, err := vals[0].Decode()
	if err != nil || d.TextValid {
		t.Errorf("lone surrogate data: valid %v err %v", d.TextValid, err)
	}
}

func TestBuildDirty_RecoveredByHiveReader(t *testing.T) {
	base, mid, last := envStates()
	tests := []struct {
		name    string
		split   int
		entries int
	}{
		{"one log", -1, 2},
		{"entries split over LOG1 and LOG2", 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := BuildDirty(base, []*Key{mid, last}, WithLog2From(tc.split))
			if err != nil {
				t.Fatal(err)
			}
			opts := []hive.Option{hive.WithLogData("NTUSER.DAT.LOG1", d.Log1)}
			if d.Log2 != nil {
				opts = append(opts, hive.WithLogData("NTUSER.DAT.LOG2", d.Log2))
			}
			var steps []string
			opts = append(opts, hive.WithReplayObserver(func(s hive.ReplayStep, h *hive.Hive) error {
				k, err := h.OpenKey("Environment")
				if err != nil {
					return err
				}
				v, err := k.Value("Path")
				if err != nil {
					return err
				}
				dd, _ := v.Decode()
				steps = append(steps, dd.Text)
				return nil
			}))
			h, err := hive.Load("NTUSER.DAT", d.Primary, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !h.Dirty() || !h.Recovered() {
				t.Errorf("dirty %v recovered %v; logs %+v", h.Dirty(), h.Recovered(), h.Logs())
			}
			compareLines(t, describeRead(t, h, last), describeWritten(last))
			want := []string{
				`C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`,
				`C:\Users\Public\tools;C:\Users\Public\go\bin;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`,
			}
			if strings.Join(steps, "\n") != strings.Join(want, "\n") {
				t.Errorf("Path after each entry:\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
			}
			// Without the logs the reader sees the older state.
			old, err := hive.Load("NTUSER.DAT", d.Primary, hive.WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			compareLines(t, describeRead(t, old, base), describeWritten(base))
		})
	}
}

func toFT(t interface{ UnixNano() int64 }) uint64 {
	// Local copy of the FILETIME conversion, to keep describeWritten
	// independent of the writer's own code path.
	if tt, ok := t.(interface{ IsZero() bool }); ok && tt.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100) + 116444736000000000
}
