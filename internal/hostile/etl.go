package hostile

import (
	"encoding/binary"
	"fmt"
)

// WMI_BUFFER_HEADER fields patched by ETLPatches.
const (
	etlBufferHeaderSize = 0x48
	etlBufferSize       = 0x00
	etlSavedOffset      = 0x04
	etlProcessorIndex   = 0x28
	etlOffset           = 0x30
	etlBufferFlag       = 0x34
	etlFlagCompressed   = 0x40
)

// ETLBuffers returns the file offsets of the buffers of an ETL file, by
// following each buffer's BufferSize from the start (stopping at the first
// size that cannot be a buffer).
func ETLBuffers(data []byte) []int {
	var offs []int
	for off := 0; off+etlBufferHeaderSize <= len(data) && len(offs) < 1<<16; {
		size := int(binary.LittleEndian.Uint32(data[off+etlBufferSize:]))
		if size < etlBufferHeaderSize {
			break
		}
		offs = append(offs, off)
		off += size
	}
	return offs
}

// ETLPatches returns copies of an ETL file with one buffer header field of
// its first, second and last buffers made hostile: a BufferSize of zero,
// less than the header, huge, or one byte more than the buffer; a
// SavedOffset (end of data) of zero, past the buffer or huge; a huge
// Offset; the compressed flag set on a buffer that is not compressed; an
// out-of-range processor index; and the first event's size fields set to
// zero and to the largest 16-bit value.
func ETLPatches(data []byte) []Case {
	bufs := ETLBuffers(data)
	var pick []int
	for _, i := range []int{0, 1, len(bufs) - 1} {
		if i >= 0 && i < len(bufs) && (len(pick) == 0 || pick[len(pick)-1] != bufs[i]) {
			pick = append(pick, bufs[i])
		}
	}
	type field struct {
		name  string
		at    int
		width int
		value func(size uint32) uint32
	}
	fields := []field{
		{"size-zero", etlBufferSize, 4, func(uint32) uint32 { return 0 }},
		{"size-below-header", etlBufferSize, 4, func(uint32) uint32 { return etlBufferHeaderSize - 1 }},
		{"size-huge", etlBufferSize, 4, func(uint32) uint32 { return 0xFFFFFFF0 }},
		{"size-over-16MiB", etlBufferSize, 4, func(uint32) uint32 { return 16<<20 + 0x1000 }},
		{"size-plus-one", etlBufferSize, 4, func(s uint32) uint32 { return s + 1 }},
		{"saved-offset-zero", etlSavedOffset, 4, func(uint32) uint32 { return 0 }},
		{"saved-offset-past-buffer", etlSavedOffset, 4, func(s uint32) uint32 { return s + 8 }},
		{"saved-offset-huge", etlSavedOffset, 4, func(uint32) uint32 { return 0xFFFFFFF8 }},
		{"offset-huge", etlOffset, 4, func(uint32) uint32 { return 0xFFFFFFF8 }},
		{"flag-compressed", etlBufferFlag, 2, func(uint32) uint32 { return etlFlagCompressed }},
		{"processor-huge", etlProcessorIndex, 2, func(uint32) uint32 { return 0xFFFF }},
		{"first-event-size-zero", etlBufferHeaderSize + 4, 2, func(uint32) uint32 { return 0 }},
		{"first-event-size-max", etlBufferHeaderSize + 4, 2, func(uint32) uint32 { return 0xFFFF }},
		{"first-event-word-zero", etlBufferHeaderSize, 2, func(uint32) uint32 { return 0 }},
		{"first-event-word-max", etlBufferHeaderSize, 2, func(uint32) uint32 { return 0xFFFF }},
	}
	var out []Case
	for _, off := range pick {
		size := binary.LittleEndian.Uint32(data[off:])
		for _, f := range fields {
			if off+f.at+f.width > len(data) {
				continue
			}
			b := append([]byte(nil), data...)
			if f.width == 2 {
				binary.LittleEndian.PutUint16(b[off+f.at:], uint16(f.value(size)))
			} else {
				binary.LittleEndian.PutUint32(b[off+f.at:], f.value(size))
			}
			out = append(out, Case{Name: fmt.Sprintf("buffer@%#x-%s", off, f.name), Data: b})
		}
	}
	return out
}
