package hivetest

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// Key is one registry key of the tree to write.
type Key struct {
	// Name is the key name. The root key's name is stored too (Windows
	// stores names such as "CMI-CreateHive{...}" or "ROOT" there).
	Name string
	// NameRaw, when not nil, is written verbatim as the on-disk name instead
	// of encoding Name; NameUTF16 then chooses whether the compressed-name
	// flag is clear (UTF-16LE bytes) or set (Latin-1 bytes). For hostile
	// tests: odd lengths, lone surrogates, embedded NULs.
	NameRaw []byte
	// NameUTF16 stores the name as UTF-16LE even when every character would
	// fit the compressed (Latin-1) form.
	NameUTF16 bool
	// LastWrite is the key's last-write time (FILETIME precision, 100 ns).
	LastWrite time.Time
	// Class is the key's class name; empty means none.
	Class string
	// Security is the key's self-relative SECURITY_DESCRIPTOR. Keys whose
	// descriptors are byte-identical share one sk cell. Nil inherits the
	// parent's descriptor (the root falls back to [DefaultSD]).
	Security []byte
	// Values are written in this order (Windows keeps values unsorted).
	Values []Value
	// Subkeys are sorted into Windows' order in the subkey list whatever
	// their order here; the cells are laid out in the given order.
	Subkeys []*Key
	// List selects the subkey list form; ListAuto gives an lh list, under
	// an ri index when there are more subkeys than the leaf capacity
	// (WithLeafCapacity).
	List ListKind
	// Flags are extra nk flag bits OR-ed into the computed ones (for example
	// 0x0001 KEY_VOLATILE or 0x0010 KEY_SYM_LINK in hostile tests).
	Flags uint16
	// DeletedValues are values the key once had: written after its live
	// values as free cells with their bytes intact (vk cell, then data), the
	// way Windows leaves a deleted or replaced value behind, so that
	// recovery of earlier states from unallocated space can be tested. They
	// are not in the key's value list.
	DeletedValues []Value
}

// Value is one registry value.
type Value struct {
	// Name is the value name; "" is the key's default value.
	Name string
	// NameRaw, when not nil, is written verbatim as the on-disk name;
	// NameUTF16 then chooses the compressed-name flag as for Key.NameRaw.
	NameRaw []byte
	// NameUTF16 stores the name as UTF-16LE even when Latin-1 would do.
	NameUTF16 bool
	// Type is the registry value type (REG_SZ = 1, ...); any number is
	// accepted.
	Type uint32
	// Data are the exact data bytes.
	Data []byte
	// Slack, for data stored in its own cell (more than 4 bytes, not big
	// data), are bytes left in that cell after the data: the tail of a
	// longer value Windows overwrote in place. The value's size stays
	// len(Data).
	Slack []byte
}

// ListKind selects how a key's subkey list is stored.
type ListKind int

// Subkey list forms.
const (
	// ListAuto is an lh list, or an ri index over lh lists for large
	// fan-outs.
	ListAuto ListKind = iota
	// ListLH forces lh leaves (name-hash lists, Windows XP and later).
	ListLH
	// ListLF forces lf leaves (first-four-characters hint lists).
	ListLF
	// ListLI forces li leaves (plain offset lists).
	ListLI
	// ListRI forces an ri index even for a single leaf.
	ListRI
)

// Registry value types.
const (
	RegNone                     uint32 = 0
	RegSZ                       uint32 = 1
	RegExpandSZ                 uint32 = 2
	RegBinary                   uint32 = 3
	RegDWORD                    uint32 = 4
	RegDWORDBigEndian           uint32 = 5
	RegLink                     uint32 = 6
	RegMultiSZ                  uint32 = 7
	RegResourceList             uint32 = 8
	RegFullResourceDescriptor   uint32 = 9
	RegResourceRequirementsList uint32 = 10
	RegQWORD                    uint32 = 11
)

// UTF16 encodes s as UTF-16LE followed by one NUL character, as Windows
// stores REG_SZ data.
func UTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// SZ is a REG_SZ value holding s (UTF-16LE, NUL-terminated).
func SZ(name, s string) Value { return Value{Name: name, Type: RegSZ, Data: UTF16(s)} }

// ExpandSZ is a REG_EXPAND_SZ value holding s.
func ExpandSZ(name, s string) Value { return Value{Name: name, Type: RegExpandSZ, Data: UTF16(s)} }

// Link is a REG_LINK value holding the NT path s, stored without a NUL as
// Windows does for symbolic-link targets.
func Link(name, s string) Value {
	b := UTF16(s)
	return Value{Name: name, Type: RegLink, Data: b[:len(b)-2]}
}

// MultiSZ is a REG_MULTI_SZ value: each string NUL-terminated, then an empty
// string ending the list.
func MultiSZ(name string, ss ...string) Value {
	var b []byte
	for _, s := range ss {
		b = append(b, UTF16(s)...)
	}
	b = append(b, 0, 0)
	return Value{Name: name, Type: RegMultiSZ, Data: b}
}

// DWORD is a REG_DWORD value (little-endian).
func DWORD(name string, n uint32) Value {
	return Value{Name: name, Type: RegDWORD, Data: binary.LittleEndian.AppendUint32(nil, n)}
}

// DWORDBigEndian is a REG_DWORD_BIG_ENDIAN value.
func DWORDBigEndian(name string, n uint32) Value {
	return Value{Name: name, Type: RegDWORDBigEndian, Data: binary.BigEndian.AppendUint32(nil, n)}
}

// QWORD is a REG_QWORD value (little-endian).
func QWORD(name string, n uint64) Value {
	return Value{Name: name, Type: RegQWORD, Data: binary.LittleEndian.AppendUint64(nil, n)}
}

// Binary is a REG_BINARY value holding a copy of b.
func Binary(name string, b []byte) Value {
	return Value{Name: name, Type: RegBinary, Data: append([]byte(nil), b...)}
}

// Raw is a value of any type with the exact data bytes b.
func Raw(name string, typ uint32, b []byte) Value {
	return Value{Name: name, Type: typ, Data: append([]byte(nil), b...)}
}

// Path returns the descendant of k reached by the `\`-separated path
// (compared case-insensitively), or nil. It helps tests edit a tree before
// building a newer state of it.
func (k *Key) Path(path string) *Key {
	cur := k
	for _, part := range splitPath(path) {
		var next *Key
		for _, s := range cur.Subkeys {
			if equalFold(s.Name, part) {
				next = s
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// SetValue replaces the value with the same name (case-insensitive) or
// appends v.
func (k *Key) SetValue(v Value) {
	for i := range k.Values {
		if equalFold(k.Values[i].Name, v.Name) {
			k.Values[i] = v
			return
		}
	}
	k.Values = append(k.Values, v)
}

// Clone returns a deep copy of the tree rooted at k, so a test can derive a
// newer state without touching the older one.
func (k *Key) Clone() *Key {
	if k == nil {
		return nil
	}
	c := *k
	c.NameRaw = cloneBytes(k.NameRaw)
	c.Security = cloneBytes(k.Security)
	c.Values = make([]Value, len(k.Values))
	for i, v := range k.Values {
		c.Values[i] = v.clone()
	}
	if k.DeletedValues != nil {
		c.DeletedValues = make([]Value, len(k.DeletedValues))
		for i, v := range k.DeletedValues {
			c.DeletedValues[i] = v.clone()
		}
	}
	c.Subkeys = make([]*Key, len(k.Subkeys))
	for i, s := range k.Subkeys {
		c.Subkeys[i] = s.Clone()
	}
	return &c
}

func (v Value) clone() Value {
	v.NameRaw = cloneBytes(v.NameRaw)
	v.Data = cloneBytes(v.Data)
	v.Slack = cloneBytes(v.Slack)
	return v
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func splitPath(p string) []string {
	var parts []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '\\' {
			if i > start {
				parts = append(parts, p[start:i])
			}
			start = i + 1
		}
	}
	return parts
}
