package event

// ProcessCreation is a process start recorded by a trace or an event log.
// Field names are SigmaHQ's process_creation names (Sysmon event 1), so
// SigmaHQ process rules, such as those that catch "setx" or
// "reg add ...\Environment" command lines, run unchanged. A source fills only
// what it records: the kernel-logger Process class carries the user SID and
// command line, Kernel-Process carries neither (only a mandatory-label SID),
// Security 4688 carries the command line only when auditing of it is on.
const ProcessCreation Category = "process_creation"

func init() {
	Declare(CategorySpec{
		Category: ProcessCreation,
		Doc:      "One process start (or a process found running at the start of a trace) recorded by a trace or an event log.",
		Sources:  "ETW kernel-logger Process Start/DCStart and Kernel-Process ProcessStart/ProcessRundown; Sysmon 1; Security 4688",
		Fields: []Field{
			{"EventType", "string", "\"ProcessStart\" for a start seen as it happened, \"ProcessRundown\" for a process already running when the trace began"},
			{"UtcTime", "string", "time of the start as the source recorded it (RFC 3339, UTC, 7 fractional digits)"},
			{"ProcessGuid", "string", "Sysmon process GUID (Sysmon only)"},
			{"ProcessId", "int", "ID of the new process"},
			{"Image", "string", "full path (or, in traces, the file or NT device path) of the new process's executable"},
			{"OriginalFileName", "string", "file name from the executable's version resource (Sysmon only)"},
			{"FileVersion", "string", "file version from the version resource (Sysmon only)"},
			{"Description", "string", "file description from the version resource (Sysmon only)"},
			{"Product", "string", "product name from the version resource (Sysmon only)"},
			{"Company", "string", "company name from the version resource (Sysmon only)"},
			{"CommandLine", "string", "command line of the new process, when the source records it"},
			{"CurrentDirectory", "string", "working directory of the new process (Sysmon only)"},
			{"LogonGuid", "string", "Sysmon logon GUID (Sysmon only)"},
			{"LogonId", "string", "logon session ID, hex (Sysmon, Security 4688)"},
			{"TerminalSessionId", "int", "terminal (Windows) session ID of the new process"},
			{"IntegrityLevel", "string", "integrity level: Low, Medium, High, System, or the mandatory-label SID when no name is known"},
			{"Hashes", "string", "hashes of the executable as Sysmon prints them (Sysmon only)"},
			{"ParentProcessGuid", "string", "Sysmon process GUID of the parent (Sysmon only)"},
			{"ParentProcessId", "int", "ID of the parent (creating) process"},
			{"ParentImage", "string", "executable of the parent process, when known"},
			{"ParentCommandLine", "string", "command line of the parent process, when known"},
			{"ParentUser", "string", "DOMAIN\\name of the parent's user (Sysmon only)"},
			{"TokenElevationType", "string", "token elevation type (Security 4688, Kernel-Process): %%1936 full, %%1937 limited, %%1938 default, or the number"},
			{"Provider_Name", "string", "provider of the trace or log record"},
			{"EventID", "int", "event ID (manifest events) or opcode (kernel-logger events) of the record"},
		},
	})
}
