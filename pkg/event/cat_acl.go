package event

// RegistryACL is the category of security-descriptor events: one per ACE
// of a key's DACL, one per trustee with its effective rights, and one
// summary per key (EventType "ace", "principal", "key").
const RegistryACL Category = "registry_acl"

func init() {
	Declare(CategorySpec{
		Category: RegistryACL,
		Doc: "The security descriptor of a registry key (by default the user and machine Environment keys): " +
			"one event per DACL entry (EventType \"ace\"), one per trustee with its effective rights on the key itself " +
			"(EventType \"principal\"), and one summary per key (EventType \"key\"). Effective rights follow Windows' access check: " +
			"INHERIT_ONLY entries and CREATOR OWNER/GROUP placeholders grant nothing on the key, GENERIC_* rights are mapped to key rights, " +
			"entries apply in order (deny before allow in a canonical DACL). See docs/acl.md.",
		Sources: "the key's sk cell in NTUSER.DAT / SYSTEM",
		Fields: []Field{
			{"EventType", "string", "\"ace\" (one DACL entry), \"principal\" (one trustee's effective rights) or \"key\" (the descriptor as a whole)"},
			{"TargetObject", "string", "the key: HKU\\<SID>\\Environment, HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment, ..."},
			{"KeyKind", "string", "\"user-environment\", \"machine-environment\", or \"\" for other keys (the kinds with a baseline)"},
			{"Hive", "string", "type of the hive (NTUSER, SYSTEM, ...)"},
			{"LastWrite", "time", "last-write time of the key"},
			{"ProfileOwnerSid", "string", "SID of the user whose profile holds the key (ProfileList, else the root key's DACL); \"\" for machine keys or when unknown"},
			{"Owner", "string", "SID of the key's owner (\"\" when the descriptor has none)"},
			{"OwnerName", "string", "account name of the owner, when known"},
			{"OwnerClass", "string", "trustee class of the owner (see TrusteeClass)"},
			{"OwnerAllowed", "bool", "the owner is SYSTEM, Administrators or (user keys) the profile owner"},
			{"Group", "string", "SID of the key's primary group"},
			{"Sddl", "string", "the whole descriptor in SDDL, as Windows writes it"},
			{"Control", "[]string", "control flags set (SE_DACL_PRESENT, SE_DACL_PROTECTED, SE_DACL_AUTO_INHERITED, ...)"},
			{"DaclProtected", "bool", "SE_DACL_PROTECTED: the key does not inherit from its parent"},
			{"NullDacl", "bool", "the key has no DACL (a NULL DACL): everyone has full access"},
			{"EmptyDacl", "bool", "the DACL has no entries: nobody but the owner (READ_CONTROL, WRITE_DAC) has any access"},
			{"Canonical", "bool", "the DACL is in canonical order (explicit before inherited, deny before allow)"},
			{"SharedBy", "int", "how many keys share this descriptor (the sk cell's reference count)"},
			{"MandatoryLabel", "string", "integrity level of the key's mandatory label (Untrusted, Low, Medium, High, System), \"\" when it has none (Medium)"},
			{"MandatoryPolicy", "[]string", "the label's policy (NO_WRITE_UP, NO_READ_UP, NO_EXECUTE_UP)"},
			{"LowIntegrityWrite", "bool", "a Low-integrity process may write the key as far as the mandatory label goes (Low/Untrusted label, or a label without NO_WRITE_UP)"},
			{"BaselineEra", "string", "key events: the Windows era (xp, win7, win10) whose default DACL this one is exactly; \"\" when none"},
			{"IsBaseline", "bool", "key: the DACL is a Windows default; ace: the entry belongs to a default DACL of this key kind; principal: all its entries do"},
			{"OwnerWriteDenied", "bool", "key: the key's rightful writer cannot set values (the profile owner with a standard interactive token for a user key, SYSTEM for the machine key)"},
			{"WriteTrustees", "[]string", "key: SIDs other than the profile owner, SYSTEM and Administrators that can set values or change the DACL or owner"},
			{"UnmatchedInheritedTrustees", "[]string", "key: SIDs of inherited entries that match no inheritable entry of the parent key"},
			{"AceIndex", "int", "ace: position of the entry in the DACL, from 0"},
			{"AceType", "string", "ace: ACCESS_ALLOWED, ACCESS_DENIED, ACCESS_ALLOWED_OBJECT, ..."},
			{"AceFlags", "[]string", "ace: OBJECT_INHERIT, CONTAINER_INHERIT, NO_PROPAGATE_INHERIT, INHERIT_ONLY, INHERITED, ..."},
			{"Trustee", "string", "ace, principal: SID the entry names"},
			{"TrusteeName", "string", "ace, principal: account name of the trustee, when known (well-known names, ProfileList)"},
			{"TrusteeClass", "string", "ace, principal: profile-owner, system, administrators, restricted, app-packages, capability, creator-placeholder, well-known-broad, service, other-user, domain-group, builtin-group, mandatory-label, other"},
			{"AccessMask", "int", "ace: the access mask as stored"},
			{"Rights", "[]string", "ace: names of the mask's bits as stored (KEY_SET_VALUE, WRITE_DAC, GENERIC_ALL, ...)"},
			{"RightsText", "string", "ace: the mask for reading: KEY_ALL_ACCESS, KEY_READ, KEY_WRITE when it is exactly one, else the names joined with |"},
			{"AceSddl", "string", "ace: the entry in SDDL, as Windows writes it ((A;OICI;KA;;;SY))"},
			{"MappedRights", "[]string", "ace: the mask's rights with GENERIC_* mapped to key rights"},
			{"Inherited", "bool", "ace: INHERITED_ACE is set"},
			{"InheritOnly", "bool", "ace: INHERIT_ONLY_ACE is set (the entry shapes subkeys only)"},
			{"Inheritable", "bool", "ace: subkeys created later inherit the entry (CONTAINER_INHERIT or OBJECT_INHERIT)"},
			{"AppliesToKey", "bool", "ace: the entry takes part in access checks on the key itself (an allow or deny entry, not INHERIT_ONLY, not a CREATOR placeholder)"},
			{"InheritedUnmatched", "bool", "ace: the entry is marked inherited but its SID matches no inheritable entry of the parent key (nor the owner in place of CREATOR OWNER)"},
			{"EffectiveRights", "[]string", "ace, principal: rights the trustee holds on the key itself through the whole DACL (generic rights mapped)"},
			{"EffectiveRightsText", "string", "ace, principal: the effective rights for reading (composite name or names joined with |; \"none\" when empty)"},
			{"EffectiveMask", "int", "principal: the effective rights as a mask"},
			{"DeniedRights", "[]string", "principal: rights deny entries take from the trustee"},
			{"InheritOnlyRights", "[]string", "principal: rights the trustee's INHERIT_ONLY entries give subkeys created later"},
			{"CanWrite", "bool", "principal: the effective rights include KEY_SET_VALUE, WRITE_DAC or WRITE_OWNER"},
			{"CanDeleteOrCreateSubkey", "bool", "principal: the effective rights include DELETE or KEY_CREATE_SUB_KEY"},
		},
	})
}
