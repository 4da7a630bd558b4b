package hive

import (
	"fmt"
	"math/bits"
)

// Layout of a transaction log of the old format (Windows XP to 8.0, file type
// 1, or 2 for some XP logs): a base block whose first 512 bytes are
// significant, then at offset 512 the dirty vector: "DIRT" followed by a
// bitmap of HiveBinsSize/4096 bytes in which bit i (least significant bit
// first) marks the 512-byte sector i of the hive bins as dirty. The dirty
// sectors follow, in bitmap order, from the next 512-byte boundary.
const (
	dirtSignature = "DIRT"
	sectorSize    = 512
)

// dirtLog is a parsed transaction log of the old format.
type dirtLog struct {
	bb          BaseBlock
	sectors     []uint32 // indexes of the dirty 512-byte sectors of the hive bins, ascending
	pagesOffset int64    // log offset of the first dirty sector's bytes
}

// parseDirtLog decodes the dirty vector of an old-format log whose base
// block is bb. The bitmap and every dirty sector must lie inside the log;
// nothing is allocated before that is known. The string is the reason the log
// is unusable.
func parseDirtLog(log []byte, bb BaseBlock) (dirtLog, string) {
	d := dirtLog{bb: bb}
	if bb.HiveBinsSize < hiveBinAlign || bb.HiveBinsSize%hiveBinAlign != 0 {
		return d, fmt.Sprintf("hive bins size %#x in the log's base block is not a positive multiple of 4096", bb.HiveBinsSize)
	}
	vecLen := int64(bb.HiveBinsSize / hiveBinAlign)
	vecStart := int64(logBaseBlockSize + len(dirtSignature))
	d.pagesOffset = alignUp(vecStart+vecLen, sectorSize)
	if int64(len(log)) < d.pagesOffset+sectorSize {
		return d, fmt.Sprintf("log is %d bytes, too short for a dirty vector of %d bytes and one dirty sector", len(log), vecLen)
	}
	if string(log[logBaseBlockSize:vecStart]) != dirtSignature {
		return d, fmt.Sprintf("no dirty vector: signature %q at offset 0x200, want %q", log[logBaseBlockSize:vecStart], dirtSignature)
	}
	bitmap := log[vecStart : vecStart+vecLen]
	n := 0
	for _, b := range bitmap {
		n += bits.OnesCount8(b)
	}
	if n == 0 {
		return d, "dirty vector marks no sector as dirty"
	}
	if need := d.pagesOffset + int64(n)*sectorSize; need > int64(len(log)) {
		return d, fmt.Sprintf("log is truncated: %d dirty sectors need %d bytes, the file has %d", n, need, len(log))
	}
	d.sectors = make([]uint32, 0, n)
	for i, b := range bitmap {
		for b != 0 {
			j := bits.TrailingZeros8(b)
			d.sectors = append(d.sectors, uint32(i*8+j))
			b &= b - 1
		}
	}
	return d, ""
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }
