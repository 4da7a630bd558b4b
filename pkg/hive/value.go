package hive

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// ValueType is a registry value's data type (REG_SZ, REG_DWORD, ...).
type ValueType uint32

// Value types. Types outside this list (such as the DEVPROP types
// 0xFFFF00xx in SYSTEM hives) are kept as numbers and their data as bytes.
const (
	RegNone                     ValueType = 0
	RegSZ                       ValueType = 1
	RegExpandSZ                 ValueType = 2
	RegBinary                   ValueType = 3
	RegDWORD                    ValueType = 4
	RegDWORDBigEndian           ValueType = 5
	RegLink                     ValueType = 6
	RegMultiSZ                  ValueType = 7
	RegResourceList             ValueType = 8
	RegFullResourceDescriptor   ValueType = 9
	RegResourceRequirementsList ValueType = 10
	RegQWORD                    ValueType = 11
)

var typeNames = [...]string{
	"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
	"REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
	"REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
}

// String is the Windows name of the type, or REG_UNKNOWN_0x... for others.
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "REG_UNKNOWN_0x" + strconv.FormatUint(uint64(t), 16)
}

// Value is one registry value (a vk cell).
type Value struct {
	k         *Key
	off       uint32
	vk        []byte
	name      string
	nameValid bool
}

// valueOffsets returns the vk offsets of the key's value list, capped by the
// list's cell.
func (k *Key) valueOffsets() []byte {
	count := k.ValueCount()
	if count == 0 {
		return nil
	}
	off := le32(k.nk[nkValueList:])
	p, free, err := k.h.cell(off)
	if err != nil {
		k.h.anomaly(off, AnomalyBadCell, k.path, true, "value list of %d values: %v", count, err)
		return nil
	}
	if free {
		k.h.anomaly(off, AnomalyFreeCell, k.path, false, "value list cell is marked free")
	}
	count = k.h.capCount(count, len(p)/4, off, k.path, "value list")
	return p[:4*count]
}

// Values returns the key's values in on-disk order. Entries that cannot be
// read are skipped and recorded as anomalies.
func (k *Key) Values() ([]*Value, error) {
	list, skip := k.claimedValueList()
	if len(list) == 0 {
		return nil, nil
	}
	store := make([]Value, len(list)/4)
	vals := make([]*Value, 0, len(store))
	for i := range store {
		if skip != nil && skip[i] {
			continue
		}
		if k.valueAt(le32(list[4*i:]), &store[i]) {
			vals = append(vals, &store[i])
		}
	}
	return vals, nil
}

// claimedValueList returns the key's value list and the entries to skip.
// Windows never shares value lists or value cells between keys, and a hive
// that does could make every key list the same large values: the first key
// to read a list owns it (another key gets an empty list and a shared-list
// anomaly), and a value cell listed a second time anywhere is skipped, so the
// values of the whole hive are at most its vk cells.
func (k *Key) claimedValueList() (list []byte, skip map[int]bool) {
	list = k.valueOffsets()
	if len(list) == 0 {
		return nil, nil
	}
	h := k.h
	listOff := le32(k.nk[nkValueList:])
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.vlists == nil {
		h.vlists = make(map[uint32]uint32)
		h.vkSeen = newBitset(h.end)
	}
	owner, ok := h.vlists[listOff]
	switch {
	case ok && owner != k.off:
		h.addAnomalyLocked(Anomaly{Offset: binsStart + int64(listOff), Kind: AnomalySharedList, Key: k.path,
			Message: fmt.Sprintf("value list %#x belongs to key %#x; not read again for this key", listOff, owner)}, true)
		return nil, nil
	case ok:
		return list, h.vskip[listOff]
	}
	h.vlists[listOff] = k.off
	for i := 0; i+4 <= len(list); i += 4 {
		vk := le32(list[i:])
		if !h.vkSeen.has(vk) {
			h.vkSeen.set(vk)
			continue
		}
		if skip == nil {
			skip = make(map[int]bool)
		}
		skip[i/4] = true
		h.addAnomalyLocked(Anomaly{Offset: binsStart + int64(vk), Kind: AnomalySharedValue, Key: k.path,
			Message: fmt.Sprintf("value cell %#x is listed a second time; skipped", vk)}, true)
	}
	if skip != nil {
		if h.vskip == nil {
			h.vskip = make(map[uint32]map[int]bool)
		}
		h.vskip[listOff] = skip
	}
	return list, skip
}

// valueAt fills v from the vk cell at off.
func (k *Key) valueAt(off uint32, v *Value) bool {
	h := k.h
	p, free, err := h.cell(off)
	if err != nil {
		h.anomaly(off, AnomalyBadCell, k.path, true, "value: %v", err)
		return false
	}
	if len(p) < vkName || p[0] != 'v' || p[1] != 'k' {
		sig := p
		if len(sig) > 2 {
			sig = sig[:2]
		}
		h.anomaly(off, AnomalyBadSignature, k.path, true, "value cell %#x is not a vk cell (signature %q)", off, sig)
		return false
	}
	if free {
		h.anomaly(off, AnomalyFreeCell, k.path, false, "value cell is marked free")
	}
	*v = Value{k: k, off: off, vk: p}
	n := int(le16(p[vkNameLength:]))
	if max := len(p) - vkName; n > max {
		h.anomaly(off, AnomalyLengthCapped, k.path, true, "value name length %d is larger than its cell (%d bytes left); name cut", n, max)
		n = max
	}
	raw := p[vkName : vkName+n : vkName+n]
	if le16(p[vkFlags:])&vkCompName != 0 {
		v.name, v.nameValid = h.latin1Name(raw), true
	} else {
		v.name, v.nameValid = decodeUTF16(raw)
	}
	return true
}

// Value returns the value with the given name ("" is the default value),
// compared case-insensitively the way Windows does. The error wraps
// ErrNotFound when there is none.
func (k *Key) Value(name string) (*Value, error) {
	list, skip := k.claimedValueList()
	var v Value
	for i := 0; i+4 <= len(list); i += 4 {
		if skip != nil && skip[i/4] {
			continue
		}
		if k.valueAt(le32(list[i:]), &v) && equalName(v.name, name) {
			out := v
			return &out, nil
		}
	}
	return nil, fmt.Errorf("%s: key %s: value %q: %w", k.h.name, k.path, name, ErrNotFound)
}

// Name is the value's decoded name; "" for the default value.
func (v *Value) Name() string { return v.name }

// NameRaw is the value name's on-disk bytes. Do not modify them.
func (v *Value) NameRaw() []byte {
	n := min(int(le16(v.vk[vkNameLength:])), len(v.vk)-vkName)
	return v.vk[vkName : vkName+n : vkName+n]
}

// NameValid is false when the UTF-16 name held lone surrogates.
func (v *Value) NameValid() bool { return v.nameValid }

// Type is the value's data type.
func (v *Value) Type() ValueType { return ValueType(le32(v.vk[vkType:])) }

// Key is the key holding the value.
func (v *Value) Key() *Key { return v.k }

// Offset is the value's cell offset relative to the hive bins.
func (v *Value) Offset() int64 { return int64(v.off) }

// Size is the data length the value declares (resident flag removed).
func (v *Value) Size() int {
	n := le32(v.vk[vkDataLength:])
	if n&resident != 0 {
		n &^= resident
		if n > 4 {
			n = 4
		}
	}
	return int(n)
}

// Data returns the value's data bytes at their real length: stored in the vk
// cell itself (4 bytes or fewer), in one data cell, or in big-data segments.
// When the data cannot be read in full, Data returns what it could read and
// a *FormatError. The slice may alias the hive image: do not modify it.
func (v *Value) Data() ([]byte, error) {
	return v.data()
}

func (v *Value) errorf(off uint32, format string, args ...any) *FormatError {
	return &FormatError{File: v.k.h.name, Offset: binsStart + int64(off), Key: v.k.path, Msg: fmt.Sprintf("value %q: ", v.name) + fmt.Sprintf(format, args...)}
}

func (v *Value) data() ([]byte, error) {
	h := v.k.h
	n := le32(v.vk[vkDataLength:])
	if n&resident != 0 {
		n &^= resident
		if n > 4 {
			h.anomaly(v.off, AnomalyLengthCapped, v.k.path, false, "value %q: resident data length %d is more than 4; using 4", v.name, n)
			n = 4
		}
		return v.vk[vkDataOffset : vkDataOffset+n : vkDataOffset+n], nil
	}
	if n == 0 {
		return nil, nil
	}
	if int64(n) > int64(h.lim.MaxValueSize) {
		h.anomaly(v.off, AnomalyBadData, v.k.path, true, "value %q: data length %d is more than Limits.MaxValueSize (%d)", v.name, n, h.lim.MaxValueSize)
		return nil, v.errorf(v.off, "data length %d is more than Limits.MaxValueSize (%d)", n, h.lim.MaxValueSize)
	}
	doff := le32(v.vk[vkDataOffset:])
	p, _, err := h.cell(doff)
	if err != nil {
		h.anomaly(doff, AnomalyBadData, v.k.path, true, "value %q: data cell: %v", v.name, err)
		return nil, v.errorf(doff, "data cell: %v", err)
	}
	if n > sharedDataMin && !h.claimData(doff, v) {
		return nil, v.errorf(doff, "data cell %#x belongs to another value", doff)
	}
	if n > bigDataSegment && h.minor >= 4 && len(p) >= 8 && p[0] == 'd' && p[1] == 'b' {
		return v.bigData(p, doff, int(n))
	}
	if int(n) > len(p) {
		h.anomaly(doff, AnomalyBadData, v.k.path, true, "value %q: data length %d is larger than its cell (%d bytes)", v.name, n, len(p))
		return p, v.errorf(doff, "data length %d is larger than its cell (%d bytes)", n, len(p))
	}
	return p[:n:n], nil
}

// bigData assembles data stored in a db record's segments.
func (v *Value) bigData(db []byte, dbOff uint32, n int) ([]byte, error) {
	h := v.k.h
	count := int(le16(db[2:]))
	listOff := le32(db[4:])
	if count*bigDataSegment < n {
		h.anomaly(dbOff, AnomalyBadData, v.k.path, true, "value %q: %d big-data segments cannot hold %d bytes", v.name, count, n)
		return nil, v.errorf(dbOff, "%d big-data segments cannot hold %d bytes", count, n)
	}
	list, _, err := h.cell(listOff)
	if err != nil {
		h.anomaly(listOff, AnomalyBadData, v.k.path, true, "value %q: big-data segment list: %v", v.name, err)
		return nil, v.errorf(listOff, "big-data segment list: %v", err)
	}
	if !h.claimData(listOff, v) {
		return nil, v.errorf(listOff, "big-data segment list %#x belongs to another value", listOff)
	}
	count = h.capCount(count, len(list)/4, listOff, v.k.path, "big-data segment list")
	out := make([]byte, 0, n)
	for i := 0; i < count && len(out) < n; i++ {
		segOff := le32(list[4*i:])
		if !h.claimData(segOff, v) {
			return out, v.errorf(segOff, "big-data segment %d belongs to another value", i)
		}
		seg, _, err := h.cell(segOff)
		if err != nil {
			h.anomaly(segOff, AnomalyBadData, v.k.path, true, "value %q: big-data segment %d: %v", v.name, i, err)
			return out, v.errorf(segOff, "big-data segment %d: %v", i, err)
		}
		want := min(n-len(out), bigDataSegment)
		if len(seg) < want {
			h.anomaly(segOff, AnomalyBadData, v.k.path, true, "value %q: big-data segment %d holds %d bytes, want %d", v.name, i, len(seg), want)
			return append(out, seg...), v.errorf(segOff, "big-data segment %d holds %d bytes, want %d", i, len(seg), want)
		}
		out = append(out, seg[:want]...)
	}
	if len(out) < n {
		h.anomaly(dbOff, AnomalyBadData, v.k.path, true, "value %q: big data gives %d of %d bytes", v.name, len(out), n)
		return out, v.errorf(dbOff, "big data gives %d of %d bytes", len(out), n)
	}
	return out, nil
}

// Data is a value's data decoded by type.
type Data struct {
	Type ValueType
	// Raw is the exact data bytes (it may alias the hive image).
	Raw []byte
	// Text is REG_SZ, REG_EXPAND_SZ or REG_LINK data decoded from UTF-16LE
	// and cut at the first NUL.
	Text string
	// TextValid is false when Text (or one of Strings) held lone surrogates
	// or an odd trailing byte: writers should then add the raw bytes.
	TextValid bool
	// Strings is REG_MULTI_SZ data: every NUL-separated string, with the
	// terminating empty string and any NUL padding after it removed (an
	// empty, non-nil list when there is none). Empty strings inside the list
	// are kept: PendingFileRenameOperations, for one, pairs each file with
	// an empty target to mean "delete".
	Strings []string
	// Int is REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD data.
	Int uint64
	// IntValid is true when Int was decoded from data of the right length
	// (4 or 8 bytes). Writers show other data as bytes.
	IntValid bool
}

// IsText reports whether the type is a string type (REG_SZ, REG_EXPAND_SZ,
// REG_LINK).
func (t ValueType) IsText() bool { return t == RegSZ || t == RegExpandSZ || t == RegLink }

// IsInt reports whether the type is an integer type.
func (t ValueType) IsInt() bool { return t == RegDWORD || t == RegDWORDBigEndian || t == RegQWORD }

// Decode reads the value's data and decodes it by type. An error means the
// data could not be read in full; Data then holds what was read.
func (v *Value) Decode() (Data, error) {
	raw, err := v.data()
	return DecodeData(v.Type(), raw), err
}

// DecodeData decodes raw value data of type t. Integers with data of the
// wrong length keep IntValid false; strings that are not valid UTF-16 keep
// TextValid false.
func DecodeData(t ValueType, raw []byte) Data {
	d := Data{Type: t, Raw: raw, TextValid: true}
	switch t {
	case RegSZ, RegExpandSZ, RegLink:
		d.Text, d.TextValid = decodeUTF16(cutUTF16NUL(raw))
		if len(raw)%2 != 0 && len(cutUTF16NUL(raw)) == len(raw)&^1 {
			d.TextValid = false
		}
	case RegMultiSZ:
		d.Strings, d.TextValid = decodeMultiSZ(raw)
	case RegDWORD:
		if len(raw) == 4 {
			d.Int, d.IntValid = uint64(binary.LittleEndian.Uint32(raw)), true
		}
	case RegDWORDBigEndian:
		if len(raw) == 4 {
			d.Int, d.IntValid = uint64(binary.BigEndian.Uint32(raw)), true
		}
	case RegQWORD:
		if len(raw) == 8 {
			d.Int, d.IntValid = binary.LittleEndian.Uint64(raw), true
		}
	}
	return d
}

// decodeMultiSZ splits REG_MULTI_SZ data on UTF-16 NULs and drops the empty
// strings at the end (the terminator and padding).
func decodeMultiSZ(raw []byte) ([]string, bool) {
	valid := len(raw)%2 == 0
	even := raw[:len(raw)&^1]
	// Trim trailing NUL code units.
	end := len(even)
	for end >= 2 && even[end-2] == 0 && even[end-1] == 0 {
		end -= 2
	}
	even = even[:end]
	out := []string{}
	for len(even) > 0 {
		s := cutUTF16NUL(even)
		str, ok := decodeUTF16(s)
		out = append(out, str)
		valid = valid && ok
		if len(s) >= len(even) {
			break
		}
		even = even[len(s)+2:]
	}
	return out, valid
}

// sharedDataMin is the data length above which a data cell is claimed by
// the first value that reads it. Below it sharing is harmless: the data of
// the whole hive stays under this many bytes per value cell.
const sharedDataMin = 256

// claimData records v as the owner of the data cell at off, and reports
// false (with an anomaly) when another value cell owns it: a hive whose
// values all point at one large data cell must not return it once per value.
func (h *Hive) claimData(off uint32, v *Value) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dataOwner == nil {
		h.dataOwner = make(map[uint32]uint32)
	}
	owner, ok := h.dataOwner[off]
	if !ok {
		h.dataOwner[off] = v.off
		return true
	}
	if owner == v.off {
		return true
	}
	h.addAnomalyLocked(Anomaly{Offset: binsStart + int64(off), Kind: AnomalySharedData, Key: v.k.path,
		Message: fmt.Sprintf("value %q: data cell %#x belongs to value cell %#x; not read again", v.name, off, owner)}, true)
	return false
}
