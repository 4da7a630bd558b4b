package hive

// LogReport says what happened to one transaction log considered for a hive.
type LogReport struct {
	File     string // the log's path or name
	Format   string // "HvLE" (new format), "DIRT" (old format) or "unknown"
	Applied  bool   // at least one entry (or the dirty vector) was written into the recovered image
	Entries  int    // log entries applied (1 for an old-format log that was applied)
	Pages    int    // dirty pages written into the image
	Sequence uint32 // the sequence number the hive has after this log (0 when not applied)
	Reason   string // why the log was not applied, or why replay stopped early; "" when it was fully applied
}

// ReplayStep identifies one applied log entry, for replay observers.
type ReplayStep struct {
	Log      string // the log's path or name
	Entry    int    // 0-based index of the entry within that log
	Sequence uint32 // the entry's sequence number
}

// logInput is one transaction log held in memory.
type logInput struct {
	name string
	data []byte
}

// discoverLogs returns the transaction logs that lie beside hivePath.
func discoverLogs(hivePath string) []string {
	return nil
}

// replayLogs applies logs to a copy of primary and returns the recovered image.
func replayLogs(name string, primary []byte, logs []logInput, observe func(ReplayStep, []byte) error) ([]byte, []LogReport, error) {
	return primary, nil, nil
}
