package etltest

import "encoding/binary"

// CompressLZ77 compresses data in the MS-XCA "plain LZ77" format that
// compressed ETW buffers use, with a simple greedy matcher. It exists so
// tests can build compressed traces; it aims at correctness, not ratio.
func CompressLZ77(data []byte) []byte {
	const (
		maxDist = 8192
		hashLen = 1 << 14
	)
	var head [hashLen]int32
	for i := range head {
		head[i] = -1
	}
	hash := func(i int) int {
		return int((uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16) * 2654435761 >> 18)
	}
	out := make([]byte, 4, len(data)/2+16)
	flagPos, flagCount := 0, 0
	var flags uint32
	nibblePos := -1
	pushFlag := func(bit uint32) {
		if flagCount == 32 {
			binary.LittleEndian.PutUint32(out[flagPos:], flags)
			flagPos = len(out)
			out = append(out, 0, 0, 0, 0)
			flags, flagCount = 0, 0
		}
		flags = flags<<1 | bit
		flagCount++
	}
	nibble := func(v byte) {
		if nibblePos < 0 {
			nibblePos = len(out)
			out = append(out, v)
		} else {
			out[nibblePos] |= v << 4
			nibblePos = -1
		}
	}
	for i := 0; i < len(data); {
		bestLen, bestDist := 0, 0
		if i+3 <= len(data) {
			h := hash(i)
			if j := int(head[h]); j >= 0 && i-j <= maxDist {
				n := 0
				for i+n < len(data) && data[j+n] == data[i+n] {
					n++
				}
				if n >= 3 {
					bestLen, bestDist = n, i-j
				}
			}
			head[h] = int32(i)
		}
		if bestLen == 0 {
			pushFlag(0)
			out = append(out, data[i])
			i++
			continue
		}
		pushFlag(1)
		l := bestLen - 3
		m := uint16(bestDist-1) << 3
		if l < 7 {
			out = binary.LittleEndian.AppendUint16(out, m|uint16(l))
		} else {
			out = binary.LittleEndian.AppendUint16(out, m|7)
			l2 := l - 7
			if l2 < 15 {
				nibble(byte(l2))
			} else {
				nibble(15)
				if l3 := l2 - 15; l3 < 255 {
					out = append(out, byte(l3))
				} else {
					out = append(out, 255)
					if l < 1<<16 {
						out = binary.LittleEndian.AppendUint16(out, uint16(l))
					} else {
						out = binary.LittleEndian.AppendUint16(out, 0)
						out = binary.LittleEndian.AppendUint32(out, uint32(l))
					}
				}
			}
		}
		for k := i + 1; k < i+bestLen && k+3 <= len(data); k++ {
			head[hash(k)] = int32(k)
		}
		i += bestLen
	}
	// Unused flag bits are set, as the format's encoder does.
	flags = flags<<(32-flagCount) | (1<<(32-flagCount) - 1)
	binary.LittleEndian.PutUint32(out[flagPos:], flags)
	return out
}
