package hive

import (
	"fmt"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Key is one registry key (an nk cell).
type Key struct {
	h         *Hive
	off       uint32
	nk        []byte
	name      string
	nameValid bool
	path      string
}

// keyAt reads the nk cell at off. parent gives the path prefix (nil for the
// root).
func (h *Hive) keyAt(off uint32, parent *Key) (*Key, error) {
	p, free, err := h.cell(off)
	if err != nil {
		return nil, err
	}
	if len(p) < nkName || p[0] != 'n' || p[1] != 'k' {
		if len(p) >= 2 {
			return nil, cellError(fmt.Sprintf("cell at %#x is not a key node (signature %q)", off, p[:2]))
		}
		return nil, cellError(fmt.Sprintf("cell at %#x is too small for a key node", off))
	}
	k := &Key{h: h, off: off, nk: p}
	n := int(le16(p[nkNameLength:]))
	if max := len(p) - nkName; n > max {
		h.anomaly(off, AnomalyLengthCapped, k.parentPath(parent), true, "key name length %d is larger than its cell (%d bytes left); name cut", n, max)
		n = max
	}
	raw := p[nkName : nkName+n : nkName+n]
	if le16(p[nkFlags:])&nkCompName != 0 {
		k.name, k.nameValid = h.latin1Name(raw), true
	} else {
		k.name, k.nameValid = decodeUTF16(raw)
	}
	if parent != nil {
		if parent.path == "" {
			k.path = k.name
		} else {
			k.path = parent.path + `\` + k.name
		}
	}
	if free {
		h.anomaly(off, AnomalyFreeCell, k.path, false, "key cell is marked free")
	}
	return k, nil
}

func (k *Key) parentPath(parent *Key) string {
	if parent == nil {
		return ""
	}
	return parent.path
}

// Name is the key's decoded name: Latin-1 when the name is stored compressed,
// UTF-16LE otherwise, with U+FFFD for invalid UTF-16.
func (k *Key) Name() string { return k.name }

// NameRaw is the key name's on-disk bytes. Do not modify them.
func (k *Key) NameRaw() []byte {
	n := min(int(le16(k.nk[nkNameLength:])), len(k.nk)-nkName)
	return k.nk[nkName : nkName+n : nkName+n]
}

// NameValid is false when the UTF-16 name held lone surrogates or an odd byte
// (Name then has U+FFFD in their place).
func (k *Key) NameValid() bool { return k.nameValid }

// Path is the key's path relative to the root key, `\`-separated, without
// the root key's own name; "" for the root.
func (k *Key) Path() string { return k.path }

// LastWrite is the key's last-write time at full 100 ns precision (zero
// time when the FILETIME is 0).
func (k *Key) LastWrite() time.Time { return wintime.FromFiletime(k.LastWriteRaw()) }

// LastWriteRaw is the key's last-write FILETIME as stored.
func (k *Key) LastWriteRaw() uint64 { return le64(k.nk[nkLastWrite:]) }

// Offset is the key's cell offset relative to the start of the hive bins,
// the form used inside the hive. The file offset is Offset()+4096.
func (k *Key) Offset() int64 { return int64(k.off) }

// Flags are the key node's flags (KEY_COMP_NAME 0x20, KEY_HIVE_ENTRY 0x4,
// KEY_SYM_LINK 0x10, ...).
func (k *Key) Flags() uint16 { return le16(k.nk[nkFlags:]) }

// Hive is the hive the key belongs to.
func (k *Key) Hive() *Hive { return k.h }

// SubkeyCount is the number of subkeys the key node declares (stable
// storage; volatile keys are not in a hive file).
func (k *Key) SubkeyCount() int { return int(le32(k.nk[nkSubkeyCount:])) }

// ValueCount is the number of values the key node declares. A key marked
// KEY_PREDEF_HANDLE (Perflib\009 and CurrentLanguage in SOFTWARE) stores a
// predefined handle in that field and has no values: 0.
func (k *Key) ValueCount() int {
	if le16(k.nk[nkFlags:])&nkPredefHandle != 0 {
		return 0
	}
	return int(le32(k.nk[nkValueCount:]))
}

// subkeyOffsets lists the nk offsets of the key's subkey lists, recording
// anomalies.
func (k *Key) subkeyOffsets(dst []uint32, g *listGuard) []uint32 {
	count := le32(k.nk[nkSubkeyCount:])
	if count == 0 {
		return dst
	}
	start := len(dst)
	if g != nil {
		g.owner = k.off
	}
	dst = k.h.subkeyOffsets(dst, le32(k.nk[nkSubkeyList:]), k.path, g)
	if got := len(dst) - start; got != int(count) {
		k.h.anomaly(k.off, AnomalyCountMismatch, k.path, got < int(count), "key declares %d subkeys, its lists hold %d", count, got)
	}
	return dst
}

// child reads the subkey at off and checks that its parent pointer names k.
func (k *Key) child(off uint32) (*Key, bool) {
	c, err := k.h.keyAt(off, k)
	if err != nil {
		k.h.anomaly(off, AnomalyBadCell, k.path, true, "subkey: %v", err)
		return nil, false
	}
	if parent := le32(c.nk[nkParent:]); parent != k.off {
		k.h.anomaly(off, AnomalyParentMismatch, k.path, true, "subkey %q (cell %#x) names key %#x as its parent, not this key (%#x); skipped", c.name, off, parent, k.off)
		return nil, false
	}
	return c, true
}

// Subkeys returns the key's subkeys in on-disk list order. Entries that cannot
// be read, or whose parent pointer names another key, are skipped and
// recorded as anomalies. To visit a whole tree use Walk or Keys, which also
// guard against cycles and lists shared between keys.
func (k *Key) Subkeys() ([]*Key, error) {
	offs := k.subkeyOffsets(nil, nil)
	keys := make([]*Key, 0, len(offs))
	for _, off := range offs {
		if c, ok := k.child(off); ok {
			keys = append(keys, c)
		}
	}
	return keys, nil
}

// Subkey returns the direct subkey with the given name, compared the way
// Windows does (case-insensitive). The error wraps ErrNotFound when there is
// none.
func (k *Key) Subkey(name string) (*Key, error) {
	for _, off := range k.subkeyOffsets(nil, nil) {
		if !k.h.nameMatches(off, name) {
			continue
		}
		if c, ok := k.child(off); ok && equalName(c.name, name) {
			return c, nil
		}
	}
	p := name
	if k.path != "" {
		p = k.path + `\` + name
	}
	return nil, fmt.Errorf("%s: key %s: %w", k.h.name, p, ErrNotFound)
}

// nameMatches is a cheap pre-filter: false only when the nk at off surely
// does not carry name (ASCII comparison of compressed names).
func (h *Hive) nameMatches(off uint32, name string) bool {
	p, _, err := h.cell(off)
	if err != nil || len(p) < nkName || le16(p[nkFlags:])&nkCompName == 0 {
		return true
	}
	n := int(le16(p[nkNameLength:]))
	if n > len(p)-nkName {
		return true
	}
	raw := p[nkName : nkName+n]
	if len(raw) != len(name) {
		// A non-ASCII byte in either can change the length; only reject
		// when both are ASCII.
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				return true
			}
		}
		for _, c := range raw {
			if c >= 0x80 {
				return true
			}
		}
		return false
	}
	return true
}

// OpenKey returns the key at path, relative to the root (`\`-separated,
// case-insensitive the way Windows compares names; "" is the root). Leading
// and trailing backslashes are ignored. The error wraps ErrNotFound when a
// component does not exist.
func (h *Hive) OpenKey(path string) (*Key, error) {
	k, err := h.Root()
	if err != nil {
		return nil, err
	}
	path = strings.Trim(path, `\`)
	if path == "" {
		return k, nil
	}
	depth := 0
	for _, part := range strings.Split(path, `\`) {
		if part == "" {
			continue
		}
		depth++
		if depth > h.lim.MaxDepth {
			return nil, fmt.Errorf("%s: key %s: deeper than Limits.MaxDepth (%d): %w", h.name, path, h.lim.MaxDepth, ErrNotFound)
		}
		k, err = k.Subkey(part)
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

// ClassName is the key's class name ("" when it has none). The Lsa keys of
// SYSTEM keep the boot key in theirs.
func (k *Key) ClassName() string {
	off := le32(k.nk[nkClass:])
	n := int(le16(k.nk[nkClassLength:]))
	if off == noCell || n == 0 {
		return ""
	}
	p, _, err := k.h.cell(off)
	if err != nil {
		k.h.anomaly(off, AnomalyBadClass, k.path, true, "class name: %v", err)
		return ""
	}
	if n > len(p) {
		k.h.anomaly(off, AnomalyLengthCapped, k.path, true, "class name length %d is larger than its cell (%d bytes)", n, len(p))
		n = len(p)
	}
	if n <= 256 {
		s, _ := decodeUTF16(p[:n])
		return s
	}
	// Long class names are decoded once per cell: many keys pointing at one
	// 64 KiB class cell must not cost 64 KiB each.
	id := uint64(off)<<32 | uint64(n)
	k.h.mu.Lock()
	s, ok := k.h.classes[id]
	k.h.mu.Unlock()
	if !ok {
		s, _ = decodeUTF16(p[:n])
		k.h.mu.Lock()
		if k.h.classes == nil {
			k.h.classes = make(map[uint64]string)
		}
		k.h.classes[id] = s
		k.h.mu.Unlock()
	}
	return s
}
