package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Log formats reported in LogReport.Format.
const (
	LogFormatNew     = "HvLE"    // new format (Windows 8.1 and later): log entries with Marvin32 hashes
	LogFormatOld     = "DIRT"    // old format (Windows XP to 8.0): one dirty vector and its sectors
	LogFormatUnknown = "unknown" // empty, not a registry log, or unreadable base block
)

// LogReport says what happened to one transaction log considered for a hive.
type LogReport struct {
	File     string // the log's path or name
	Format   string // LogFormatNew ("HvLE"), LogFormatOld ("DIRT") or LogFormatUnknown ("unknown")
	Applied  bool   // at least one entry (or the dirty vector) was written into the recovered image
	Entries  int    // log entries applied (1 for an applied old-format log)
	Pages    int    // dirty pages (old format: 512-byte sectors) written into the image
	Sequence uint32 // the hive's sequence number after this log, as written to the recovered base block (0 when not applied)
	Reason   string // why the log was not applied, or why its replay stopped early; "" when applied in full

	// AppliedEntries lists the applied entries in order (one for an
	// old-format log: its dirty vector).
	AppliedEntries []LogEntryReport
}

// LogEntryReport describes one applied log entry.
type LogEntryReport struct {
	Offset       int64  // offset of the entry in the log file (0x200, the dirty vector, for the old format)
	Sequence     uint32 // the entry's sequence number (old format: the log's)
	Pages        int    // dirty pages written (old format: 512-byte sectors)
	HiveBinsSize uint32 // hive bins size after the entry
	Flags        uint32 // the entry's flags (bit 0 is carried to the base block)
}

// ReplayStep identifies one applied log entry, for replay observers.
type ReplayStep struct {
	Log      string // the log's path or name
	Entry    int    // 0-based index of the entry within that log (always 0 for an old-format log)
	Sequence uint32 // the entry's sequence number (the hive's becomes this plus one)
}

// logInput is one transaction log held in memory.
type logInput struct {
	name string
	data []byte
}

// Growth allowed beyond the primary's size during replay: a recovered hive
// may have grown since the primary was last written, but never by more than
// the logs could plausibly describe. This bounds memory on hostile input.
const (
	replayGrowthFixed   = 1 << 20 // 1 MiB
	replayGrowthPerByte = 8       // per byte of log data
	replayMaxImage      = hiveBinsStartOffset + maxHiveBinsSizeWin
)

// discoverLogs returns the transaction logs lying beside hivePath: files
// named like the hive plus .LOG, .LOG1 or .LOG2, compared case-insensitively
// (triage copies of NTFS volumes often change the case). The order is .LOG,
// .LOG1, .LOG2, then by name. Empty files are listed too, so that the replay
// can report why they were not used.
func discoverLogs(hivePath string) []string {
	dir, base := filepath.Split(hivePath)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	want := strings.ToLower(base)
	rank := map[string]int{want + ".log": 0, want + ".log1": 1, want + ".log2": 2}
	type found struct {
		path string
		rank int
	}
	var logs []found
	for _, e := range entries {
		r, ok := rank[strings.ToLower(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		if !e.Type().IsRegular() {
			st, err := os.Stat(filepath.Join(dir, e.Name())) // follow symlinks in mounted images
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
		}
		logs = append(logs, found{filepath.Join(dir, e.Name()), r})
	}
	sort.SliceStable(logs, func(i, j int) bool {
		if logs[i].rank != logs[j].rank {
			return logs[i].rank < logs[j].rank
		}
		return logs[i].path < logs[j].path
	})
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.path
	}
	return out
}

// logCand is a log classified for replay.
type logCand struct {
	in     logInput
	rep    *LogReport
	bb     BaseBlock
	usable bool
	dirt   dirtLog
}

// replayer holds the state of one recovery: the image being rebuilt and the
// base-block fields the applied logs carry.
type replayer struct {
	primary  []byte
	pbb      BaseBlock
	pValid   bool // the primary's base block checksum is good
	img      []byte
	maxImage int64
	observe  func(ReplayStep, []byte) error
	err      error // from observe: stops everything

	haveLast    bool
	lastSeq     uint32
	flags       uint32
	hbinsSize   uint32
	rootCell    uint32
	minor       uint32
	lastWritten uint64
	logBase     []byte // first 512 bytes of the last applied log, for an invalid primary base block
}

// replayLogs recovers a dirty hive: it applies the transaction logs to a copy
// of primary with the rules Windows and yarp follow, and returns the
// recovered image with one report per log (in the order given). primary is
// never modified; when nothing is applied primary itself is returned. observe,
// when not nil, is called after each applied entry with the image at that
// point (base block already updated); the slice is only valid during the
// call. An error from observe stops the replay and is returned as is.
//
// The rules are yarp's (see "Transaction logs" in docs/hive.md): nothing is
// applied to a clean hive. New-format logs are preferred: with two, the one
// with the older base-block sequence number (32-bit wrap-around allowed) goes
// first; a log applies only if its base-block sequence is not older than the
// primary's secondary sequence; entries start at the log's sequence and must
// go up by one, with valid Marvin32 hashes; the second log applies only if
// its sequence continues the last entry applied from the first. When the
// primary's base block is invalid only the newest log is applied and its base
// block replaces the primary's. Without new-format logs, the old-format log
// with the newest timestamp is applied when it is not older than the primary.
func replayLogs(name string, primary []byte, logs []logInput, observe func(ReplayStep, []byte) error) ([]byte, []LogReport, error) {
	reports := make([]LogReport, len(logs))
	cands := make([]*logCand, len(logs))
	var total int64
	for i, l := range logs {
		reports[i] = LogReport{File: l.name, Format: LogFormatUnknown}
		cands[i] = classifyLog(l, &reports[i])
		total += int64(len(l.data))
	}
	setReason := func(c *logCand, why string) {
		if c.rep.Reason == "" {
			c.rep.Reason = why
		}
	}
	pbb, err := ParseBaseBlock(primary)
	if err != nil {
		for _, c := range cands {
			setReason(c, "not applied: the primary file has no usable base block")
		}
		return primary, reports, nil
	}
	if pbb.FileType != FileTypePrimary {
		for _, c := range cands {
			setReason(c, fmt.Sprintf("not applied: %s is not a primary hive file (file type %d)", name, pbb.FileType))
		}
		return primary, reports, nil
	}
	if !pbb.Dirty() {
		for _, c := range cands {
			setReason(c, "not needed: the hive is clean (sequence numbers match, checksum good)")
		}
		return primary, reports, nil
	}

	r := &replayer{primary: primary, pbb: pbb, pValid: pbb.ChecksumOK, observe: observe}
	r.maxImage = int64(len(primary)) + replayGrowthFixed + replayGrowthPerByte*total
	if r.maxImage > replayMaxImage {
		r.maxImage = replayMaxImage
	}

	var news, olds []*logCand
	for _, c := range cands {
		if !c.usable {
			continue
		}
		if c.rep.Format == LogFormatNew {
			news = append(news, c)
		} else {
			olds = append(olds, c)
		}
	}
	switch {
	case len(news) >= 2:
		if len(news) > 2 {
			// Keep the two newest (stable, so input order breaks ties).
			sort.SliceStable(news, func(i, j int) bool { return seqBefore(news[j].bb.PrimarySeq, news[i].bb.PrimarySeq) })
			for _, c := range news[2:] {
				setReason(c, "not used: the two newest new-format logs were chosen instead")
			}
			news = news[:2]
			if indexOf(cands, news[1]) < indexOf(cands, news[0]) {
				news[0], news[1] = news[1], news[0]
			}
		}
		r.applyPair(news[0], news[1])
	case len(news) == 1:
		r.applyNew(news[0])
	case len(olds) > 0:
		best := olds[0]
		for _, c := range olds[1:] {
			if c.bb.LastWrittenRaw > best.bb.LastWrittenRaw {
				best = c
			}
		}
		for _, c := range olds {
			if c != best {
				setReason(c, "not used: another old-format log was written later")
			}
		}
		r.applyOld(best)
	}
	if len(news) > 0 {
		for _, c := range olds {
			setReason(c, "not used: new-format logs take precedence over old-format ones")
		}
	}
	for _, c := range cands {
		if !c.rep.Applied {
			setReason(c, "not applied")
		}
	}
	if r.img == nil {
		return primary, reports, r.err
	}
	return r.img, reports, r.err
}

// formatErrorMsg is err's message without the file name a FormatError
// would start with (the report already names the file).
func formatErrorMsg(err error) string {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe.Msg
	}
	return err.Error()
}

func indexOf(cands []*logCand, c *logCand) int {
	for i, x := range cands {
		if x == c {
			return i
		}
	}
	return -1
}

// classifyLog reads a log's base block and decides whether it can be used,
// filling in the report's format and, when unusable, the reason.
func classifyLog(l logInput, rep *LogReport) *logCand {
	c := &logCand{in: l, rep: rep}
	if len(l.data) == 0 {
		rep.Reason = "empty file (0 bytes): ignored"
		return c
	}
	bb, err := ParseBaseBlock(l.data)
	if err != nil {
		rep.Reason = "not a registry transaction log: " + formatErrorMsg(err)
		return c
	}
	c.bb = bb
	switch bb.FileType {
	case FileTypeLogNew:
		rep.Format = LogFormatNew
	case FileTypeLog, FileTypeLogAlt:
		rep.Format = LogFormatOld
	case FileTypePrimary:
		rep.Reason = "a primary hive file (file type 0), not a transaction log"
		return c
	default:
		rep.Reason = fmt.Sprintf("file type %d is not a transaction log", bb.FileType)
		return c
	}
	switch {
	case !bb.ChecksumOK:
		rep.Reason = fmt.Sprintf("the log's base block checksum is bad (stored %#08x, computed %#08x)", bb.Checksum, bb.ComputedChecksum)
	case bb.PrimarySeq != bb.SecondarySeq:
		rep.Reason = fmt.Sprintf("the log's base block is dirty (sequence numbers %d/%d)", bb.PrimarySeq, bb.SecondarySeq)
	case bb.Major != 1 || bb.Minor < 1 || bb.Minor > 6:
		rep.Reason = fmt.Sprintf("unsupported hive version %d.%d in the log's base block", bb.Major, bb.Minor)
	case bb.FileFormat != fileFormatDirect:
		rep.Reason = fmt.Sprintf("unsupported file format %d in the log's base block", bb.FileFormat)
	case bb.Clustering != 1:
		rep.Reason = fmt.Sprintf("unsupported clustering factor %d in the log's base block", bb.Clustering)
	case bb.HiveBinsSize < hiveBinAlign || bb.HiveBinsSize%hiveBinAlign != 0:
		rep.Reason = fmt.Sprintf("hive bins size %#x in the log's base block is not a positive multiple of 4096", bb.HiveBinsSize)
	case rep.Format == LogFormatNew && len(l.data) <= logBaseBlockSize+hvleHeaderSize:
		rep.Reason = fmt.Sprintf("log is %d bytes: too short to hold a log entry", len(l.data))
	case rep.Format == LogFormatOld:
		var why string
		c.dirt, why = parseDirtLog(l.data, bb)
		rep.Reason = why
	}
	c.usable = rep.Reason == ""
	return c
}

// applyPair applies two new-format logs in sequence order.
func (r *replayer) applyPair(a, b *logCand) {
	first, second := b, a
	if seqBefore(a.bb.PrimarySeq, b.bb.PrimarySeq) {
		first, second = a, b
	}
	if !r.pValid {
		first.rep.Reason = "not applied: the primary's base block is invalid, so only the newest log is applied"
		r.applyNew(second)
		return
	}
	if !r.applyNew(first) {
		r.applyNew(second)
		return
	}
	if r.err != nil {
		return
	}
	switch {
	case !r.haveLast:
		second.rep.Reason = "not applied: no entry of the first log could be applied, so this log cannot continue it"
	case second.bb.PrimarySeq != r.lastSeq+1:
		second.rep.Reason = fmt.Sprintf("not applied: its sequence %d does not continue the first log (last entry applied: %d, so %d was expected)", second.bb.PrimarySeq, r.lastSeq, r.lastSeq+1)
	default:
		r.applyNew(second)
	}
}

// applyNew applies the entries of one new-format log. It returns false when
// the log is not eligible for this hive (its sequence is older than the
// primary's secondary sequence).
func (r *replayer) applyNew(c *logCand) bool {
	if r.pValid && seqBefore(c.bb.PrimarySeq, r.pbb.SecondarySeq) {
		c.rep.Reason = fmt.Sprintf("not eligible: the log's sequence %d is older than the hive's secondary sequence %d", c.bb.PrimarySeq, r.pbb.SecondarySeq)
		return false
	}
	data := c.in.data
	want := c.bb.PrimarySeq
	for off := int64(logBaseBlockSize); off < int64(len(data)) && r.err == nil; {
		e, stop, why := parseHvLEEntry(data, off, want)
		if stop != stopNone {
			if stop == stopBad {
				c.rep.Reason = "replay stopped: " + why
			}
			break
		}
		if why := r.checkGrowth(e); why != "" {
			c.rep.Reason = "replay stopped: " + why
			break
		}
		if c.rep.Entries == 0 {
			r.adoptLogBaseBlock(c)
		}
		r.applyEntry(data, e)
		c.rep.Applied = true
		c.rep.Entries++
		c.rep.Pages += len(e.DirtyPages)
		c.rep.Sequence = e.Sequence + 1
		c.rep.AppliedEntries = append(c.rep.AppliedEntries, LogEntryReport{
			Offset: e.Offset, Sequence: e.Sequence, Pages: len(e.DirtyPages), HiveBinsSize: e.HiveBinsSize, Flags: e.Flags,
		})
		if r.observe != nil {
			if err := r.observe(ReplayStep{Log: c.in.name, Entry: c.rep.Entries - 1, Sequence: e.Sequence}, r.img); err != nil {
				r.err = err
			}
		}
		off += int64(e.Size)
		want++
	}
	if c.rep.Entries == 0 && c.rep.Reason == "" {
		c.rep.Reason = fmt.Sprintf("not applied: no valid log entry with sequence %d at offset 0x200", c.bb.PrimarySeq)
	}
	return true
}

// checkGrowth refuses an entry whose pages would grow the image past the
// replay bound.
func (r *replayer) checkGrowth(e hvleEntry) string {
	for i, p := range e.DirtyPages {
		end := int64(hiveBinsStartOffset) + int64(p.Offset) + int64(p.Size)
		if end > r.maxImage {
			return fmt.Sprintf("entry at log offset %#x: dirty page %d ends at file offset %#x, beyond the %d bytes a replay may grow this hive to", e.Offset, i, end, r.maxImage)
		}
	}
	return ""
}

// applyEntry writes an entry's pages into the image and carries its flags and
// hive-bins size.
func (r *replayer) applyEntry(log []byte, e hvleEntry) {
	src := e.DataOffset
	for _, p := range e.DirtyPages {
		dst := int64(hiveBinsStartOffset) + int64(p.Offset)
		r.ensure(dst + int64(p.Size))
		copy(r.img[dst:], log[src:src+int64(p.Size)])
		src += int64(p.Size)
	}
	r.haveLast, r.lastSeq = true, e.Sequence
	// Only bit 0 (pending transactions) travels from the entry to the base block.
	r.flags = r.flags&^1 | e.Flags&1
	r.hbinsSize = e.HiveBinsSize
	// Entry N is the write that takes the hive from sequence N to N+1:
	// Windows' own recovery of the corpus NewDirtyHive (last entry 5) carries
	// 6/6. (yarp writes N.)
	r.writeBaseBlock(e.Sequence + 1)
}

// adoptLogBaseBlock takes the fields a parser needs from the log's base block
// (it is a copy of the primary's as of the write being logged).
func (r *replayer) adoptLogBaseBlock(c *logCand) {
	r.rootCell = c.bb.RootCell
	r.minor = c.bb.Minor
	r.lastWritten = c.bb.LastWrittenRaw
	r.flags = c.bb.Flags
	r.hbinsSize = c.bb.HiveBinsSize
	r.logBase = c.in.data[:logBaseBlockSize]
}

// applyOld applies an old-format log: every dirty sector of its vector.
func (r *replayer) applyOld(c *logCand) {
	primaryTime := r.pbb.LastWrittenRaw
	if !r.pValid {
		// An invalid base block's timestamp cannot be trusted; the first hive
		// bin's timestamp is the best estimate of the last write.
		primaryTime = 0
		if len(r.primary) >= hiveBinsStartOffset+0x20 && string(r.primary[hiveBinsStartOffset:hiveBinsStartOffset+4]) == "hbin" {
			primaryTime = binary.LittleEndian.Uint64(r.primary[hiveBinsStartOffset+0x14:])
		}
	}
	if c.bb.LastWrittenRaw < primaryTime {
		c.rep.Reason = fmt.Sprintf("not eligible: the log was last written %s, before the hive (%s)",
			wintime.Format(wintime.FromFiletime(c.bb.LastWrittenRaw)), wintime.Format(wintime.FromFiletime(primaryTime)))
		return
	}
	d := c.dirt
	last := d.sectors[len(d.sectors)-1]
	if end := int64(hiveBinsStartOffset) + int64(last+1)*sectorSize; end > r.maxImage {
		c.rep.Reason = fmt.Sprintf("not applied: dirty sector %d ends at file offset %#x, beyond the %d bytes a replay may grow this hive to", last, end, r.maxImage)
		return
	}
	r.adoptLogBaseBlock(c)
	src := d.pagesOffset
	for _, s := range d.sectors {
		dst := int64(hiveBinsStartOffset) + int64(s)*sectorSize
		r.ensure(dst + sectorSize)
		copy(r.img[dst:dst+sectorSize], c.in.data[src:src+sectorSize])
		src += sectorSize
	}
	seq := r.pbb.PrimarySeq
	if !r.pValid {
		seq = c.bb.PrimarySeq
	}
	r.writeBaseBlock(seq)
	c.rep.Applied = true
	c.rep.Entries = 1
	c.rep.Pages = len(d.sectors)
	c.rep.Sequence = seq
	c.rep.AppliedEntries = []LogEntryReport{{
		Offset: logBaseBlockSize, Sequence: seq, Pages: len(d.sectors), HiveBinsSize: c.bb.HiveBinsSize, Flags: c.bb.Flags,
	}}
	if r.observe != nil {
		if err := r.observe(ReplayStep{Log: c.in.name, Entry: 0, Sequence: seq}, r.img); err != nil {
			r.err = err
		}
	}
}

// ensure makes the image (a copy of the primary, made on first use) at least
// n bytes long and at least one base block long. Callers bound n by maxImage.
func (r *replayer) ensure(n int64) {
	if n < hiveBinsStartOffset {
		n = hiveBinsStartOffset
	}
	if r.img == nil {
		size := int64(len(r.primary))
		if size < n {
			size = n
		}
		r.img = make([]byte, size)
		copy(r.img, r.primary)
		return
	}
	if int64(len(r.img)) < n {
		r.img = append(r.img, make([]byte, n-int64(len(r.img)))...)
	}
}

// writeBaseBlock rebuilds the image's base block after a write: the
// primary's (or, when that is invalid, the applied log's) with both sequence
// numbers set to seq, the carried hive-bins size, flags, root cell, version
// and last-written time, file type primary, and a correct checksum.
func (r *replayer) writeBaseBlock(seq uint32) {
	r.ensure(hiveBinsStartOffset)
	b := r.img[:BaseBlockSize]
	clear(b)
	if r.pValid {
		copy(b, r.primary[:min(len(r.primary), BaseBlockSize)])
	} else {
		copy(b, r.logBase)
	}
	le := binary.LittleEndian
	le.PutUint32(b[offPrimarySeq:], seq)
	le.PutUint32(b[offSecondarySeq:], seq)
	le.PutUint64(b[offLastWritten:], r.lastWritten)
	le.PutUint32(b[offMinor:], r.minor)
	le.PutUint32(b[offFileType:], FileTypePrimary)
	le.PutUint32(b[offRootCell:], r.rootCell)
	le.PutUint32(b[offHiveBinsSize:], r.hbinsSize)
	le.PutUint32(b[offFlags:], r.flags)
	fixBaseBlockChecksum(b)
}
