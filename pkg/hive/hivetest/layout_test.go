package hivetest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
)

func TestBuildLayout_PointsAtTheCellsWritten(t *testing.T) {
	root := sampleTree(1200)
	b, lay, err := BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Build(root)
	if !bytes.Equal(b, plain) {
		t.Fatal("BuildLayout and Build write different bytes")
	}
	sig := func(cell int) string {
		off := FileOffset(cell)
		if int32(binary.LittleEndian.Uint32(b[off:])) >= 0 {
			return "free"
		}
		return string(b[off+4 : off+6])
	}
	if lay.RootCell != int(binary.LittleEndian.Uint32(b[36:])) || lay.HiveBinsSize != len(b)-BaseBlockSize {
		t.Errorf("root cell %d, bins size %d", lay.RootCell, lay.HiveBinsSize)
	}
	if len(lay.Keys) != 1207 || len(lay.Security) != 2 {
		t.Errorf("%d keys, %d sk cells in the layout", len(lay.Keys), len(lay.Security))
	}
	for p, kc := range lay.Keys {
		if sig(kc.NK) != "nk" || sig(kc.Security) != "sk" {
			t.Fatalf("%s: nk %q sk %q", p, sig(kc.NK), sig(kc.Security))
		}
	}
	many := lay.Keys["Many"]
	if sig(many.SubkeyList) != "ri" || len(many.Leaves) != 3 || sig(many.Leaves[2]) != "lh" {
		t.Errorf("Many: list %q, %d leaves", sig(many.SubkeyList), len(many.Leaves))
	}
	types := lay.Keys["Types"]
	want := root.Path("Types").Values
	if sig(types.ValueList) == "free" || len(types.Values) != len(want) {
		t.Fatalf("Types: %d values in the layout", len(types.Values))
	}
	for i, vc := range types.Values {
		v := want[i]
		if vc.Name != v.Name || sig(vc.VK) != "vk" {
			t.Errorf("value %q: layout %+v", v.Name, vc)
		}
		switch {
		case len(v.Data) <= 4:
			if vc.Data != -1 {
				t.Errorf("value %q: resident data has a cell", v.Name)
			}
		case len(v.Data) > BigDataSegment:
			if sig(vc.Data) != "db" || len(vc.Segments) != 3 {
				t.Errorf("value %q: big data %q with %d segments", v.Name, sig(vc.Data), len(vc.Segments))
			}
		default:
			off := FileOffset(vc.Data) + 4
			if !bytes.Equal(b[off:off+len(v.Data)], v.Data) {
				t.Errorf("value %q: data cell does not hold the data", v.Name)
			}
		}
	}
	if env := lay.Keys["Environment"]; sig(env.Class) == "free" || env.SubkeyList != -1 {
		t.Errorf("Environment cells %+v", env)
	}
}

// A hostile test patches one cell found through the layout: a leaf entry
// pointing outside the hive bins must be reported by the reader, not crash
// it.
func TestBuildLayout_PatchedListIsReportedByTheReader(t *testing.T) {
	root := sampleTree(30)
	b, lay, err := BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	leaf := FileOffset(lay.Keys["Many"].SubkeyList)
	binary.LittleEndian.PutUint32(b[leaf+8:], 0x7FFFFFF0) // first entry's nk offset
	h, err := hive.Load("patched", b)
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.OpenKey("Many")
	if err != nil {
		t.Fatal(err)
	}
	subs, _ := k.Subkeys()
	if len(subs) != 29 || len(h.Anomalies()) == 0 {
		t.Errorf("%d subkeys read, anomalies %v", len(subs), h.Anomalies())
	}
}

func TestDirty_WriteFilesLaysOutPrimaryAndLogs(t *testing.T) {
	base, mid, last := envStates()
	d, err := BuildDirty(base, []*Key{mid, last}, WithLog2From(1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.WriteFiles(t.TempDir(), "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Recovered() || len(h.Logs()) != 2 {
		t.Fatalf("recovered %v, logs %+v", h.Recovered(), h.Logs())
	}
	k, _ := h.OpenKey("Environment")
	if !k.LastWrite().Equal(last.Path("Environment").LastWrite) {
		t.Errorf("Environment last write %v after recovery", k.LastWrite())
	}
}

func TestBuild_DeletedValuesAndSlackStayInUnallocatedSpace(t *testing.T) {
	root := sampleTree(10)
	b, lay, err := BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	env := lay.Keys["Environment"]
	if len(env.DeletedValues) != 2 {
		t.Fatalf("%d deleted values in the layout", len(env.DeletedValues))
	}
	oldPath := root.Path("Environment").DeletedValues[0]
	vc := env.DeletedValues[0]
	vk := FileOffset(vc.VK)
	if size := int32(le.Uint32(b[vk:])); size <= 0 {
		t.Errorf("deleted vk cell size %d: not free", size)
	}
	if string(b[vk+4:vk+6]) != "vk" || string(b[vk+24:vk+28]) != "Path" {
		t.Errorf("deleted vk cell bytes %q", b[vk+4:vk+28])
	}
	// The data cell directly follows and was merged into the vk's free cell;
	// its bytes are intact.
	data := FileOffset(vc.Data)
	if int(le.Uint32(b[vk:])) < vc.Data-vc.VK+len(oldPath.Data) {
		t.Errorf("free cell of %d bytes does not cover the old data", le.Uint32(b[vk:]))
	}
	if !bytes.Equal(b[data+4:data+4+len(oldPath.Data)], oldPath.Data) {
		t.Error("old Path data not intact in unallocated space")
	}
	if env.DeletedValues[1].Data != -1 {
		t.Error("a deleted 4-byte value has a data cell")
	}
	// Slack follows the live GOPATH data inside its allocated cell.
	gopath := env.Values[1]
	want := root.Path("Environment").Values[1]
	cell := FileOffset(gopath.Data)
	if size := -int32(le.Uint32(b[cell:])); int(size) < 4+len(want.Data)+len(want.Slack) {
		t.Errorf("GOPATH data cell of %d bytes cannot hold data and slack", size)
	}
	if !bytes.Equal(b[cell+4+len(want.Data):cell+4+len(want.Data)+len(want.Slack)], want.Slack) {
		t.Error("slack bytes not after the data")
	}
	// The reader sees only the live values, with their exact sizes.
	h, err := hive.Load("slack", b)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Anomalies()) != 0 {
		t.Errorf("anomalies %v", h.Anomalies())
	}
	k, _ := h.OpenKey("Environment")
	vals, _ := k.Values()
	if len(vals) != 3 {
		t.Fatalf("%d live values", len(vals))
	}
	got, _ := vals[1].Data()
	if !bytes.Equal(got, want.Data) {
		t.Errorf("GOPATH reads %x", got)
	}
}
