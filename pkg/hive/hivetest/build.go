package hivetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Layout constants of the regf format.
const (
	// BaseBlockSize is the size of a primary file's base block.
	BaseBlockSize = 4096
	// BinHeaderSize is the size of an hbin header.
	BinHeaderSize = 32
	// PageSize is the unit of hive bins and of log dirty pages.
	PageSize = 4096
	// BigDataSegment is the most data one big-data segment holds; values
	// larger than this use a db list in hives of version 1.4 and later.
	BigDataSegment = 16344
	// DefaultLeafCapacity is how many entries the writer puts in one subkey
	// leaf before splitting the list under an ri index.
	DefaultLeafCapacity = 506
	// MaxNameLen is the longest key or value name Windows stores, in
	// characters (the writer refuses longer names unless given raw bytes).
	MaxNameLen = 16383
)

const (
	nkFlagHiveEntry  = 0x0004
	nkFlagNoDelete   = 0x0008
	nkFlagCompName   = 0x0020
	vkFlagCompName   = 0x0001
	noCell           = 0xFFFFFFFF
	residentDataFlag = 0x80000000
	maxDepth         = 512
)

// Option adjusts how Build and BuildDirty write the base block and lay out
// the hive.
type Option func(*options)

type options struct {
	major, minor    uint32
	primary, second uint32
	lastWritten     time.Time
	fileName        string
	fileType        uint32
	fileFormat      uint32
	flags           uint32
	leafCap         int
	checksum        *uint32
	log2From        int
}

func defaultOptions() options {
	return options{major: 1, minor: 5, primary: 1, second: 1, fileFormat: 1, leafCap: DefaultLeafCapacity, log2From: -1}
}

// WithVersion sets the hive format version (default 1.5). Version 1.3
// stores large data in one cell instead of big-data lists.
func WithVersion(major, minor uint32) Option {
	return func(o *options) { o.major, o.minor = major, minor }
}

// WithSequence sets the base block's primary and secondary sequence numbers
// (default 1 and 1). Different numbers make a dirty hive.
func WithSequence(primary, secondary uint32) Option {
	return func(o *options) { o.primary, o.second = primary, secondary }
}

// WithLastWritten sets the base block's last-written time (and the first
// hive bin's timestamp). Default: the root key's last-write time.
func WithLastWritten(t time.Time) Option {
	return func(o *options) { o.lastWritten = t }
}

// WithFileName sets the file name embedded in the base block, for example
// `\??\C:\Users\alice\ntuser.dat` as Windows writes it. Windows keeps the
// last 31 characters; so does the writer.
func WithFileName(name string) Option {
	return func(o *options) { o.fileName = name }
}

// WithFileType sets the base block's file type (0 primary, the default).
func WithFileType(t uint32) Option {
	return func(o *options) { o.fileType = t }
}

// WithBaseFlags sets the base block's Flags field (bit 0: KTM locked, bit 1:
// defragmented). Log entries carry the same flags.
func WithBaseFlags(flags uint32) Option {
	return func(o *options) { o.flags = flags }
}

// WithLeafCapacity sets how many entries a subkey leaf list holds before
// the writer splits the list under an ri index (default 506, as Windows).
func WithLeafCapacity(n int) Option {
	return func(o *options) { o.leafCap = n }
}

// WithChecksum forces the stored base-block checksum (for corrupt-hive
// tests); by default the correct checksum is written.
func WithChecksum(sum uint32) Option {
	return func(o *options) { o.checksum = &sum }
}

// Build writes the hive described by root and returns the file's bytes.
func Build(root *Key, opts ...Option) ([]byte, error) {
	b, _, err := BuildLayout(root, opts...)
	return b, err
}

// Layout says where Build put each cell, so that hostile tests can patch
// one precisely. Cell offsets are relative to the start of the hive bins
// (as the hive stores them) and point at the cell's size field; add
// BaseBlockSize for a file offset. -1 means the cell does not exist.
type Layout struct {
	RootCell     int
	HiveBinsSize int
	// Keys by path: names as given in the tree, joined with `\`, "" for the
	// root. (Two subkeys with the same name: the later one wins.)
	Keys map[string]*KeyCells
	// Security lists the sk cells in their Flink order.
	Security []int
}

// KeyCells are the cells of one key.
type KeyCells struct {
	NK, Class, Security, ValueList int
	// SubkeyList is the list the nk points at (an ri index when Leaves is
	// not empty, else the single leaf).
	SubkeyList int
	Leaves     []int
	// Values in the key's order.
	Values []ValueCells
	// DeletedValues are the free cells of Key.DeletedValues, in order.
	DeletedValues []ValueCells
}

// ValueCells are the cells of one value.
type ValueCells struct {
	Name string
	VK   int
	// Data is the data cell, the db cell for big data, -1 when the data is
	// resident in the vk cell.
	Data int
	// SegmentList and Segments are big data's segment list and segments.
	SegmentList int
	Segments    []int
}

// FileOffset converts a cell offset to an offset in the hive file.
func FileOffset(cell int) int { return BaseBlockSize + cell }

// BuildLayout is Build that also reports where each cell went.
func BuildLayout(root *Key, opts ...Option) ([]byte, *Layout, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	bins, rootOff, lay, err := layoutCells(root, &o)
	if err != nil {
		return nil, nil, err
	}
	out := make([]byte, BaseBlockSize+len(bins))
	copy(out[BaseBlockSize:], bins)
	bb := baseBlock(&o, root, uint32(rootOff), uint32(len(bins)))
	copy(out, bb)
	return out, lay, nil
}

// lastWrittenOf is the base block time: the option, else the root key's.
func (o *options) lastWrittenOf(root *Key) time.Time {
	if !o.lastWritten.IsZero() {
		return o.lastWritten
	}
	return root.LastWrite
}

// baseBlock returns the 4096-byte base block.
func baseBlock(o *options, root *Key, rootOff, binsSize uint32) []byte {
	b := make([]byte, BaseBlockSize)
	le := binary.LittleEndian
	copy(b, "regf")
	le.PutUint32(b[4:], o.primary)
	le.PutUint32(b[8:], o.second)
	le.PutUint64(b[12:], wintime.ToFiletime(o.lastWrittenOf(root)))
	le.PutUint32(b[20:], o.major)
	le.PutUint32(b[24:], o.minor)
	le.PutUint32(b[28:], o.fileType)
	le.PutUint32(b[32:], o.fileFormat)
	le.PutUint32(b[36:], rootOff)
	le.PutUint32(b[40:], binsSize)
	le.PutUint32(b[44:], 1) // clustering factor
	putFileName(b[48:112], o.fileName)
	le.PutUint32(b[144:], o.flags)
	sum := Checksum(b)
	if o.checksum != nil {
		sum = *o.checksum
	}
	le.PutUint32(b[508:], sum)
	return b
}

// putFileName stores the last 31 UTF-16 characters of name, NUL-terminated,
// in the 64-byte field.
func putFileName(dst []byte, name string) {
	u := utf16.Encode([]rune(name))
	if len(u) > 31 {
		u = u[len(u)-31:]
	}
	for i, c := range u {
		binary.LittleEndian.PutUint16(dst[2*i:], c)
	}
}

// Checksum is the base-block checksum: the XOR of the first 127 32-bit
// words, with 0 stored as 1 and 0xFFFFFFFF as 0xFFFFFFFE.
func Checksum(b []byte) uint32 {
	var x uint32
	for i := 0; i < 508; i += 4 {
		x ^= binary.LittleEndian.Uint32(b[i:])
	}
	switch x {
	case 0:
		return 1
	case 0xFFFFFFFF:
		return 0xFFFFFFFE
	}
	return x
}

// cellWriter lays cells out in hive bins, the way Windows fills a freshly
// written hive: cells packed in order, 8-byte aligned, a bin closed by a
// free cell when the next cell does not fit, oversized cells in bins of
// their own.
type cellWriter struct {
	o        *options
	buf      []byte // hive bins data
	cur      int    // next free byte
	binStart int
	binEnd   int
	firstBin time.Time
	sk       map[string]int
	skOrder  []int
	skRefs   map[int]uint32
	// Where the cells went, for BuildLayout.
	layout     *Layout
	lastValue  ValueCells
	lastLeaves []int
	// The free cell written last, for merging neighbours.
	lastFree, lastFreeEnd int
}

// alloc reserves an allocated cell for payload bytes and returns its offset
// (relative to the start of the hive bins) and its payload slice.
func (w *cellWriter) alloc(payload int) (int, []byte, error) {
	size := (4 + payload + 7) &^ 7
	if size > 0x7FFFFFFF-BinHeaderSize-PageSize || len(w.buf) > 0x7FFFFFFF-size-2*PageSize {
		return 0, nil, errors.New("hive too large")
	}
	if w.binEnd-w.cur < size {
		w.closeBin()
		binSize := (size + BinHeaderSize + PageSize - 1) / PageSize * PageSize
		w.openBin(binSize)
	}
	off := w.cur
	binary.LittleEndian.PutUint32(w.buf[off:], uint32(-int32(size)))
	w.cur += size
	return off, w.buf[off+4 : off+4+payload], nil
}

func (w *cellWriter) openBin(size int) {
	start := len(w.buf)
	w.buf = append(w.buf, make([]byte, size)...)
	h := w.buf[start:]
	copy(h, "hbin")
	binary.LittleEndian.PutUint32(h[4:], uint32(start))
	binary.LittleEndian.PutUint32(h[8:], uint32(size))
	if start == 0 {
		binary.LittleEndian.PutUint64(h[20:], wintime.ToFiletime(w.firstBin))
	}
	w.binStart, w.binEnd, w.cur = start, start+size, start+BinHeaderSize
}

// free marks an allocated cell free, its bytes left as they are. A cell
// that directly follows the cell freed just before is merged into it, as
// Windows coalesces neighbouring free cells (the merged cell's size field
// stays behind as stale bytes).
func (w *cellWriter) free(off int) {
	size := int(-int32(binary.LittleEndian.Uint32(w.buf[off:])))
	if size <= 0 {
		return
	}
	if w.lastFree >= 0 && w.lastFreeEnd == off && w.lastFree >= w.binStart && off < w.binEnd {
		merged := w.lastFreeEnd - w.lastFree + size
		binary.LittleEndian.PutUint32(w.buf[w.lastFree:], uint32(merged))
		w.lastFreeEnd = off + size
		return
	}
	binary.LittleEndian.PutUint32(w.buf[off:], uint32(size))
	w.lastFree, w.lastFreeEnd = off, off+size
}

// closeBin marks the rest of the current bin as one free cell.
func (w *cellWriter) closeBin() {
	if w.cur < w.binEnd {
		if w.lastFree >= w.binStart && w.lastFreeEnd == w.cur {
			// The freed cell just before the rest of the bin absorbs it.
			binary.LittleEndian.PutUint32(w.buf[w.lastFree:], uint32(w.binEnd-w.lastFree))
		} else {
			binary.LittleEndian.PutUint32(w.buf[w.cur:], uint32(w.binEnd-w.cur))
		}
	}
	w.cur = w.binEnd
}

// security returns the sk cell holding sd, writing it on first use.
func (w *cellWriter) security(sd []byte) (int, error) {
	if off, ok := w.sk[string(sd)]; ok {
		w.skRefs[off]++
		return off, nil
	}
	off, c, err := w.alloc(20 + len(sd))
	if err != nil {
		return 0, err
	}
	copy(c, "sk")
	binary.LittleEndian.PutUint32(c[16:], uint32(len(sd)))
	copy(c[20:], sd)
	w.sk[string(sd)] = off
	w.skOrder = append(w.skOrder, off)
	w.skRefs[off] = 1
	return off, nil
}

// finishSecurity links the sk cells in a circular list in the order they
// were written and stores their reference counts.
func (w *cellWriter) finishSecurity() {
	n := len(w.skOrder)
	for i, off := range w.skOrder {
		c := w.buf[off+4:]
		binary.LittleEndian.PutUint32(c[4:], uint32(w.skOrder[(i+1)%n]))
		binary.LittleEndian.PutUint32(c[8:], uint32(w.skOrder[(i+n-1)%n]))
		binary.LittleEndian.PutUint32(c[12:], w.skRefs[off])
	}
}

func layoutCells(root *Key, o *options) ([]byte, int, *Layout, error) {
	if root == nil {
		return nil, 0, nil, errors.New("hivetest: nil root key")
	}
	if o.leafCap < 1 || o.leafCap > 0xFFFF {
		return nil, 0, nil, fmt.Errorf("hivetest: leaf capacity %d out of range", o.leafCap)
	}
	w := &cellWriter{o: o, firstBin: o.lastWrittenOf(root), sk: map[string]int{}, skRefs: map[int]uint32{},
		layout: &Layout{Keys: map[string]*KeyCells{}}, lastFree: -1}
	w.openBin(PageSize)
	sd := root.Security
	if sd == nil {
		sd = DefaultSD()
	}
	off, _, err := w.writeKey(root, 0, sd, 0, "")
	if err != nil {
		return nil, 0, nil, err
	}
	w.closeBin()
	w.finishSecurity()
	w.layout.RootCell = off
	w.layout.HiveBinsSize = len(w.buf)
	w.layout.Security = w.skOrder
	return w.buf, off, w.layout, nil
}

// keyError names the key path in a writer error.
func keyError(path string, format string, args ...any) error {
	if path == "" {
		path = "(root)"
	}
	return fmt.Errorf("hivetest: key %s: %s", path, fmt.Sprintf(format, args...))
}

// writeKey writes k's nk cell, class, security, values and subtree, and
// returns the nk offset and the encoded name.
func (w *cellWriter) writeKey(k *Key, parent int, inherited []byte, depth int, path string) (int, encodedName, error) {
	le := binary.LittleEndian
	if k == nil {
		return 0, encodedName{}, keyError(path, "nil subkey")
	}
	if depth > maxDepth {
		return 0, encodedName{}, keyError(path, "deeper than %d levels", maxDepth)
	}
	name := encodeName(k.Name, k.NameRaw, k.NameUTF16)
	if len(name.raw) > 0xFFFF || (k.NameRaw == nil && len(name.units) > MaxNameLen) {
		return 0, encodedName{}, keyError(path, "name of %d characters is too long", len(name.units))
	}
	if depth > 0 {
		if path == "" {
			path = k.Name
		} else {
			path += `\` + k.Name
		}
	}
	off, _, err := w.alloc(76 + len(name.raw))
	if err != nil {
		return 0, name, keyError(path, "%v", err)
	}
	kc := &KeyCells{NK: off, Class: -1, ValueList: -1, SubkeyList: -1}
	w.layout.Keys[path] = kc
	var flags uint16 = k.Flags
	if name.comp {
		flags |= nkFlagCompName
	}
	if depth == 0 {
		flags |= nkFlagHiveEntry | nkFlagNoDelete
	}

	classOff, classLen := uint32(noCell), 0
	if k.Class != "" {
		cb := UTF16(k.Class)
		cb = cb[:len(cb)-2]
		if len(cb) > 0xFFFF {
			return 0, name, keyError(path, "class name too long")
		}
		co, c, err := w.alloc(len(cb))
		if err != nil {
			return 0, name, keyError(path, "%v", err)
		}
		copy(c, cb)
		classOff, classLen = uint32(co), len(cb)
		kc.Class = co
	}

	sd := k.Security
	if sd == nil {
		sd = inherited
	}
	skOff, err := w.security(sd)
	if err != nil {
		return 0, name, keyError(path, "%v", err)
	}
	kc.Security = skOff

	valuesOff := uint32(noCell)
	maxValueName, maxValueData := 0, 0
	if len(k.Values) > 0 {
		lo, _, err := w.alloc(4 * len(k.Values))
		if err != nil {
			return 0, name, keyError(path, "%v", err)
		}
		valuesOff = uint32(lo)
		kc.ValueList = lo
		for i, v := range k.Values {
			vo, vn, err := w.writeValue(v)
			if err != nil {
				return 0, name, keyError(path, "value %q: %v", v.Name, err)
			}
			le.PutUint32(w.buf[lo+4+4*i:], uint32(vo))
			kc.Values = append(kc.Values, w.lastValue)
			maxValueName = max(maxValueName, vn.unicodeLen())
			maxValueData = max(maxValueData, len(v.Data))
		}
	}
	for _, v := range k.DeletedValues {
		if _, _, err := w.writeValue(v); err != nil {
			return 0, name, keyError(path, "deleted value %q: %v", v.Name, err)
		}
		vc := w.lastValue
		kc.DeletedValues = append(kc.DeletedValues, vc)
		w.free(vc.VK)
		for _, c := range append([]int{vc.Data, vc.SegmentList}, vc.Segments...) {
			if c >= 0 {
				w.free(c)
			}
		}
	}

	childOffs := make([]int, len(k.Subkeys))
	childNames := make([]encodedName, len(k.Subkeys))
	maxName, maxClass := 0, 0
	for i, s := range k.Subkeys {
		co, cn, err := w.writeKey(s, off, sd, depth+1, path)
		if err != nil {
			return 0, name, err
		}
		childOffs[i], childNames[i] = co, cn
		maxName = max(maxName, cn.unicodeLen())
		if s.Class != "" {
			maxClass = max(maxClass, 2*len(utf16.Encode([]rune(s.Class))))
		}
	}
	listOff := uint32(noCell)
	if len(k.Subkeys) > 0 {
		lo, err := w.writeSubkeyList(k.List, childOffs, childNames)
		if err != nil {
			return 0, name, keyError(path, "%v", err)
		}
		listOff = uint32(lo)
		kc.SubkeyList, kc.Leaves = lo, w.lastLeaves
	}

	c := w.buf[off+4:]
	copy(c, "nk")
	le.PutUint16(c[2:], flags)
	le.PutUint64(c[4:], wintime.ToFiletime(k.LastWrite))
	le.PutUint32(c[16:], uint32(parent))
	le.PutUint32(c[20:], uint32(len(k.Subkeys)))
	le.PutUint32(c[28:], listOff)
	le.PutUint32(c[32:], noCell)
	le.PutUint32(c[36:], uint32(len(k.Values)))
	le.PutUint32(c[40:], valuesOff)
	le.PutUint32(c[44:], uint32(skOff))
	le.PutUint32(c[48:], classOff)
	le.PutUint32(c[52:], uint32(min(maxName, 0xFFFF)))
	le.PutUint32(c[56:], uint32(maxClass))
	le.PutUint32(c[60:], uint32(maxValueName))
	le.PutUint32(c[64:], uint32(maxValueData))
	le.PutUint16(c[72:], uint16(len(name.raw)))
	le.PutUint16(c[74:], uint16(classLen))
	copy(c[76:], name.raw)
	return off, name, nil
}

// writeValue writes a vk cell and its data.
func (w *cellWriter) writeValue(v Value) (int, encodedName, error) {
	le := binary.LittleEndian
	name := encodeName(v.Name, v.NameRaw, v.NameUTF16)
	if len(name.raw) > 0xFFFF || (v.NameRaw == nil && len(name.units) > MaxNameLen) {
		return 0, name, fmt.Errorf("name of %d characters is too long", len(name.units))
	}
	if len(v.Data) >= residentDataFlag {
		return 0, name, fmt.Errorf("data of %d bytes is too large", len(v.Data))
	}
	off, _, err := w.alloc(20 + len(name.raw))
	if err != nil {
		return 0, name, err
	}
	size := uint32(len(v.Data))
	var dataOff uint32
	w.lastValue = ValueCells{Name: v.Name, VK: off, Data: -1, SegmentList: -1}
	switch {
	case len(v.Data) <= 4:
		size |= residentDataFlag
		var b [4]byte
		copy(b[:], v.Data)
		dataOff = le.Uint32(b[:])
	case len(v.Data) > BigDataSegment && (w.o.major > 1 || w.o.minor >= 4):
		dataOff, err = w.writeBigData(v.Data)
		w.lastValue.Data = int(dataOff)
	default:
		var do int
		var c []byte
		do, c, err = w.alloc(len(v.Data) + len(v.Slack))
		copy(c, v.Data)
		copy(c[len(v.Data):], v.Slack)
		dataOff = uint32(do)
		w.lastValue.Data = do
	}
	if err != nil {
		return 0, name, err
	}
	c := w.buf[off+4:]
	copy(c, "vk")
	le.PutUint16(c[2:], uint16(len(name.raw)))
	le.PutUint32(c[4:], size)
	le.PutUint32(c[8:], dataOff)
	le.PutUint32(c[12:], v.Type)
	if name.comp {
		le.PutUint16(c[16:], vkFlagCompName)
	}
	copy(c[20:], name.raw)
	return off, name, nil
}

// writeBigData writes a db cell, its segment list and the segments.
func (w *cellWriter) writeBigData(data []byte) (uint32, error) {
	n := (len(data) + BigDataSegment - 1) / BigDataSegment
	if n > 0xFFFF {
		return 0, fmt.Errorf("data of %d bytes needs too many segments", len(data))
	}
	dbOff, _, err := w.alloc(8)
	if err != nil {
		return 0, err
	}
	segs := make([]int, n)
	for i := range n {
		part := data[i*BigDataSegment : min(len(data), (i+1)*BigDataSegment)]
		so, c, err := w.alloc(len(part))
		if err != nil {
			return 0, err
		}
		copy(c, part)
		segs[i] = so
	}
	listOff, lc, err := w.alloc(4 * n)
	if err != nil {
		return 0, err
	}
	for i, s := range segs {
		binary.LittleEndian.PutUint32(lc[4*i:], uint32(s))
	}
	w.lastValue.Segments, w.lastValue.SegmentList = segs, listOff
	db := w.buf[dbOff+4:]
	copy(db, "db")
	binary.LittleEndian.PutUint16(db[2:], uint16(n))
	binary.LittleEndian.PutUint32(db[4:], uint32(listOff))
	return uint32(dbOff), nil
}

// writeSubkeyList writes the subkey list (leaves, and an ri index when the
// fan-out exceeds the leaf capacity) in Windows' sorted order.
func (w *cellWriter) writeSubkeyList(kind ListKind, offs []int, names []encodedName) (int, error) {
	order := sortedChildren(names)
	leafCap := w.o.leafCap
	var leaves []int
	for start := 0; start < len(order); start += leafCap {
		chunk := order[start:min(len(order), start+leafCap)]
		lo, err := w.writeLeaf(kind, chunk, offs, names)
		if err != nil {
			return 0, err
		}
		leaves = append(leaves, lo)
	}
	w.lastLeaves = leaves
	if len(leaves) == 1 && kind != ListRI {
		w.lastLeaves = nil
		return leaves[0], nil
	}
	if len(leaves) > 0xFFFF {
		return 0, fmt.Errorf("%d subkeys need too many leaves", len(offs))
	}
	ri, c, err := w.alloc(4 + 4*len(leaves))
	if err != nil {
		return 0, err
	}
	copy(c, "ri")
	binary.LittleEndian.PutUint16(c[2:], uint16(len(leaves)))
	for i, l := range leaves {
		binary.LittleEndian.PutUint32(c[4+4*i:], uint32(l))
	}
	return ri, nil
}

func (w *cellWriter) writeLeaf(kind ListKind, chunk []int, offs []int, names []encodedName) (int, error) {
	le := binary.LittleEndian
	entry := 8
	sig := "lh"
	switch kind {
	case ListLI:
		entry, sig = 4, "li"
	case ListLF:
		sig = "lf"
	}
	lo, c, err := w.alloc(4 + entry*len(chunk))
	if err != nil {
		return 0, err
	}
	copy(c, sig)
	le.PutUint16(c[2:], uint16(len(chunk)))
	for i, idx := range chunk {
		e := c[4+entry*i:]
		le.PutUint32(e, uint32(offs[idx]))
		switch sig {
		case "lh":
			le.PutUint32(e[4:], lhHash(names[idx].units))
		case "lf":
			le.PutUint32(e[4:], lfHint(names[idx].units))
		}
	}
	return lo, nil
}
