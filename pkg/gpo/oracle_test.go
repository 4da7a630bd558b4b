package gpo

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
)

// Samba's NDR marshalling of the PReg format (python3-samba,
// samba.dcerpc.preg) is an independent implementation of Registry.pol:
// it must read what EncodePol writes, and LoadPol must read what it writes.

const sambaPython = "/usr/bin/python3"

func needSamba(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sambaPython); err != nil {
		t.Skip("Debian python3 not installed")
	}
	if out, err := exec.Command(sambaPython, "-c", "from samba.dcerpc import preg").CombinedOutput(); err != nil {
		t.Skipf("python3-samba not installed: %s", out)
	}
}

type sambaEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Type  uint32 `json:"type"`
	Size  uint32 `json:"size"`
	Data  any    `json:"data"`
}

func TestOracleSamba_ReadsWhatEncodePolWrites(t *testing.T) {
	needSamba(t)
	recs := []PolRecord{
		{Key: `Environment`, ValueName: `GOPATH`, Type: hive.RegExpandSZ, Data: StringData(`%USERPROFILE%\go`)},
		{Key: `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, ValueName: `**del.Path`, Type: hive.RegSZ, Data: StringData(" ")},
		{Key: `Software\Policies\Contoso`, ValueName: `Level`, Type: hive.RegDWORD, Data: []byte{0x2a, 0, 0, 0}},
		{Key: `Software\Policies\Contoso\Ünïcode`, ValueName: `Naïve`, Type: hive.RegSZ, Data: StringData("ça marche")},
		{Key: `Environment`, ValueName: `**DeleteValues`, Type: hive.RegSZ, Data: StringData("GOROOT;GOFLAGS")},
	}
	path := filepath.Join(t.TempDir(), "Registry.pol")
	if err := os.WriteFile(path, EncodePol(recs), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys
from samba.dcerpc import preg
from samba.ndr import ndr_unpack
f = ndr_unpack(preg.file, open(sys.argv[1], 'rb').read())
assert f.header.signature == 'PReg' and f.header.version == 1
print(json.dumps([{'key': e.keyname, 'value': e.valuename, 'type': e.type, 'size': e.size, 'data': e.data} for e in f.entries]))
`
	out, err := exec.Command(sambaPython, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	var got []sambaEntry
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(recs) {
		t.Fatalf("samba read %d records, want %d", len(got), len(recs))
	}
	for i, r := range recs {
		g := got[i]
		var want any = r.DataValue().Text
		if r.Type == hive.RegDWORD {
			want = float64(r.DataValue().Int)
		}
		if g.Key != r.Key || g.Value != r.ValueName || g.Type != uint32(r.Type) || g.Size != uint32(len(r.Data)) || g.Data != want {
			t.Errorf("record %d: samba read %+v, wrote %q %q %d %d %v", i, g, r.Key, r.ValueName, r.Type, len(r.Data), want)
		}
	}
}

func TestOracleSamba_LoadPolReadsWhatSambaWrites(t *testing.T) {
	needSamba(t)
	script := `
from samba.dcerpc import preg
from samba.ndr import ndr_pack
f = preg.file()
f.header.signature = 'PReg'
f.header.version = 1
ents = []
for k, v, t, d in [('Environment', 'Path', 2, 'C:\\Users\\Public\\tools;%PATH%'),
                   ('Software\\Policies\\X', '**delvals.', 1, ' '),
                   ('Software\\Policies\\X', 'Count', 4, 7),
                   ('Software\\Policies\\Y', '**SecureKey', 4, 1)]:
    e = preg.entry()
    e.keyname, e.valuename, e.type, e.data = k, v, t, d
    ents.append(e)
f.num_entries = len(ents)
f.entries = ents
print(ndr_pack(f).hex())
`
	out, err := exec.Command(sambaPython, "-c", script).Output()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	data, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPol("samba.pol", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`Environment|Path|REG_EXPAND_SZ|set|C:\Users\Public\tools;%PATH%`,
		`Software\Policies\X|**delvals.|REG_SZ|delete_all_values| `,
		`Software\Policies\X|Count|REG_DWORD|set|7`,
		`Software\Policies\Y|**SecureKey|REG_DWORD|secure_key|1`,
	}
	if len(p.Records) != len(want) {
		t.Fatalf("got %d records", len(p.Records))
	}
	for i, r := range p.Records {
		d := r.DataValue()
		val := d.Text
		if r.Type == hive.RegDWORD {
			val = strconv.FormatUint(d.Int, 10)
		}
		got := strings.Join([]string{r.Key, r.ValueName, r.Type.String(), string(r.Action()), val}, "|")
		if got != want[i] {
			t.Errorf("record %d: got %q want %q", i, got, want[i])
		}
	}
}

// Samba's scripts.ini reader (samba.gp_parse.gp_ini.GPScriptsIniParser,
// UTF-16 with BOM, like Windows writes) reads the sections and keys
// MarshalScripts writes, and they are the ones LoadScripts reads back.
func TestOracleSamba_ReadsWhatMarshalScriptsWrites(t *testing.T) {
	needSamba(t)
	scripts := []Script{
		{Phase: Logon, Index: 0, CmdLine: "setpath.cmd", Parameters: "/quiet"},
		{Phase: Logon, Index: 1, CmdLine: `\\corp.example\NETLOGON\map drives.cmd`, Parameters: "S: T:"},
		{Phase: Startup, Index: 0, CmdLine: `C:\Windows\System32\setx.exe`, Parameters: `/M GOROOT C:\Go`},
	}
	path := filepath.Join(t.TempDir(), "scripts.ini")
	data := MarshalScripts(scripts)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys
import samba.gp_parse.gp_ini as g
p = g.GPScriptsIniParser()
p.parse(open(sys.argv[1], 'rb').read())
print(json.dumps({s: dict(p.ini_conf.items(s)) for s in p.ini_conf.sections()}))
`
	out, err := exec.Command(sambaPython, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	var sections map[string]map[string]string
	if err := json.Unmarshal(out, &sections); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	parsed, err := LoadScripts(path, data, false)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, keys := range sections {
		n += len(keys)
	}
	if n != 2*len(parsed.Scripts) || len(parsed.Scripts) != len(scripts) {
		t.Fatalf("samba read %d keys in %v, LoadScripts %d scripts", n, sections, len(parsed.Scripts))
	}
	for _, s := range parsed.Scripts {
		sec := sections[string(s.Phase)]
		idx := strconv.Itoa(s.Index)
		if sec[idx+"CmdLine"] != s.CmdLine || sec[idx+"Parameters"] != s.Parameters {
			t.Errorf("%s %d: samba %q %q, envhunt %q %q", s.Phase, s.Index, sec[idx+"CmdLine"], sec[idx+"Parameters"], s.CmdLine, s.Parameters)
		}
	}
}
