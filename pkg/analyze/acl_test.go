package analyze_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/secdesc"
	"github.com/envhunt/envhunt/pkg/winreg"
	builtinrules "github.com/envhunt/envhunt/rules"
)

const aclUser = "S-1-5-21-1111111111-2222222222-3333333333-1001"

// aclRules returns the built-in rules of the acl pattern.
func aclRules(t *testing.T) *rules.RuleSet {
	t.Helper()
	rs, err := builtinrules.Load()
	if err != nil {
		t.Fatalf("built-in rules: %v", err)
	}
	acl := rs.Filter(func(r *rules.Rule) bool { return strings.HasPrefix(r.File, "acl/") })
	if acl.Len() == 0 {
		t.Fatal("no acl rules embedded")
	}
	return acl
}

// aclScan runs ACLEvents over a machine made of the given hives.
func aclScan(t *testing.T, hives ...*hive.Hive) []*event.Event {
	t.Helper()
	var infos []winreg.HiveInfo
	for _, h := range hives {
		infos = append(infos, winreg.HiveInfo{Hive: h})
	}
	m := winreg.New("host1", infos)
	var evs []*event.Event
	err := analyze.ACLEvents(context.Background(), m, nil, analyze.All, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// firedRules returns the file names (without folder and extension) of the
// rules that match any of the events, sorted.
func firedRules(rs *rules.RuleSet, evs []*event.Event) []string {
	set := map[string]bool{}
	for _, ev := range evs {
		for _, m := range rs.Match(ev) {
			set[strings.TrimSuffix(filepath.Base(m.Rule.File), ".yml")] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keyEvent(evs []*event.Event, target string) *event.Event {
	for _, ev := range evs {
		if ev.String("EventType") == "key" && ev.String("TargetObject") == target {
			return ev
		}
	}
	return nil
}

// The corpus hives carry the DACLs Windows writes (XP, Windows 7 and
// Windows 10 eras, per the brief's description of the corpus): each must be
// recognised as its era's baseline and fire no acl rule.
func TestACLEvents_CorpusBaselinesFireNoRule(t *testing.T) {
	rs := aclRules(t)
	for _, c := range []struct {
		file, target, era string
	}{
		{"regipy/NTUSER.DAT", `HKU\S-1-5-21-2036804247-3058324640-2116585241-1673\Environment`, "win7"},
		{"regipy/NTUSER_modified.DAT", `HKU\S-1-5-21-2036804247-3058324640-2116585241-1673\Environment`, "win7"},
		{"regipy/transactions_NTUSER.DAT", `HKU\S-1-5-21-2595688666-2948619230-3055395256-1001\Environment`, "win10"},
		{"velocidex/velocidex_NTUSER.DAT", `HKU\S-1-5-21-789336058-1935655697-839522115-1004\Environment`, "xp"},
		{"regipy/SYSTEM", `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, "win7"},
		{"regipy/SYSTEM_B", `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, "win10"},
	} {
		t.Run(c.file, func(t *testing.T) {
			h, err := hive.Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(c.file, "/")...)...))
			if err != nil {
				t.Fatal(err)
			}
			evs := aclScan(t, h)
			k := keyEvent(evs, c.target)
			if k == nil {
				t.Fatalf("no key event for %s", c.target)
			}
			if got := k.String("BaselineEra"); got != c.era {
				t.Errorf("BaselineEra %q, want %q (%s)", got, c.era, k.String("Sddl"))
			}
			if fired := firedRules(rs, evs); len(fired) != 0 {
				t.Errorf("baseline DACL fired %v", fired)
			}
			for _, ev := range evs {
				if ev.String("EventType") == "ace" && ev.String("InheritedUnmatched") == "true" {
					t.Errorf("inherited entry %s reported unmatched", ev.String("AceSddl"))
				}
			}
		})
	}
}

// aclFixtureHive builds a profile hive whose root carries the Windows 7
// root DACL of aclUser and whose Environment carries envSDDL.
func aclFixtureHive(t *testing.T, envSDDL string) *hive.Hive {
	t.Helper()
	sd := func(s string) []byte {
		d, err := secdesc.FromSDDL(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	when := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	root := &hivetest.Key{Name: "ROOT", LastWrite: when,
		Security: sd("O:BAG:SYD:P(A;OICI;KA;;;" + aclUser + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)"),
		Subkeys: []*hivetest.Key{
			{Name: "Environment", LastWrite: when, Security: sd(envSDDL),
				Values: []hivetest.Value{hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`)}},
			{Name: "Software", LastWrite: when},
		}}
	data, err := hivetest.Build(root, hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Load("NTUSER.DAT", data)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Each abnormal ACL fires exactly the rule written for it.
func TestACLEvents_FixturesFireExactlyTheIntendedRule(t *testing.T) {
	rs := aclRules(t)
	const base = "(A;OICIID;KA;;;" + aclUser + ")(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)"
	for _, c := range []struct {
		name, sddl string
		want       []string
	}{
		{"windows 7 baseline", "O:BAG:BAD:" + base, nil},
		{"windows 10 baseline", "O:SYG:SYD:P(A;OICI;KA;;;" + aclUser + ")(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)", nil},
		{"Everyone may set values", "O:BAG:BAD:" + base + "(A;;KW;;;WD)", []string{"acl_env_write_granted"}},
		{"Users generic write, inherit-only", "O:BAG:BAD:" + base + "(A;CIIO;GW;;;BU)", nil},
		{"Authenticated Users WRITE_DAC", "O:BAG:BAD:" + base + "(A;;WD;;;AU)", []string{"acl_env_write_granted"}},
		{"another user full control", "O:BAG:BAD:" + base + "(A;;KA;;;S-1-5-21-1111111111-2222222222-3333333333-1002)", []string{"acl_env_write_granted"}},
		{"Everyone write denied by a deny entry first", "O:BAG:BAD:(D;;KW;;;WD)" + base + "(A;;KW;;;WD)", []string{"acl_env_owner_write_denied"}},
		{"INTERACTIVE delete only", "O:BAG:BAD:" + base + "(A;;SD;;;IU)", []string{"acl_env_delete_or_create_subkey"}},
		{"NULL DACL", "O:BAG:BAD:NO_ACCESS_CONTROL", []string{"acl_env_null_dacl"}},
		{"empty DACL", "O:BAG:BAD:", []string{"acl_env_owner_write_denied"}},
		{"user write denied", "O:BAG:BAD:(D;;DC;;;" + aclUser + ")" + base, []string{"acl_env_owner_write_denied"}},
		{"low integrity label", "O:BAG:BAD:" + base + "S:(ML;;NW;;;LW)", []string{"acl_env_low_integrity_label"}},
		{"medium label without no-write-up", "O:BAG:BAD:" + base + "S:(ML;;;;;ME)", []string{"acl_env_low_integrity_label"}},
		{"high label", "O:BAG:BAD:" + base + "S:(ML;;NW;;;HI)", nil},
		{"owned by another user", "O:S-1-5-21-1111111111-2222222222-3333333333-1002G:BAD:" + base, []string{"acl_env_unexpected_owner"}},
		{"owned by the user", "O:" + aclUser + "G:BAD:" + base, nil},
		{"CREATOR OWNER inheritable, not inherit-only", "O:BAG:BAD:" + base + "(A;OICI;GA;;;CO)", []string{"acl_env_creator_owner_inheritable"}},
		{"CREATOR OWNER inherit-only", "O:BAG:BAD:" + base + "(A;OICIIO;GA;;;CO)", nil},
		{"inherited entry the root does not pass on", "O:BAG:BAD:" + base + "(A;OICIID;KR;;;S-1-5-21-1111111111-2222222222-3333333333-1002)", []string{"acl_env_inherited_entry_unmatched"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := aclScan(t, aclFixtureHive(t, c.sddl))
			if keyEvent(evs, `HKU\`+aclUser+`\Environment`) == nil {
				t.Fatalf("no key event; the profile owner's SID was not inferred from the root DACL")
			}
			if got := firedRules(rs, evs); !slices.Equal(got, c.want) {
				t.Errorf("fired %v, want %v", got, c.want)
			}
		})
	}
}

func TestDescriptorEvents_Fields(t *testing.T) {
	sd, err := secdesc.FromSDDL("O:BAG:BAD:(A;OICIID;KA;;;" + aclUser + ")(A;;GW;;;WD)(A;CIIO;GA;;;CO)")
	if err != nil {
		t.Fatal(err)
	}
	owner := secdesc.MustSID(aclUser)
	evs := analyze.DescriptorEvents(analyze.ACLKey{
		Name: `HKU\` + aclUser + `\Environment`, Hive: "NTUSER", Host: "pc1", File: "NTUSER.DAT",
		SharedBy: 3, Descriptor: sd, ProfileOwner: owner, Names: secdesc.Names{aclUser: `PC1\alice`},
	})
	types := []string{}
	for _, ev := range evs {
		types = append(types, ev.String("EventType"))
		for _, f := range ev.Names() {
			if !event.HasField(event.RegistryACL, f) {
				t.Errorf("event carries undeclared field %s", f)
			}
		}
	}
	// key summary, 3 entries, 3 trustees (the user, Everyone, CREATOR OWNER)
	if !slices.Equal(types, []string{"key", "ace", "ace", "ace", "principal", "principal", "principal"}) {
		t.Fatalf("event types %v", types)
	}
	k := evs[0]
	for f, want := range map[string]string{
		"KeyKind": "user-environment", "SharedBy": "3", "OwnerAllowed": "true", "NullDacl": "false",
		"WriteTrustees": "S-1-1-0", "BaselineEra": "", "OwnerWriteDenied": "false", "ProfileOwnerSid": aclUser,
	} {
		if got := k.String(f); got != want {
			t.Errorf("key %s = %q, want %q", f, got, want)
		}
	}
	everyone := evs[2]
	for f, want := range map[string]string{
		"Trustee": "S-1-1-0", "TrusteeName": "Everyone", "TrusteeClass": "well-known-broad", "AccessMask": "1073741824",
		"Rights": "GENERIC_WRITE", "RightsText": "GENERIC_WRITE", "EffectiveRightsText": "KEY_WRITE", "AceSddl": "(A;;GW;;;WD)",
		"AppliesToKey": "true", "IsBaseline": "false",
	} {
		if got := everyone.String(f); got != want {
			t.Errorf("ace %s = %q, want %q", f, got, want)
		}
	}
	co := evs[6]
	if co.String("Trustee") != "S-1-3-0" || co.String("EffectiveRightsText") != "none" || co.String("CanWrite") != "false" {
		t.Errorf("CREATOR OWNER principal: %s %s %s", co.String("Trustee"), co.String("EffectiveRightsText"), co.String("CanWrite"))
	}
	if evs[4].String("TrusteeName") != `PC1\alice` {
		t.Errorf("profile owner's name from Names: %q", evs[4].String("TrusteeName"))
	}
}

// An inherited entry naming the key's owner is what a parent's inheritable
// CREATOR OWNER entry becomes: it is matched, while another SID is not.
func TestDescriptorEvents_InheritedFromCreatorOwner(t *testing.T) {
	parse := func(s string) *secdesc.SecurityDescriptor {
		sd, err := secdesc.FromSDDL(s)
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	parent := parse("O:BAG:SYD:(A;CIIO;GA;;;CO)(A;CI;KA;;;SY)")
	for _, c := range []struct {
		sddl      string
		unmatched string
	}{
		{"O:S-1-5-21-1-2-3-1005G:SYD:(A;ID;KA;;;S-1-5-21-1-2-3-1005)(A;CIID;KA;;;SY)", ""},
		{"O:BAG:SYD:(A;ID;KA;;;S-1-5-21-1-2-3-1005)(A;CIID;KA;;;SY)", "S-1-5-21-1-2-3-1005"},
	} {
		evs := analyze.DescriptorEvents(analyze.ACLKey{Name: `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`,
			Descriptor: parse(c.sddl), Parent: parent})
		if got := evs[0].String("UnmatchedInheritedTrustees"); got != c.unmatched {
			t.Errorf("%s: unmatched %q, want %q", c.sddl, got, c.unmatched)
		}
	}
}

// Whatever descriptor a hive holds, the analyzer builds its events without
// panicking and with declared fields only.
func FuzzDescriptorEvents(f *testing.F) {
	for _, s := range []string{
		"O:BAG:BAD:(A;OICIID;KA;;;" + aclUser + ")(A;;KW;;;WD)(D;;DC;;;IU)(A;OICI;GA;;;CO)S:(ML;;NW;;;LW)",
		"O:BAG:SYD:NO_ACCESS_CONTROL",
		"D:",
	} {
		sd, _ := secdesc.FromSDDL(s)
		b, _ := sd.Marshal()
		f.Add(b, true)
	}
	parent, _ := secdesc.FromSDDL("O:BAG:SYD:P(A;OICI;KA;;;" + aclUser + ")(A;CIIO;GA;;;CO)")
	f.Fuzz(func(t *testing.T, b []byte, withParent bool) {
		sd, err := secdesc.Parse(b)
		if err != nil {
			return
		}
		k := analyze.ACLKey{Name: `HKU\` + aclUser + `\Environment`, Descriptor: sd, ProfileOwner: secdesc.MustSID(aclUser)}
		if withParent {
			k.Parent = parent
		}
		for _, ev := range analyze.DescriptorEvents(k) {
			for _, name := range ev.Names() {
				if !event.HasField(event.RegistryACL, name) {
					t.Fatalf("undeclared field %s", name)
				}
			}
		}
	})
}
