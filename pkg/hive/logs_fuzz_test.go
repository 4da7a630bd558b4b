package hive

import (
	"bytes"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// FuzzReplay feeds arbitrary bytes as one or two transaction logs (split at
// the first byte's position) of a dirty primary, or as the primary itself.
// Replay must not panic, must not touch its inputs, and must keep the image
// within its growth bound.
func FuzzReplay(f *testing.F) {
	two := rtLog(10, rtEntry{seq: 10, pages: []rtPage{{off: 0, fill: 1}}}, rtEntry{seq: 11, pages: []rtPage{{off: 0x1000, fill: 2}}})
	f.Add(byte(0), two)
	f.Add(byte(0), rtLog(10, rtEntry{seq: 10, hbins: rtBins + 0x1000, flags: 1, pages: []rtPage{{off: rtBins, fill: 3}}}))
	f.Add(byte(0), rtDirtLog(11, 1000, map[int]byte{0: 1, 9: 2}))
	f.Add(byte(len(two)/512), append(two, rtLog(12, rtEntry{seq: 12, pages: []rtPage{{off: 0x2000, fill: 4}}})...))
	f.Add(byte(1), rtPrimary(3, 2))
	// A log as the independent writer lays it out (entries padded to 4096).
	d, err := hivetest.BuildDirty(&hivetest.Key{Name: "ROOT"}, []*hivetest.Key{
		{Name: "ROOT", Subkeys: []*hivetest.Key{{Name: "Environment", Values: []hivetest.Value{hivetest.SZ("Path", `C:\Goin`)}}}},
		{Name: "ROOT", Subkeys: []*hivetest.Key{{Name: "Environment"}}},
	}, hivetest.WithSequence(7, 7))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(byte(0), d.Log1)
	f.Fuzz(func(t *testing.T, split byte, data []byte) {
		// Make the log eligible whenever its base block can be read, so that
		// mutations reach the entries.
		primary := rtPrimary(11, 10)
		if bb, err := ParseBaseBlock(data); err == nil {
			primary = rtPrimary(bb.PrimarySeq+1, bb.PrimarySeq)
		}
		if split == 1 {
			// data is the primary; a valid log goes with it.
			primary = data
		}
		pCopy := bytes.Clone(primary)
		dCopy := bytes.Clone(data)
		var logs []logInput
		switch at := int(split) * 512; {
		case split == 1:
			logs = []logInput{{"p.LOG1", two}}
		case split > 1 && at < len(data):
			logs = []logInput{{"p.LOG1", data[:at]}, {"p.LOG2", data[at:]}}
		default:
			logs = []logInput{{"p.LOG1", data}}
		}
		var total int64
		for _, l := range logs {
			total += int64(len(l.data))
		}
		img, reports, err := replayLogs("p", primary, logs, func(ReplayStep, []byte) error { return nil })
		if err != nil {
			t.Fatalf("replayLogs: %v", err)
		}
		if len(reports) != len(logs) {
			t.Fatalf("%d reports for %d logs", len(reports), len(logs))
		}
		if !bytes.Equal(primary, pCopy) || !bytes.Equal(data, dCopy) {
			t.Fatal("inputs modified")
		}
		if limit := int64(len(primary)) + replayGrowthFixed + replayGrowthPerByte*total + BaseBlockSize; int64(len(img)) > limit {
			t.Fatalf("image grew to %d bytes, over the bound %d", len(img), limit)
		}
		for _, r := range reports {
			if r.Applied {
				if bb, err := ParseBaseBlock(img); err != nil || !bb.ChecksumOK || bb.PrimarySeq != bb.SecondarySeq {
					t.Fatalf("applied, but the recovered base block is not clean: %+v %v", bb, err)
				}
			}
		}
	})
}
