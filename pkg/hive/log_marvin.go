package hive

import (
	"encoding/binary"
	"math/bits"
)

// marvinLogSeed is the Marvin32 seed Windows uses for the two hashes of a
// log entry of the new format.
const marvinLogSeed = 0x82EF4D887A4E55C5

// marvin32 computes the Marvin32 hash of data with seed, as the 64-bit value
// (high state word << 32 | low state word) that log entries store. The
// 32-bit folding .NET applies for string hashing (hi ^ lo) is not used here.
func marvin32(data []byte, seed uint64) uint64 {
	lo, hi := uint32(seed), uint32(seed>>32)
	mix := func(v uint32) {
		lo += v
		hi ^= lo
		lo = bits.RotateLeft32(lo, 20) + hi
		hi = bits.RotateLeft32(hi, 9) ^ lo
		lo = bits.RotateLeft32(lo, 27) + hi
		hi = bits.RotateLeft32(hi, 19)
	}
	for len(data) >= 4 {
		mix(binary.LittleEndian.Uint32(data))
		data = data[4:]
	}
	// The 0–3 trailing bytes, little-endian, followed by a 0x80 marker byte.
	final := uint32(0x80)
	for i := len(data) - 1; i >= 0; i-- {
		final = final<<8 | uint32(data[i])
	}
	mix(final)
	mix(0)
	return uint64(hi)<<32 | uint64(lo)
}
