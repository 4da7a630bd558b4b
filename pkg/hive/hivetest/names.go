package hivetest

import (
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf16"
)

// encodedName is a name as it is stored: its bytes, whether the
// compressed-name flag is set, and the UTF-16 code units it stands for
// (used for hashing, sorting and the nk/vk maximum-length fields).
type encodedName struct {
	raw   []byte
	comp  bool
	units []uint16
}

// encodeName stores name as Latin-1 when every character fits and utf16 is
// false, else as UTF-16LE. raw, when not nil, is used verbatim.
func encodeName(name string, raw []byte, forceUTF16 bool) encodedName {
	if raw != nil {
		e := encodedName{raw: raw, comp: !forceUTF16}
		if e.comp {
			for _, b := range raw {
				e.units = append(e.units, uint16(b))
			}
		} else {
			for i := 0; i+1 < len(raw); i += 2 {
				e.units = append(e.units, binary.LittleEndian.Uint16(raw[i:]))
			}
		}
		return e
	}
	units := utf16.Encode([]rune(name))
	latin1 := !forceUTF16
	for _, u := range units {
		if u > 0xFF {
			latin1 = false
			break
		}
	}
	e := encodedName{comp: latin1, units: units}
	if latin1 {
		e.raw = make([]byte, len(units))
		for i, u := range units {
			e.raw[i] = byte(u)
		}
	} else {
		e.raw = make([]byte, 2*len(units))
		for i, u := range units {
			binary.LittleEndian.PutUint16(e.raw[2*i:], u)
		}
	}
	return e
}

// unicodeLen is the name's length in bytes of UTF-16, the unit Windows uses
// for the MaxNameLen and MaxValueNameLen fields whatever the stored form.
func (e encodedName) unicodeLen() int { return 2 * len(e.units) }

// upcase maps one UTF-16 code unit the way the registry compares names:
// ASCII letters by the table, other characters by their simple upper-case
// mapping (an approximation of Windows' NLS upcase table, which agrees for
// Latin-1 and the common scripts); surrogate halves are left alone.
func upcase(u uint16) uint16 {
	switch {
	case u < 'a':
		return u
	case u <= 'z':
		return u - ('a' - 'A')
	case u < 0x80 || (u >= 0xD800 && u <= 0xDFFF):
		return u
	}
	r := unicode.ToUpper(rune(u))
	if r > 0xFFFF {
		return u
	}
	return uint16(r)
}

// lhHash is the name hash stored in lh lists: h = h*37 + upcase(c) over the
// name's UTF-16 code units.
func lhHash(units []uint16) uint32 {
	var h uint32
	for _, u := range units {
		h = h*37 + uint32(upcase(u))
	}
	return h
}

// lfHint is the 4-byte hint stored in lf lists: the first four characters
// of the name, one byte each.
func lfHint(units []uint16) uint32 {
	var b [4]byte
	for i := 0; i < 4 && i < len(units); i++ {
		b[i] = byte(units[i])
	}
	return binary.LittleEndian.Uint32(b[:])
}

// compareNames orders names as Windows keeps them in subkey lists: code
// unit by code unit after upcasing, a prefix before the longer name.
func compareNames(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := upcase(a[i]), upcase(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// equalFold compares two names case-insensitively in the registry's sense.
func equalFold(a, b string) bool {
	return compareNames(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))) == 0
}

// sortedChildren returns the indexes of names in subkey-list order; equal
// names keep their given order.
func sortedChildren(names []encodedName) []int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return compareNames(names[i].units, names[j].units) })
	return idx
}
