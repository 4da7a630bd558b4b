package etl

import (
	"encoding/binary"
	"errors"
)

// errLZ77 reports compressed data that does not decode to the expected
// length.
var errLZ77 = errors.New("corrupt MS-XCA LZ77 data")

// decompressLZ77 decodes MS-XCA "plain LZ77" (the XPRESS format of
// compressed ETW buffers) from in into out and returns the number of bytes
// written. It never writes past len(out): input that would produce more is
// corrupt. A back reference before the start of the output is corrupt too.
func decompressLZ77(out, in []byte) (int, error) {
	var (
		ip, op     int
		flags      uint32
		flagCount  int
		nibbleAt   = -1 // index of the byte whose high nibble is still unused
		outLen     = len(out)
		inLen      = len(in)
		readUint16 = func() (int, bool) {
			if ip+2 > inLen {
				return 0, false
			}
			v := int(binary.LittleEndian.Uint16(in[ip:]))
			ip += 2
			return v, true
		}
	)
	for {
		if flagCount == 0 {
			if ip+4 > inLen {
				return op, nil
			}
			flags = binary.LittleEndian.Uint32(in[ip:])
			ip += 4
			flagCount = 32
		}
		flagCount--
		if flags&(1<<uint(flagCount)) == 0 {
			if ip >= inLen {
				return op, nil
			}
			if op >= outLen {
				return op, errLZ77
			}
			out[op] = in[ip]
			op++
			ip++
			continue
		}
		if ip == inLen {
			return op, nil
		}
		m, ok := readUint16()
		if !ok {
			return op, errLZ77
		}
		length := m & 7
		dist := m>>3 + 1
		if length == 7 {
			var nib int
			if nibbleAt < 0 {
				if ip >= inLen {
					return op, errLZ77
				}
				nib = int(in[ip] & 0x0f)
				nibbleAt = ip
				ip++
			} else {
				nib = int(in[nibbleAt] >> 4)
				nibbleAt = -1
			}
			length = nib
			if nib == 15 {
				if ip >= inLen {
					return op, errLZ77
				}
				b := int(in[ip])
				ip++
				length = b
				if b == 255 {
					v, ok := readUint16()
					if !ok {
						return op, errLZ77
					}
					if v == 0 {
						if ip+4 > inLen {
							return op, errLZ77
						}
						v32 := binary.LittleEndian.Uint32(in[ip:])
						ip += 4
						if v32 > uint32(outLen)+22 {
							return op, errLZ77
						}
						v = int(v32)
					}
					if v < 22 {
						return op, errLZ77
					}
					length = v - 22
				}
				length += 15
			}
			length += 7
		}
		length += 3
		if dist > op || length > outLen-op {
			return op, errLZ77
		}
		src := op - dist
		if dist >= length {
			copy(out[op:op+length], out[src:src+length])
			op += length
			continue
		}
		// Overlapping copy: the bytes between src and op repeat. Copy the
		// available run, which doubles each time, instead of byte by byte.
		for length > 0 {
			n := copy(out[op:op+length], out[src:op])
			op += n
			length -= n
		}
	}
}
