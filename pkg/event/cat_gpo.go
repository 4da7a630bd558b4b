package event

// Group Policy categories: what a policy file in the collection tells
// Windows to do, read from the files themselves (Registry.pol, scripts.ini,
// Group Policy Preferences XML) rather than from the registry state they
// leave behind. TargetObject uses the registry_set naming so rules can match
// the same keys in both.
const (
	GPORegistry    Category = "gpo_registry"
	GPOScript      Category = "gpo_script"
	GPPEnvironment Category = "gpp_environment"
)

var gpoPlaceFields = []Field{
	{"Scope", "string", "\"Machine\" or \"User\": which half of the policy the file belongs to (from its folder)"},
	{"GPOGuid", "string", "the policy's GUID ({...}) from the file's path (SYSVOL Policies\\{GUID}, History\\{GUID}); \"\" for the local policy"},
	{"PolicyFile", "string", "the policy file as it lies on the original volume (Windows\\System32\\GroupPolicy\\User\\Registry.pol, ...)"},
}

func init() {
	Declare(CategorySpec{
		Category: GPORegistry,
		Doc:      "One registry change a policy applies: a record of a Registry.pol file (one event per value a deletion list names) or a Group Policy Preferences Registry.xml item.",
		Sources:  "Registry.pol (local policy, SYSVOL, Group Policy history); GPP Registry.xml",
		Fields: append([]Field{
			{"TargetObject", "string", "the value the change applies to: HKLM\\..., HKU\\<SID>\\... when the user is known, else HKCU\\...; for key-level actions the key itself"},
			{"KeyPath", "string", "the key in the same naming, without the value name"},
			{"Key", "string", "the key as the file stores it (below HKLM or HKCU for Registry.pol; below the item's hive for Registry.xml)"},
			{"ValueName", "string", "the value acted on, without the **del./**soft. prefix; \"\" for key-level actions and default values"},
			{"RawValueName", "string", "the value name exactly as stored (Registry.pol special names: **del.X, **delvals., **DeleteValues, **DeleteKeys, **SecureKey, **soft.X)"},
			{"Action", "string", "Registry.pol: set, set_if_absent, create_key, delete_value, delete_all_values, delete_keys, secure_key; Registry.xml: create, replace, update, delete"},
			{"Type", "string", "value type (REG_SZ, REG_EXPAND_SZ, REG_DWORD, ...)"},
			{"Data", "string|int|[]string", "typed data: string, integer, list of strings, or lowercase hex for other types"},
			{"Details", "string", "data rendered as Sysmon prints it (DWORD (0x00000001), (Empty), ...)"},
			{"Format", "string", "\"Registry.pol\" or \"GPP Registry.xml\""},
			{"ItemName", "string", "GPP item name (Registry.xml only)"},
			{"Collection", "string", "GPP collection folders holding the item, joined with \\ (Registry.xml only)"},
			{"Disabled", "bool", "true when the GPP item is switched off (Registry.xml only)"},
		}, gpoPlaceFields...),
	})
	Declare(CategorySpec{
		Category: GPOScript,
		Doc:      "One script a policy runs at logon, logoff, startup or shutdown: an entry of scripts.ini or psscripts.ini, with the script's body when the collection holds it.",
		Sources:  "scripts.ini / psscripts.ini in a policy's Scripts folder (local policy, SYSVOL, Group Policy history), and the script files beside it",
		Fields: append([]Field{
			{"Phase", "string", "Logon, Logoff, Startup or Shutdown"},
			{"Index", "int", "the entry's number N (NCmdLine): scripts of a phase run in this order"},
			{"CmdLine", "string", "the script: a name relative to the policy's Scripts\\<Phase> folder, or a full or UNC path"},
			{"Parameters", "string", "its parameters (NParameters)"},
			{"PowerShell", "bool", "true for psscripts.ini entries and .ps1 scripts"},
			{"ScriptBody", "string", "the script's text when the collection holds the file (at most 1 MiB; UTF-16 bodies decoded)"},
			{"ScriptBodyTruncated", "bool", "true when the body was longer than the bound and cut"},
			{"ScriptFile", "string", "path of the body's file in the collection, \"\" when not found"},
			{"TargetObject", "string", "a registry-style name for the entry: <PolicyFile>\\<Phase>\\<Index>"},
			{"Details", "string", "the command line and parameters together, as the script runs"},
			{"KeyPath", "string", "<PolicyFile>\\<Phase>: the ini section, so findings name the file and section like a key"},
			{"ValueName", "string", "<Index>CmdLine: the ini key of the entry"},
		}, gpoPlaceFields...),
	})
	Declare(CategorySpec{
		Category: GPPEnvironment,
		Doc:      "One Group Policy Preferences environment-variable item (EnvironmentVariables.xml).",
		Sources:  "GPP EnvironmentVariables.xml (SYSVOL, Group Policy history)",
		Fields: append([]Field{
			{"Action", "string", "create, replace, update or delete"},
			{"Name", "string", "the variable's name"},
			{"Value", "string", "the value the item writes"},
			{"UserVariable", "bool", "true for a user variable (HKCU\\Environment), false for a system one (Session Manager\\Environment): the item's user attribute (named so as not to clash with the common User field)"},
			{"Partial", "bool", "true when the item adds to or removes from the existing value instead of replacing it (Path-like variables)"},
			{"Disabled", "bool", "true when the item is switched off"},
			{"ItemName", "string", "the item's display name"},
			{"Collection", "string", "collection folders holding the item, joined with \\"},
			{"Changed", "string", "the item's changed attribute as the editor wrote it (the administrator's local time)"},
			{"UID", "string", "the item's GUID"},
			{"TargetObject", "string", "the registry value the item writes: HKU\\<SID>\\Environment\\<Name> (HKCU\\... when the user is not known) or HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\\<Name>"},
			{"KeyPath", "string", "the Environment key of TargetObject"},
			{"ValueName", "string", "the variable's name, as a registry value name (same as Name)"},
			{"Details", "string", "the value the item writes, (Empty) for none"},
		}, gpoPlaceFields...),
	})
}
