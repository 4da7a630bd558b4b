package secdesc_test

import (
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
for h in sys.argv[1:]:
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
	var hexes []string
	var sds []*secdesc.SecurityDescriptor
	for _, c := range corpusDescriptors {
		b := corpusDescriptor(t, c.hive, c.key)
		sd, err := secdesc.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		hexes = append(hexes, hex.EncodeToString(b))
		sds = append(sds, sd)
	}
	out, err := exec.Command(debianPython, append([]string{"-c", fwntACEs}, hexes...)...).Output()
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
	for i, c := range corpusDescriptors {
		sd, fw := sds[i], got[i]
		if sd.Owner.String() != fw.Owner || sd.Group.String() != fw.Group {
			t.Errorf("%s %q: owner/group %s/%s, libfwnt %s/%s", c.hive, c.key, sd.Owner, sd.Group, fw.Owner, fw.Group)
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
			t.Errorf("%s %q: DACL %s matches neither libfwnt ACL (%s | %s)", c.hive, c.key, d, a, b)
			continue
		}
		if sd.SACL != nil && render(sd.SACL) != other {
			t.Errorf("%s %q: SACL %s, libfwnt's other ACL %s", c.hive, c.key, render(sd.SACL), other)
		}
		if len(sd.DACL.ACEs) == 0 {
			t.Errorf("%s %q: corpus DACL unexpectedly empty", c.hive, c.key)
		}
	}
}

func itoa(v int) string { return strings.TrimSpace(jsonNum(v)) }

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

func num(v any) string { return jsonNum(v) }
