package hive

import (
	"encoding/binary"
	"fmt"
)

// cellError says why a cell offset cannot be followed.
type cellError string

func (e cellError) Error() string { return string(e) }

// noCell is the "no cell" offset used in nk, vk and list fields.
const noCell = 0xFFFFFFFF

// cell returns the payload of the cell at off (relative to the hive bins),
// after its 4-byte size field, bounded by the cell's size and the bins area.
// free reports a cell marked unallocated (positive size).
func (h *Hive) cell(off uint32) (payload []byte, free bool, err error) {
	if off == noCell {
		return nil, false, cellError("no cell (offset 0xffffffff)")
	}
	if off%8 != 0 {
		return nil, false, cellError(fmt.Sprintf("cell offset %#x is not 8-byte aligned", off))
	}
	abs := binsStart + int64(off)
	if abs+4 > int64(h.end) {
		return nil, false, cellError(fmt.Sprintf("cell offset %#x is past the end of the hive bins (%#x)", off, h.end-binsStart))
	}
	size := int64(int32(binary.LittleEndian.Uint32(h.data[abs:])))
	if size > 0 {
		free = true
	} else {
		size = -size
	}
	if size < 8 {
		return nil, free, cellError(fmt.Sprintf("cell at %#x has size %d", off, size))
	}
	if abs+size > int64(h.end) {
		return nil, free, cellError(fmt.Sprintf("cell at %#x has size %#x, past the end of the hive bins", off, size))
	}
	return h.data[abs+4 : abs+size], free, nil
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// nk (key node) layout, offsets in the cell payload.
const (
	nkFlags        = 0x02
	nkLastWrite    = 0x04
	nkParent       = 0x10
	nkSubkeyCount  = 0x14
	nkSubkeyList   = 0x1C
	nkValueCount   = 0x24
	nkValueList    = 0x28
	nkSecurity     = 0x2C
	nkClass        = 0x30
	nkNameLength   = 0x48
	nkClassLength  = 0x4A
	nkName         = 0x4C
	nkCompName     = 0x0020
	nkHiveEntry    = 0x0004
	nkPredefHandle = 0x0040
	vkNameLength   = 0x02
	vkDataLength   = 0x04
	vkDataOffset   = 0x08
	vkType         = 0x0C
	vkFlags        = 0x10
	vkName         = 0x14
	vkCompName     = 0x0001
	resident       = 0x80000000
	bigDataSegment = 16344
)

// listGuard stops a walk from enumerating one subkey list for several keys:
// Windows never shares lists, and a hostile hive whose keys all point at one
// big list would otherwise cost keys × entries. A list is claimed by the
// first key whose first listed child names it as parent; a list whose first
// child names another key is skipped without being claimed (so its real
// owner can still claim it later in the walk, as in yarp's BadListHive).
type listGuard struct {
	seen  bitset
	owner uint32 // the key whose lists are being read
}

// subkeyOffsets appends the nk offsets listed by the subkey list at listOff
// to dst. lf/lh/li lists are read directly; an ri list's entries must be
// lf/lh/li lists (an ri under an ri is skipped). Counts are capped by the
// cell sizes. Problems are recorded as anomalies against key. g, when not
// nil, applies the walk's list claims.
func (h *Hive) subkeyOffsets(dst []uint32, listOff uint32, key string, g *listGuard) []uint32 {
	p, free, err := h.cell(listOff)
	if err != nil {
		h.anomaly(listOff, AnomalyBadList, key, true, "subkey list: %v", err)
		return dst
	}
	if free {
		h.anomaly(listOff, AnomalyFreeCell, key, false, "subkey list cell is marked free")
	}
	if len(p) < 4 {
		h.anomaly(listOff, AnomalyBadList, key, true, "subkey list cell too small (%d bytes)", len(p))
		return dst
	}
	if p[0] == 'r' && p[1] == 'i' {
		if g != nil && g.seen.has(listOff) {
			h.anomaly(listOff, AnomalySharedList, key, true, "subkey list %#x was already read for another key; skipped", listOff)
			return dst
		}
		n := h.capCount(int(le16(p[2:])), (len(p)-4)/4, listOff, key, "ri list")
		claimed := false
		for i := 0; i < n; i++ {
			sub := le32(p[4+4*i:])
			sp, free, err := h.cell(sub)
			if err != nil {
				h.anomaly(sub, AnomalyBadList, key, true, "subkey list %d of ri list %#x: %v", i, listOff, err)
				continue
			}
			if free {
				h.anomaly(sub, AnomalyFreeCell, key, false, "subkey list cell is marked free")
			}
			if len(sp) >= 2 && sp[0] == 'r' && sp[1] == 'i' {
				h.anomaly(sub, AnomalyListDepth, key, true, "ri list %#x points at another ri list; skipped", listOff)
				continue
			}
			if g != nil {
				if !h.claimList(g, sp, sub, key) {
					continue
				}
				claimed = true
			}
			dst = h.leafOffsets(dst, sp, sub, key)
		}
		if claimed {
			g.seen.set(listOff)
		}
		return dst
	}
	if g != nil && !h.claimList(g, p, listOff, key) {
		return dst
	}
	return h.leafOffsets(dst, p, listOff, key)
}

// claimList applies the walk's claim to a leaf list: it must hold keys of
// the key being read, and not have been read already for another key.
func (h *Hive) claimList(g *listGuard, p []byte, off uint32, key string) bool {
	if !h.listBelongs(p, off, key, g.owner) {
		return false
	}
	if g.seen.has(off) {
		h.anomaly(off, AnomalySharedList, key, true, "subkey list %#x was already read for another key; skipped", off)
		return false
	}
	g.seen.set(off)
	return true
}

// listBelongs reports whether the first readable key listed by the leaf
// list p names owner as its parent. A list of another key is skipped whole:
// reading it entry by entry for every key pointing at it is the
// amplification the guard prevents.
func (h *Hive) listBelongs(p []byte, off uint32, key string, owner uint32) bool {
	if len(p) < 4 {
		return true // leafOffsets reports it
	}
	stride := 8
	if p[1] == 'i' {
		stride = 4
	}
	// Only the first few entries are tried, so that a list of unreadable
	// entries costs every key pointing at it O(1): when none of them is a
	// key, the list is claimed and later readers get shared-list.
	n := min(int(le16(p[2:])), (len(p)-4)/stride, 16)
	for i := 0; i < n; i++ {
		c, _, err := h.cell(le32(p[4+stride*i:]))
		if err != nil || len(c) < nkName || c[0] != 'n' || c[1] != 'k' {
			continue
		}
		if parent := le32(c[nkParent:]); parent != owner {
			h.anomaly(off, AnomalyParentMismatch, key, true, "subkey list %#x holds keys of key %#x, not of this key (%#x); skipped", off, parent, owner)
			return false
		}
		return true
	}
	return true
}

// leafOffsets reads an lf, lh or li list.
func (h *Hive) leafOffsets(dst []uint32, p []byte, off uint32, key string) []uint32 {
	if len(p) < 4 {
		h.anomaly(off, AnomalyBadList, key, true, "subkey list cell too small (%d bytes)", len(p))
		return dst
	}
	var stride int
	switch {
	case p[0] == 'l' && (p[1] == 'f' || p[1] == 'h'):
		stride = 8
	case p[0] == 'l' && p[1] == 'i':
		stride = 4
	default:
		h.anomaly(off, AnomalyBadSignature, key, true, "subkey list has signature %q, want lf, lh, li or ri", p[:2])
		return dst
	}
	n := h.capCount(int(le16(p[2:])), (len(p)-4)/stride, off, key, string(p[:2])+" list")
	for i := 0; i < n; i++ {
		dst = append(dst, le32(p[4+stride*i:]))
	}
	return dst
}

// capCount caps a count read from a cell by what the cell can hold.
func (h *Hive) capCount(n, max int, off uint32, key, what string) int {
	if n > max {
		h.anomaly(off, AnomalyCountCapped, key, true, "%s claims %d entries but its cell holds %d", what, n, max)
		return max
	}
	return n
}
