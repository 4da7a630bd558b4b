package event

// PSScript is a PowerShell script block logged by the
// Microsoft-Windows-PowerShell/Operational channel (event 4104). Field names
// are SigmaHQ's ps_script names, so SigmaHQ PowerShell script-block rules
// (for example those that catch [Environment]::SetEnvironmentVariable or
// "reg add ...\Environment" in scripts) run unchanged.
const PSScript Category = "ps_script"

func init() {
	Declare(CategorySpec{
		Category: PSScript,
		Doc:      "One PowerShell script block (or one part of a long one) logged by script-block logging.",
		Sources:  "PowerShell Operational event log, event 4104",
		Fields: []Field{
			{"ScriptBlockText", "string", "the text of the script block (one part of it when MessageTotal > 1)"},
			{"ScriptBlockId", "string", "GUID that ties the parts of one script block together"},
			{"Path", "string", "path of the script file, \"\" for interactive or generated code"},
			{"MessageNumber", "int", "number of this part, from 1"},
			{"MessageTotal", "int", "number of parts of the script block"},
			{"UtcTime", "string", "time the block was logged (RFC 3339, UTC, 7 fractional digits)"},
			{"ProcessId", "int", "ID of the PowerShell process (the record's Execution ProcessID)"},
			{"Computer", "string", "computer name recorded in the event"},
			{"Provider_Name", "string", "provider of the log record"},
			{"EventID", "int", "event ID of the log record (4104)"},
		},
	})
}
