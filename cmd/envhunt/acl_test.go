package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/secdesc"
)

// aclFixture writes an NTUSER-like hive whose Environment key carries the
// descriptor given in SDDL, and returns its path.
func aclFixture(t *testing.T, rootSDDL, envSDDL string) string {
	t.Helper()
	build := func(s string) []byte {
		sd, err := secdesc.FromSDDL(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	when := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	root := &hivetest.Key{Name: "ROOT", LastWrite: when, Security: build(rootSDDL), Subkeys: []*hivetest.Key{
		{Name: "Environment", LastWrite: when, Security: build(envSDDL)},
		{Name: "Software", LastWrite: when},
		{Name: "Console", LastWrite: when},
	}}
	data, err := hivetest.Build(root, hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const aclTestUser = "S-1-5-21-1111111111-2222222222-3333333333-1001"

func aclRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"acl"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestACL_JSONFieldsOnFixture(t *testing.T) {
	rootSD := "O:BAG:SYD:P(A;OICI;KA;;;" + aclTestUser + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)"
	envSD := "O:S-1-5-21-1111111111-2222222222-3333333333-1002G:SYD:(A;OICIID;KA;;;" + aclTestUser + ")(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)(A;;KW;;;WD)S:(ML;;NW;;;LW)"
	p := aclFixture(t, rootSD, envSD)
	out, errOut, code := aclRun(t, "--format", "json", p, `HKCU\Environment`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"key", "owner", "group", "control", "dacl", "sacl", "sddl", "shared_by", "effective"} {
		if _, ok := rep[f]; !ok {
			t.Errorf("JSON lacks %q", f)
		}
	}
	if rep["key"] != `HKU\`+aclTestUser+`\Environment` {
		t.Errorf("key %v (the SID comes from the root key's DACL)", rep["key"])
	}
	if rep["sddl"] != envSD {
		t.Errorf("sddl %v, want the fixture's %s", rep["sddl"], envSD)
	}
	if rep["shared_by"] != 1.0 {
		t.Errorf("shared_by %v, want 1 (only Environment has this descriptor)", rep["shared_by"])
	}
	dacl := rep["dacl"].([]any)
	if len(dacl) != 5 {
		t.Fatalf("dacl has %d ACEs", len(dacl))
	}
	last := dacl[4].(map[string]any)
	if last["sid"] != "S-1-1-0" || last["name"] != "Everyone" || last["mask"] != "0x00020006" || last["inherited"] != false || last["type"] != "ACCESS_ALLOWED" {
		t.Errorf("last ACE %v", last)
	}
	if r := last["rights"].([]any); len(r) != 3 || r[0] != "KEY_SET_VALUE" {
		t.Errorf("rights %v", r)
	}
	if ml := rep["mandatory_label"].(map[string]any); ml["level"] != "Low" || ml["low_integrity_can_write"] != true {
		t.Errorf("mandatory label %v", ml)
	}
}

func TestACL_NullDACLIsJSONNull(t *testing.T) {
	p := aclFixture(t, "O:BAG:SYD:(A;OICI;KA;;;"+aclTestUser+")", "O:BAG:SYD:NO_ACCESS_CONTROL")
	out, _, code := aclRun(t, "--format", "json", p, "Environment")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, `"dacl": null`) {
		t.Errorf("NULL DACL not null in JSON:\n%s", out)
	}
	text, _, _ := aclRun(t, p, "Environment")
	if !strings.Contains(text, "NULL DACL: everyone has full access") {
		t.Errorf("text does not say what a NULL DACL means:\n%s", text)
	}
}

func TestACL_ErrorsAndExitCodes(t *testing.T) {
	p := aclFixture(t, "O:BAG:SYD:(A;OICI;KA;;;"+aclTestUser+")", "O:BAG:SYD:")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{p}, 2, "want a hive file and a key"},
		{[]string{p, "NoSuchKey"}, 2, "not found"},
		{[]string{filepath.Join(t.TempDir(), "missing"), "Environment"}, 2, "missing"},
		{[]string{"--format", "xml", p, "Environment"}, 2, "--format"},
		{[]string{"--no-logs", "--log", "x", p, "Environment"}, 2, "--log and --no-logs"},
	} {
		_, errOut, code := aclRun(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}

// shared_by is the sk cell's reference count; on a clean hive it equals the
// number of keys that point at the cell, counted here by walking the hive.
func TestACL_SharedByMatchesKeysReferencingTheCell(t *testing.T) {
	path := corpusPath(t, "hives", "regipy", "NTUSER.DAT")
	out, errOut, code := aclRun(t, "--format", "json", path, "Environment")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		SharedBy     int    `json:"shared_by"`
		SecurityCell string `json:"security_cell"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	h, err := hive.Open(path, hive.WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	env, _ := h.OpenKey("Environment")
	sec, _ := env.Security()
	n := 0
	err = h.Walk(context.Background(), func(k *hive.Key) error {
		if s, err := k.Security(); err == nil && s.Offset == sec.Offset {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SharedBy != n {
		t.Errorf("shared_by %d, but %d keys reference sk cell %s", rep.SharedBy, n, rep.SecurityCell)
	}
}

func TestACL_TextOnCorpusSystemResolvesCurrentControlSet(t *testing.T) {
	path := corpusPath(t, "hives", "regipy", "SYSTEM")
	out, errOut, code := aclRun(t, path, `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`key:         HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`,
		"S-1-3-0 (CREATOR OWNER) [creator-placeholder]: (none)",
		"sddl:        O:BAG:BAD:AI(",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// The text and JSON output of a descriptor with every kind of entry are
// reviewed golden files (refresh with go test -run TestACL_Golden -update).
func TestACL_Golden(t *testing.T) {
	rootSD := "O:BAG:SYD:P(A;OICI;KA;;;" + aclTestUser + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)"
	envSD := "O:S-1-5-21-1111111111-2222222222-3333333333-1002G:SYD:AI(D;;DC;;;IU)(A;OICIID;KA;;;" + aclTestUser + ")(A;OICIID;KA;;;SY)" +
		"(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)(A;;0x120089;;;AU)(A;OICI;GA;;;CO)(A;CIIO;GW;;;BU)S:(ML;OICI;NW;;;LW)"
	p := aclFixture(t, rootSD, envSD)
	for _, format := range []string{"text", "json"} {
		out, errOut, code := aclRun(t, "--format", format, p, "Environment")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		out = strings.ReplaceAll(out, strings.ReplaceAll(p, `\`, `\\`), "NTUSER.DAT")
		checkGolden(t, "acl."+format, out)
	}
}

// A key whose sk cell holds a malformed descriptor is reported as partly
// read (exit 3), naming the key, the cell and the offset of the fault.
func TestACL_MalformedDescriptorExitsPartial(t *testing.T) {
	good, err := secdesc.FromSDDL("O:BAG:SYD:(A;OICI;KA;;;" + aclTestUser + ")")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := good.Marshal()
	bad := append([]byte(nil), root...)
	bad[16] = 0xF0 // DACL offset past the end
	when := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	data, err := hivetest.Build(&hivetest.Key{Name: "ROOT", LastWrite: when, Security: root, Subkeys: []*hivetest.Key{
		{Name: "Environment", LastWrite: when, Security: bad},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := aclRun(t, p, "Environment")
	if code != 3 || !strings.Contains(errOut, "Environment") || !strings.Contains(errOut, "at offset 0x10") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
