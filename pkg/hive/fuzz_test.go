package hive

import (
	"context"
	"encoding/binary"
	"testing"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// fuzzSeedHive is a small hive with every list form, value type and a big
// data value, so the fuzzer starts from valid structure.
func fuzzSeedHive(f *testing.F, list hivetest.ListKind) []byte {
	f.Helper()
	big := make([]byte, 16400)
	for i := range big {
		big[i] = byte(i)
	}
	var subs []*hivetest.Key
	for _, n := range []string{"one", "two", "Привет", "four"} {
		subs = append(subs, &hivetest.Key{Name: n, Class: "cls", Values: []hivetest.Value{hivetest.DWORD("d", 1)}})
	}
	root := &hivetest.Key{Name: "ROOT", List: list, Subkeys: append(subs, &hivetest.Key{Name: "Environment", Values: []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\bin`),
		hivetest.MultiSZ("m", "a", "", "b"),
		hivetest.QWORD("q", 5),
		hivetest.Binary("big", big),
		hivetest.Raw("short", hivetest.RegDWORD, []byte{1}),
	}})}
	data, err := hivetest.Build(root)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func FuzzOpenWalk(f *testing.F) {
	for _, l := range []hivetest.ListKind{hivetest.ListLH, hivetest.ListLF, hivetest.ListLI, hivetest.ListRI} {
		d := fuzzSeedHive(f, l)
		f.Add(d)
		f.Add(d[:len(d)/2])
	}
	// A minimal hive (one bin) keeps the fuzzer fast.
	small, err := hivetest.Build(&hivetest.Key{Name: "R", Subkeys: []*hivetest.Key{{Name: "a", Values: []hivetest.Value{hivetest.SZ("s", "x")}}, {Name: "b", Subkeys: []*hivetest.Key{{Name: "c"}}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	// Hostile variants of the small hive: an ri list pointing at itself, a
	// subkey list pointing back at the root, huge counts and lengths.
	if h, err := Load("seed", small); err == nil {
		root, _ := h.Root()
		list := le32(root.nk[nkSubkeyList:])
		a, _ := h.OpenKey("a")
		for _, patch := range []func(b []byte){
			func(b []byte) {
				b[binsStart+int64(list)+4], b[binsStart+int64(list)+5] = 'r', 'i'
				binary.LittleEndian.PutUint16(b[binsStart+int64(list)+6:], 1)
				binary.LittleEndian.PutUint32(b[binsStart+int64(list)+8:], list)
			},
			func(b []byte) {
				binary.LittleEndian.PutUint32(b[binsStart+a.Offset()+4+nkSubkeyCount:], 2)
				binary.LittleEndian.PutUint32(b[binsStart+a.Offset()+4+nkSubkeyList:], list)
			},
			func(b []byte) { binary.LittleEndian.PutUint32(b[binsStart+a.Offset()+4+nkValueCount:], 0xFFFFFFFF) },
			func(b []byte) { binary.LittleEndian.PutUint16(b[binsStart+a.Offset()+4+nkNameLength:], 0xFFFF) },
		} {
			b := append([]byte(nil), small...)
			patch(b)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Half the inputs take Open's path, where names share the image.
		o := collect([]Option{WithoutLogs()})
		o.owned = len(data)%2 == 0
		h, err := load("fuzz", data, o)
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error %T %v is not a *FormatError", err, err)
			}
			return
		}
		work := 0
		h.Type()
		err = h.Walk(context.Background(), func(k *Key) error {
			work++
			if !utf8.ValidString(k.Name()) {
				t.Fatalf("invalid UTF-8 key name %q", k.Name())
			}
			k.ClassName()
			k.Security()
			k.LastWrite()
			vs, _ := k.Values()
			for _, v := range vs {
				work++
				d, _ := v.Decode()
				if !utf8.ValidString(v.Name()) || !utf8.ValidString(d.Text) {
					t.Fatalf("invalid UTF-8 from value %q", v.Name())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if work > boundedWork(len(data)) {
			t.Fatalf("%d keys+values from %d bytes", work, len(data))
		}
		h.OpenKey(`Environment\x`)
	})
}

func FuzzValueDecode(f *testing.F) {
	f.Add(uint32(RegSZ), []byte("a\x00b\x00\x00\x00"), uint32(6), uint32(0))
	f.Add(uint32(RegMultiSZ), []byte("a\x00\x00\x00b\x00\x00\x00\x00\x00"), uint32(10), uint32(0))
	f.Add(uint32(RegDWORD), []byte{1, 2, 3, 4}, uint32(0x80000004), uint32(0))
	f.Add(uint32(RegQWORD), []byte{1, 2, 3, 4, 5, 6, 7, 8}, uint32(8), uint32(0))
	f.Add(uint32(RegBinary), []byte{0x00, 0xD8}, uint32(20000), uint32(0x7FFFFFF8))
	base := fuzzSeedHive(f, hivetest.ListLH)
	f.Fuzz(func(t *testing.T, typ uint32, data []byte, length, offset uint32) {
		d := DecodeData(ValueType(typ), data)
		if d.IntValid != (ValueType(typ).IsInt() && (len(data) == 4 && typ != uint32(RegQWORD) || len(data) == 8 && typ == uint32(RegQWORD))) {
			t.Fatalf("IntValid %v for type %d with %d bytes", d.IntValid, typ, len(data))
		}
		if ValueType(typ) == RegMultiSZ && d.Strings == nil {
			t.Fatal("nil Strings for REG_MULTI_SZ")
		}
		if !utf8.ValidString(d.Text) {
			t.Fatal("invalid UTF-8 Text")
		}
		// The same fields written into a real vk cell: Data must stay within
		// the hive and the declared length.
		b := append([]byte(nil), base...)
		h, err := Load("fuzz", b)
		if err != nil {
			t.Fatal(err)
		}
		k, err := h.OpenKey("Environment")
		if err != nil {
			t.Fatal(err)
		}
		v, err := k.Value("Path")
		if err != nil {
			t.Fatal(err)
		}
		vk := binsStart + v.Offset() + 4
		binary.LittleEndian.PutUint32(b[vk+vkDataLength:], length)
		binary.LittleEndian.PutUint32(b[vk+vkDataOffset:], offset)
		binary.LittleEndian.PutUint32(b[vk+vkType:], typ)
		h, err = Load("fuzz", b)
		if err != nil {
			t.Fatal(err)
		}
		k, _ = h.OpenKey("Environment")
		v, err = k.Value("Path")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := v.Data()
		if len(raw) > len(b) || len(raw) > int(length&0x7FFFFFFF) && length&0x80000000 == 0 {
			t.Fatalf("%d bytes of data for declared length %#x", len(raw), length)
		}
		v.Decode()
	})
}
