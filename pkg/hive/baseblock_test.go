package hive

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/wintime"
)

func TestParseBaseBlock_Fields(t *testing.T) {
	b := make([]byte, BaseBlockSize)
	rtBaseBlock(b, FileTypePrimary, 7, 6, 0x3000, 129780243434537497)
	le := binary.LittleEndian
	// A full 31-character embedded name, then garbage after its NUL.
	name := `\Users\someone\ntuser.dat`
	for i, c := range name {
		le.PutUint16(b[offFileName+2*i:], uint16(c))
	}
	le.PutUint16(b[offFileName+2*len(name):], 0)
	le.PutUint16(b[offFileName+2*len(name)+2:], 'X')
	le.PutUint32(b[offFlags:], 3)
	copy(b[offRmID:], []byte{0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0})
	copy(b[offGUIDSignature:], "rmtm")
	le.PutUint64(b[offLastReorganized:], 129780243434537497) // low bits 01: defragmented
	le.PutUint32(b[offBootType:], 2)
	le.PutUint32(b[offBootRecover:], 1)
	fixBaseBlockChecksum(b)

	bb, err := ParseBaseBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(bb.Signature[:]) != "regf" || bb.PrimarySeq != 7 || bb.SecondarySeq != 6 || bb.Major != 1 || bb.Minor != 5 ||
		bb.FileType != FileTypePrimary || bb.FileFormat != 1 || bb.RootCell != 0x20 || bb.HiveBinsSize != 0x3000 || bb.Clustering != 1 {
		t.Errorf("integer fields: %+v", bb)
	}
	if bb.FileName != name {
		t.Errorf("FileName = %q, want %q (NUL-trimmed)", bb.FileName, name)
	}
	if got := wintime.Format(bb.LastWritten); got != "2012-04-04T14:45:43.4537497Z" || bb.LastWrittenRaw != 129780243434537497 {
		t.Errorf("LastWritten = %s (%d)", got, bb.LastWrittenRaw)
	}
	if !bb.LastReorganized.Equal(bb.LastWritten) || bb.ReorganizeType != 1 {
		t.Errorf("LastReorganized = %v, type %d", bb.LastReorganized, bb.ReorganizeType)
	}
	if got := bb.RmID.String(); got != "{12345678-1234-1234-1234-56789ABCDEF0}" {
		t.Errorf("RmID = %s", got)
	}
	if !bb.LogID.IsZero() || bb.RmID.IsZero() || string(bb.GUIDSignature[:]) != "rmtm" || bb.Flags != 3 {
		t.Errorf("GUID fields or flags: %+v", bb)
	}
	if bb.BootType != 2 || bb.BootRecover != 1 {
		t.Errorf("boot type/recover = %d/%d", bb.BootType, bb.BootRecover)
	}
	// A timestamp whose low bits are 00 or 11 is not a reorganization time.
	le.PutUint64(b[offLastReorganized:], 129780243434537496)
	fixBaseBlockChecksum(b)
	if bb2, _ := ParseBaseBlock(b); !bb2.LastReorganized.IsZero() || bb2.ReorganizeType != 0 {
		t.Errorf("LastReorganized = %v for reorganize type 0", bb2.LastReorganized)
	}
	if !bb.ChecksumOK || !bb.Dirty() {
		t.Errorf("ChecksumOK %v Dirty %v: want a good checksum and dirty (7/6)", bb.ChecksumOK, bb.Dirty())
	}
}

func TestParseBaseBlock_RejectsShortAndGarbage(t *testing.T) {
	good := make([]byte, BaseBlockSize)
	rtBaseBlock(good, FileTypePrimary, 1, 1, 0x1000, 0)
	tests := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "0 bytes"},
		{"short", good[:511], "511 bytes"},
		{"not regf", append([]byte("hbin"), good[4:]...), `signature "hbin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBaseBlock(tt.in)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tt.msg) {
				t.Fatalf("error %v, want a FormatError mentioning %q", err, tt.msg)
			}
		})
	}
	// The first 512 bytes are enough (old-format logs carry only those).
	if bb, err := ParseBaseBlock(good[:512]); err != nil || !bb.ChecksumOK {
		t.Fatalf("512-byte base block: %+v, %v", bb, err)
	}
}

func TestBaseBlockChecksum_SpecialValues(t *testing.T) {
	// The XOR of the 127 dwords is never stored as 0 or 0xFFFFFFFF.
	b := make([]byte, checksumLen+4)
	if got := baseBlockChecksum(b); got != 1 {
		t.Errorf("checksum of zeros = %#x, want 1", got)
	}
	binary.LittleEndian.PutUint32(b[8:], 0xFFFFFFFF)
	if got := baseBlockChecksum(b); got != 0xFFFFFFFE {
		t.Errorf("checksum with XOR 0xFFFFFFFF = %#x, want 0xFFFFFFFE", got)
	}
	binary.LittleEndian.PutUint32(b[12:], 0x0000FFFF)
	if got := baseBlockChecksum(b); got != 0xFFFF0000 {
		t.Errorf("checksum = %#x, want 0xFFFF0000", got)
	}
	// The stored checksum itself (at 508) is not part of the sum.
	binary.LittleEndian.PutUint32(b[checksumLen:], 0x12345678)
	if got := baseBlockChecksum(b); got != 0xFFFF0000 {
		t.Errorf("checksum changed with the stored value: %#x", got)
	}
}

func TestBaseBlock_Dirty(t *testing.T) {
	tests := []struct {
		seq1, seq2 uint32
		okSum      bool
		dirty      bool
	}{
		{5, 5, true, false},
		{6, 5, true, true},
		{5, 5, false, true},
	}
	for _, tt := range tests {
		bb := BaseBlock{PrimarySeq: tt.seq1, SecondarySeq: tt.seq2, ChecksumOK: tt.okSum}
		if bb.Dirty() != tt.dirty {
			t.Errorf("%d/%d checksum ok %v: Dirty() = %v", tt.seq1, tt.seq2, tt.okSum, bb.Dirty())
		}
	}
}
