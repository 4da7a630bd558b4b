package hivetest

import (
	"encoding/binary"
	"math/bits"
)

// LogHashSeed is the Marvin32 seed Windows uses for the two hashes of an
// HvLE log entry.
const LogHashSeed uint64 = 0x82EF4D887A4E55C5

// Marvin32 computes the 64-bit Marvin32 hash of data with seed (the
// published algorithm: 32-bit little-endian words mixed into two 32-bit
// lanes, a 0x80 terminator after the last bytes, two final rounds). The
// result is the high lane in the upper 32 bits and the low lane below.
func Marvin32(seed uint64, data []byte) uint64 {
	lo, hi := uint32(seed), uint32(seed>>32)
	block := func() {
		hi ^= lo
		lo = bits.RotateLeft32(lo, 20)
		lo += hi
		hi = bits.RotateLeft32(hi, 9)
		hi ^= lo
		lo = bits.RotateLeft32(lo, 27)
		lo += hi
		hi = bits.RotateLeft32(hi, 19)
	}
	for len(data) >= 4 {
		lo += binary.LittleEndian.Uint32(data)
		block()
		data = data[4:]
	}
	final := uint32(0x80)
	for i := len(data) - 1; i >= 0; i-- {
		final = final<<8 | uint32(data[i])
	}
	lo += final
	block()
	block()
	return uint64(hi)<<32 | uint64(lo)
}
