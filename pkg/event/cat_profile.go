package event

// ProfileDiff is a difference between a user's local NTUSER.DAT and the
// server copy of the roaming profile (pkg/profile), with the verdict of
// which copy Windows loads at the next logon.
const ProfileDiff Category = "profile_diff"

func init() {
	Declare(CategorySpec{
		Category: ProfileDiff,
		Doc:      "One difference between a user's local NTUSER.DAT and the server copy of the roaming profile, or one verdict event per pair (Change = verdict).",
		Sources:  "local NTUSER.DAT and the copy under scan --roaming DIR",
		Fields: []Field{
			{"Change", "string", "key_added, key_removed, value_added, value_removed, value_modified, key_timestamp, acl_changed (added = only on the server copy), or verdict"},
			{"TargetObject", "string", "HKU\\<SID>\\key\\value of the change"},
			{"KeyPath", "string", "HKU\\<SID>\\key"},
			{"ValueName", "string", "value name (\"\" for key changes and the default value)"},
			{"Details", "string", "the data the winning copy brings (server data when the server wins, else local)"},
			{"LocalType", "string", "value type in the local copy"},
			{"LocalData", "string", "value data in the local copy"},
			{"ServerType", "string", "value type in the server copy"},
			{"ServerData", "string", "value data in the server copy"},
			{"LocalLastWrite", "time", "key last write in the local copy"},
			{"ServerLastWrite", "time", "key last write in the server copy"},
			{"InEnvironment", "bool", "the change is in HKCU\\Environment"},
			{"Winner", "string", "local, server or undetermined: the copy Windows loads at logon"},
			{"DecidedBy", "string", "the clock that decided: file times, base block last written, newest key last write"},
			{"LocalTime", "time", "the local copy's time the verdict compared"},
			{"ServerTime", "time", "the server copy's time the verdict compared"},
			{"StaleServerEnvironment", "bool", "the server copy wins but its Environment key is older than the local one"},
			{"LocalFile", "string", "local hive file"},
			{"ServerFile", "string", "server hive file"},
			{"EnvironmentChanges", "int", "verdict events: how many Environment values differ"},
		},
	})
}
