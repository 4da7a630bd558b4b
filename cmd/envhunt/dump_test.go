package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// dumpFixture writes a small hive with every value type, hostile names and
// data, and returns its path.
func dumpFixture(t *testing.T) string {
	t.Helper()
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	loneSurrogate := []byte{'b', 0, 0x00, 0xD8, 'd', 0} // "b", lone high surrogate, "d"
	root := &hivetest.Key{Name: "ROOT", LastWrite: at("2024-01-02T03:04:05.1234567Z"), Subkeys: []*hivetest.Key{
		{Name: "Environment", LastWrite: at("2024-01-02T03:04:06.7654321Z"), Values: []hivetest.Value{
			hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\Users\Public\bin`),
			hivetest.SZ("GOFLAGS", "-toolexec=C:\\tmp\\x.exe"),
			hivetest.SZ("Formula", "=cmd|' /C calc'!A0"),
			hivetest.SZ("Escape", "red\x1b[31m\ttab\r\nnewline"),
			{Name: "BadText", Type: hivetest.RegSZ, Data: append(append([]byte{}, loneSurrogate...), 0, 0)},
			hivetest.SZ("", "default value"),
		}},
		{Name: "Types", LastWrite: at("2024-01-02T03:04:07Z"), Values: []hivetest.Value{
			hivetest.DWORD("dword", 0xFFFFFFFF),
			hivetest.DWORDBigEndian("dword_be", 0x01020304),
			hivetest.QWORD("qword", 1<<62),
			hivetest.MultiSZ("multi", "one", "", "three"),
			hivetest.Binary("binary", []byte{0xde, 0xad, 0xbe, 0xef}),
			hivetest.Raw("none", hivetest.RegNone, nil),
			hivetest.Raw("devprop", 0xFFFF0011, []byte{1, 2, 3}),
			hivetest.Raw("short_dword", hivetest.RegDWORD, []byte{1, 2}),
			hivetest.Link("link", `\Registry\Machine\Software\Target`),
			{NameRaw: loneSurrogate, NameUTF16: true, Type: hivetest.RegSZ, Data: hivetest.UTF16("bad name")},
		}, Subkeys: []*hivetest.Key{
			{Name: "Привет", NameUTF16: true, LastWrite: at("2024-01-02T03:04:08Z")},
			{NameRaw: loneSurrogate, NameUTF16: true, LastWrite: at("2024-01-02T03:04:09Z")},
		}},
	}}
	data, err := hivetest.Build(root, hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`), hivetest.WithLastWritten(at("2024-01-02T03:05:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDump_GoldenFormats(t *testing.T) {
	p := dumpFixture(t)
	for _, format := range []string{"jsonl", "csv", "text"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "dump", "--format", format, p)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkGolden(t, "dump."+format, stdout)
		})
	}
}

// Every JSONL line is valid JSON with the documented fields; hostile bytes
// come out as raw hex beside the decoded text.
func TestDump_JSONLSchema(t *testing.T) {
	stdout, _, code := runCLI(t, "dump", dumpFixture(t))
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	type value struct {
		Name    string `json:"name"`
		NameRaw string `json:"name_raw"`
		Type    string `json:"type"`
		Data    any    `json:"data"`
		DataRaw string `json:"data_raw"`
	}
	type key struct {
		Path      string  `json:"path"`
		NameRaw   string  `json:"name_raw"`
		LastWrite string  `json:"last_write"`
		Values    []value `json:"values"`
	}
	byPath := map[string]key{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var k key
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&k); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		byPath[k.Path] = k
	}
	if len(byPath) != 5 {
		t.Fatalf("%d keys, want 5 (root included): %v", len(byPath), byPath)
	}
	if k, ok := byPath[""]; !ok || k.LastWrite != "2024-01-02T03:04:05.1234567Z" {
		t.Errorf("root = %+v, want path \"\" with last_write 2024-01-02T03:04:05.1234567Z", k)
	}
	vals := map[string]value{}
	for _, k := range []string{"Environment", "Types"} {
		for _, v := range byPath[k].Values {
			vals[k+"/"+v.Name] = v
		}
	}
	checks := []struct {
		id, typ string
		data    any
		raw     string
	}{
		{"Environment/Path", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\Users\Public\bin`, ""},
		{"Environment/", "REG_SZ", "default value", ""},
		{"Environment/BadText", "REG_SZ", "b\ufffdd", "620000d864000000"},
		{"Types/dword", "REG_DWORD", float64(4294967295), ""},
		{"Types/dword_be", "REG_DWORD_BIG_ENDIAN", float64(0x01020304), ""},
		{"Types/qword", "REG_QWORD", float64(1 << 62), ""},
		{"Types/binary", "REG_BINARY", "deadbeef", ""},
		{"Types/none", "REG_NONE", "", ""},
		{"Types/devprop", "REG_UNKNOWN_0xffff0011", "010203", ""},
		{"Types/short_dword", "REG_DWORD", "0102", ""},
		{"Types/link", "REG_LINK", `\Registry\Machine\Software\Target`, ""},
	}
	for _, c := range checks {
		v, ok := vals[c.id]
		if !ok {
			t.Errorf("%s missing", c.id)
			continue
		}
		if v.Type != c.typ || v.Data != c.data || v.DataRaw != c.raw {
			t.Errorf("%s = %s %#v raw %q, want %s %#v raw %q", c.id, v.Type, v.Data, v.DataRaw, c.typ, c.data, c.raw)
		}
	}
	if m, ok := vals["Types/multi"].Data.([]any); !ok || len(m) != 3 || m[0] != "one" || m[1] != "" || m[2] != "three" {
		t.Errorf("multi = %#v, want [one  three]", vals["Types/multi"].Data)
	}
	if v := vals["Types/b\ufffdd"]; v.NameRaw != "620000d86400" {
		t.Errorf("invalid value name: name_raw %q, want 620000d86400", v.NameRaw)
	}
	if k := byPath["Types\\b\ufffdd"]; k.NameRaw != "620000d86400" {
		t.Errorf("invalid key name: name_raw %q, want 620000d86400", k.NameRaw)
	}
	if _, ok := byPath[`Types\Привет`]; !ok {
		t.Error("UTF-16 key name not decoded")
	}
}

func TestDump_CSVAndTextNeutraliseHostileData(t *testing.T) {
	p := dumpFixture(t)
	csvOut, _, _ := runCLI(t, "dump", "--format", "csv", "--key", "environment", p)
	if strings.Contains(csvOut, ",=cmd") || !strings.Contains(csvOut, ",'=cmd") {
		t.Errorf("CSV formula cell not neutralised:\n%s", csvOut)
	}
	if !strings.Contains(csvOut, ",'-toolexec") {
		t.Errorf("CSV cell starting with - not neutralised:\n%s", csvOut)
	}
	textOut, _, _ := runCLI(t, "dump", "--format", "text", p)
	for _, out := range []string{csvOut, textOut} {
		if strings.ContainsAny(out, "\x1b\r\t") {
			t.Errorf("control characters passed through: %q", out)
		}
	}
}

func TestDump_KeySubtreeAndOutputFile(t *testing.T) {
	p := dumpFixture(t)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	stdout, stderr, code := runCLI(t, "dump", "--key", `TYPES`, "--output", out, p)
	if code != exitOK || stdout != "" || stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], `{"path":"Types",`) {
		t.Errorf("--key Types gave %d lines, first %q; want 3 starting with Types", len(lines), lines[0])
	}
	_, stderr, code = runCLI(t, "dump", "--key", `No\Such`, p)
	if code != exitUsage || !strings.Contains(stderr, `No\Such`) {
		t.Errorf("missing key: exit %d stderr %q", code, stderr)
	}
}

func TestDump_ExitCodes(t *testing.T) {
	dir := t.TempDir()
	notHive := filepath.Join(dir, "notes.txt")
	os.WriteFile(notHive, []byte(strings.Repeat("not a hive\n", 500)), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing file", []string{"dump", filepath.Join(dir, "nope")}, exitUsage, "nope"},
		{"not a hive", []string{"dump", notHive}, exitUsage, "notes.txt"},
		{"no argument", []string{"dump"}, exitUsage, "want exactly one hive"},
		{"bad format", []string{"dump", "--format", "xml", notHive}, exitUsage, "--format"},
		{"logs and no-logs", []string{"dump", "--no-logs", "--log", "x", notHive}, exitUsage, "--no-logs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tc.code || len(lines) != 1 || !strings.Contains(stderr, tc.msg) || stdout != "" {
				t.Errorf("exit %d stdout %q stderr %q; want exit %d, one line naming %q", code, stdout, stderr, tc.code, tc.msg)
			}
		})
	}
}

// A dirty hive without its logs is dumped, then exit 3; with its logs beside
// it, it is recovered (EXPECTED §2 counts) and exit 0.
func TestDump_DirtyHiveExitCodes(t *testing.T) {
	p := corpusPath(t, "hives", "regipy", "transactions_NTUSER.DAT")
	stdout, stderr, code := runCLI(t, "dump", p)
	if code != exitOK || strings.Count(stdout, "\n") != 3105 {
		t.Errorf("with logs: exit %d, %d keys, stderr %q; want 0 and 3105 keys", code, strings.Count(stdout, "\n"), stderr)
	}
	stdout, stderr, code = runCLI(t, "dump", "--no-logs", p)
	if code != exitPartial || strings.Count(stdout, "\n") != 2590 || !strings.Contains(stderr, "dirty") {
		t.Errorf("without logs: exit %d, %d keys, stderr %q; want 3, 2590 keys and a line saying dirty", code, strings.Count(stdout, "\n"), stderr)
	}
	// A damaged hive: what can be read is printed, then exit 3.
	p = corpusPath(t, "hives", "regipy", "corrupted_system_hive")
	stdout, stderr, code = runCLI(t, "dump", p)
	if code != exitPartial || stdout == "" || len(strings.Split(strings.TrimSpace(stderr), "\n")) != 1 {
		t.Errorf("damaged: exit %d, %d bytes out, stderr %q; want 3, output and one line", code, len(stdout), stderr)
	}
}

func TestInfo_GoldenFormats(t *testing.T) {
	p := dumpFixture(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "info", "--format", format, p)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkGolden(t, "info."+format, strings.ReplaceAll(stdout, p, "NTUSER.DAT"))
		})
	}
}

// info on a corpus hive gives the base-block and recovery facts EXPECTED.md
// lists (§1 and §2).
func TestInfo_DirtyCorpusHive(t *testing.T) {
	p := corpusPath(t, "hives", "regipy", "SYSTEM_B")
	stdout, stderr, code := runCLI(t, "info", "--format", "json", p)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"dirty": true, "recovered": true, "primary_seq": float64(1622), "secondary_seq": float64(1621),
		"hive_type": "SYSTEM", "keys": float64(35595), "values": float64(78901), "size": float64(12845056), "checksum_ok": true}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	for _, f := range []string{"file", "last_written", "embedded_name", "version", "logs", "anomalies"} {
		if _, ok := r[f]; !ok {
			t.Errorf("field %s missing", f)
		}
	}
	logs, _ := r["logs"].([]any)
	if len(logs) != 2 {
		t.Fatalf("logs = %v, want SYSTEM_B.LOG1 and LOG2", r["logs"])
	}
	entries := 0.0
	for _, l := range logs {
		m := l.(map[string]any)
		if m["applied"] != true || m["format"] != "HvLE" {
			t.Errorf("log %v not applied as HvLE", m)
		}
		entries += m["entries"].(float64)
	}
	if entries != 24 {
		t.Errorf("%v log entries applied, want 24 (EXPECTED §2)", entries)
	}
}

// EXPECTED.md §1: "dump --no-logs" of every agreed hive gives the listed key
// and value counts and root last-write time.
func TestDump_CorpusCountsMatchExpected(t *testing.T) {
	tests := []struct {
		file         string
		keys, values int
		root         string
	}{
		{"regipy/NTUSER.DAT", 1812, 4094, "2012-04-04T14:45:43.4537497Z"},
		{"regipy/NTUSER_modified.DAT", 1808, 4090, "2012-04-04T14:45:43.4537497Z"},
		{"regipy/SAM", 65, 70, "2009-07-14T04:34:12.1664573Z"},
		{"regipy/SECURITY", 100, 109, "2021-08-05T10:52:03.3993337Z"},
		{"regipy/SYSTEM", 30756, 73456, "2012-04-04T11:47:06.6093750Z"},
		{"regipy/SYSTEM_B", 33123, 74957, "2018-03-27T21:45:39.5571601Z"},
		{"regipy/ntuser_software_partial", 6396, 19990, "2020-03-17T14:03:49.5683097Z"},
		{"regipy/transactions_NTUSER.DAT", 2590, 4119, "2017-07-12T07:21:46.7319768Z"},
		{"velocidex/velocidex_NTUSER.DAT", 1127, 5602, "2009-08-04T15:13:44.7946250Z"},
		{"yarp/BigDataHive", 2, 2, "2017-03-04T16:16:45.7586683Z"},
		{"yarp/BogusKeyNamesHive", 3, 0, "2017-03-11T12:27:27.2664236Z"},
		{"yarp/CompHive", 4, 0, "2017-03-25T13:13:10.0616431Z"},
		{"yarp/DeletedDataHive", 2, 1, "2017-03-20T21:15:41.2667776Z"},
		{"yarp/DeletedTreeHive", 3, 0, "2017-03-20T21:21:22.7581997Z"},
		{"yarp/EmptyHive", 1, 0, "2017-03-04T16:37:31.2216222Z"},
		{"yarp/ExtendedASCIIHive", 2, 1, "2017-03-08T12:35:55.9399863Z"},
		{"yarp/ManySubkeysHive", 5003, 0, "2017-03-04T14:50:13.0833872Z"},
		{"yarp/MultiSzHive", 2, 2, "2017-03-11T21:27:32.4546800Z"},
		{"yarp/NewDirtyHive1/NewDirtyHive", 5, 2, "2017-03-04T20:51:50.2686944Z"},
		{"yarp/NewDirtyHive1/RecoveredHive_Windows10", 5, 1, "2017-03-04T20:54:05.1123376Z"},
		{"yarp/OldDirtyHive/OldDirtyHive", 5003, 0, "2017-03-04T14:50:13.0833872Z"},
		{"yarp/OldDirtyHive/RecoveredHive_Windows7", 5003, 1, "2017-03-04T14:50:13.0833872Z"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := corpusPath(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...)
			stdout, stderr, code := runCLI(t, "dump", "--no-logs", p)
			if code != exitOK && code != exitPartial {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			keys, values := 0, 0
			for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
				var k struct {
					Path      string            `json:"path"`
					LastWrite string            `json:"last_write"`
					Values    []json.RawMessage `json:"values"`
				}
				if err := json.Unmarshal([]byte(line), &k); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if keys == 0 && (k.Path != "" || k.LastWrite != tc.root) {
					t.Errorf("first object %q %s, want the root with last_write %s", k.Path, k.LastWrite, tc.root)
				}
				keys++
				values += len(k.Values)
			}
			if keys != tc.keys || values != tc.values {
				t.Errorf("%d keys / %d values, want %d / %d", keys, values, tc.keys, tc.values)
			}
		})
	}
}

func TestAppendJSONString_ValidForAnyInput(t *testing.T) {
	inputs := []string{"", "plain", "quote\"back\\slash", "\x00\x01\x1f\x7f", "\u2028\u2029", "bad \xff\xfe utf8", "emoji 🌎", "\x1b[31m"}
	for i := 0; i < 2000; i++ {
		b := make([]byte, i%37)
		for j := range b {
			b[j] = byte((i*131 + j*29) % 256)
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		out := appendJSONString(nil, in)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", in, out, err)
		}
		if want := strings.ToValidUTF8(in, "\ufffd"); back != want && utf8ValidRunes(in) {
			t.Errorf("round trip of %q gave %q", in, back)
		}
	}
}

func utf8ValidRunes(s string) bool { return strings.ToValidUTF8(s, "") == s }
