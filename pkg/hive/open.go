package hive

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits bound the work and memory spent on one hive. A zero field means the
// default. Exceeding a limit gives an error or an anomaly that names it.
type Limits struct {
	// MaxHiveSize is the largest hive file accepted (default 2 GiB). The
	// largest hives seen in practice (SOFTWARE, Amcache) are a few hundred MB.
	MaxHiveSize int64
	// MaxLogSize is the largest transaction log accepted (default 1 GiB).
	MaxLogSize int64
	// MaxDepth is the deepest key a walk descends to, the root being depth 0
	// (default 512; Windows itself refuses keys deeper than 512 levels).
	MaxDepth int
	// MaxValueSize is the largest value data returned (default 64 MiB).
	MaxValueSize int
}

// Default limits.
const (
	DefaultMaxHiveSize  = 2 << 30
	DefaultMaxLogSize   = 1 << 30
	DefaultMaxDepth     = 512
	DefaultMaxValueSize = 64 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxHiveSize <= 0 {
		l.MaxHiveSize = DefaultMaxHiveSize
	}
	if l.MaxLogSize <= 0 {
		l.MaxLogSize = DefaultMaxLogSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxValueSize <= 0 {
		l.MaxValueSize = DefaultMaxValueSize
	}
	return l
}

// Option configures Open and Load.
type Option func(*options)

type options struct {
	logPaths  []string
	logData   []logInput
	explicit  bool // logs were given: do not look beside the hive
	noLogs    bool
	observer  func(ReplayStep, *Hive) error
	limits    Limits
	discovery bool // Open: look for logs beside the file
	owned     bool // Open: the data buffer is the Hive's alone
}

// WithLogs applies the given transaction log files instead of looking for
// <name>.LOG, .LOG1 and .LOG2 beside the hive (triage tools rename files).
func WithLogs(paths ...string) Option {
	return func(o *options) {
		o.logPaths = append(o.logPaths, paths...)
		o.explicit = true
	}
}

// WithLogData applies a transaction log held in memory (from a ZIP
// collection, a test). It disables the search beside the hive.
func WithLogData(name string, data []byte) Option {
	return func(o *options) {
		o.logData = append(o.logData, logInput{name: name, data: data})
		o.explicit = true
	}
}

// WithoutLogs reads the hive exactly as it is on disk, even when it is dirty.
func WithoutLogs() Option {
	return func(o *options) { o.noLogs = true }
}

// WithReplayObserver calls fn after each transaction-log entry is applied,
// with the entry and a read-only view of the hive at that point (logs
// disabled, no further recovery). The view is valid during the call only;
// returning an error stops the load with that error.
func WithReplayObserver(fn func(step ReplayStep, h *Hive) error) Option {
	return func(o *options) { o.observer = fn }
}

// WithLimits sets the bounds on sizes and depth; zero fields keep the
// defaults.
func WithLimits(l Limits) Option {
	return func(o *options) { o.limits = l }
}

// Open reads the hive file at path into memory (the file is opened read-only
// and never written) and loads it with Load. Unless WithLogs, WithLogData or
// WithoutLogs is given, a dirty hive is recovered with the transaction logs
// found beside it.
func Open(path string, opts ...Option) (*Hive, error) {
	o := collect(opts)
	data, err := readLimited(path, o.limits.MaxHiveSize, "MaxHiveSize")
	if err != nil {
		return nil, err
	}
	o.discovery = true
	o.owned = true
	return load(path, data, o)
}

// Load reads a hive already in memory. name is used in errors and by
// Hive.Name. data is not modified (recovery works on a copy) and must not be
// modified by the caller while the Hive is in use. Load does not look for logs
// on disk: pass them with WithLogs or WithLogData.
func Load(name string, data []byte, opts ...Option) (*Hive, error) {
	o := collect(opts)
	if int64(len(data)) > o.limits.MaxHiveSize {
		return nil, &FormatError{File: name, Offset: -1, Msg: fmt.Sprintf("hive is %d bytes, more than Limits.MaxHiveSize (%d)", len(data), o.limits.MaxHiveSize)}
	}
	return load(name, data, o)
}

func collect(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	o.limits = o.limits.withDefaults()
	return o
}

// readLimited reads a whole file opened read-only, refusing files larger than
// max before reading them.
func readLimited(path string, max int64, limitName string) ([]byte, error) {
	// Check before opening: opening a named pipe or a device blocks until
	// something writes to it.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, &FormatError{File: path, Offset: -1, Msg: "not a regular file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &FormatError{File: path, Offset: -1, Msg: "not a regular file"}
	}
	if st.Size() > max {
		return nil, &FormatError{File: path, Offset: -1, Msg: fmt.Sprintf("file is %d bytes, more than Limits.%s (%d)", st.Size(), limitName, max)}
	}
	data := make([]byte, st.Size())
	n, err := io.ReadFull(f, data)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data[:n], nil
}

func load(name string, data []byte, o *options) (*Hive, error) {
	bb, bbErr := ParseBaseBlock(data)
	h := &Hive{name: name, size: int64(len(data)), lim: o.limits}
	if bbErr == nil && bb.FileType != 0 {
		return nil, &FormatError{File: name, Offset: 0x1C, Msg: fmt.Sprintf("this is a transaction log (file type %d), not a primary hive", bb.FileType)}
	}
	if bbErr == nil {
		h.bb = bb
		h.dirty = bb.Dirty()
	} else {
		h.dirty = true
	}
	image := data
	// Logs are read even for a clean hive, so that Logs() says what was
	// found beside it (and why nothing was applied).
	if !o.noLogs {
		logs, err := o.gatherLogs(name)
		if err != nil {
			return nil, err
		}
		if len(logs) > 0 {
			var observe func(ReplayStep, []byte) error
			if o.observer != nil {
				observe = func(step ReplayStep, img []byte) error {
					view, err := newHive(name, img, o.limits)
					if err != nil {
						return nil // an entry left the image unreadable: nothing to show
					}
					view.bb, view.dirty, view.recovered = h.bb, h.dirty, true
					return o.observer(step, view)
				}
			}
			recovered, reports, err := replayLogs(name, data, logs, observe)
			h.logs = reports
			if err != nil {
				return nil, err
			}
			for _, r := range reports {
				h.recovered = h.recovered || r.Applied
			}
			if h.recovered && recovered != nil {
				image = recovered
			} else {
				h.recovered = false
			}
		}
	}
	if bbErr != nil && !h.recovered {
		var fe *FormatError
		if errors.As(bbErr, &fe) {
			named := *fe
			if named.File == "" {
				named.File = name
			}
			return nil, &named
		}
		return nil, &FormatError{File: name, Offset: -1, Msg: bbErr.Error()}
	}
	h.ownsImage = o.owned || h.recovered
	if err := h.init(image); err != nil {
		return nil, err
	}
	if h.dirty && !h.recovered {
		msg := "base block is dirty (primary sequence %d, secondary %d, checksum ok %v) and no transaction log could be applied: the newest writes may be missing"
		if o.noLogs {
			msg = "base block is dirty (primary sequence %d, secondary %d, checksum ok %v); transaction logs were not applied as asked"
		}
		msg = fmt.Sprintf(msg, h.bb.PrimarySeq, h.bb.SecondarySeq, h.bb.ChecksumOK)
		for _, r := range h.logs {
			if r.Reason != "" {
				msg += fmt.Sprintf("; %s: %s", r.File, r.Reason)
			}
		}
		h.addAnomaly(Anomaly{Offset: 0, Kind: AnomalyDirty, Message: msg}, true)
	}
	return h, nil
}

// gatherLogs reads the logs to consider: those given explicitly, else those
// found beside the hive (Open only).
func (o *options) gatherLogs(name string) ([]logInput, error) {
	var logs []logInput
	paths := o.logPaths
	if !o.explicit && o.discovery {
		paths = discoverLogs(name)
	}
	for _, p := range paths {
		data, err := readLimited(p, o.limits.MaxLogSize, "MaxLogSize")
		if err != nil {
			return nil, fmt.Errorf("transaction log: %w", err)
		}
		logs = append(logs, logInput{name: p, data: data})
	}
	for _, l := range o.logData {
		if int64(len(l.data)) > o.limits.MaxLogSize {
			return nil, &FormatError{File: l.name, Offset: -1, Msg: fmt.Sprintf("transaction log is %d bytes, more than Limits.MaxLogSize (%d)", len(l.data), o.limits.MaxLogSize)}
		}
	}
	return append(logs, o.logData...), nil
}
