package hostile

import (
	"encoding/binary"
	"fmt"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// DirtyCase is a dirty hive whose transaction log is hostile: the primary
// file is sound (an older state, sequence numbers mismatched) and every
// entry carries valid Marvin32 hashes, so a reader must reject the entry on
// its meaning, not on a checksum.
type DirtyCase struct {
	Name    string
	Primary []byte
	Log1    []byte
	Log2    []byte // nil when there is none
}

// logEntryField offsets inside an HvLE entry.
const (
	hvleSize      = 4
	hvleSequence  = 12
	hvleBinsSize  = 16
	hvlePageCount = 20
)

// rehash recomputes both hashes of the entry starting at b[0] after its
// fields were patched.
func rehash(b []byte) {
	size := int(binary.LittleEndian.Uint32(b[hvleSize:]))
	if size < hivetest.LogEntryHeaderSize || size > len(b) {
		size = len(b)
	}
	binary.LittleEndian.PutUint64(b[24:], hivetest.Marvin32(hivetest.LogHashSeed, b[hivetest.LogEntryHeaderSize:size]))
	binary.LittleEndian.PutUint64(b[32:], hivetest.Marvin32(hivetest.LogHashSeed, b[:32]))
}

// DirtyHives returns dirty hives with hostile logs: dirty pages that point
// far outside the hive, past the entry's own hive-bins size, or overlap
// the base block's end; an entry whose hive-bins size is huge, zero or
// unaligned; an entry whose size or page count is huge (the header hash
// re-signed); sequence numbers at the 32-bit wrap-around; and a .LOG2 that
// does not continue .LOG1.
func DirtyHives() ([]DirtyCase, error) {
	before := BaseTree()
	after := before.Clone()
	env := after.Path("Environment")
	env.SetValue(hivetest.ExpandSZ("Path", `C:\Users\Public\evil;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps`))
	later := after.Clone()
	later.Path("Environment").SetValue(hivetest.SZ("GOROOT", `\\attacker\share\go`))

	type mutate func(d *hivetest.Dirty) error
	pageEdit := func(f func(e *hivetest.LogEntry)) mutate {
		return func(d *hivetest.Dirty) error {
			e := d.Entries[0]
			f(&e)
			log, err := hivetest.BuildLog(d.Primary, append([]hivetest.LogEntry{e}, d.Entries[1:]...))
			if err != nil {
				return err
			}
			d.Log1, d.Log2 = log, nil
			return nil
		}
	}
	rawEdit := func(field int, v uint32) mutate {
		return func(d *hivetest.Dirty) error {
			e := d.Log1[hivetest.LogBaseBlockSize:]
			binary.LittleEndian.PutUint32(e[field:], v)
			rehash(e)
			return nil
		}
	}
	cases := []struct {
		name  string
		opts  []hivetest.Option
		edit  mutate
		split bool
	}{
		{name: "log-page-far-outside", edit: pageEdit(func(e *hivetest.LogEntry) { e.Pages[0].Offset = 0x7FFFF000 })},
		{name: "log-page-past-bins-size", edit: pageEdit(func(e *hivetest.LogEntry) { e.Pages[0].Offset = e.HiveBinsSize })},
		{name: "log-page-unaligned", edit: pageEdit(func(e *hivetest.LogEntry) { e.Pages[0].Offset += 7 })},
		{name: "log-page-offset-wraps", edit: pageEdit(func(e *hivetest.LogEntry) { e.Pages[0].Offset = 0xFFFFF000 })},
		{name: "log-bins-size-huge", edit: pageEdit(func(e *hivetest.LogEntry) { e.HiveBinsSize = 0x7FFFF000 })},
		{name: "log-bins-size-zero", edit: pageEdit(func(e *hivetest.LogEntry) { e.HiveBinsSize = 0 })},
		{name: "log-bins-size-unaligned", edit: pageEdit(func(e *hivetest.LogEntry) { e.HiveBinsSize += 13 })},
		{name: "log-entry-size-huge", edit: rawEdit(hvleSize, 0x7FFFFE00)},
		{name: "log-entry-size-zero", edit: rawEdit(hvleSize, 0)},
		{name: "log-page-count-huge", edit: rawEdit(hvlePageCount, 0x7FFFFFFF)},
		{name: "log-sequence-jumps", edit: rawEdit(hvleSequence, 0x12345678)},
		{name: "log-sequence-wraps", opts: []hivetest.Option{hivetest.WithSequence(0xFFFFFFFF, 0xFFFFFFFF)}},
		{name: "log2-does-not-continue-log1", opts: []hivetest.Option{hivetest.WithLog2From(1)}, split: true,
			edit: func(d *hivetest.Dirty) error {
				e := d.Log2[hivetest.LogBaseBlockSize:]
				binary.LittleEndian.PutUint32(e[hvleSequence:], binary.LittleEndian.Uint32(e[hvleSequence:])+5)
				rehash(e)
				return nil
			}},
		{name: "log-base-block-garbage", edit: func(d *hivetest.Dirty) error {
			for i := 4; i < hivetest.LogBaseBlockSize; i++ {
				d.Log1[i] = byte(i * 7)
			}
			return nil
		}},
	}
	var out []DirtyCase
	for _, c := range cases {
		d, err := hivetest.BuildDirty(before, []*hivetest.Key{after, later}, c.opts...)
		if err != nil {
			return nil, fmt.Errorf("hostile: %s: %w", c.name, err)
		}
		if c.edit != nil {
			if err := c.edit(d); err != nil {
				return nil, fmt.Errorf("hostile: %s: %w", c.name, err)
			}
		}
		out = append(out, DirtyCase{Name: c.name, Primary: d.Primary, Log1: d.Log1, Log2: d.Log2})
	}
	return out, nil
}
