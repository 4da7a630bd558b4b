package hive

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// BaseBlockSize is the size of a registry base block ("regf" header) in a
// primary file and in a transaction log of the new format.
const BaseBlockSize = 4096

// checksumLen is the number of bytes the base-block checksum covers (127
// dwords); the checksum itself is stored right after them, at 0x1FC.
const checksumLen = 508

// File types of the base block (field at 0x1C).
const (
	FileTypePrimary  = 0 // a primary hive file
	FileTypeLog      = 1 // a transaction log of the old format (Windows XP to 8.0)
	FileTypeLogAlt   = 2 // a log of the old format written by Windows XP ("alternate")
	FileTypeLogNew   = 6 // a transaction log of the new format (Windows 8.1 and later)
	fileFormatDirect = 1 // the only file format the specification defines ("direct memory load")
)

// Base-block offsets, named as in the registry file format specification.
const (
	offSignature        = 0x00
	offPrimarySeq       = 0x04
	offSecondarySeq     = 0x08
	offLastWritten      = 0x0C
	offMajor            = 0x14
	offMinor            = 0x18
	offFileType         = 0x1C
	offFileFormat       = 0x20
	offRootCell         = 0x24
	offHiveBinsSize     = 0x28
	offClustering       = 0x2C
	offFileName         = 0x30
	fileNameLen         = 64
	offRmID             = 0x70
	offLogID            = 0x80
	offFlags            = 0x90
	offTmID             = 0x94
	offGUIDSignature    = 0xA4
	offLastReorganized  = 0xA8
	offChecksum         = 0x1FC
	offThawTmID         = 0xFC8
	offThawRmID         = 0xFD8
	offThawLogID        = 0xFE8
	offBootType         = 0xFF8
	offBootRecover      = 0xFFC
	minBaseBlockParsed  = 0x200 // everything up to and including the checksum
	hiveBinsStartOffset = BaseBlockSize
)

// GUID is a Windows GUID in its on-disk (mixed-endian) layout.
type GUID [16]byte

// String renders g as Windows does: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
func (g GUID) String() string {
	return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}",
		binary.LittleEndian.Uint32(g[0:4]), binary.LittleEndian.Uint16(g[4:6]),
		binary.LittleEndian.Uint16(g[6:8]), g[8:10], g[10:16])
}

// IsZero reports whether every byte of g is zero (the field is unused).
func (g GUID) IsZero() bool { return g == GUID{} }

// BaseBlock is the header of a hive file or of a transaction log: the first
// 4096 bytes, signature "regf". Field names follow the registry file format
// specification. Fields past the checksum (the thaw GUIDs, boot type and boot
// recover) are only read when the input holds them; a log of the old format
// carries only the first 512 bytes.
type BaseBlock struct {
	Signature          [4]byte   // "regf"
	PrimarySeq         uint32    // primary sequence number, incremented before a write
	SecondarySeq       uint32    // secondary sequence number, set equal to PrimarySeq after a successful write
	LastWrittenRaw     uint64    // FILETIME of the last write
	LastWritten        time.Time // LastWrittenRaw in UTC, full 100 ns precision; zero when LastWrittenRaw is 0
	Major              uint32    // major version (1)
	Minor              uint32    // minor version (3, 4, 5 or 6 in practice)
	FileType           uint32    // FileTypePrimary, FileTypeLog, FileTypeLogAlt or FileTypeLogNew
	FileFormat         uint32    // 1 = direct memory load
	RootCell           uint32    // offset of the root key's cell, relative to the start of the hive bins
	HiveBinsSize       uint32    // size of the hive bins data in bytes (the file holds BaseBlockSize + this)
	Clustering         uint32    // clustering factor (1)
	FileName           string    // the embedded file name (last 31 characters of the path), UTF-16LE decoded, NUL-trimmed
	FileNameRaw        []byte    // the 64 on-disk bytes of the file name
	RmID               GUID      // resource manager GUID (Windows Vista and later; zero otherwise)
	LogID              GUID      // log GUID
	Flags              uint32    // bit 0: KTM has pending transactions on the hive; bit 1: defragmented (Windows 8) or layered keys supported (Windows 10)
	TmID               GUID      // transaction manager GUID
	GUIDSignature      [4]byte   // "rmtm" when RmID, LogID and TmID are in use
	LastReorganizedRaw uint64    // FILETIME of the last reorganization (Windows 8.1 and later); its 2 low bits are ReorganizeType
	ReorganizeType     uint32    // 1: the hive was defragmented, 2: its access bits were cleared; 0 or 3: no valid timestamp
	LastReorganized    time.Time // LastReorganizedRaw in UTC when ReorganizeType is 1 or 2, else zero
	Checksum           uint32    // stored checksum (at 0x1FC)
	ComputedChecksum   uint32    // checksum computed over the first 508 bytes
	ChecksumOK         bool      // Checksum == ComputedChecksum
	ThawTmID           GUID      // thaw transaction manager GUID (4096-byte base blocks only)
	ThawRmID           GUID      // thaw resource manager GUID
	ThawLogID          GUID      // thaw log GUID
	BootType           uint32    // boot type (set for hives loaded at boot)
	BootRecover        uint32    // boot recover (1 when the hive was recovered at boot)
}

// ParseBaseBlock decodes a base block from b, which must hold at least the
// first 512 bytes (the part a checksum covers); 4096 bytes give every field.
// Input that is too short or does not start with "regf" gives a FormatError.
// A bad checksum or a dirty state is not an error: see ChecksumOK and Dirty.
func ParseBaseBlock(b []byte) (BaseBlock, error) {
	var bb BaseBlock
	if len(b) < minBaseBlockParsed {
		return bb, baseBlockError(0, fmt.Sprintf("%d bytes, too short for a base block (at least %d needed)", len(b), minBaseBlockParsed))
	}
	if string(b[:4]) != "regf" {
		return bb, baseBlockError(0, fmt.Sprintf("not a registry hive or log: signature %q, want \"regf\"", b[:4]))
	}
	le := binary.LittleEndian
	copy(bb.Signature[:], b[offSignature:])
	bb.PrimarySeq = le.Uint32(b[offPrimarySeq:])
	bb.SecondarySeq = le.Uint32(b[offSecondarySeq:])
	bb.LastWrittenRaw = le.Uint64(b[offLastWritten:])
	bb.LastWritten = wintime.FromFiletime(bb.LastWrittenRaw)
	bb.Major = le.Uint32(b[offMajor:])
	bb.Minor = le.Uint32(b[offMinor:])
	bb.FileType = le.Uint32(b[offFileType:])
	bb.FileFormat = le.Uint32(b[offFileFormat:])
	bb.RootCell = le.Uint32(b[offRootCell:])
	bb.HiveBinsSize = le.Uint32(b[offHiveBinsSize:])
	bb.Clustering = le.Uint32(b[offClustering:])
	bb.FileNameRaw = append([]byte(nil), b[offFileName:offFileName+fileNameLen]...)
	bb.FileName = decodeFileName(bb.FileNameRaw)
	copy(bb.RmID[:], b[offRmID:])
	copy(bb.LogID[:], b[offLogID:])
	bb.Flags = le.Uint32(b[offFlags:])
	copy(bb.TmID[:], b[offTmID:])
	copy(bb.GUIDSignature[:], b[offGUIDSignature:])
	bb.LastReorganizedRaw = le.Uint64(b[offLastReorganized:])
	bb.ReorganizeType = uint32(bb.LastReorganizedRaw & 3)
	if bb.ReorganizeType == 1 || bb.ReorganizeType == 2 {
		bb.LastReorganized = wintime.FromFiletime(bb.LastReorganizedRaw)
	}
	bb.Checksum = le.Uint32(b[offChecksum:])
	bb.ComputedChecksum = baseBlockChecksum(b)
	bb.ChecksumOK = bb.Checksum == bb.ComputedChecksum
	if len(b) >= BaseBlockSize {
		copy(bb.ThawTmID[:], b[offThawTmID:])
		copy(bb.ThawRmID[:], b[offThawRmID:])
		copy(bb.ThawLogID[:], b[offThawLogID:])
		bb.BootType = le.Uint32(b[offBootType:])
		bb.BootRecover = le.Uint32(b[offBootRecover:])
	}
	return bb, nil
}

// Dirty reports whether the hive was not cleanly written: the sequence
// numbers differ (a write started and did not finish) or the checksum is bad.
// The newest data of a dirty hive is in its transaction logs.
func (b BaseBlock) Dirty() bool {
	return b.PrimarySeq != b.SecondarySeq || !b.ChecksumOK
}

// baseBlockChecksum computes the base-block checksum: the XOR of the first 127
// little-endian dwords, where 0 becomes 1 and 0xFFFFFFFF becomes 0xFFFFFFFE
// (so the checksum is never one of those two values). b must hold 508 bytes.
func baseBlockChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+4 <= checksumLen; i += 4 {
		sum ^= binary.LittleEndian.Uint32(b[i:])
	}
	switch sum {
	case 0:
		return 1
	case 0xFFFFFFFF:
		return 0xFFFFFFFE
	}
	return sum
}

// fixBaseBlockChecksum stores the correct checksum at 0x1FC of b.
func fixBaseBlockChecksum(b []byte) {
	binary.LittleEndian.PutUint32(b[offChecksum:], baseBlockChecksum(b))
}

// decodeFileName decodes the 64-byte UTF-16LE file-name field, stopping at the
// first NUL character.
func decodeFileName(raw []byte) string {
	u := make([]uint16, 0, len(raw)/2)
	for i := 0; i+1 < len(raw); i += 2 {
		c := binary.LittleEndian.Uint16(raw[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// baseBlockError is the error for a base block that cannot be decoded. File
// is left empty: ParseBaseBlock sees bytes, not a file; callers that know
// the file name set it.
func baseBlockError(off int64, msg string) error {
	return &FormatError{Offset: off, Msg: msg}
}
