package gpo

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/hive"
)

// PolSignature is the first four bytes of a Registry.pol file ("PReg",
// 0x67655250 little-endian); PolVersion is the only version defined.
const (
	PolSignature = "PReg"
	PolVersion   = 1
)

// PolHeader is the 8-byte header of a Registry.pol file.
type PolHeader struct {
	Signature uint32 // 0x67655250, "PReg"
	Version   uint32 // 1
}

// PolRecord is one [key;value;type;size;data] record of a Registry.pol
// file, with the names [MS-GPREG] gives its parts.
type PolRecord struct {
	// Offset is the byte offset of the record's opening '['.
	Offset int64
	// Key is the registry key below the policy's root (HKLM for a Machine
	// policy, HKCU for a User policy), as stored.
	Key string
	// ValueName is the value name as stored, including the special
	// "**del." style prefixes (see Action).
	ValueName string
	Type      hive.ValueType
	// Size is the data size the record declares; len(Data) == Size.
	Size uint32
	Data []byte
}

// PolAction is what a record does to the registry.
type PolAction string

// Record actions ([MS-GPREG] 2.2.1 and 2.2.2).
const (
	// ActionSet sets ValueName to Data.
	ActionSet PolAction = "set"
	// ActionSoftSet sets the value only when it does not exist
	// ("**soft.NAME").
	ActionSoftSet PolAction = "set_if_absent"
	// ActionCreateKey creates the key (empty value name, no data).
	ActionCreateKey PolAction = "create_key"
	// ActionDeleteValue deletes one value ("**del.NAME", or each name in the
	// data of "**DeleteValues").
	ActionDeleteValue PolAction = "delete_value"
	// ActionDeleteAllValues deletes every value of the key ("**delvals.").
	ActionDeleteAllValues PolAction = "delete_all_values"
	// ActionDeleteKeys deletes the subkeys named in the data
	// ("**DeleteKeys").
	ActionDeleteKeys PolAction = "delete_keys"
	// ActionSecureKey sets (data 1) or clears (data 0) the key's
	// administrators-only ACL ("**SecureKey").
	ActionSecureKey PolAction = "secure_key"
)

// Action returns what the record does.
func (r *PolRecord) Action() PolAction {
	n := r.ValueName
	lower := strings.ToLower(n)
	switch {
	case !strings.HasPrefix(n, "**"):
		if n == "" && len(r.Data) == 0 {
			return ActionCreateKey
		}
		return ActionSet
	case lower == "**delvals.":
		return ActionDeleteAllValues
	case strings.HasPrefix(lower, "**del."):
		return ActionDeleteValue
	case lower == "**deletevalues":
		return ActionDeleteValue
	case lower == "**deletekeys":
		return ActionDeleteKeys
	case lower == "**securekey":
		return ActionSecureKey
	case strings.HasPrefix(lower, "**soft."):
		return ActionSoftSet
	}
	return ActionSet
}

// Targets returns the value names (for deletions of values and sets) or
// subkey names (ActionDeleteKeys) the record acts on: "X" for "**del.X",
// each name of the semicolon-separated data of "**DeleteValues" and
// "**DeleteKeys", the value name itself for a plain set; nil for
// ActionDeleteAllValues, ActionCreateKey and ActionSecureKey.
func (r *PolRecord) Targets() []string {
	n := r.ValueName
	lower := strings.ToLower(n)
	switch r.Action() {
	case ActionSet:
		return []string{n}
	case ActionSoftSet:
		return []string{n[len("**soft."):]}
	case ActionDeleteValue:
		if strings.HasPrefix(lower, "**del.") {
			return []string{n[len("**del."):]}
		}
		return splitList(r.DataValue().Text)
	case ActionDeleteKeys:
		return splitList(r.DataValue().Text)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DataValue decodes Data by Type, as a hive value of that type would be.
func (r *PolRecord) DataValue() hive.Data {
	return hive.DecodeData(r.Type, r.Data)
}

// Pol is a parsed Registry.pol file.
type Pol struct {
	Name    string
	Header  PolHeader
	Records []PolRecord
}

// OpenPol reads and parses the Registry.pol file at path.
func OpenPol(path string) (*Pol, error) {
	data, err := readFile(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return LoadPol(path, data)
}

// LoadPol parses a Registry.pol file held in data; name is used in errors.
// A file that is only a header holds no records (Windows writes that for a
// policy with nothing configured). When a record is damaged, LoadPol
// returns the records before it together with the *FormatError (a nil Pol
// only when the header itself is bad): what the policy applies up to the
// damage is still evidence.
func LoadPol(name string, data []byte) (*Pol, error) {
	if len(data) > MaxFileSize {
		return nil, offErr(name, MaxFileSize, "file larger than %d bytes", MaxFileSize)
	}
	if len(data) < 8 {
		return nil, offErr(name, 0, "file of %d bytes is shorter than the 8-byte PReg header", len(data))
	}
	p := &Pol{Name: name, Header: PolHeader{Signature: binary.LittleEndian.Uint32(data), Version: binary.LittleEndian.Uint32(data[4:])}}
	if string(data[:4]) != PolSignature {
		return nil, offErr(name, 0, "signature %q, want %q", data[:4], PolSignature)
	}
	if p.Header.Version != PolVersion {
		return nil, offErr(name, 4, "version %d, want %d", p.Header.Version, PolVersion)
	}
	off := 8
	for off < len(data) {
		if len(p.Records) >= MaxPolRecords {
			return p, offErr(name, off, "more than %d records", MaxPolRecords)
		}
		rec, next, err := parseRecord(name, data, off)
		if err != nil {
			return p, err
		}
		p.Records = append(p.Records, rec)
		off = next
	}
	return p, nil
}

// parseRecord reads one record starting at off.
func parseRecord(name string, data []byte, off int) (PolRecord, int, error) {
	rec := PolRecord{Offset: int64(off)}
	pos := off
	expect := func(ch byte, what string) error {
		if pos+2 > len(data) {
			return offErr(name, pos, "record at 0x%x truncated: want '%c' %s", off, ch, what)
		}
		if data[pos] != ch || data[pos+1] != 0 {
			return offErr(name, pos, "record at 0x%x: want '%c' %s, found 0x%02x%02x", off, ch, what, data[pos+1], data[pos])
		}
		pos += 2
		return nil
	}
	str := func(what string, max int) (string, error) {
		start := pos
		for units := 0; ; units++ {
			if pos+2 > len(data) {
				return "", offErr(name, start, "record at 0x%x truncated in the %s", off, what)
			}
			c := uint16(data[pos]) | uint16(data[pos+1])<<8
			if c == 0 {
				s := utf16Decode(data[start:pos])
				pos += 2
				return s, nil
			}
			if units >= max {
				return "", offErr(name, start, "record at 0x%x: %s longer than %d characters (or not NUL-terminated)", off, what, max)
			}
			pos += 2
		}
	}
	dword := func(what string) (uint32, error) {
		if pos+4 > len(data) {
			return 0, offErr(name, pos, "record at 0x%x truncated in the %s", off, what)
		}
		v := binary.LittleEndian.Uint32(data[pos:])
		pos += 4
		return v, nil
	}
	var err error
	if err = expect('[', "opening the record"); err != nil {
		return rec, 0, err
	}
	if rec.Key, err = str("key name", MaxKeyLength); err != nil {
		return rec, 0, err
	}
	if rec.Key == "" {
		return rec, 0, offErr(name, off, "record at 0x%x has an empty key name", off)
	}
	if err = expect(';', "after the key name"); err != nil {
		return rec, 0, err
	}
	if rec.ValueName, err = str("value name", MaxValueNameLength); err != nil {
		return rec, 0, err
	}
	if err = expect(';', "after the value name"); err != nil {
		return rec, 0, err
	}
	t, err := dword("type")
	if err != nil {
		return rec, 0, err
	}
	rec.Type = hive.ValueType(t)
	if err = expect(';', "after the type"); err != nil {
		return rec, 0, err
	}
	if rec.Size, err = dword("size"); err != nil {
		return rec, 0, err
	}
	if err = expect(';', "after the size"); err != nil {
		return rec, 0, err
	}
	if uint64(rec.Size) > uint64(len(data)-pos) {
		return rec, 0, offErr(name, pos, "record at 0x%x declares %d bytes of data, only %d remain", off, rec.Size, len(data)-pos)
	}
	rec.Data = data[pos : pos+int(rec.Size)]
	pos += int(rec.Size)
	if err = expect(']', "closing the record"); err != nil {
		return rec, 0, err
	}
	return rec, pos, nil
}

func utf16Decode(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// EncodePol returns the bytes of a Registry.pol file holding recs, laid out
// as Windows writes them (header, then each record with NUL-terminated
// UTF-16LE names). Size is taken from len(Data). It is meant for tests and
// fixture generators.
func EncodePol(recs []PolRecord) []byte {
	out := []byte(PolSignature)
	out = binary.LittleEndian.AppendUint32(out, PolVersion)
	ch := func(c byte) { out = append(out, c, 0) }
	for _, r := range recs {
		ch('[')
		out = append(out, encodeUTF16LE(r.Key)...)
		out = append(out, 0, 0)
		ch(';')
		out = append(out, encodeUTF16LE(r.ValueName)...)
		out = append(out, 0, 0)
		ch(';')
		out = binary.LittleEndian.AppendUint32(out, uint32(r.Type))
		ch(';')
		out = binary.LittleEndian.AppendUint32(out, uint32(len(r.Data)))
		ch(';')
		out = append(out, r.Data...)
		ch(']')
	}
	return out
}

// StringData returns s as REG_SZ / REG_EXPAND_SZ data: UTF-16LE with a NUL
// terminator.
func StringData(s string) []byte {
	return append(encodeUTF16LE(s), 0, 0)
}
