package secdesc

import "strings"

// TrusteeClass sorts trustees by what granting them rights means.
type TrusteeClass string

// Trustee classes.
const (
	// ClassProfileOwner is the user whose profile (NTUSER.DAT) holds the key.
	ClassProfileOwner TrusteeClass = "profile-owner"
	// ClassSystem is NT AUTHORITY\SYSTEM.
	ClassSystem TrusteeClass = "system"
	// ClassAdministrators is BUILTIN\Administrators.
	ClassAdministrators TrusteeClass = "administrators"
	// ClassRestricted is NT AUTHORITY\RESTRICTED (restricted tokens).
	ClassRestricted TrusteeClass = "restricted"
	// ClassAppPackages is ALL APPLICATION PACKAGES or ALL RESTRICTED
	// APPLICATION PACKAGES (AppContainer processes).
	ClassAppPackages TrusteeClass = "app-packages"
	// ClassCapability is an app capability SID (S-1-15-3-...).
	ClassCapability TrusteeClass = "capability"
	// ClassCreatorPlaceholder is CREATOR OWNER or CREATOR GROUP: replaced
	// by the creator's SIDs in subkeys, granting nothing on the key itself.
	ClassCreatorPlaceholder TrusteeClass = "creator-placeholder"
	// ClassBroad is a well-known group that holds (nearly) every user or
	// process: Everyone, Authenticated Users, BUILTIN\Users, INTERACTIVE,
	// Guests, ANONYMOUS LOGON, NETWORK, BATCH, LOCAL, CONSOLE LOGON, This
	// Organization, Power Users, Remote Desktop Users, OWNER RIGHTS.
	ClassBroad TrusteeClass = "well-known-broad"
	// ClassService is a service identity: SERVICE, LOCAL SERVICE, NETWORK
	// SERVICE, NT SERVICE\*.
	ClassService TrusteeClass = "service"
	// ClassOtherUser is an account (or custom group) of the machine or a
	// domain other than the profile owner: S-1-5-21-...-RID with RID 500-504
	// or 1000 and above.
	ClassOtherUser TrusteeClass = "other-user"
	// ClassDomainGroup is a well-known group of a machine or domain
	// (Domain Users 513, Domain Admins 512, ...: RIDs below 1000 other than
	// 500-504).
	ClassDomainGroup TrusteeClass = "domain-group"
	// ClassBuiltinGroup is another BUILTIN group (Backup Operators, ...).
	ClassBuiltinGroup TrusteeClass = "builtin-group"
	// ClassMandatoryLabel is an integrity level SID (S-1-16-N).
	ClassMandatoryLabel TrusteeClass = "mandatory-label"
	// ClassOther is anything else.
	ClassOther TrusteeClass = "other"
)

var broadSIDs = map[SID]bool{
	SIDEveryone: true, SIDAuthenticatedUsers: true, SIDUsers: true, SIDInteractive: true,
	SIDGuests: true, SIDAnonymous: true, SIDNetwork: true, SIDBatch: true, SIDLocal: true,
	SIDConsoleLogon: true, SIDThisOrganization: true, SIDPowerUsers: true,
	SIDRemoteDesktopUsers: true, SIDOwnerRights: true, NewSID(5, 14): true, NewSID(5, 13): true,
}

// Classify returns the class of trustee s; profileOwner (zero when unknown)
// is the user whose profile holds the key.
func Classify(s, profileOwner SID) TrusteeClass {
	switch {
	case !profileOwner.IsZero() && s == profileOwner:
		return ClassProfileOwner
	case s == SIDSystem:
		return ClassSystem
	case s == SIDAdministrators:
		return ClassAdministrators
	case s == SIDRestricted:
		return ClassRestricted
	case s == SIDAllAppPackages || s == SIDAllRestrictedAppPackages:
		return ClassAppPackages
	case s.IsCapability():
		return ClassCapability
	case s == SIDCreatorOwner || s == SIDCreatorGroup || s == NewSID(3, 2) || s == NewSID(3, 3):
		return ClassCreatorPlaceholder
	case broadSIDs[s]:
		return ClassBroad
	case s == SIDService || s == SIDLocalService || s == SIDNetworkService || s.hasPrefix(5, 80):
		return ClassService
	case s.IsDomainAccount():
		if r := s.RID(); r >= 1000 || (r >= 500 && r <= 504) {
			return ClassOtherUser
		}
		return ClassDomainGroup
	case s.hasPrefix(5, 32) && s.count == 2:
		return ClassBuiltinGroup
	case s.IsMandatoryLabel():
		return ClassMandatoryLabel
	}
	return ClassOther
}

// KeyKind names the keys envhunt holds a baseline for.
type KeyKind string

// Key kinds.
const (
	// UserEnvironment is HKCU\Environment (the root-relative key
	// "Environment" of an NTUSER.DAT).
	UserEnvironment KeyKind = "user-environment"
	// MachineEnvironment is HKLM\SYSTEM\CurrentControlSet\Control\Session
	// Manager\Environment.
	MachineEnvironment KeyKind = "machine-environment"
)

// KindOf returns the kind of a key path in any of the usual spellings
// (HKU\<SID>\Environment, HKCU\Environment, a hive-relative "Environment",
// ...\ControlSet00N\Control\Session Manager\Environment), or "".
func KindOf(path string) KeyKind {
	p := strings.ToLower(strings.Trim(path, `\`))
	parts := strings.Split(p, `\`)
	switch {
	case strings.HasSuffix(p, `\control\session manager\environment`):
		return MachineEnvironment
	case p == "environment",
		len(parts) == 2 && parts[1] == "environment" && parts[0] == "hkcu",
		len(parts) == 2 && parts[1] == "environment" && parts[0] == "hkey_current_user",
		len(parts) == 3 && parts[2] == "environment" && (parts[0] == "hku" || parts[0] == "hkey_users"):
		return UserEnvironment
	}
	return ""
}

// BaselineACE is one allowed entry of a baseline DACL.
type BaselineACE struct {
	Class TrusteeClass
	Type  ACEType
	Flags ACEFlags
	Mask  AccessMask
	// SID is the trustee written when the baseline is rendered (for
	// classes that stand for one SID); ClassProfileOwner takes the
	// profile owner's SID instead.
	SID SID
}

// Baseline is the DACL Windows gives a key in one era, as found in real
// hives.
type Baseline struct {
	Era  string
	Kind KeyKind
	// Protected is whether the DACL carries SE_DACL_PROTECTED in this era.
	Protected bool
	ACEs      []BaselineACE
}

// win10Capability is the capability SID Windows 10 and 11 grant read on
// both Environment keys.
var win10Capability = MustSID("S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681")

const (
	oici   = ObjectInherit | ContainerInherit
	oiciid = ObjectInherit | ContainerInherit | Inherited
	oiciio = ObjectInherit | ContainerInherit | InheritOnly
	ciid   = ContainerInherit | Inherited
	ciioid = ContainerInherit | InheritOnly | Inherited
)

// Baselines are the DACLs of the two Environment keys as Windows writes
// them, per era; they produce no finding. Sources: the corpus hives (an XP
// profile with explicit entries plus INHERIT_ONLY generic copies; Windows 7
// profiles and SYSTEM hives with inherited entries; Windows 10 profiles and
// SYSTEM hives with the AppContainer entries).
var Baselines = []Baseline{
	{Era: "xp", Kind: UserEnvironment, ACEs: []BaselineACE{
		{ClassProfileOwner, AccessAllowed, 0, KeyAllAccess, SID{}},
		{ClassSystem, AccessAllowed, 0, KeyAllAccess, SIDSystem},
		{ClassAdministrators, AccessAllowed, 0, KeyAllAccess, SIDAdministrators},
		{ClassRestricted, AccessAllowed, 0, KeyRead, SIDRestricted},
		{ClassProfileOwner, AccessAllowed, oiciio, GenericAll, SID{}},
		{ClassSystem, AccessAllowed, oiciio, GenericAll, SIDSystem},
		{ClassAdministrators, AccessAllowed, oiciio, GenericAll, SIDAdministrators},
		{ClassRestricted, AccessAllowed, oiciio, GenericRead, SIDRestricted},
	}},
	{Era: "win7", Kind: UserEnvironment, ACEs: []BaselineACE{
		{ClassProfileOwner, AccessAllowed, oiciid, KeyAllAccess, SID{}},
		{ClassSystem, AccessAllowed, oiciid, KeyAllAccess, SIDSystem},
		{ClassAdministrators, AccessAllowed, oiciid, KeyAllAccess, SIDAdministrators},
		{ClassRestricted, AccessAllowed, oiciid, KeyRead, SIDRestricted},
	}},
	{Era: "win10", Kind: UserEnvironment, Protected: true, ACEs: []BaselineACE{
		{ClassProfileOwner, AccessAllowed, oici, KeyAllAccess, SID{}},
		{ClassSystem, AccessAllowed, oici, KeyAllAccess, SIDSystem},
		{ClassAdministrators, AccessAllowed, oici, KeyAllAccess, SIDAdministrators},
		{ClassRestricted, AccessAllowed, oici, KeyRead, SIDRestricted},
		{ClassAppPackages, AccessAllowed, oici, KeyRead, SIDAllAppPackages},
		{ClassCapability, AccessAllowed, oici, KeyRead, win10Capability},
	}},
	{Era: "win7", Kind: MachineEnvironment, ACEs: []BaselineACE{
		{ClassBroad, AccessAllowed, Inherited, KeyRead, SIDUsers},
		{ClassBroad, AccessAllowed, ciioid, GenericRead, SIDUsers},
		{ClassAdministrators, AccessAllowed, Inherited, KeyAllAccess, SIDAdministrators},
		{ClassAdministrators, AccessAllowed, ciioid, GenericAll, SIDAdministrators},
		{ClassSystem, AccessAllowed, Inherited, KeyAllAccess, SIDSystem},
		{ClassSystem, AccessAllowed, ciioid, GenericAll, SIDSystem},
		{ClassCreatorPlaceholder, AccessAllowed, ciioid, GenericAll, SIDCreatorOwner},
	}},
	{Era: "win10", Kind: MachineEnvironment, ACEs: []BaselineACE{
		{ClassBroad, AccessAllowed, ciid, KeyRead, SIDUsers},
		{ClassAdministrators, AccessAllowed, ciid, KeyAllAccess, SIDAdministrators},
		{ClassSystem, AccessAllowed, ciid, KeyAllAccess, SIDSystem},
		{ClassCreatorPlaceholder, AccessAllowed, ciioid, KeyAllAccess, SIDCreatorOwner},
		{ClassAppPackages, AccessAllowed, ciid, KeyRead, SIDAllAppPackages},
		{ClassCapability, AccessAllowed, ciid, KeyRead, win10Capability},
	}},
}

// matches reports whether ace is this baseline entry. Only Users stands
// for the broad class, and only CREATOR OWNER for the placeholder class, so
// that Everyone or CREATOR GROUP never pass as baseline.
func (b BaselineACE) matches(a *ACE, profileOwner SID) bool {
	if !a.Known() || a.Type != b.Type || a.Flags != b.Flags || a.Mask != b.Mask {
		return false
	}
	c := Classify(a.SID, profileOwner)
	if c != b.Class {
		return false
	}
	switch c {
	case ClassCapability, ClassProfileOwner:
		return true
	}
	return a.SID == b.SID
}

// IsBaselineACE reports whether ace is allowed by any era's baseline for
// keys of kind.
func IsBaselineACE(kind KeyKind, a *ACE, profileOwner SID) bool {
	for _, b := range Baselines {
		if b.Kind != kind {
			continue
		}
		for _, e := range b.ACEs {
			if e.matches(a, profileOwner) {
				return true
			}
		}
	}
	return false
}

// MatchBaseline returns the era whose baseline the descriptor's DACL is:
// every ACE an entry of that era and every entry present. "" when none.
func MatchBaseline(kind KeyKind, sd *SecurityDescriptor, profileOwner SID) string {
	if sd.DACL == nil {
		return ""
	}
	for _, b := range Baselines {
		if b.Kind != kind || len(b.ACEs) != len(sd.DACL.ACEs) {
			continue
		}
		used := make([]bool, len(b.ACEs))
		ok := true
		for i := range sd.DACL.ACEs {
			found := false
			for j, e := range b.ACEs {
				if !used[j] && e.matches(&sd.DACL.ACEs[i], profileOwner) {
					used[j], found = true, true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			return b.Era
		}
	}
	return ""
}

// FindBaseline returns the baseline of kind for era.
func FindBaseline(kind KeyKind, era string) (Baseline, bool) {
	for _, b := range Baselines {
		if b.Kind == kind && b.Era == era {
			return b, true
		}
	}
	return Baseline{}, false
}

// DACLSDDL renders the baseline as the D: part of an SDDL string, with
// profileOwner standing for the profile-owner entries (needed for user
// keys).
func (b Baseline) DACLSDDL(profileOwner SID) string {
	var s strings.Builder
	s.WriteString("D:")
	if b.Protected {
		s.WriteString("P")
	}
	for _, e := range b.ACEs {
		a := ACE{Type: e.Type, Flags: e.Flags, Mask: e.Mask, SID: e.SID}
		if e.Class == ClassProfileOwner {
			a.SID = profileOwner
		}
		s.WriteString(a.SDDL())
	}
	return s.String()
}

// AllowedOwner reports whether owner is a normal owner for a key of kind:
// SYSTEM, Administrators, or (for user keys) the profile owner.
func AllowedOwner(kind KeyKind, owner, profileOwner SID) bool {
	switch Classify(owner, profileOwner) {
	case ClassSystem, ClassAdministrators:
		return true
	case ClassProfileOwner:
		return kind != MachineEnvironment
	}
	return false
}

// ProfileOwner infers whose profile a hive is from its root key's
// descriptor: the one machine or domain account (S-1-5-21-...-RID, RID
// 1000 and above or 500/501) that the root DACL grants KEY_ALL_ACCESS on
// the key itself. ok is false when there is none or more than one.
func ProfileOwner(root *SecurityDescriptor) (SID, bool) {
	var found SID
	n := 0
	for _, p := range Principals(root) {
		if Classify(p.SID, SID{}) != ClassOtherUser {
			continue
		}
		if p.Effective&KeyAllAccess == KeyAllAccess {
			if n == 0 || p.SID != found {
				n++
				found = p.SID
			}
		}
	}
	if n != 1 {
		return SID{}, false
	}
	return found, true
}

// SuggestBaseline picks the era whose baseline a damaged descriptor should
// be restored to, from what the descriptor still shows: AppContainer
// entries or a protected DACL mean Windows 8 and later (win10); inherited
// entries mean win7; explicit INHERIT_ONLY GENERIC_ALL copies mean xp; else
// win10, the era of any supported system.
func SuggestBaseline(kind KeyKind, sd *SecurityDescriptor) Baseline {
	era := "win10"
	if sd != nil && sd.DACL != nil && sd.Control&SEDACLProtected == 0 {
		modern, inherited, xpCopies := false, false, false
		for i := range sd.DACL.ACEs {
			a := &sd.DACL.ACEs[i]
			switch {
			case a.SID == SIDAllAppPackages || a.SID.IsCapability():
				modern = true
			case a.IsInherited():
				inherited = true
			case a.Flags == oiciio && a.Mask == GenericAll:
				xpCopies = true
			}
		}
		switch {
		case modern:
		case inherited:
			era = "win7"
		case xpCopies && kind == UserEnvironment:
			era = "xp"
		}
	}
	if b, ok := FindBaseline(kind, era); ok {
		return b
	}
	b, _ := FindBaseline(kind, "win10")
	return b
}

// RestoreSDDL returns the DACL part of an SDDL string that, applied to the
// key (PowerShell: $acl.SetSecurityDescriptorSddlForm(s, 'Access') then
// Set-Acl), gives the baseline back. A baseline made only of inherited
// entries is restored by dropping every explicit entry and turning
// inheritance back on ("D:AI": the parent's inheritable entries flow in
// again); other baselines are written out explicitly, with profileOwner in
// the profile-owner entries.
func (b Baseline) RestoreSDDL(profileOwner SID) string {
	allInherited := len(b.ACEs) > 0
	for _, e := range b.ACEs {
		if e.Flags&Inherited == 0 {
			allInherited = false
		}
	}
	if allInherited {
		return "D:AI"
	}
	return b.DACLSDDL(profileOwner)
}
