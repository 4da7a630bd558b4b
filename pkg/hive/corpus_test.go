package hive

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// walkCount walks h and returns its key and value counts (the EXPECTED.md
// counting rules: every reachable key, root included; every listed value).
func walkCount(t *testing.T, h *Hive) (keys, values int) {
	t.Helper()
	err := h.Walk(context.Background(), func(k *Key) error {
		keys++
		vs, err := k.Values()
		if err != nil {
			return err
		}
		values += len(vs)
		for _, v := range vs {
			v.Decode()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Walk: %v", h.Name(), err)
	}
	return keys, values
}

// Figures from EXPECTED.md §1 (logs not applied).
var expectedCounts = []struct {
	file         string
	keys, values int
	rootWrite    string
	typ          Type
	dirty        bool
	partial      bool // dirty without logs, or damaged
}{
	{"regipy/NTUSER.DAT", 1812, 4094, "2012-04-04T14:45:43.4537497Z", TypeNTUSER, false, false},
	{"regipy/NTUSER_modified.DAT", 1808, 4090, "2012-04-04T14:45:43.4537497Z", TypeNTUSER, false, false},
	{"regipy/SAM", 65, 70, "2009-07-14T04:34:12.1664573Z", TypeSAM, false, false},
	{"regipy/SECURITY", 100, 109, "2021-08-05T10:52:03.3993337Z", TypeSECURITY, true, true},
	{"regipy/SYSTEM", 30756, 73456, "2012-04-04T11:47:06.6093750Z", TypeSYSTEM, false, false},
	{"regipy/SYSTEM_B", 33123, 74957, "2018-03-27T21:45:39.5571601Z", TypeSYSTEM, true, true},
	{"regipy/ntuser_software_partial", 6396, 19990, "2020-03-17T14:03:49.5683097Z", TypeUnknown, false, false},
	{"regipy/transactions_NTUSER.DAT", 2590, 4119, "2017-07-12T07:21:46.7319768Z", TypeNTUSER, true, true},
	{"velocidex/velocidex_NTUSER.DAT", 1127, 5602, "2009-08-04T15:13:44.7946250Z", TypeNTUSER, false, false},
	{"yarp/BigDataHive", 2, 2, "2017-03-04T16:16:45.7586683Z", TypeUnknown, false, false},
	{"yarp/BogusKeyNamesHive", 3, 0, "2017-03-11T12:27:27.2664236Z", TypeUnknown, false, false},
	{"yarp/CompHive", 4, 0, "2017-03-25T13:13:10.0616431Z", TypeUnknown, false, false},
	{"yarp/DeletedDataHive", 2, 1, "2017-03-20T21:15:41.2667776Z", TypeUnknown, false, false},
	{"yarp/DeletedTreeHive", 3, 0, "2017-03-20T21:21:22.7581997Z", TypeUnknown, false, false},
	{"yarp/EmptyHive", 1, 0, "2017-03-04T16:37:31.2216222Z", TypeUnknown, false, false},
	{"yarp/ExtendedASCIIHive", 2, 1, "2017-03-08T12:35:55.9399863Z", TypeUnknown, false, false},
	{"yarp/ManySubkeysHive", 5003, 0, "2017-03-04T14:50:13.0833872Z", TypeUnknown, false, false},
	{"yarp/MultiSzHive", 2, 2, "2017-03-11T21:27:32.4546800Z", TypeUnknown, false, false},
	{"yarp/NewDirtyHive1/NewDirtyHive", 5, 2, "2017-03-04T20:51:50.2686944Z", TypeUnknown, true, true},
	{"yarp/NewDirtyHive1/RecoveredHive_Windows10", 5, 1, "2017-03-04T20:54:05.1123376Z", TypeUnknown, false, false},
	{"yarp/OldDirtyHive/OldDirtyHive", 5003, 0, "2017-03-04T14:50:13.0833872Z", TypeUnknown, true, true},
	{"yarp/OldDirtyHive/RecoveredHive_Windows7", 5003, 1, "2017-03-04T14:50:13.0833872Z", TypeUnknown, false, false},
	// Majority figures (EXPECTED §5): GarbageHive's checksum is bad (dirty).
	{"yarp/GarbageHive", 1, 0, "2017-03-04T16:37:31.2216222Z", TypeUnknown, true, true},
}

func TestOpen_CountsMatchExpected(t *testing.T) {
	for _, tc := range expectedCounts {
		t.Run(tc.file, func(t *testing.T) {
			h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...), WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			keys, values := walkCount(t, h)
			if keys != tc.keys || values != tc.values {
				t.Errorf("keys/values = %d/%d, want %d/%d", keys, values, tc.keys, tc.values)
			}
			root, err := h.Root()
			if err != nil {
				t.Fatal(err)
			}
			if got := wintime.Format(root.LastWrite()); got != tc.rootWrite {
				t.Errorf("root last write = %s, want %s", got, tc.rootWrite)
			}
			if root.Path() != "" {
				t.Errorf("root path = %q, want empty", root.Path())
			}
			if h.Dirty() != tc.dirty {
				t.Errorf("Dirty() = %v, want %v", h.Dirty(), tc.dirty)
			}
			if h.Partial() != tc.partial {
				t.Errorf("Partial() = %v, want %v; anomalies: %v", h.Partial(), tc.partial, h.Anomalies())
			}
			if tc.typ != TypeUnknown && h.Type() != tc.typ {
				t.Errorf("Type() = %v, want %v", h.Type(), tc.typ)
			}
		})
	}
}

type envValue struct{ name, typ, data string }

// Environment values from EXPECTED.md §3 and §4.
var expectedEnvironment = []struct {
	file, key, lastWrite string
	values               []envValue
}{
	{"regipy/NTUSER.DAT", "Environment", "2012-04-03T21:19:54.7800947Z", []envValue{
		{"TEMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
		{"TMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
	}},
	{"regipy/NTUSER_modified.DAT", "Environment", "2012-04-03T21:19:54.7800947Z", []envValue{
		{"TEMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
		{"TMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
	}},
	{"regipy/transactions_NTUSER.DAT", "Environment", "2017-07-12T07:23:23.4410462Z", []envValue{
		{"Path", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`},
		{"TEMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
		{"TMP", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Temp`},
		{"OneDrive", "REG_SZ", `C:\Users\tony\OneDrive`},
	}},
	{"velocidex/velocidex_NTUSER.DAT", "Environment", "2009-08-04T15:12:23.8883750Z", []envValue{
		{"TEMP", "REG_EXPAND_SZ", `%USERPROFILE%\Local Settings\Temp`},
		{"TMP", "REG_EXPAND_SZ", `%USERPROFILE%\Local Settings\Temp`},
	}},
	{"regipy/SYSTEM", `ControlSet001\Control\Session Manager\Environment`, "2011-09-16T20:48:46.7010798Z", []envValue{
		{"ComSpec", "REG_EXPAND_SZ", `%SystemRoot%\system32\cmd.exe`},
		{"FP_NO_HOST_CHECK", "REG_SZ", "NO"},
		{"OS", "REG_SZ", "Windows_NT"},
		{"Path", "REG_EXPAND_SZ", `%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem;%SYSTEMROOT%\System32\WindowsPowerShell\v1.0\`},
		{"PATHEXT", "REG_SZ", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"},
		{"PROCESSOR_ARCHITECTURE", "REG_SZ", "x86"},
		{"TEMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
		{"TMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
		{"USERNAME", "REG_SZ", "SYSTEM"},
		{"windir", "REG_EXPAND_SZ", "%SystemRoot%"},
		{"PSModulePath", "REG_EXPAND_SZ", `%SystemRoot%\system32\WindowsPowerShell\v1.0\Modules\`},
		{"NUMBER_OF_PROCESSORS", "REG_SZ", "1"},
		{"PROCESSOR_LEVEL", "REG_SZ", "16"},
		{"PROCESSOR_IDENTIFIER", "REG_SZ", "x86 Family 16 Model 8 Stepping 0, AuthenticAMD"},
		{"PROCESSOR_REVISION", "REG_SZ", "0800"},
		{"DEFLOGDIR", "REG_SZ", `C:\ProgramData\McAfee\DesktopProtection`},
		{"VSEDEFLOGDIR", "REG_SZ", `C:\ProgramData\McAfee\DesktopProtection`},
	}},
	{"regipy/SYSTEM_B", `ControlSet001\Control\Session Manager\Environment`, "2018-03-27T12:11:44.5843358Z", []envValue{
		{"ComSpec", "REG_EXPAND_SZ", `%SystemRoot%\system32\cmd.exe`},
		{"OS", "REG_SZ", "Windows_NT"},
		{"Path", "REG_EXPAND_SZ", `%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem;%SYSTEMROOT%\System32\WindowsPowerShell\v1.0\`},
		{"PATHEXT", "REG_SZ", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"},
		{"PROCESSOR_ARCHITECTURE", "REG_SZ", "AMD64"},
		{"PSModulePath", "REG_EXPAND_SZ", `%ProgramFiles%\WindowsPowerShell\Modules;%SystemRoot%\system32\WindowsPowerShell\v1.0\Modules`},
		{"TEMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
		{"TMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
		{"USERNAME", "REG_SZ", "SYSTEM"},
		{"windir", "REG_EXPAND_SZ", "%SystemRoot%"},
		{"NUMBER_OF_PROCESSORS", "REG_SZ", "4"},
		{"PROCESSOR_LEVEL", "REG_SZ", "6"},
		{"PROCESSOR_IDENTIFIER", "REG_SZ", "Intel64 Family 6 Model 58 Stepping 9, GenuineIntel"},
		{"PROCESSOR_REVISION", "REG_SZ", "3a09"},
	}},
	// Confirmed by hivex in unsafe mode only: the key is readable although
	// the hive as a whole is damaged.
	{"regipy/corrupted_system_hive", `ControlSet001\Control\Session Manager\Environment`, "2008-10-21T17:48:29.2968750Z", []envValue{
		{"ComSpec", "REG_EXPAND_SZ", `%SystemRoot%\system32\cmd.exe`},
		{"Path", "REG_EXPAND_SZ", `%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem`},
		{"windir", "REG_EXPAND_SZ", "%SystemRoot%"},
		{"FP_NO_HOST_CHECK", "REG_SZ", "NO"},
		{"OS", "REG_SZ", "Windows_NT"},
		{"PROCESSOR_ARCHITECTURE", "REG_SZ", "x86"},
		{"PROCESSOR_LEVEL", "REG_SZ", "6"},
		{"PROCESSOR_IDENTIFIER", "REG_SZ", "x86 Family 6 Model 23 Stepping 8, GenuineIntel"},
		{"PROCESSOR_REVISION", "REG_SZ", "1708"},
		{"NUMBER_OF_PROCESSORS", "REG_SZ", "1"},
		{"PATHEXT", "REG_SZ", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH"},
		{"TEMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
		{"TMP", "REG_EXPAND_SZ", `%SystemRoot%\TEMP`},
	}},
}

func TestOpenKey_EnvironmentValuesMatchExpected(t *testing.T) {
	for _, tc := range expectedEnvironment {
		t.Run(tc.file, func(t *testing.T) {
			h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...), WithoutLogs())
			if err != nil {
				t.Fatal(err)
			}
			// Windows compares names case-insensitively: look it up in
			// upper case to prove it.
			k, err := h.OpenKey(strings.ToUpper(tc.key))
			if err != nil {
				t.Fatal(err)
			}
			if k.Path() != tc.key {
				t.Errorf("Path() = %q, want %q", k.Path(), tc.key)
			}
			if got := wintime.Format(k.LastWrite()); got != tc.lastWrite {
				t.Errorf("last write = %s, want %s", got, tc.lastWrite)
			}
			vs, err := k.Values()
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != len(tc.values) {
				t.Fatalf("%d values, want %d", len(vs), len(tc.values))
			}
			for i, want := range tc.values {
				v := vs[i]
				d, err := v.Decode()
				if err != nil {
					t.Errorf("%s: Decode: %v", want.name, err)
				}
				if v.Name() != want.name || v.Type().String() != want.typ || d.Text != want.data || !d.TextValid {
					t.Errorf("value %d = %q %s %q, want %q %s %q", i, v.Name(), v.Type(), d.Text, want.name, want.typ, want.data)
				}
				byName, err := k.Value(strings.ToLower(want.name))
				if err != nil || byName.Name() != want.name {
					t.Errorf("Value(%q) = %v, %v", strings.ToLower(want.name), byName, err)
				}
			}
			if _, err := k.Value("no such value"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Value(missing) error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestOpenKey_MissingKeyIsErrNotFound(t *testing.T) {
	h, err := Open(testcorpus.Path(t, "hives", "regipy", "NTUSER.DAT"), WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.OpenKey(`Software\No\Such\Key`); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenKey(missing) error = %v, want ErrNotFound", err)
	}
	root, _ := h.OpenKey("")
	if root == nil || root.Path() != "" {
		t.Fatalf("OpenKey(\"\") = %v, want the root", root)
	}
}
