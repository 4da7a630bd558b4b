package hive

import (
	"context"
	"errors"
	"fmt"
)

// Carving: values that survive in unallocated space.
//
// When Windows deletes or replaces a value it frees the value's vk cell and
// its data cell without clearing them, and neighbouring free cells are merged
// (the inner cells' size fields stay behind as stale bytes). Until the space
// is reused, the old name, type and data can be read back. Likewise, when a
// value is rewritten in place with shorter data, the tail of the older data
// stays in the data cell after the new data (slack).
//
// What is carved has no time of its own: a free cell may be older than any
// transaction log, and nothing says when it was freed.

// CarvedValue is a value (vk) cell found in unallocated space.
type CarvedValue struct {
	// Offset is the vk cell's offset relative to the hive bins (the form
	// used inside the hive; the file offset is Offset+4096).
	Offset int64
	// Name is the decoded value name ("" for a default value); NameRaw its
	// on-disk bytes; NameValid is false when the UTF-16 name held lone
	// surrogates.
	Name      string
	NameRaw   []byte
	NameValid bool
	// Type is the value type the cell declares.
	Type ValueType
	// Size is the data length the cell declares.
	Size int
	// Data is the data that could be read (nil when none); Complete is
	// true when all Size bytes were read.
	Data     []byte
	Complete bool
	// DataOffset is the data cell's offset relative to the hive bins, -1
	// when the data is resident in the vk cell.
	DataOffset int64
	// DataFree is true when the data lies in unallocated space too (or is
	// resident): it has not been handed out again since. When false, the
	// data cell is allocated now and may hold another value's data.
	DataFree bool
	// CellFree is true when the vk cell itself is in unallocated space
	// (always, for CarveValues). A vk cell found through a stale reference
	// (Key.ValueListSlack) may be allocated: then it may be another key's
	// value now.
	CellFree bool
	// Problem says why the data is missing, cut or suspect ("" when none).
	Problem string
}

// Decode decodes the carved data by the cell's type.
func (c CarvedValue) Decode() Data { return DecodeData(c.Type, c.Data) }

// CarveOptions bounds a scan of unallocated space.
type CarveOptions struct {
	// MaxValues stops the scan after this many carved values (default
	// 100000).
	MaxValues int
}

// DefaultMaxCarvedValues is CarveOptions.MaxValues' default.
const DefaultMaxCarvedValues = 100000

// ErrCarveLimit is returned by CarveValues when it stopped at
// CarveOptions.MaxValues: the rest of the free space was not scanned.
var ErrCarveLimit = errors.New("carving stopped at CarveOptions.MaxValues")

// freeRange is a top-level free cell, as file offsets [start, end).
type freeRange struct{ start, end int }

// freeRanges lists the free cells of the well-formed hive bins, in file
// order. A bin whose cells do not chain (a size of zero, unaligned or past
// the bin) is left at the bad cell: nothing after it in that bin is trusted.
// The walk is bounded by the size of the bins area.
func (h *Hive) freeRanges(ctx context.Context) ([]freeRange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []freeRange
	off := binsStart
	n := 0
	for off+32 <= h.end {
		b := h.data[off:]
		size := int(le32(b[8:]))
		if string(b[:4]) != "hbin" || int(le32(b[4:])) != off-binsStart || size < 4096 || size%4096 != 0 || off+size > h.end {
			off += 4096
			continue
		}
		end := off + size
		for c := off + 32; c+4 <= end; {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return out, err
				}
			}
			raw := int32(le32(h.data[c:]))
			cs := int(raw)
			if raw < 0 {
				cs = -int(raw)
			}
			if cs < 8 || cs%8 != 0 || c+cs > end {
				break
			}
			if raw > 0 {
				out = append(out, freeRange{c, c + cs})
			}
			c += cs
		}
		off = end
	}
	return out, nil
}

// inFree reports whether the file range [start, end) lies within one free
// range (ranges sorted by start).
func inFree(rs []freeRange, start, end int) bool {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := (lo + hi) / 2
		if rs[m].end <= start {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(rs) && rs[lo].start <= start && end <= rs[lo].end
}

// CarveValues scans the free cells of the hive for value (vk) cells, also
// inside merged free cells, and calls fn with each, in file order. Their data
// is read from the data cell the vk names when that cell is still within the
// hive and holds the declared length; big data (db lists) is not followed.
// The scan reads the image only (after any log recovery: the free cells of
// the recovered state), looks at each 8-byte position of free space once,
// checks ctx as it goes, and stops after CarveOptions.MaxValues values with
// ErrCarveLimit. fn's error stops the scan and is returned.
func (h *Hive) CarveValues(ctx context.Context, opts CarveOptions, fn func(CarvedValue) error) error {
	max := opts.MaxValues
	if max <= 0 {
		max = DefaultMaxCarvedValues
	}
	ranges, err := h.freeRanges(ctx)
	if err != nil {
		return err
	}
	found, steps := 0, 0
	for _, r := range ranges {
		// The free cell's own size field is at r.start; inner (stale)
		// cells start at any 8-byte step after it.
		for p := r.start; p+4+vkName <= r.end; p += 8 {
			if steps++; steps%65536 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if h.data[p+4] != 'v' || h.data[p+5] != 'k' {
				continue
			}
			cv, ok := h.carveAt(ranges, p, r.end)
			if !ok {
				continue
			}
			cv.CellFree = true
			if err := fn(cv); err != nil {
				return err
			}
			if found++; found >= max {
				return ErrCarveLimit
			}
		}
	}
	return nil
}

// carveAt decodes the vk cell whose size field is at file offset p, within
// a free range ending at end.
func (h *Hive) carveAt(ranges []freeRange, p, end int) (CarvedValue, bool) {
	vk := h.data[p+4 : end]
	nameLen := int(le16(vk[vkNameLength:]))
	if vkName+nameLen > len(vk) {
		return CarvedValue{}, false
	}
	// The stale size field, when it still looks like a cell size, must be
	// large enough for the name.
	if sz := int32(le32(h.data[p:])); sz != 0 {
		if sz < 0 {
			sz = -sz
		}
		if int(sz) >= 8 && int(sz)%8 == 0 && int(sz) < 4+vkName+nameLen {
			return CarvedValue{}, false
		}
	}
	cv := CarvedValue{Offset: int64(p - binsStart), Type: ValueType(le32(vk[vkType:])), DataOffset: -1}
	cv.NameRaw = vk[vkName : vkName+nameLen : vkName+nameLen]
	if le16(vk[vkFlags:])&vkCompName != 0 {
		cv.Name, cv.NameValid = decodeLatin1(cv.NameRaw), true
	} else {
		cv.Name, cv.NameValid = decodeUTF16(cv.NameRaw)
	}
	n := le32(vk[vkDataLength:])
	if n&resident != 0 {
		n &^= resident
		if n > 4 {
			n = 4
			cv.Problem = "resident data length larger than 4; cut to 4"
		}
		cv.Size = int(n)
		cv.Data = vk[vkDataOffset : vkDataOffset+n : vkDataOffset+n]
		cv.Complete, cv.DataFree = cv.Problem == "", true
		return cv, true
	}
	cv.Size = int(n)
	if n == 0 {
		cv.Complete, cv.DataFree = true, true
		return cv, true
	}
	doff := le32(vk[vkDataOffset:])
	cv.DataOffset = int64(doff)
	abs := int64(binsStart) + int64(doff)
	switch {
	case int64(n) > int64(h.lim.MaxValueSize):
		cv.Problem = fmt.Sprintf("data length %d is more than Limits.MaxValueSize", n)
		return cv, true
	case doff == noCell || doff%8 != 0 || abs+8 > int64(h.end):
		cv.Problem = fmt.Sprintf("data offset %#x is not a cell in the hive bins", doff)
		return cv, true
	}
	size := int64(int32(le32(h.data[abs:])))
	if size < 0 {
		size = -size
	}
	if size < 8 || abs+size > int64(h.end) {
		// A stale size field: read as far as the data could go.
		size = min(int64(h.end)-abs, 4+int64(n))
	}
	payload := h.data[abs+4 : abs+size]
	if n > bigDataSegment && h.minor >= 4 && len(payload) >= 2 && payload[0] == 'd' && payload[1] == 'b' {
		cv.Problem = "big data (db list) is not carved"
		return cv, true
	}
	cv.DataFree = inFree(ranges, int(abs), int(abs+4)+int(min(int64(n), int64(len(payload)))))
	if int(n) > len(payload) {
		cv.Data = payload
		cv.Problem = fmt.Sprintf("data cell holds %d of %d bytes", len(payload), n)
	} else {
		cv.Data = payload[:n:n]
		cv.Complete = true
	}
	if !cv.DataFree {
		if cv.Problem != "" {
			cv.Problem += "; "
		}
		cv.Problem += "data cell is allocated again: the data may belong to another value"
	}
	return cv, true
}

// Slack returns the bytes left in the value's data cell after its data: the
// tail of older, longer data the value held before it was rewritten in place
// (and the cell's alignment padding, usually zeros). It is nil for resident
// and big data, and when the data cell cannot be read. The slice aliases the
// hive image: do not modify it.
func (v *Value) Slack() []byte {
	n := le32(v.vk[vkDataLength:])
	if n&resident != 0 || n == 0 {
		return nil
	}
	h := v.k.h
	p, _, err := h.cell(le32(v.vk[vkDataOffset:]))
	if err != nil || int(n) >= len(p) {
		return nil
	}
	if n > bigDataSegment && h.minor >= 4 && len(p) >= 2 && p[0] == 'd' && p[1] == 'b' {
		return nil
	}
	s := p[n:]
	return s[:len(s):len(s)]
}

// DataOffset is the offset of the value's data cell relative to the hive
// bins, or -1 when the data is resident in the vk cell.
func (v *Value) DataOffset() int64 {
	n := le32(v.vk[vkDataLength:])
	if n&resident != 0 || n == 0 {
		return -1
	}
	return int64(le32(v.vk[vkDataOffset:]))
}

// ValueListSlack returns the value cells named in the unused tail of the
// key's value list: when a value is removed, Windows shortens the list's
// count without clearing the cell, so the slot after the last live entry can
// still hold the offset of a removed value (or a stale copy of a live one,
// which is skipped). Unlike CarveValues, these values are known to have
// belonged to this key. The list is bounded by its cell; offsets that are
// not vk cells are ignored.
func (k *Key) ValueListSlack(ctx context.Context) ([]CarvedValue, error) {
	h := k.h
	count := int(le32(k.nk[nkValueCount:]))
	p, _, err := h.cell(le32(k.nk[nkValueList:]))
	if err != nil || count < 0 || count >= len(p)/4 {
		return nil, nil
	}
	live := map[uint32]bool{}
	for i := 0; i < count; i++ {
		live[le32(p[4*i:])] = true
	}
	var out []CarvedValue
	var ranges []freeRange
	for i := count; i < len(p)/4; i++ {
		off := le32(p[4*i:])
		if off == 0 || off == noCell || off%8 != 0 || live[off] {
			continue
		}
		live[off] = true
		abs := binsStart + int64(off)
		if abs+4+vkName > int64(h.end) || h.data[abs+4] != 'v' || h.data[abs+5] != 'k' {
			continue
		}
		if ranges == nil {
			if ranges, err = h.freeRanges(ctx); err != nil {
				return out, err
			}
		}
		end := int64(h.end)
		if sz := int64(int32(le32(h.data[abs:]))); sz != 0 {
			if sz < 0 {
				sz = -sz
			}
			if sz >= 8 && abs+sz <= end {
				end = abs + sz
			}
		}
		cv, ok := h.carveAt(ranges, int(abs), int(end))
		if !ok {
			continue
		}
		cv.CellFree = inFree(ranges, int(abs), int(abs)+4+vkName)
		out = append(out, cv)
	}
	return out, nil
}
