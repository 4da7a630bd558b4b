package hive

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// The log writer in hivetest is written independently from the format
// specification; replaying what it writes must reach every state it was
// built from, entry by entry.
func TestReplay_AgreesWithIndependentLogWriter(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 1234500, time.UTC)
	state := func(path string, extra int) *hivetest.Key {
		env := &hivetest.Key{Name: "Environment", LastWrite: t0, Values: []hivetest.Value{
			hivetest.ExpandSZ("Path", path),
		}}
		root := &hivetest.Key{Name: "ROOT", LastWrite: t0, Subkeys: []*hivetest.Key{env}}
		for i := 0; i < extra; i++ {
			// Enough data to make the hive grow by new bins.
			root.Subkeys = append(root.Subkeys, &hivetest.Key{Name: fmt.Sprintf("Grown%d", i), LastWrite: t0,
				Values: []hivetest.Value{{Name: "Blob", Type: 3, Data: bytes.Repeat([]byte{byte(i)}, 20000)}}})
		}
		return root
	}
	before := state(`%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`, 0)
	after := []*hivetest.Key{
		state(`C:\Users\Public\evil;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`, 0),
		state(`C:\Users\Public\evil;C:\Go\bin`, 2),
		state(`C:\Go\bin`, 3),
	}
	tests := []struct {
		name string
		opts []hivetest.Option
	}{
		{"one log", nil},
		{"split over two logs", []hivetest.Option{hivetest.WithLog2From(1)}},
		{"sequence wraps inside a log", []hivetest.Option{hivetest.WithSequence(0xFFFFFFFE, 0xFFFFFFFE)}},
		{"second log starts after the wrap", []hivetest.Option{hivetest.WithSequence(0xFFFFFFFE, 0xFFFFFFFE), hivetest.WithLog2From(2)}},
		{"pending-transaction flag carried", []hivetest.Option{hivetest.WithBaseFlags(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := hivetest.BuildDirty(before, after, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			logs := []logInput{{"h.LOG1", d.Log1}}
			if d.Log2 != nil {
				// The newer log first: order must come from the sequence numbers.
				logs = []logInput{{"h.LOG2", d.Log2}, {"h.LOG1", d.Log1}}
			}
			step := 0
			img, reports, err := replayLogs("h", d.Primary, logs, func(s ReplayStep, img []byte) error {
				step++
				if s.Sequence != d.Entries[step-1].Sequence {
					t.Errorf("step %d: sequence %d, want %d", step, s.Sequence, d.Entries[step-1].Sequence)
				}
				if !sameHiveBins(img, d.States[step]) {
					t.Errorf("after entry %d the hive bins differ from state %d", step-1, step)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if step != len(d.Entries) {
				t.Fatalf("%d entries applied, want %d; reports %+v", step, len(d.Entries), reports)
			}
			for _, r := range reports {
				if !r.Applied || r.Reason != "" {
					t.Errorf("report %+v, want applied in full", r)
				}
			}
			last := d.States[len(d.States)-1]
			if !sameHiveBins(img, last) {
				t.Fatal("recovered hive bins differ from the last state")
			}
			bb, err := ParseBaseBlock(img)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ParseBaseBlock(last)
			if bb.Dirty() || bb.PrimarySeq != want.PrimarySeq || bb.HiveBinsSize != want.HiveBinsSize || bb.Flags != want.Flags {
				t.Errorf("recovered base block: seq %d/%d bins %#x flags %#x; want seq %d, bins %#x, flags %#x",
					bb.PrimarySeq, bb.SecondarySeq, bb.HiveBinsSize, bb.Flags, want.PrimarySeq, want.HiveBinsSize, want.Flags)
			}
		})
	}
}

// sameHiveBins compares img's hive bins, as far as its base block says they
// go, with the clean hive file want.
func sameHiveBins(img, want []byte) bool {
	n := int(binary.LittleEndian.Uint32(img[offHiveBinsSize:]))
	if n != len(want)-BaseBlockSize || len(img) < BaseBlockSize+n {
		return false
	}
	return bytes.Equal(img[BaseBlockSize:BaseBlockSize+n], want[BaseBlockSize:])
}
