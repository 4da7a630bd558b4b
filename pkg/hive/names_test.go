package hive

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

func openCorpus(t *testing.T, file string, opts ...Option) *Hive {
	t.Helper()
	h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(file, "/")...)...), append([]Option{WithoutLogs()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func subkeyNames(t *testing.T, k *Key) []string {
	t.Helper()
	subs, err := k.Subkeys()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range subs {
		names = append(names, s.Name())
	}
	return names
}

// EXPECTED.md §5.1: names as hivex and yarp decode them.
func TestNames_DecodedByFlagAsExpected(t *testing.T) {
	tests := []struct {
		file, key string
		want      []string // subkey names of key, in list order (sorted when sort is set)
		sort      bool
	}{
		{"yarp/CompHive", "", []string{"\u009f", "\u0178"}, true},
		{"yarp/CompHive", "\u009f", []string{"123"}, false},
		{"yarp/BogusKeyNamesHive", "", []string{"testnew\r\nne", "testnu\x00l"}, true},
		{"regipy/transactions_NTUSER.DAT", `Control Panel\International`, []string{"Geo", "User Profile", "User Profile System Backup", "🌎🌏🌍"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.key, func(t *testing.T) {
			h := openCorpus(t, tc.file)
			k, err := h.OpenKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			got := subkeyNames(t, k)
			if tc.sort {
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("subkeys = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNames_CompressedNamesAreLatin1(t *testing.T) {
	h := openCorpus(t, "yarp/ExtendedASCIIHive")
	k, err := h.OpenKey("ËIGENAARDIG") // Windows upcase of ë is Ë
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "ëigenaardig" || !bytes.Equal(k.NameRaw(), []byte("\xebigenaardig")) || !k.NameValid() {
		t.Errorf("key name %q raw %x valid %v", k.Name(), k.NameRaw(), k.NameValid())
	}
	v, err := k.Value("ëigenaardig")
	if err != nil {
		t.Fatal(err)
	}
	d, err := v.Decode()
	if err != nil || v.Type() != RegSZ || d.Text != "ëigenaardig" {
		t.Errorf("value %q = %s %q (%v), want REG_SZ ëigenaardig", v.Name(), v.Type(), d.Text, err)
	}

	h = openCorpus(t, "velocidex/velocidex_NTUSER.DAT")
	k, err = h.OpenKey(`Software\Microsoft\Windows\ShellNoRoam\MUICache`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Value(`C:\Documents and Settings\joe\My Documents\Niðurhal\bcwipe3.exe`); err != nil {
		t.Error(err)
	}

	h = openCorpus(t, "regipy/ntuser_software_partial")
	if _, err := h.OpenKey(`Microsoft\Payment\PaymentApps\IËMOÅÈELKMËÏÅÂÈLRXÐÉÅG1O7ÁÖ`); err != nil {
		t.Error(err)
	}
}

func TestDecode_MultiSZAsExpected(t *testing.T) {
	h := openCorpus(t, "yarp/MultiSzHive")
	k, err := h.OpenKey("key")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{"1": {}, "2": {"привет", "как дела?"}} {
		v, err := k.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := v.Decode()
		if err != nil || v.Type() != RegMultiSZ || !slices.Equal(d.Strings, want) || d.Strings == nil {
			t.Errorf("value %s = %s %q (%v), want %q", name, v.Type(), d.Strings, err, want)
		}
	}
}

// BigDataHive holds one value of 16345 bytes and one of 81725 (EXPECTED
// audit #6): both larger than one big-data segment.
func TestData_BigDataIsAssembled(t *testing.T) {
	h := openCorpus(t, "yarp/BigDataHive")
	var sizes []int
	h.Walk(t.Context(), func(k *Key) error {
		vs, _ := k.Values()
		for _, v := range vs {
			b, err := v.Data()
			if err != nil {
				t.Errorf("%s: %v", v.Name(), err)
			}
			if len(b) != v.Size() {
				t.Errorf("%s: %d bytes, Size() %d", v.Name(), len(b), v.Size())
			}
			sizes = append(sizes, len(b))
		}
		return nil
	})
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{16345, 81725}) {
		t.Errorf("data sizes = %v, want [16345 81725]", sizes)
	}
	if h.Partial() {
		t.Errorf("Partial with anomalies %v", h.Anomalies())
	}
}

// Resident data keeps its real length (0–4 bytes), unlike readers that
// always return 4 bytes.
func TestData_ResidentDataKeepsRealLength(t *testing.T) {
	h := openCorpus(t, "regipy/NTUSER.DAT")
	k, err := h.OpenKey(`Control Panel\Appearance`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := k.Value("SchemeLangID")
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Data()
	if err != nil {
		t.Fatal(err)
	}
	if v.Type() != RegBinary || len(b) != 2 {
		t.Errorf("SchemeLangID = %s %s, want 2 bytes of REG_BINARY", v.Type(), hex.EncodeToString(b))
	}
}

func TestSecurity_SharedCellsAreCached(t *testing.T) {
	h := openCorpus(t, "regipy/SYSTEM")
	root, _ := h.Root()
	s1, err := root.Security()
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := root.Security()
	if s1 != s2 {
		t.Error("the same sk cell gave two *Security")
	}
	// A self-relative descriptor starts with revision 1.
	if len(s1.Descriptor) < 20 || s1.Descriptor[0] != 1 || s1.RefCount == 0 {
		t.Errorf("root descriptor %x refcount %d", s1.Descriptor, s1.RefCount)
	}
}

func TestClassName_LsaKeysHoldBootKeyParts(t *testing.T) {
	h := openCorpus(t, "regipy/SYSTEM")
	var got []string
	for _, n := range []string{"JD", "Skew1", "GBG", "Data"} {
		k, err := h.OpenKey(`ControlSet001\Control\Lsa\` + n)
		if err != nil {
			t.Fatal(err)
		}
		c := k.ClassName()
		if len(c) != 8 {
			t.Errorf("%s class %q, want 8 hex digits", n, c)
		}
		if _, err := hex.DecodeString(c); err != nil {
			t.Errorf("%s class %q: %v", n, c, err)
		}
		got = append(got, c)
	}
	t.Logf("boot key parts %v", got)
}
