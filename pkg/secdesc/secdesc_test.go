package secdesc

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

const userSID = "S-1-5-21-2036804247-3058324640-2116585241-1673"

func mustBuild(t testing.TB, sddl string) []byte {
	t.Helper()
	sd, err := FromSDDL(sddl)
	if err != nil {
		t.Fatalf("FromSDDL(%q): %v", sddl, err)
	}
	b, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, sddl string) *SecurityDescriptor {
	t.Helper()
	sd, err := Parse(mustBuild(t, sddl))
	if err != nil {
		t.Fatalf("Parse(%q): %v", sddl, err)
	}
	return sd
}

// The SDDL strings below are written the way Windows writes them (rights
// rendering per sddl.h: whole-mask strings first, per-bit strings from the
// lowest bit, else unpadded hex), so a round trip through the binary form
// must reproduce them exactly.
func TestSDDL_RoundTripsWindowsRendering(t *testing.T) {
	for _, s := range []string{
		"O:BAG:SYD:(A;OICIID;KA;;;" + userSID + ")(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)",
		"O:SYG:SYD:P(A;OICI;KA;;;SY)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)S:AI",
		"O:BAG:SYD:PAI(A;;KR;;;BU)(A;CIIO;GR;;;BU)(A;CIIO;GA;;;CO)",
		"O:BAG:SYD:AI(A;ID;KR;;;BU)(A;CIIOID;GA;;;CO)",
		"D:(A;;0x1200a9;;;BU)(A;;0x100000;;;WD)(D;;DCWDWO;;;WD)(A;;GWGR;;;IU)(A;;FA;;;AU)(A;;KW;;;NS)(A;;CCDCLCSWRPWPRC;;;LS)",
		"D:NO_ACCESS_CONTROL",
		"D:",
		"D:PAI",
		"O:S-1-5-21-1-2-3-500G:S-1-5-21-1-2-3-513D:(A;NP;KA;;;S-1-5-21-1-2-3-512)",
		"S:(ML;OICI;NW;;;LW)",
		"S:(ML;;NWNRNX;;;SI)(AU;SAFA;KA;;;WD)",
		"S:(ML;;;;;S-1-16-0)",
	} {
		if got := mustParse(t, s).SDDL(); got != s {
			t.Errorf("round trip\n got %s\nwant %s", got, s)
		}
	}
}

func TestAccessMask_SDDLFollowsWindowsRules(t *testing.T) {
	for _, c := range []struct {
		m    AccessMask
		want string
	}{
		{0x000F003F, "KA"}, {0x00020019, "KR"}, {0x00020006, "KW"},
		{0x001F01FF, "FA"}, {0x00120089, "FR"},
		{0x10000000, "GA"}, {0xA0000000, "GXGR"}, {0xC0000000, "GWGR"},
		{0x00030000, "SDRC"}, {0x0002001F, "CCDCLCSWRPRC"},
		{0x001F003F, "0x1f003f"}, {0x02000000, "0x2000000"}, {0x01000000, "0x1000000"},
		{0x00000400, "0x400"}, {0, ""},
	} {
		if got := c.m.SDDL(); got != c.want {
			t.Errorf("%#x.SDDL() = %q, want %q", uint32(c.m), got, c.want)
		}
	}
}

func TestAccessMask_NamesAndGenericMapping(t *testing.T) {
	if got := KeyAllAccess.Names(); !slices.Equal(got, []string{"KEY_QUERY_VALUE", "KEY_SET_VALUE", "KEY_CREATE_SUB_KEY",
		"KEY_ENUMERATE_SUB_KEYS", "KEY_NOTIFY", "KEY_CREATE_LINK", "DELETE", "READ_CONTROL", "WRITE_DAC", "WRITE_OWNER"}) {
		t.Errorf("KEY_ALL_ACCESS names %v", got)
	}
	if got := AccessMask(0x80000400).Names(); !slices.Equal(got, []string{"0x00000400", "GENERIC_READ"}) {
		t.Errorf("names with unnamed bit: %v", got)
	}
	for _, c := range []struct{ in, want AccessMask }{
		{GenericRead, 0x20019}, {GenericWrite, 0x20006}, {GenericExecute, 0x20019}, {GenericAll, 0xF003F},
		{GenericRead | Delete, 0x30019}, {KeySetValue, KeySetValue},
	} {
		if got := c.in.MapGeneric(); got != c.want {
			t.Errorf("MapGeneric(%#x) = %#x, want %#x", uint32(c.in), uint32(got), uint32(c.want))
		}
	}
	if KeyAllAccess.Composite() != "KEY_ALL_ACCESS" || KeyRead.Composite() != "KEY_READ" || KeyWrite.Composite() != "KEY_WRITE" {
		t.Error("composite names")
	}
}

func TestSID_StringNamesAndAliases(t *testing.T) {
	for _, c := range []struct{ sid, name, alias string }{
		{"S-1-1-0", "Everyone", "WD"},
		{"S-1-3-0", "CREATOR OWNER", "CO"},
		{"S-1-5-12", `NT AUTHORITY\RESTRICTED`, "RC"},
		{"S-1-5-18", `NT AUTHORITY\SYSTEM`, "SY"},
		{"S-1-5-32-544", `BUILTIN\Administrators`, "BA"},
		{"S-1-15-2-1", `APPLICATION PACKAGE AUTHORITY\ALL APPLICATION PACKAGES`, "AC"},
		{"S-1-15-2-2", `APPLICATION PACKAGE AUTHORITY\ALL RESTRICTED APPLICATION PACKAGES`, "S-1-15-2-2"},
		{"S-1-15-3-1", `APPLICATION PACKAGE AUTHORITY\internetClient`, "S-1-15-3-1"},
		{"S-1-16-4096", `Mandatory Label\Low Mandatory Level`, "LW"},
		{"S-1-5-21-1-2-3-512", "Domain Admins", "S-1-5-21-1-2-3-512"},
		{"S-1-5-21-1-2-3-1001", "", "S-1-5-21-1-2-3-1001"},
	} {
		s, err := ParseSIDString(c.sid)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != c.sid || s.WellKnownName() != c.name || s.SDDL() != c.alias {
			t.Errorf("%s: String %q name %q alias %q", c.sid, s.String(), s.WellKnownName(), s.SDDL())
		}
		back, n, err := ParseSID(s.Bytes())
		if err != nil || n != s.Size() || back != s {
			t.Errorf("%s: binary round trip %v %d %v", c.sid, back, n, err)
		}
	}
	if s := NewSID(0x123456789ABC, 1); s.String() != "S-1-0x123456789ABC-1" {
		t.Errorf("large authority: %s", s)
	}
	names := Names{"S-1-5-21-1-2-3-1001": `PC\alice`}
	if n := names.Name(MustSID("S-1-5-21-1-2-3-1001")); n != `PC\alice` {
		t.Errorf("Names lookup %q", n)
	}
	if n := names.Name(SIDSystem); n != `NT AUTHORITY\SYSTEM` {
		t.Errorf("Names falls back to well-known: %q", n)
	}
}

func TestParse_DistinguishesNullAndEmptyDACL(t *testing.T) {
	null := mustParse(t, "O:BAD:NO_ACCESS_CONTROL")
	if !null.DACLPresent() || !null.NullDACL() || null.EmptyDACL() {
		t.Error("NULL DACL not recognised")
	}
	if Effective(null, SIDEveryone) != KeyAllAccess {
		t.Error("NULL DACL must grant everyone full access")
	}
	empty := mustParse(t, "O:BAD:")
	if empty.NullDACL() || !empty.EmptyDACL() {
		t.Error("empty DACL not recognised")
	}
	if Effective(empty, MustSID(userSID), SIDEveryone) != 0 {
		t.Error("empty DACL must grant nothing")
	}
	if OwnerImplicit(empty) != ReadControl|WriteDAC {
		t.Error("owner keeps READ_CONTROL and WRITE_DAC")
	}
}

func TestEffective_Model(t *testing.T) {
	u := MustSID(userSID)
	for _, c := range []struct {
		name  string
		sddl  string
		token []SID
		want  AccessMask
	}{
		{"inherit-only grants nothing on the key", "D:(A;OICIIO;GA;;;WD)", []SID{SIDEveryone}, 0},
		{"creator owner grants nothing on the key", "O:" + userSID + "D:(A;OICI;KA;;;CO)", []SID{u}, 0},
		{"generic write maps to KEY_WRITE", "D:(A;;GW;;;WD)", []SID{SIDEveryone}, KeyWrite},
		{"generic all maps to KEY_ALL_ACCESS", "D:(A;;GA;;;BU)", []SID{SIDUsers}, KeyAllAccess},
		{"deny before allow", "D:(D;;DC;;;WD)(A;OICI;KA;;;" + userSID + ")", InteractiveUserToken(u), KeyAllAccess &^ KeySetValue},
		{"allow before deny (non-canonical) grants as Windows does", "D:(A;;KA;;;" + userSID + ")(D;;DC;;;WD)", InteractiveUserToken(u), KeyAllAccess},
		{"other SID does not apply", "D:(A;;KA;;;SY)", []SID{u}, 0},
		{"union of groups", "D:(A;;KR;;;BU)(A;;DC;;;IU)", InteractiveUserToken(u), KeyRead | KeySetValue},
		{"maximum allowed and system security are not grantable", "D:(A;;0x3000002;;;WD)", []SID{SIDEveryone}, KeySetValue},
	} {
		sd := mustParse(t, c.sddl)
		if got := Effective(sd, c.token...); got != c.want {
			t.Errorf("%s: Effective = %v, want %v", c.name, got, c.want)
		}
	}
	if Canonical(mustParse(t, "D:(A;;KA;;;WD)(D;;DC;;;WD)")) {
		t.Error("allow before deny reported canonical")
	}
	if !Canonical(mustParse(t, "D:(D;;DC;;;WD)(A;;KA;;;WD)(D;ID;DC;;;BU)(A;ID;KR;;;BU)")) {
		t.Error("canonical order reported non-canonical")
	}
}

func TestLowIntegrityWrite(t *testing.T) {
	for _, c := range []struct {
		sddl string
		want bool
	}{
		{"D:(A;;KA;;;WD)", false},
		{"S:(ML;;NW;;;LW)", true},
		{"S:(ML;;NW;;;S-1-16-0)", true},
		{"S:(ML;;NW;;;ME)", false},
		{"S:(ML;;;;;ME)", true},
		{"S:(ML;;NW;;;HI)", false},
		{"S:(ML;OICIIO;NW;;;LW)", false},
	} {
		if got := LowIntegrityWrite(mustParse(t, c.sddl)); got != c.want {
			t.Errorf("%s: LowIntegrityWrite = %v, want %v", c.sddl, got, c.want)
		}
	}
}

func TestParse_RejectsMalformedWithOffsets(t *testing.T) {
	good := mustBuild(t, "O:BAG:SYD:(A;;KA;;;SY)")
	dacl := int(binary.LittleEndian.Uint32(good[16:]))
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, c := range []struct {
		name string
		b    []byte
		off  int64
	}{
		{"short header", good[:10], 0},
		{"bad revision", mut(func(b []byte) []byte { b[0] = 2; return b }), 0},
		{"absolute form", mut(func(b []byte) []byte { b[3] &^= 0x80; return b }), 2},
		{"owner offset in header", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 8); return b }), 4},
		{"owner offset past end", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 0xFFFFFFF0); return b }), 4},
		{"ACL size past end", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dacl+2:], 0xFFFF); return b }), int64(dacl + 2)},
		{"ACE count too large", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dacl+4:], 500); return b }), int64(dacl + 4)},
		{"ACE size zero", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dacl+8+2:], 0); return b }), int64(dacl + 10)},
		{"SID sub-authority count", mut(func(b []byte) []byte { b[dacl+8+8+1] = 40; return b }), int64(dacl + 16 + 1)},
		{"too large", make([]byte, MaxDescriptorSize+1), 0},
	} {
		_, err := Parse(c.b)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want *FormatError", c.name, err)
			continue
		}
		if fe.Offset != c.off {
			t.Errorf("%s: offset %#x, want %#x (%v)", c.name, fe.Offset, c.off, err)
		}
	}
}

func TestParse_KeepsUnknownACETypesRaw(t *testing.T) {
	b := mustBuild(t, "D:(A;;KA;;;SY)")
	dacl := int(binary.LittleEndian.Uint32(b[16:]))
	b[dacl+8] = 0x30 // an ACE type no Windows defines
	sd, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	a := sd.DACL.ACEs[0]
	if a.Known() || len(a.Raw) != int(a.Size)-4 || a.Type.String() != "ACE_TYPE_0x30" {
		t.Errorf("unknown ACE: %+v", a)
	}
	if got := sd.SDDL(); got != "D:(0x30;;;;;)" {
		t.Errorf("SDDL of unknown ACE %q", got)
	}
	if Effective(sd, SIDSystem) != 0 {
		t.Error("unknown ACE must grant nothing")
	}
}

func TestParse_ObjectACE(t *testing.T) {
	sd := &SecurityDescriptor{Control: SEDACLPresent}
	g := GUID{0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30, 0x49, 0xe2}
	sd.DACL = &ACL{ACEs: []ACE{{Type: AccessAllowedObject, Mask: 0x10, ObjectType: &g, SID: SIDAuthenticatedUsers}}}
	b, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.SDDL(); s != "D:(OA;;RP;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)" {
		t.Errorf("object ACE SDDL %q", s)
	}
}

func TestBaselines_MatchCorpusShapes(t *testing.T) {
	u := MustSID(userSID)
	for _, c := range []struct {
		kind KeyKind
		sddl string
		era  string
	}{
		{UserEnvironment, "O:BAG:BAD:(A;OICIID;KA;;;" + userSID + ")(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)", "win7"},
		{UserEnvironment, "O:SYG:SYD:P(A;OICI;KA;;;" + userSID + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)", "win10"},
		{UserEnvironment, "O:BAG:BAD:(A;OICIID;KA;;;" + userSID + ")(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)(A;OICIID;KW;;;WD)", ""},
		{UserEnvironment, "O:BAG:BAD:(A;OICIID;KA;;;S-1-5-21-9-9-9-1001)(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)", ""},
		{MachineEnvironment, "O:BAG:BAD:AI(A;ID;KR;;;BU)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)(A;ID;KA;;;SY)(A;CIIOID;GA;;;SY)(A;CIIOID;GA;;;CO)", "win7"},
		{MachineEnvironment, "O:BAG:BAD:AI(A;ID;KR;;;WD)(A;CIIOID;GR;;;BU)(A;ID;KA;;;BA)(A;CIIOID;GA;;;BA)(A;ID;KA;;;SY)(A;CIIOID;GA;;;SY)(A;CIIOID;GA;;;CO)", ""},
	} {
		if got := MatchBaseline(c.kind, mustParse(t, c.sddl), u); got != c.era {
			t.Errorf("%s %s: era %q, want %q", c.kind, c.sddl, got, c.era)
		}
	}
	b, _ := FindBaseline(UserEnvironment, "win10")
	if got := MatchBaseline(UserEnvironment, mustParse(t, "O:BA"+b.DACLSDDL(u)), u); got != "win10" {
		t.Errorf("rendered baseline does not match itself: %q", got)
	}
}

func TestClassify(t *testing.T) {
	u := MustSID(userSID)
	for _, c := range []struct {
		sid  string
		want TrusteeClass
	}{
		{userSID, ClassProfileOwner}, {"S-1-5-18", ClassSystem}, {"S-1-5-32-544", ClassAdministrators},
		{"S-1-1-0", ClassBroad}, {"S-1-5-11", ClassBroad}, {"S-1-5-32-545", ClassBroad}, {"S-1-5-4", ClassBroad},
		{"S-1-5-21-1-2-3-1002", ClassOtherUser}, {"S-1-5-21-1-2-3-500", ClassOtherUser},
		{"S-1-5-21-1-2-3-513", ClassDomainGroup}, {"S-1-3-0", ClassCreatorPlaceholder},
		{"S-1-15-3-1024-1", ClassCapability}, {"S-1-15-2-1", ClassAppPackages}, {"S-1-5-12", ClassRestricted},
		{"S-1-5-80-123-4", ClassService}, {"S-1-5-32-551", ClassBuiltinGroup}, {"S-1-16-4096", ClassMandatoryLabel},
	} {
		if got := Classify(MustSID(c.sid), u); got != c.want {
			t.Errorf("Classify(%s) = %s, want %s", c.sid, got, c.want)
		}
	}
}

func TestProfileOwner_FromRootDACL(t *testing.T) {
	root := mustParse(t, "O:BAG:SYD:P(A;OICI;KA;;;"+userSID+")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)")
	if s, ok := ProfileOwner(root); !ok || s.String() != userSID {
		t.Errorf("ProfileOwner = %v %v", s, ok)
	}
	two := mustParse(t, "D:(A;;KA;;;"+userSID+")(A;;KA;;;S-1-5-21-1-2-3-1001)")
	if _, ok := ProfileOwner(two); ok {
		t.Error("two candidate owners must be ambiguous")
	}
}

func TestKindOf(t *testing.T) {
	for p, want := range map[string]KeyKind{
		`HKU\S-1-5-21-1-2-3-1001\Environment`: UserEnvironment,
		`HKCU\Environment`:                    UserEnvironment,
		`Environment`:                         UserEnvironment,
		`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`:        MachineEnvironment,
		`ControlSet001\Control\Session Manager\Environment`:                        MachineEnvironment,
		`HKU\S-1-5-21-1-2-3-1001\Software\Environment`:                             "",
		`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\Subkey`: "",
	} {
		if got := KindOf(p); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", p, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"O:BAG:SYD:(A;OICIID;KA;;;" + userSID + ")(A;OICIID;KR;;;RC)",
		"O:SYG:SYD:P(A;OICI;KA;;;SY)(A;OICI;KR;;;AC)S:AI",
		"O:BAG:SYD:PAI(A;;KR;;;BU)(A;CIIO;GR;;;BU)(A;CIIO;GA;;;CO)",
		"D:NO_ACCESS_CONTROL",
		"S:(ML;OICI;NW;;;LW)(AU;SAFA;KA;;;WD)",
		"D:(D;;DC;;;WD)(A;;0x1200a9;;;BU)",
	} {
		f.Add(mustBuild(f, s))
	}
	f.Add([]byte{1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0xff, 0xff, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Parse(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FormatError: %v", err)
			}
			return
		}
		_ = sd.SDDL()
		_ = Principals(sd)
		_ = Canonical(sd)
		_ = LowIntegrityWrite(sd)
		if sd.Size > len(b) {
			t.Fatalf("Size %d beyond input %d", sd.Size, len(b))
		}
		// What parsed must survive a re-encode and parse to the same SDDL.
		out, err := sd.Marshal()
		if err != nil {
			return
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded descriptor does not parse: %v", err)
		}
		if again.SDDL() != sd.SDDL() {
			t.Fatalf("re-encode changed SDDL:\n%s\n%s", sd.SDDL(), again.SDDL())
		}
	})
}

func TestSuggestBaseline_AndRestoreSDDL(t *testing.T) {
	u := MustSID(userSID)
	for _, c := range []struct {
		kind    KeyKind
		sddl    string
		restore string
	}{
		{UserEnvironment, "D:(A;OICIID;KA;;;SY)(A;;KW;;;WD)", "D:AI"},
		{UserEnvironment, "D:P(A;OICI;KA;;;SY)(A;;KW;;;WD)", "D:P(A;OICI;KA;;;" + userSID + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)"},
		{UserEnvironment, "D:(A;;KA;;;SY)(A;OICIIO;GA;;;SY)", "D:(A;;KA;;;" + userSID + ")(A;;KA;;;SY)(A;;KA;;;BA)(A;;KR;;;RC)(A;OICIIO;GA;;;" + userSID + ")(A;OICIIO;GA;;;SY)(A;OICIIO;GA;;;BA)(A;OICIIO;GR;;;RC)"},
		{MachineEnvironment, "D:NO_ACCESS_CONTROL", "D:AI"},
	} {
		b := SuggestBaseline(c.kind, mustParse(t, c.sddl))
		if got := b.RestoreSDDL(u); got != c.restore {
			t.Errorf("%s %s: restore %s (era %s), want %s", c.kind, c.sddl, got, b.Era, c.restore)
		}
	}
}

func BenchmarkParseAndSDDL(b *testing.B) {
	raw := mustBuild(b, "O:SYG:SYD:P(A;OICI;KA;;;"+userSID+")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)S:AI")
	b.ReportAllocs()
	for b.Loop() {
		sd, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		_ = sd.SDDL()
		_ = Principals(sd)
	}
}
