package hostile

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// Offsets of fields inside cells, counted from the cell's size field (the
// offsets hivetest.Layout reports), as the regf format lays them out.
const (
	cellHeader = 4 // the cell's own size field

	nkFlags         = cellHeader + 0x02
	nkParent        = cellHeader + 0x10
	nkSubkeyCount   = cellHeader + 0x14
	nkSubkeyList    = cellHeader + 0x1C
	nkValueCount    = cellHeader + 0x24
	nkValueList     = cellHeader + 0x28
	nkSecurity      = cellHeader + 0x2C
	nkClass         = cellHeader + 0x30
	nkNameLength    = cellHeader + 0x48
	nkClassLength   = cellHeader + 0x4A
	vkNameLength    = cellHeader + 0x02
	vkDataSize      = cellHeader + 0x04
	vkDataOffset    = cellHeader + 0x08
	listCount       = cellHeader + 0x02
	listFirstEntry  = cellHeader + 0x04
	skFlink         = cellHeader + 0x04
	skBlink         = cellHeader + 0x08
	skDescriptorLen = cellHeader + 0x10
	dbSegmentCount  = cellHeader + 0x02
	dbSegmentList   = cellHeader + 0x04

	bbRootCell     = 0x24
	bbHiveBinsSize = 0x28
	bbChecksum     = 0x1FC
	hbinSize       = 0x08
)

// BaseTree returns the registry tree the hostile hives are patched from: a
// small user hive with an Environment key (values with resident, cell and
// big data), a chain of nested keys for cycles, and a key with enough
// subkeys for a multi-entry list.
func BaseTree() *hivetest.Key {
	t0 := time.Date(2025, 6, 10, 8, 30, 0, 1234500, time.UTC)
	big := make([]byte, 40000)
	for i := range big {
		big[i] = byte('A' + i%26)
	}
	env := &hivetest.Key{Name: "Environment", LastWrite: t0, Class: "EnvClass", Values: []hivetest.Value{
		hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;C:\Tools`),
		hivetest.SZ("GOPATH", `C:\Users\Public\go`),
		hivetest.DWORD("Small", 7),
		hivetest.Binary("Blob", big),
		hivetest.MultiSZ("Multi", "one", "two"),
	}}
	chain := &hivetest.Key{Name: "A", LastWrite: t0, Subkeys: []*hivetest.Key{
		{Name: "B", LastWrite: t0, Subkeys: []*hivetest.Key{
			{Name: "C", LastWrite: t0, Values: []hivetest.Value{hivetest.SZ("leaf", "x")}},
		}},
	}}
	fan := &hivetest.Key{Name: "Fan", LastWrite: t0}
	for i := 0; i < 8; i++ {
		fan.Subkeys = append(fan.Subkeys, &hivetest.Key{Name: fmt.Sprintf("K%d", i), LastWrite: t0})
	}
	return &hivetest.Key{Name: "ROOT", LastWrite: t0, Subkeys: []*hivetest.Key{env, chain, fan,
		{Name: "Software", LastWrite: t0, Subkeys: []*hivetest.Key{
			{Name: "Microsoft", LastWrite: t0, Subkeys: []*hivetest.Key{
				{Name: "Command Processor", LastWrite: t0, Values: []hivetest.Value{hivetest.SZ("AutoRun", "cmd /c calc")}},
			}},
		}},
	}}
}

// patch is one change to a freshly built hive.
type patch struct {
	name string
	// tree adjusts the tree before it is built (nil: BaseTree as is).
	tree func(*hivetest.Key)
	// apply patches the built file; lay says where the cells are.
	apply func(b []byte, lay *hivetest.Layout) error
}

func put32(b []byte, cell, field int, v uint32) {
	binary.LittleEndian.PutUint32(b[hivetest.FileOffset(cell)+field:], v)
}

func put16(b []byte, cell, field int, v uint16) {
	binary.LittleEndian.PutUint16(b[hivetest.FileOffset(cell)+field:], v)
}

func get32(b []byte, cell, field int) uint32 {
	return binary.LittleEndian.Uint32(b[hivetest.FileOffset(cell)+field:])
}

// fixChecksum recomputes the base-block checksum after a patch of the base
// block, so the damage is what the reader meets rather than a bad checksum.
func fixChecksum(b []byte) {
	binary.LittleEndian.PutUint32(b[bbChecksum:], hivetest.Checksum(b))
}

func key(lay *hivetest.Layout, path string) (*hivetest.KeyCells, error) {
	k := lay.Keys[path]
	if k == nil {
		return nil, fmt.Errorf("hostile: no key %q in the layout", path)
	}
	return k, nil
}

func value(lay *hivetest.Layout, path, name string) (hivetest.ValueCells, error) {
	k, err := key(lay, path)
	if err != nil {
		return hivetest.ValueCells{}, err
	}
	for _, v := range k.Values {
		if v.Name == name {
			return v, nil
		}
	}
	return hivetest.ValueCells{}, fmt.Errorf("hostile: no value %q under %q", name, path)
}

// leaf returns the (first) leaf list of a key.
func leaf(k *hivetest.KeyCells) int {
	if len(k.Leaves) > 0 {
		return k.Leaves[0]
	}
	return k.SubkeyList
}

// keyPatch patches one field of a key's nk cell.
func keyPatch(name, path string, field int, v uint32, width int) patch {
	return patch{name: name, apply: func(b []byte, lay *hivetest.Layout) error {
		k, err := key(lay, path)
		if err != nil {
			return err
		}
		if width == 2 {
			put16(b, k.NK, field, uint16(v))
		} else {
			put32(b, k.NK, field, v)
		}
		return nil
	}}
}

// valuePatch patches one field of a value's vk cell.
func valuePatch(name, path, val string, field int, v uint32, width int) patch {
	return patch{name: name, apply: func(b []byte, lay *hivetest.Layout) error {
		c, err := value(lay, path, val)
		if err != nil {
			return err
		}
		if width == 2 {
			put16(b, c.VK, field, uint16(v))
		} else {
			put32(b, c.VK, field, v)
		}
		return nil
	}}
}

// listEntryPatch points entry i of a key's (first) leaf at the cell target
// returns.
func listEntryPatch(name, path string, i int, target func(lay *hivetest.Layout) (int, error)) patch {
	return patch{name: name, apply: func(b []byte, lay *hivetest.Layout) error {
		k, err := key(lay, path)
		if err != nil {
			return err
		}
		to, err := target(lay)
		if err != nil {
			return err
		}
		l := leaf(k)
		stride := 8 // lh/lf entries: offset and hash
		if sig := string(b[hivetest.FileOffset(l)+4 : hivetest.FileOffset(l)+6]); sig == "li" || sig == "ri" {
			stride = 4
		}
		put32(b, l, listFirstEntry+stride*i, uint32(to))
		return nil
	}}
}

func nkOf(path string) func(*hivetest.Layout) (int, error) {
	return func(lay *hivetest.Layout) (int, error) {
		k, err := key(lay, path)
		if err != nil {
			return 0, err
		}
		return k.NK, nil
	}
}

// cellSizePatch overwrites the size field of the cell pick returns.
func cellSizePatch(name string, size int32, pick func(*hivetest.Layout) (int, error)) patch {
	return patch{name: name, apply: func(b []byte, lay *hivetest.Layout) error {
		c, err := pick(lay)
		if err != nil {
			return err
		}
		if c < 0 {
			return fmt.Errorf("hostile: %s: no such cell", name)
		}
		put32(b, c, 0, uint32(size))
		return nil
	}}
}

func baseBlockPatch(name string, field int, v uint32) patch {
	return patch{name: name, apply: func(b []byte, _ *hivetest.Layout) error {
		binary.LittleEndian.PutUint32(b[field:], v)
		fixChecksum(b)
		return nil
	}}
}

func hivePatches() []patch {
	const huge = 0x7FFFFFF0
	root := ""
	return []patch{
		// Cycles and duplicates in subkey lists.
		listEntryPatch("subkey-list-points-at-root", root, 0, nkOf(root)),
		listEntryPatch("subkey-list-points-at-parent", `A\B`, 0, nkOf("A")),
		listEntryPatch("subkey-list-points-at-itself", "Fan", 0, func(lay *hivetest.Layout) (int, error) {
			k, err := key(lay, "Fan")
			if err != nil {
				return 0, err
			}
			return leaf(k), nil
		}),
		{name: "subkey-list-all-duplicates", apply: func(b []byte, lay *hivetest.Layout) error {
			k, err := key(lay, "Fan")
			if err != nil {
				return err
			}
			first := get32(b, leaf(k), listFirstEntry)
			for i := 1; i < 8; i++ {
				put32(b, leaf(k), listFirstEntry+8*i, first)
			}
			return nil
		}},
		{name: "ri-index-points-at-itself", tree: func(r *hivetest.Key) { r.Path("Fan").List = hivetest.ListRI },
			apply: func(b []byte, lay *hivetest.Layout) error {
				k, err := key(lay, "Fan")
				if err != nil {
					return err
				}
				put32(b, k.SubkeyList, listFirstEntry, uint32(k.SubkeyList))
				return nil
			}},
		listEntryPatch("subkey-list-points-at-value", "Fan", 1, func(lay *hivetest.Layout) (int, error) {
			v, err := value(lay, "Environment", "Path")
			return v.VK, err
		}),
		listEntryPatch("subkey-list-points-outside", "Fan", 2, func(*hivetest.Layout) (int, error) { return huge, nil }),
		listEntryPatch("subkey-list-points-unaligned", "Fan", 3, func(lay *hivetest.Layout) (int, error) {
			k, err := key(lay, "Fan")
			return k.NK + 3, err
		}),
		keyPatch("parent-pointer-cycle", `A\B\C`, nkParent, 0, 4), // patched below to point at C itself
		{name: "one-list-shared-by-many-keys", tree: func(r *hivetest.Key) {
			wide := &hivetest.Key{Name: "Wide", LastWrite: r.LastWrite}
			for i := 0; i < 3000; i++ {
				wide.Subkeys = append(wide.Subkeys, &hivetest.Key{Name: fmt.Sprintf("s%04d", i), LastWrite: r.LastWrite})
			}
			r.Subkeys = append(r.Subkeys, wide)
		}, apply: func(b []byte, lay *hivetest.Layout) error {
			// Every child of Wide claims Wide's own list (3,000 entries):
			// followed naively, 9 million list entries for 3,000 keys.
			w, err := key(lay, "Wide")
			if err != nil {
				return err
			}
			for i := 0; i < 3000; i++ {
				c, err := key(lay, fmt.Sprintf(`Wide\s%04d`, i))
				if err != nil {
					return err
				}
				put32(b, c.NK, nkSubkeyCount, 3000)
				put32(b, c.NK, nkSubkeyList, uint32(w.SubkeyList))
			}
			return nil
		}},
		{name: "one-value-list-shared-by-many-keys", tree: func(r *hivetest.Key) {
			many := &hivetest.Key{Name: "Many", LastWrite: r.LastWrite}
			for i := 0; i < 1000; i++ {
				many.Values = append(many.Values, hivetest.SZ(fmt.Sprintf("v%04d", i), "data"))
			}
			for i := 0; i < 2000; i++ {
				many.Subkeys = append(many.Subkeys, &hivetest.Key{Name: fmt.Sprintf("k%04d", i), LastWrite: r.LastWrite})
			}
			r.Subkeys = append(r.Subkeys, many)
		}, apply: func(b []byte, lay *hivetest.Layout) error {
			// Every child of Many claims Many's 1,000-value list: read
			// naively, 2 million values from a file of a few hundred KB.
			m, err := key(lay, "Many")
			if err != nil {
				return err
			}
			for i := 0; i < 2000; i++ {
				c, err := key(lay, fmt.Sprintf(`Many\k%04d`, i))
				if err != nil {
					return err
				}
				put32(b, c.NK, nkValueCount, 1000)
				put32(b, c.NK, nkValueList, uint32(m.ValueList))
			}
			return nil
		}},
		// Huge counts and lengths.
		keyPatch("subkey-count-huge", "Fan", nkSubkeyCount, 0xFFFFFFFF, 4),
		{name: "list-count-huge", apply: func(b []byte, lay *hivetest.Layout) error {
			k, err := key(lay, "Fan")
			if err != nil {
				return err
			}
			put16(b, leaf(k), listCount, 0xFFFF)
			return nil
		}},
		keyPatch("value-count-huge", "Environment", nkValueCount, huge, 4),
		keyPatch("value-list-outside", "Environment", nkValueList, huge, 4),
		keyPatch("subkey-list-outside", "", nkSubkeyList, huge, 4),
		keyPatch("security-outside", "Environment", nkSecurity, huge, 4),
		keyPatch("class-outside", "Environment", nkClass, huge, 4),
		keyPatch("class-length-huge", "Environment", nkClassLength, 0xFFFF, 2),
		keyPatch("key-name-length-huge", "Environment", nkNameLength, 0xFFFF, 2),
		keyPatch("key-name-length-zero", "Environment", nkNameLength, 0, 2),
		keyPatch("key-flags-all-set", "Environment", nkFlags, 0xFFFF, 2),
		valuePatch("value-name-length-huge", "Environment", "Path", vkNameLength, 0xFFFF, 2),
		valuePatch("value-data-size-huge", "Environment", "Path", vkDataSize, huge, 4),
		valuePatch("value-data-resident-huge", "Environment", "Path", vkDataSize, 0x80000000|0xFFFF, 4),
		valuePatch("value-data-outside", "Environment", "GOPATH", vkDataOffset, huge, 4),
		valuePatch("value-data-points-at-key", "Environment", "GOPATH", vkDataOffset, 0x20, 4),
		valuePatch("big-data-size-huge", "Environment", "Blob", vkDataSize, 0x7FFF0000, 4),
		{name: "big-data-segment-count-huge", apply: func(b []byte, lay *hivetest.Layout) error {
			v, err := value(lay, "Environment", "Blob")
			if err != nil {
				return err
			}
			if v.Data < 0 {
				return fmt.Errorf("hostile: Blob has no db cell")
			}
			put16(b, v.Data, dbSegmentCount, 0xFFFF)
			return nil
		}},
		{name: "big-data-segment-list-outside", apply: func(b []byte, lay *hivetest.Layout) error {
			v, err := value(lay, "Environment", "Blob")
			if err != nil {
				return err
			}
			put32(b, v.Data, dbSegmentList, huge)
			return nil
		}},
		{name: "big-data-segments-point-at-db", apply: func(b []byte, lay *hivetest.Layout) error {
			v, err := value(lay, "Environment", "Blob")
			if err != nil {
				return err
			}
			for i := range v.Segments {
				put32(b, v.SegmentList, cellHeader+4*i, uint32(v.Data))
			}
			return nil
		}},
		{name: "security-descriptor-length-huge", apply: func(b []byte, lay *hivetest.Layout) error {
			put32(b, lay.Security[0], skDescriptorLen, huge)
			return nil
		}},
		{name: "security-list-self-loop", apply: func(b []byte, lay *hivetest.Layout) error {
			put32(b, lay.Security[0], skFlink, uint32(lay.Security[0]))
			put32(b, lay.Security[0], skBlink, huge)
			return nil
		}},
		// Cells of zero or absurd size.
		cellSizePatch("zero-size-key-cell", 0, nkOf("Environment")),
		cellSizePatch("zero-size-root-cell", 0, nkOf("")),
		cellSizePatch("zero-size-value-cell", 0, func(lay *hivetest.Layout) (int, error) {
			v, err := value(lay, "Environment", "Path")
			return v.VK, err
		}),
		cellSizePatch("zero-size-data-cell", 0, func(lay *hivetest.Layout) (int, error) {
			v, err := value(lay, "Environment", "Path")
			return v.Data, err
		}),
		cellSizePatch("zero-size-value-list", 0, func(lay *hivetest.Layout) (int, error) {
			k, err := key(lay, "Environment")
			return k.ValueList, err
		}),
		cellSizePatch("zero-size-subkey-list", 0, func(lay *hivetest.Layout) (int, error) {
			k, err := key(lay, "Fan")
			return leaf(k), err
		}),
		cellSizePatch("huge-size-key-cell", -0x7FFFFFF8, nkOf("Environment")),
		cellSizePatch("free-key-cell", 0x78, nkOf("Environment")),
		cellSizePatch("unaligned-size-data-cell", -13, func(lay *hivetest.Layout) (int, error) {
			v, err := value(lay, "Environment", "Path")
			return v.Data, err
		}),
		// Base block and bins.
		baseBlockPatch("root-cell-outside", bbRootCell, huge),
		baseBlockPatch("root-cell-unaligned", bbRootCell, 0x21),
		baseBlockPatch("root-cell-zero", bbRootCell, 0),
		baseBlockPatch("hive-bins-size-huge", bbHiveBinsSize, 0x7FFFF000),
		baseBlockPatch("hive-bins-size-zero", bbHiveBinsSize, 0),
		baseBlockPatch("hive-bins-size-unaligned", bbHiveBinsSize, 0x1001),
		{name: "first-bin-size-zero", apply: func(b []byte, _ *hivetest.Layout) error {
			binary.LittleEndian.PutUint32(b[hivetest.BaseBlockSize+hbinSize:], 0)
			return nil
		}},
		{name: "first-bin-size-huge", apply: func(b []byte, _ *hivetest.Layout) error {
			binary.LittleEndian.PutUint32(b[hivetest.BaseBlockSize+hbinSize:], 0x7FFFF000)
			return nil
		}},
		{name: "first-bin-signature-gone", apply: func(b []byte, _ *hivetest.Layout) error {
			copy(b[hivetest.BaseBlockSize:], "XXXX")
			return nil
		}},
	}
}

// Hives returns hostile hives patched from BaseTree, one per kind of
// damage: subkey lists that point at the root, a parent, themselves, a
// value cell or outside the file; all-duplicate lists; an ri index that
// contains itself; a parent-pointer cycle; huge subkey, value, list and
// segment counts; huge name, class, data and descriptor lengths; data and
// lists outside the file; cells whose size is zero, huge, positive (free) or
// unaligned; base blocks (with valid checksums) whose root cell or hive-bins
// size is out of range; hive bins of size zero or huge. Plus the deepest
// tree the format allows (512 levels) and a key with 5,000 subkeys.
func Hives() ([]Case, error) {
	var out []Case
	for _, p := range hivePatches() {
		tree := BaseTree()
		if p.tree != nil {
			p.tree(tree)
		}
		b, lay, err := hivetest.BuildLayout(tree)
		if err != nil {
			return nil, fmt.Errorf("hostile: %s: %w", p.name, err)
		}
		if p.name == "parent-pointer-cycle" {
			c, err := key(lay, `A\B\C`)
			if err != nil {
				return nil, err
			}
			put32(b, c.NK, nkParent, uint32(c.NK))
			bk, _ := key(lay, `A\B`)
			put32(b, bk.NK, nkParent, uint32(c.NK))
		} else if err := p.apply(b, lay); err != nil {
			return nil, fmt.Errorf("hostile: %s: %w", p.name, err)
		}
		out = append(out, Case{Name: p.name, Data: b})
	}
	deep := BaseTree()
	cur := deep
	for i := 0; i < 511; i++ {
		k := &hivetest.Key{Name: fmt.Sprintf("d%d", i), LastWrite: cur.LastWrite}
		cur.Subkeys = append(cur.Subkeys, k)
		cur = k
	}
	cur.Values = []hivetest.Value{hivetest.SZ("bottom", strings.Repeat("z", 10))}
	b, err := hivetest.Build(deep)
	if err != nil {
		return nil, fmt.Errorf("hostile: deep tree: %w", err)
	}
	out = append(out, Case{Name: "deepest-tree", Data: b})
	wide := BaseTree()
	for i := 0; i < 5000; i++ {
		wide.Subkeys = append(wide.Subkeys, &hivetest.Key{Name: fmt.Sprintf("w%05d", i), LastWrite: wide.LastWrite})
	}
	if b, err = hivetest.Build(wide); err != nil {
		return nil, fmt.Errorf("hostile: wide tree: %w", err)
	}
	out = append(out, Case{Name: "five-thousand-subkeys", Data: b})
	return out, nil
}
