package report

// ActionKind names what a remediation step does.
type ActionKind string

// The remediation steps the script writers know. Other patterns add steps by
// setting Finding.Actions with these kinds.
const (
	// ActionSetValue writes Value = Data with Type under Key (restores a
	// value to a known-good state).
	ActionSetValue ActionKind = "set_value"
	// ActionDeleteValue removes Value from Key.
	ActionDeleteValue ActionKind = "delete_value"
	// ActionResetACL replaces Key's DACL with SDDL (its baseline).
	ActionResetACL ActionKind = "reset_acl"
	// ActionNote is guidance only (written as comments), for what a script
	// must not change itself: a Group Policy object to fix at the domain,
	// a value to review by hand.
	ActionNote ActionKind = "note"
)

// Action is one remediation step for a finding.
type Action struct {
	Kind ActionKind
	// Key is the registry key to change, as events name it:
	// HKU\<SID>\Environment, HKLM\SYSTEM\CurrentControlSet\..., or
	// HKCU\... when the user's SID is not known (then Hive names the
	// NTUSER.DAT to load, and the script targets that loaded hive). The
	// long forms (HKEY_USERS\..., HKEY_LOCAL_MACHINE\...) are accepted.
	Key string
	// Value is the value name ("" for the default value).
	Value string
	// ValueRaw is the value name's original UTF-16LE bytes, for a name that
	// is not valid UTF-16 (a lone surrogate turned into U+FFFD in Value).
	// When set, the PowerShell writer builds the name from these code units
	// so the step removes or restores exactly that value.
	ValueRaw []byte
	// Type is the registry type for ActionSetValue: REG_SZ, REG_EXPAND_SZ,
	// REG_MULTI_SZ, REG_DWORD, REG_QWORD or REG_BINARY.
	Type string
	// Data is the data for ActionSetValue: a string (REG_SZ, REG_EXPAND_SZ),
	// []string (REG_MULTI_SZ), an integer (REG_DWORD, REG_QWORD) or []byte
	// (REG_BINARY).
	Data any
	// SDDL is the baseline security descriptor for ActionResetACL; only its
	// DACL (D:) part is applied.
	SDDL string
	// Hive is the path of the hive file on the responder's machine, used to
	// load it when Key has no SID.
	Hive string
	// Note is the guidance text (for every kind, written as a comment).
	Note string
	// GPOID and GPOName identify a Group Policy object for ActionNote.
	GPOID, GPOName string
}
