package event

// Registry categories. Field names follow Sysmon and SigmaHQ so that SigmaHQ
// registry rules run unchanged; fields a source cannot know (a dead hive has
// no writing process) are simply absent from its events.
const (
	RegistrySet    Category = "registry_set"
	RegistryKey    Category = "registry_key"
	RegistryDelete Category = "registry_delete"
	RegistryRename Category = "registry_rename"
)

var processContextFields = []Field{
	{"Image", "string", "full path of the process that made the change (traces and event logs only; absent for hive state)"},
	{"ProcessId", "int", "ID of that process (traces and event logs only)"},
	{"ProcessGuid", "string", "Sysmon process GUID (Sysmon only)"},
	{"CommandLine", "string", "command line of that process, when the source records it"},
	{"UtcTime", "string", "time of the change as the source recorded it (traces and event logs only)"},
	{"RuleName", "string", "Sysmon rule name (Sysmon only)"},
	{"Status", "string", "NTSTATUS of the operation, when the source records it (ETW)"},
	{"Provider_Name", "string", "provider of the trace or log record (traces and event logs only)"},
	{"EventID", "int", "event ID of the trace or log record (traces and event logs only)"},
}

func init() {
	Declare(CategorySpec{
		Category: RegistrySet,
		Doc:      "One registry value: its state in a hive (one event per value), or a write of it recorded by a trace or event log.",
		Sources:  "hive values; ETW Kernel-Registry and kernel-logger Registry SetValue; Sysmon 13; Security 4657",
		Aliases:  []Category{"registry_event", "registry_add"},
		Fields: append([]Field{
			{"EventType", "string", "\"SetValue\" (Sysmon's name for a value write; hive state is reported the same way)"},
			{"TargetObject", "string", "full value path: HKLM\\SYSTEM\\CurrentControlSet\\...\\Name, HKU\\<SID>\\...\\Name, or HKCU\\... only when no SID is known; the default value is (Default)"},
			{"Details", "string", "value data as Sysmon prints it: DWORD (0x00000001), QWORD (0x00000000-0x00000001), (Empty), Binary Data, else the string (REG_MULTI_SZ entries joined with a space)"},
			{"ValueName", "string", "the value's name, \"\" for the default value"},
			{"ValueType", "string", "REG_SZ, REG_EXPAND_SZ, REG_DWORD, ..."},
			{"Data", "string|int|[]string", "typed data: string, integer, list of strings, or lowercase hex for other types"},
			{"KeyPath", "string", "the key's path in the same naming as TargetObject, without the value name"},
			{"LastWrite", "time", "last-write time of the key that holds the value"},
			{"Hive", "string", "type of the hive (NTUSER, SYSTEM, SOFTWARE, ...) or the trace/log it came from"},
			{"PreviousDetails", "string", "data before the write, when the source records it (Security 4657, ETW with captured data)"},
			{"Recovered", "bool", "true when the value comes from transaction-log recovery (it was only in .LOG1/.LOG2)"},
			{"DataSize", "int", "size of the data written, when a trace records it"},
			{"HiddenName", "bool", "the key's or value's name hides itself: an embedded NUL (regedit shows only what precedes it), a bidirectional override or isolate, or invalid UTF-16 (set only when true)"},
			{"KeyResolution", "string", "traces: how the key was known — event (named by the event), handle (an earlier create/open), rundown (a KCB rundown), ambiguous (only the value name is known)"},
			{"HiveValueExists", "bool", "traces and logs: the host's hive holds this value now"},
			{"HiveDetails", "string", "traces and logs: the value's data in the host's hive now, rendered like Details"},
			{"HiveDiffers", "bool", "traces and logs: the logged data differs from the hive's (or the hive lacks the value): the write was undone, intercepted or overwritten later"},
			{"HiveKeyLastWrite", "time", "traces and logs: last-write time of the key in the host's hive"},
			{"WrittenAfterHiveLastWrite", "bool", "traces and logs: the write happened after the key's last write in the hive, so the hive should show it"},
		}, processContextFields...),
	})
	Declare(CategorySpec{
		Category: RegistryKey,
		Doc:      "One registry key: its state in a hive (one event per key), or a key creation/deletion recorded by a trace or event log.",
		Sources:  "hive keys; ETW CreateKey/DeleteKey; Sysmon 12",
		Aliases:  []Category{"registry_event", "registry_add"},
		Fields: append([]Field{
			{"EventType", "string", "\"CreateKey\" for hive state and creations, \"DeleteKey\" for deletions"},
			{"TargetObject", "string", "full key path (same naming as registry_set)"},
			{"LastWrite", "time", "key last-write time"},
			{"SubkeyCount", "int", "number of subkeys"},
			{"ValueCount", "int", "number of values"},
			{"ClassName", "string", "the key's class name, when it has one"},
			{"HiddenName", "bool", "the key's name hides itself (embedded NUL, bidirectional override, invalid UTF-16; set only when true)"},
			{"KeyResolution", "string", "traces: how the key was known (event, handle, rundown)"},
			{"Hive", "string", "type of the hive or the trace/log it came from"},
		}, processContextFields...),
	})
	Declare(CategorySpec{
		Category: RegistryDelete,
		Doc:      "A deletion of a registry value or key recorded by a trace or event log.",
		Sources:  "ETW DeleteValueKey/DeleteKey; Sysmon 12 (DeleteKey/DeleteValue)",
		Aliases:  []Category{"registry_event"},
		Fields: append([]Field{
			{"EventType", "string", "\"DeleteValue\" or \"DeleteKey\""},
			{"TargetObject", "string", "full path of the deleted value or key"},
			{"KeyPath", "string", "the key, for value deletions"},
			{"ValueName", "string", "the deleted value's name"},
			{"KeyResolution", "string", "traces: how the key was known (event, handle, rundown, ambiguous)"},
			{"Hive", "string", "the trace or log it came from"},
		}, processContextFields...),
	})
	Declare(CategorySpec{
		Category: RegistryRename,
		Doc:      "A key rename recorded by Sysmon event 14.",
		Sources:  "Sysmon 14",
		Aliases:  []Category{"registry_event"},
		Fields: append([]Field{
			{"EventType", "string", "\"RenameKey\""},
			{"TargetObject", "string", "old key path"},
			{"NewName", "string", "new key path"},
			{"Hive", "string", "the log it came from"},
		}, processContextFields...),
	})
}
