package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Hive is an opened registry hive. Its methods are safe for concurrent use.
type Hive struct {
	name      string
	size      int64
	lim       Limits
	bb        BaseBlock // primary's, as found on disk
	dirty     bool
	recovered bool
	logs      []LogReport

	data []byte // the image read: the primary, or the recovered copy
	// ownsImage is true when no one else holds data (Open's buffer, a
	// recovered copy): names may then share its memory.
	ownsImage bool
	end       int // end of the hive-bins area in data
	minor     uint32
	rootOff   uint32

	mu        sync.Mutex
	anomalies []Anomaly
	seen      map[anomalyID]struct{}
	lost      bool
	sk        map[uint32]*Security
	vlists    map[uint32]uint32       // value list -> owning key
	vskip     map[uint32]map[int]bool // value list -> entries skipped
	vkSeen    bitset                  // value cells listed so far
	classes   map[uint64]string       // long class names by cell and length
	dataOwner map[uint32]uint32       // large data cell -> owning value cell

	typeOnce sync.Once
	typ      Type
}

type anomalyID struct {
	off  int64
	kind string
}

// ErrNotFound is returned (wrapped) by OpenKey, Subkey and Value when the
// named key or value does not exist.
var ErrNotFound = errors.New("not found")

// SkipKey, returned by a Walk callback, skips the subkeys of that key.
var SkipKey = errors.New("skip this key's subkeys")

// Anomaly is something odd or skipped while reading: a damaged cell, a count
// larger than its cell, a key listed twice. Offset is a file offset.
type Anomaly struct {
	Offset  int64
	Kind    string
	Key     string // path of the key concerned, when known
	Message string
}

// Anomaly kinds.
const (
	AnomalyDirty          = "dirty"           // dirty base block, no log applied
	AnomalyBaseBlock      = "base-block"      // odd base-block field
	AnomalyTruncated      = "truncated"       // the file is shorter than its base block says
	AnomalyTrailingData   = "trailing-data"   // bytes after the hive-bins area
	AnomalyBadCell        = "bad-cell"        // a referenced cell is outside the hive or has a bad size
	AnomalyBadBin         = "bad-bin"         // pages without a valid hive-bin header
	AnomalyFreeCell       = "free-cell"       // a referenced cell is marked free (read anyway)
	AnomalyBadSignature   = "bad-signature"   // a cell is not of the kind expected
	AnomalyBadList        = "bad-list"        // a subkey list that cannot be read
	AnomalyListDepth      = "list-depth"      // an ri list pointing at another ri list
	AnomalyCountCapped    = "count-capped"    // a count larger than its cell holds
	AnomalyCountMismatch  = "count-mismatch"  // a key's subkey count differs from its lists
	AnomalyLengthCapped   = "length-capped"   // a name, class or data length larger than its cell
	AnomalyParentMismatch = "parent-mismatch" // a listed key whose parent pointer names another key
	AnomalyCycle          = "cycle"           // a key listed under one of its own descendants
	AnomalySharedKey      = "shared-key"      // a key cell listed twice in the tree
	AnomalySharedList     = "shared-list"     // a subkey or value list used by a second key
	AnomalySharedValue    = "shared-value"    // a value cell listed a second time
	AnomalySharedData     = "shared-data"     // a large data cell used by a second value
	AnomalyDepthLimit     = "depth-limit"     // keys below Limits.MaxDepth were not read
	AnomalyBadData        = "bad-data"        // value data that cannot be read in full
	AnomalyBadSecurity    = "bad-security"    // a security (sk) cell that cannot be read
	AnomalyBadClass       = "bad-class"       // a class-name cell that cannot be read
)

// FormatError is a structural problem in a hive file. Offset is a file
// offset (-1 when the problem is not at one place).
type FormatError struct {
	File   string
	Offset int64
	Key    string
	Msg    string
}

// Error renders "FILE: at offset 0x1a20 (key PATH): MESSAGE", leaving out
// the parts that are unknown.
func (e *FormatError) Error() string {
	s := e.File + ": "
	if e.Offset >= 0 {
		s += fmt.Sprintf("at offset %#x ", e.Offset)
	}
	if e.Key != "" {
		s += fmt.Sprintf("(key %s) ", e.Key)
	}
	if e.Offset >= 0 || e.Key != "" {
		s = s[:len(s)-1] + ": "
	}
	return s + e.Msg
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Name is the path or name given to Open or Load.
func (h *Hive) Name() string { return h.name }

// Size is the size in bytes of the primary file.
func (h *Hive) Size() int64 { return h.size }

// BaseBlock is the primary file's base block as found on disk, before any
// recovery. It is the zero value when the primary's base block was unusable
// and the hive was rebuilt from a log.
func (h *Hive) BaseBlock() BaseBlock { return h.bb }

// Dirty reports whether the primary's base block has differing sequence
// numbers or a bad checksum.
func (h *Hive) Dirty() bool { return h.dirty }

// Recovered reports whether transaction logs were applied.
func (h *Hive) Recovered() bool { return h.recovered }

// Logs reports each transaction log considered, applied or not.
func (h *Hive) Logs() []LogReport { return h.logs }

// Anomalies returns everything odd or skipped met so far, in the order met.
// Reading is lazy: after a full Walk the list covers the whole tree.
func (h *Hive) Anomalies() []Anomaly {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Anomaly(nil), h.anomalies...)
}

// Partial reports whether some of the hive could not be read (anomalies that
// lost keys, values or data, met so far), or the hive is dirty and no log was
// applied.
func (h *Hive) Partial() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost
}

// maxAnomalies bounds the anomaly list; later anomalies are counted in one
// last entry.
const maxAnomalies = 10000

func (h *Hive) addAnomaly(a Anomaly, lost bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addAnomalyLocked(a, lost)
}

// addAnomalyLocked is addAnomaly with h.mu held.
func (h *Hive) addAnomalyLocked(a Anomaly, lost bool) {
	if lost {
		h.lost = true
	}
	id := anomalyID{a.Offset, a.Kind}
	if h.seen == nil {
		h.seen = make(map[anomalyID]struct{})
	}
	if _, dup := h.seen[id]; dup {
		return
	}
	if len(h.anomalies) >= maxAnomalies {
		if len(h.anomalies) == maxAnomalies {
			h.anomalies = append(h.anomalies, Anomaly{Offset: -1, Kind: "too-many-anomalies", Message: fmt.Sprintf("more than %d anomalies; the rest are not listed", maxAnomalies)})
		}
		return
	}
	h.seen[id] = struct{}{}
	h.anomalies = append(h.anomalies, a)
}

// anomaly records an anomaly at a cell offset (relative to the hive bins).
func (h *Hive) anomaly(cellOff uint32, kind, key string, lost bool, format string, args ...any) {
	h.addAnomaly(Anomaly{Offset: binsStart + int64(cellOff), Kind: kind, Key: key, Message: fmt.Sprintf(format, args...)}, lost)
}

func (h *Hive) formatError(cellOff uint32, key, format string, args ...any) *FormatError {
	return &FormatError{File: h.name, Offset: binsStart + int64(cellOff), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// binsStart is the file offset of the first hive bin; cell offsets are
// relative to it.
const binsStart = 4096

// Base-block fields the reader needs, read from the image itself (the
// recovered image carries the newest values).
const (
	bbMinorOff    = 0x18
	bbRootCellOff = 0x24
	bbBinsSizeOff = 0x28
)

// newHive builds a reader over image with no log handling (replay views).
func newHive(name string, image []byte, lim Limits) (*Hive, error) {
	h := &Hive{name: name, size: int64(len(image)), lim: lim}
	if err := h.init(image); err != nil {
		return nil, err
	}
	return h, nil
}

// init checks the image enough to read it: a base block, a bins area, a root
// key cell.
func (h *Hive) init(image []byte) error {
	if len(image) < binsStart {
		return &FormatError{File: h.name, Offset: 0, Msg: fmt.Sprintf("file is %d bytes, shorter than a base block (4096)", len(image))}
	}
	if string(image[:4]) != "regf" {
		return &FormatError{File: h.name, Offset: 0, Msg: fmt.Sprintf("not a registry hive: signature %q, want \"regf\"", image[:4])}
	}
	h.data = image
	h.minor = binary.LittleEndian.Uint32(image[bbMinorOff:])
	h.rootOff = binary.LittleEndian.Uint32(image[bbRootCellOff:])
	binsSize := int64(binary.LittleEndian.Uint32(image[bbBinsSizeOff:]))
	h.end = len(image)
	switch {
	case binsSize == 0 || binsSize%4096 != 0:
		h.addAnomaly(Anomaly{Offset: bbBinsSizeOff, Kind: AnomalyBaseBlock, Message: fmt.Sprintf("hive-bins size %#x is not a positive multiple of 4096; reading to the end of the file", binsSize)}, false)
	case binsStart+binsSize < int64(len(image)):
		h.end = int(binsStart + binsSize)
		if allZero(image[h.end:]) {
			break
		}
		h.addAnomaly(Anomaly{Offset: int64(h.end), Kind: AnomalyTrailingData, Message: fmt.Sprintf("%d bytes after the hive-bins area (base block says %#x bytes of bins)", int64(len(image))-int64(h.end), binsSize)}, false)
	case binsStart+binsSize > int64(len(image)):
		h.addAnomaly(Anomaly{Offset: int64(len(image)), Kind: AnomalyTruncated, Message: fmt.Sprintf("file ends at %#x but the base block says the hive bins end at %#x: the file is truncated", len(image), binsStart+binsSize)}, true)
	}
	if len(image) == binsStart {
		return &FormatError{File: h.name, Offset: binsStart, Msg: "no hive bins after the base block"}
	}
	h.scanBins()
	if _, err := h.keyAt(h.rootOff, nil); err != nil {
		return &FormatError{File: h.name, Offset: binsStart + int64(h.rootOff), Msg: "root key: " + err.Error()}
	}
	return nil
}

// Root returns the root key.
func (h *Hive) Root() (*Key, error) {
	k, err := h.keyAt(h.rootOff, nil)
	if err != nil {
		return nil, h.formatError(h.rootOff, "", "root key: %v", err)
	}
	return k, nil
}

// scanBins checks the hive-bin headers: each bin starts with "hbin", gives its
// own offset and a size that is a multiple of 4096. Runs of damaged or zeroed
// 4 KiB pages become one anomaly each; the cells in them are refused when
// something points at them. The scan is bounded by the number of pages.
func (h *Hive) scanBins() {
	off := binsStart
	badStart := -1
	flush := func(end int) {
		if badStart >= 0 {
			h.addAnomaly(Anomaly{Offset: int64(badStart), Kind: AnomalyBadBin, Message: fmt.Sprintf("no valid hive bin from %#x to %#x (%d KiB): cells there cannot be trusted", badStart, end, (end-badStart)/1024)}, false)
			badStart = -1
		}
	}
	for off+32 <= h.end {
		b := h.data[off:]
		size := int(le32(b[8:]))
		if string(b[:4]) == "hbin" && int(le32(b[4:])) == off-binsStart && size >= 4096 && size%4096 == 0 && off+size <= h.end {
			flush(off)
			off += size
			continue
		}
		if badStart < 0 {
			badStart = off
		}
		off += 4096
	}
	flush(min(off, h.end))
}
