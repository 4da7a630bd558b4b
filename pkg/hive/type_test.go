package hive

import (
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// tree builds nested keys from `\`-separated paths.
func tree(paths ...string) *hivetest.Key {
	root := &hivetest.Key{Name: "ROOT"}
	for _, p := range paths {
		k := root
		for _, part := range strings.Split(p, `\`) {
			var next *hivetest.Key
			for _, s := range k.Subkeys {
				if s.Name == part {
					next = s
				}
			}
			if next == nil {
				next = &hivetest.Key{Name: part}
				k.Subkeys = append(k.Subkeys, next)
			}
			k = next
		}
	}
	return root
}

func TestType_RecognisedFromContent(t *testing.T) {
	tests := []struct {
		want  Type
		paths []string
	}{
		{TypeSYSTEM, []string{"Select", "ControlSet001", "MountedDevices"}},
		{TypeSOFTWARE, []string{`Microsoft\Windows NT\CurrentVersion`, "Classes", "Policies"}},
		{TypeNTUSER, []string{"Software", "Environment", "Console"}},
		{TypeNTUSER, []string{"AppEvents", "Software", "Control Panel"}},
		{TypeUsrClass, []string{"Local Settings", "CLSID", "*"}},
		{TypeSAM, []string{`SAM\Domains\Account`}},
		{TypeSECURITY, []string{`Policy\PolAdtEv`, "RXACT"}},
		{TypeAmcache, []string{`Root\InventoryApplicationFile`}},
		{TypeAmcache, []string{`Root\File`}},
		{TypeBCD, []string{"Description", "Objects"}},
		{TypeUnknown, []string{"Something"}},
	}
	for _, tc := range tests {
		t.Run(tc.want.String()+"/"+strings.Join(tc.paths, ","), func(t *testing.T) {
			data, err := hivetest.Build(tree(tc.paths...))
			if err != nil {
				t.Fatal(err)
			}
			h, err := Load("x", data)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Type(); got != tc.want {
				t.Errorf("Type() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValueType_String(t *testing.T) {
	for typ, want := range map[ValueType]string{RegNone: "REG_NONE", RegExpandSZ: "REG_EXPAND_SZ", RegDWORDBigEndian: "REG_DWORD_BIG_ENDIAN",
		RegResourceRequirementsList: "REG_RESOURCE_REQUIREMENTS_LIST", RegQWORD: "REG_QWORD", 0x1234: "REG_UNKNOWN_0x1234", 0xFFFF0011: "REG_UNKNOWN_0xffff0011"} {
		if got := typ.String(); got != want {
			t.Errorf("%d: %q, want %q", uint32(typ), got, want)
		}
	}
}

func TestEqualName_WindowsUpcase(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Environment", "ENVIRONMENT", true},
		{"ëigenaardig", "ËIGENAARDIG", true},
		{"привет", "ПРИВЕТ", true},
		{"Path", "Pat", false},
		{"a", "b", false},
		{"\u212a", "k", false}, // Kelvin sign: upcases to itself, not to K
		{"🌎", "🌎", true},
	}
	for _, tc := range tests {
		if got := equalName(tc.a, tc.b); got != tc.want {
			t.Errorf("equalName(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// A KEY_PREDEF_HANDLE key (Perflib\009 in SOFTWARE) keeps a handle in its
// value-count field: it has no values and is not damage.
func TestValues_PredefinedHandleKeyHasNone(t *testing.T) {
	root := &hivetest.Key{Name: "ROOT", Subkeys: []*hivetest.Key{{Name: "009", Flags: 0x0040 | 0x0020}}}
	data, err := hivetest.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("x", data)
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.OpenKey("009")
	if err != nil {
		t.Fatal(err)
	}
	patch32(data, k.Offset(), nkValueCount, 0x80000050) // HKEY_PERFORMANCE_TEXT
	h, _ = Load("x", data)
	k, _ = h.OpenKey("009")
	vs, _ := k.Values()
	if k.ValueCount() != 0 || len(vs) != 0 || h.Partial() {
		t.Errorf("ValueCount %d, %d values, partial %v (%v); want none and not partial", k.ValueCount(), len(vs), h.Partial(), h.Anomalies())
	}
}
