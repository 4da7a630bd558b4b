package event

// Categories of the effective environment (pkg/envmodel): what a logon of
// each user would produce, rebuilt offline.
const (
	EnvPath     Category = "env_path"
	EnvVar      Category = "env_var"
	UserProfile Category = "user_profile"
)

var envCommon = []Field{
	{"ProfileKind", "string", "user, template (Users\\Default), system (LocalSystem, DEFAULT hive) or machine (no user hive)"},
	{"Scope", "string", "where the value came from: machine (Session Manager\\Environment), user (HKCU\\Environment) or derived (set at logon from other registry data)"},
	{"OriginKey", "string", "full name of the key the value was read from"},
	{"OriginValue", "string", "name of the registry value it was read from"},
	{"LastWrite", "time", "last-write time of that key"},
	{"TargetObject", "string", "OriginKey\\OriginValue, so registry-style rules and outputs can name it"},
	{"KeyPath", "string", "the same as OriginKey (the key of a finding)"},
	{"ValueName", "string", "the same as OriginValue (the value of a finding)"},
	{"Details", "string", "the PATH entry or the variable's value as processes see it (the data of a finding)"},
}

func init() {
	Declare(CategorySpec{
		Category: EnvPath,
		Doc:      "One directory of a user's effective PATH (machine Path, then the user's Path appended), in order, with where it came from and what is risky about it.",
		Sources:  "SYSTEM Session Manager\\Environment, NTUSER Environment, SOFTWARE ProfileList/CurrentVersion, the file system when collected",
		Fields: append(append([]Field(nil), envCommon...),
			Field{"Position", "int", "1-based position in the effective PATH"},
			Field{"Raw", "string", "the entry as stored"},
			Field{"Expanded", "string", "the entry after expansion, as processes see it"},
			Field{"Flags", "[]string", "empty, relative, quoted, unc, user-profile, own-profile, public, programdata, temp, root-folder, windows, program-files, duplicate, unresolved, user-writable, ahead-of-system32, has-go-exe"},
			Field{"UserWritable", "bool", "the directory is one that users other than administrators can create or write (profiles, Public, ProgramData, temp, root folders, shares)"},
			Field{"AheadOfSystem32", "bool", "the entry comes before %SystemRoot%\\system32"},
			Field{"State", "string", "exists, missing or unknown (the file system is not in the evidence)"},
			Field{"HasGoExe", "bool", "the directory holds go.exe (only when the file system is available)"},
			Field{"ShadowsGo", "bool", "the directory holds go.exe and comes before GOROOT\\bin, so its go.exe wins"},
		),
	})
	Declare(CategorySpec{
		Category: EnvVar,
		Doc:      "One variable of a user's effective environment, with its origin and the facts behind the benign explanations of \"my variable keeps rolling back\".",
		Sources:  "as env_path, plus AppData\\Roaming\\go\\env",
		Fields: append(append([]Field(nil), envCommon...),
			Field{"Name", "string", "variable name"},
			Field{"Value", "string", "value as stored"},
			Field{"Expanded", "string", "value after expansion"},
			Field{"ValueType", "string", "REG_SZ or REG_EXPAND_SZ ('' for derived values)"},
			Field{"Length", "int", "length of the stored user or machine value in characters (for Path, of the user part alone when Scope is user)"},
			Field{"Unresolved", "[]string", "%VAR% references left unexpanded"},
			Field{"UnexpandedReference", "bool", "a REG_SZ value holding %VAR%: Windows never expands it"},
			Field{"Overrides", "string", "the machine value this user value replaces (or, for Path, the machine part it is appended to)"},
			Field{"RepeatsMachinePath", "bool", "user Path that repeats most of the machine Path (setx PATH \"%PATH%;...\")"},
			Field{"GoEnvFileValue", "string", "the value `go env -w` stored for this variable in %APPDATA%\\go\\env"},
			Field{"OverridesGoEnv", "bool", "the environment sets this Go variable to something else than the go env file: the file's value is silently ignored"},
			Field{"DiffersFromOtherControlSet", "bool", "machine values: another ControlSet00N (the last-known-good copy) holds different data or lacks the value"},
			Field{"OtherControlSet", "string", "the other control set compared (ControlSet002, ...)"},
			Field{"OtherControlSetValue", "string", "the value there (\"\" when absent)"},
		),
	})
	Declare(CategorySpec{
		Category: UserProfile,
		Doc:      "One ProfileList entry of SOFTWARE: how Windows loads the user's profile (local, roaming, mandatory, temporary).",
		Sources:  "SOFTWARE ProfileList",
		Fields: []Field{
			{"TargetObject", "string", "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\<SID>"},
			{"ProfileImagePath", "string", "the profile folder"},
			{"State", "int", "State bits (0x1 mandatory, 0x800 temporary, ...)"},
			{"Mandatory", "bool", "State has 0x1, or the hive is NTUSER.MAN: every change is discarded at logoff"},
			{"Temporary", "bool", "State has 0x800, or a <SID>.bak key exists: the real profile failed to load and changes are lost"},
			{"Backup", "bool", "a <SID>.bak key exists"},
			{"CentralProfile", "string", "server path of a roaming profile"},
			{"Roaming", "bool", "CentralProfile is set"},
			{"LoadTime", "time", "LocalProfileLoadTimeHigh/Low"},
			{"UnloadTime", "time", "LocalProfileUnloadTimeHigh/Low"},
			{"LastWrite", "time", "last-write time of the ProfileList key"},
		},
	})
}
