package secdesc_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/secdesc"
)

// debianPython is the interpreter that has Debian's python3-samba and
// python3-libfwnt (a pyenv python first on PATH does not).
const debianPython = "/usr/bin/python3"

// corpusDescriptors are the keys whose descriptors the oracle tests
// compare: the Environment keys and the roots of the corpus hives.
var corpusDescriptors = []struct{ hive, key string }{
	{"regipy/NTUSER.DAT", ""},
	{"regipy/NTUSER.DAT", "Environment"},
	{"regipy/transactions_NTUSER.DAT", ""},
	{"regipy/transactions_NTUSER.DAT", "Environment"},
	{"velocidex/velocidex_NTUSER.DAT", ""},
	{"velocidex/velocidex_NTUSER.DAT", "Environment"},
	{"regipy/SYSTEM", ""},
	{"regipy/SYSTEM", `ControlSet001\Control\Session Manager\Environment`},
	{"regipy/SYSTEM_B", `ControlSet001\Control\Session Manager\Environment`},
	{"regipy/SECURITY", ""},
}

func corpusDescriptor(t *testing.T, file, key string) []byte {
	t.Helper()
	h, err := hive.Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(file, "/")...)...), hive.WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.OpenKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Security()
	if err != nil {
		t.Fatal(err)
	}
	return s.Descriptor
}

func havePython(t *testing.T, module string) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("%s not installed: skipping the %s oracle", debianPython, module)
	}
	if err := exec.Command(debianPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("python module %s not installed (Debian python3-samba / python3-libfwnt): skipping oracle", module)
	}
}

const sambaSDDL = `import sys
from samba.dcerpc import security
from samba.ndr import ndr_unpack
for h in sys.argv[1:]:
    print(ndr_unpack(security.descriptor, bytes.fromhex(h)).as_sddl())
`

var aceRe = regexp.MustCompile(`\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*)\)`)

// normaliseSambaRights rewrites the rights field of every ACE in a samba
// SDDL string the way Windows writes it. Samba 4.17 always decomposes a
// mask into per-bit strings in its own order ("RPWPCCDCLCRCWOWDSDSW" for
// KEY_ALL_ACCESS) and pads hex to 8 digits, where Windows writes KA, KR, ...
// or unpadded hex. Both denote the same mask, which is what is compared:
// the field is parsed by the SDDL grammar and re-rendered.
func normaliseSambaRights(t *testing.T, s string) string {
	return aceRe.ReplaceAllStringFunc(s, func(ace string) string {
		m := aceRe.FindStringSubmatch(ace)
		sd, err := secdesc.FromSDDL("D:(" + m[1] + ";;" + m[3] + ";;;WD)")
		if err != nil {
			t.Fatalf("samba rights %q: %v", m[3], err)
		}
		mask := sd.DACL.ACEs[0].Mask
		return "(" + m[1] + ";" + m[2] + ";" + mask.SDDL() + ";" + m[4] + ";" + m[5] + ";" + m[6] + ")"
	})
}

func TestSDDL_MatchesSambaOnCorpusDescriptors(t *testing.T) {
	havePython(t, "samba")
	var hexes []string
	var ours []string
	for _, c := range corpusDescriptors {
		b := corpusDescriptor(t, c.hive, c.key)
		sd, err := secdesc.Parse(b)
		if err != nil {
			t.Fatalf("%s %q: %v", c.hive, c.key, err)
		}
		hexes = append(hexes, hex.EncodeToString(b))
		s := sd.SDDL()
		// A SACL marked present without an ACL (the SECURITY hive's
		// root) is a NULL SACL: Windows' converter writes
		// "S:<flags>NO_ACCESS_CONTROL" for a NULL ACL, samba omits the
		// part. Both mean "no auditing"; compare without it.
		if sd.Control&secdesc.SESACLPresent != 0 && sd.SACL == nil {
			s = s[:strings.Index(s, "S:")]
		}
		ours = append(ours, s)
	}
	out, err := exec.Command(debianPython, append([]string{"-c", sambaSDDL}, hexes...)...).Output()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(ours) {
		t.Fatalf("samba printed %d lines for %d descriptors", len(lines), len(ours))
	}
	for i, c := range corpusDescriptors {
		want := normaliseSambaRights(t, lines[i])
		if ours[i] != want {
			t.Errorf("%s %q:\n got %s\nwant %s\n(samba raw %s)", c.hive, c.key, ours[i], want, lines[i])
		}
	}
}

const fwntACEs = `import sys, json, pyfwnt
out = []
for h in sys.stdin.read().split():
    sd = pyfwnt.security_descriptor()
    sd.copy_from_byte_stream(bytes.fromhex(h))
    def acl(a):
        if a is None:
            return None
        r = []
        for i in range(a.number_of_entries):
            e = a.get_entry(i)
            r.append([e.type, e.flags, e.access_mask, e.security_identifier.string if e.security_identifier else ""])
        return r
    out.append({"owner": sd.owner.string if sd.owner else "", "group": sd.group.string if sd.group else "",
                "a": acl(sd.discretionary_acl), "b": acl(sd.system_acl)})
print(json.dumps(out))
`

type fwntDesc struct {
	Owner, Group string
	A, B         [][4]any
}

func TestACEs_MatchLibfwntOnCorpusDescriptors(t *testing.T) {
	havePython(t, "pyfwnt")
	var raws [][]byte
	var where []string
	for _, c := range corpusDescriptors {
		raws = append(raws, corpusDescriptor(t, c.hive, c.key))
		where = append(where, c.hive+` \`+c.key)
	}
	compareLibfwnt(t, raws, where)
}

// Every distinct descriptor of the corpus hives decodes to the ACEs libfwnt
// decodes, mandatory labels included.
func TestACEs_MatchLibfwntOnEveryCorpusDescriptor(t *testing.T) {
	havePython(t, "pyfwnt")
	raws, where := corpusAll(t)
	compareLibfwnt(t, raws, where)
}

func compareLibfwnt(t *testing.T, raws [][]byte, where []string) {
	t.Helper()
	var hexes []string
	var sds []*secdesc.SecurityDescriptor
	for i, b := range raws {
		sd, err := secdesc.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", where[i], err)
		}
		hexes = append(hexes, hex.EncodeToString(b))
		sds = append(sds, sd)
	}
	cmd := exec.Command(debianPython, "-c", fwntACEs)
	cmd.Stdin = strings.NewReader(strings.Join(hexes, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libfwnt: %v", err)
	}
	var got []fwntDesc
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	render := func(acl *secdesc.ACL) string {
		if acl == nil {
			return "none"
		}
		var b strings.Builder
		for _, a := range acl.ACEs {
			b.WriteString(strings.Join([]string{itoa(int(a.Type)), itoa(int(a.Flags)), itoa(int(a.Mask)), a.SID.String()}, ","))
			b.WriteString(";")
		}
		return b.String()
	}
	renderFw := func(l [][4]any) string {
		if l == nil {
			return "none"
		}
		var b strings.Builder
		for _, e := range l {
			b.WriteString(strings.Join([]string{num(e[0]), num(e[1]), num(e[2]), e[3].(string)}, ","))
			b.WriteString(";")
		}
		return b.String()
	}
	if len(got) != len(sds) {
		t.Fatalf("libfwnt decoded %d descriptors of %d", len(got), len(sds))
	}
	for i := range sds {
		sd, fw := sds[i], got[i]
		if sd.Owner.String() != fw.Owner || sd.Group.String() != fw.Group {
			t.Errorf("%s: owner/group %s/%s, libfwnt %s/%s", where[i], sd.Owner, sd.Group, fw.Owner, fw.Group)
		}
		// libfwnt 20181227 swaps the two ACL accessors on these
		// descriptors; the DACL must be one of them and the SACL, when the
		// descriptor has one, the other.
		d, a, b := render(sd.DACL), renderFw(fw.A), renderFw(fw.B)
		var other string
		switch d {
		case a:
			other = b
		case b:
			other = a
		default:
			t.Errorf("%s: DACL %s matches neither libfwnt ACL (%s | %s)", where[i], d, a, b)
			continue
		}
		if sd.SACL != nil && render(sd.SACL) != other {
			t.Errorf("%s: SACL %s, libfwnt's other ACL %s", where[i], render(sd.SACL), other)
		}
	}
}

func itoa(v int) string { return strings.TrimSpace(jsonNum(v)) }

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

func num(v any) string { return jsonNum(v) }

// corpusAll collects every distinct descriptor of the corpus hives (all sk
// cells reachable from keys), with where it was first met.
func corpusAll(t *testing.T) (raws [][]byte, where []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, file := range []string{"regipy/NTUSER.DAT", "regipy/transactions_NTUSER.DAT", "velocidex/velocidex_NTUSER.DAT",
		"regipy/SYSTEM", "regipy/SYSTEM_B", "regipy/SAM", "regipy/SECURITY", "regipy/ntuser_software_partial"} {
		h, err := hive.Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(file, "/")...)...), hive.WithoutLogs())
		if err != nil {
			t.Fatal(err)
		}
		err = h.Walk(context.Background(), func(k *hive.Key) error {
			s, err := k.Security()
			if err != nil || seen[string(s.Descriptor)] {
				return nil
			}
			seen[string(s.Descriptor)] = true
			raws = append(raws, s.Descriptor)
			where = append(where, file+` \`+k.Path())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return raws, where
}

// withoutSACL returns a copy of a self-relative descriptor with its SACL
// switched off in the header (control bits and offset patched, nothing
// re-encoded).
func withoutSACL(b []byte) []byte {
	c := append([]byte(nil), b...)
	ctl := binary.LittleEndian.Uint16(c[2:]) &^ uint16(secdesc.SESACLPresent|secdesc.SESACLAutoInheritReq|secdesc.SESACLAutoInherited|secdesc.SESACLProtected)
	binary.LittleEndian.PutUint16(c[2:], ctl)
	binary.LittleEndian.PutUint32(c[12:], 0)
	return c
}

// Every distinct descriptor of the corpus hives, not only the Environment
// keys, renders as samba renders it (with the normalisations documented
// above). Samba 4.17 crashes rendering mandatory label entries, so
// descriptors holding one are given to samba with the SACL switched off and
// compared without their S: part; their SACLs are checked against libfwnt
// in TestACEs_MatchLibfwntOnEveryCorpusDescriptor.
func TestSDDL_MatchesSambaOnEveryCorpusDescriptor(t *testing.T) {
	havePython(t, "samba")
	raws, where := corpusAll(t)
	var hexes, ours []string
	labels := 0
	for i, b := range raws {
		sd, err := secdesc.Parse(b)
		if err != nil {
			t.Errorf("%s: %v", where[i], err)
			hexes, ours = append(hexes, hex.EncodeToString(b)), append(ours, "")
			continue
		}
		str := sd.SDDL()
		if sd.MandatoryLabel() != nil || (sd.SACL != nil && hasLabel(sd.SACL)) {
			labels++
			b = withoutSACL(b)
			str = str[:strings.Index(str, "S:")]
		} else if sd.Control&secdesc.SESACLPresent != 0 && sd.SACL == nil {
			str = str[:strings.Index(str, "S:")]
		}
		hexes, ours = append(hexes, hex.EncodeToString(b)), append(ours, str)
	}
	cmd := exec.Command(debianPython, "-c", `import sys
from samba.dcerpc import security
from samba.ndr import ndr_unpack
for h in sys.stdin.read().split():
    print(ndr_unpack(security.descriptor, bytes.fromhex(h)).as_sddl())
`)
	cmd.Stdin = strings.NewReader(strings.Join(hexes, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("samba: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(ours) {
		t.Fatalf("samba printed %d lines for %d descriptors", len(lines), len(ours))
	}
	for i := range ours {
		if want := normaliseSambaRights(t, lines[i]); ours[i] != want {
			t.Errorf("%s:\n got %s\nwant %s", where[i], ours[i], want)
		}
	}
	t.Logf("%d distinct descriptors compared (%d with a mandatory label, compared without the SACL)", len(ours), labels)
}

func hasLabel(acl *secdesc.ACL) bool {
	for _, a := range acl.ACEs {
		if a.Type == secdesc.SystemMandatoryLabel {
			return true
		}
	}
	return false
}
