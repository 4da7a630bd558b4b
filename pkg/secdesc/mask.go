package secdesc

import (
	"fmt"
	"math/bits"
	"strings"
)

// AccessMask is an ACE's ACCESS_MASK. Its names are those of registry keys.
type AccessMask uint32

// Registry key rights, standard rights and generic rights (winnt.h).
const (
	KeyQueryValue        AccessMask = 0x00000001 // KEY_QUERY_VALUE
	KeySetValue          AccessMask = 0x00000002 // KEY_SET_VALUE
	KeyCreateSubKey      AccessMask = 0x00000004 // KEY_CREATE_SUB_KEY
	KeyEnumerateSubKeys  AccessMask = 0x00000008 // KEY_ENUMERATE_SUB_KEYS
	KeyNotify            AccessMask = 0x00000010 // KEY_NOTIFY
	KeyCreateLink        AccessMask = 0x00000020 // KEY_CREATE_LINK
	KeyWow6464Key        AccessMask = 0x00000100 // KEY_WOW64_64KEY (a request flag, never a stored right)
	KeyWow6432Key        AccessMask = 0x00000200 // KEY_WOW64_32KEY (a request flag, never a stored right)
	Delete               AccessMask = 0x00010000 // DELETE
	ReadControl          AccessMask = 0x00020000 // READ_CONTROL
	WriteDAC             AccessMask = 0x00040000 // WRITE_DAC
	WriteOwner           AccessMask = 0x00080000 // WRITE_OWNER
	Synchronize          AccessMask = 0x00100000 // SYNCHRONIZE
	AccessSystemSecurity AccessMask = 0x01000000 // ACCESS_SYSTEM_SECURITY
	MaximumAllowed       AccessMask = 0x02000000 // MAXIMUM_ALLOWED
	GenericAll           AccessMask = 0x10000000 // GENERIC_ALL
	GenericExecute       AccessMask = 0x20000000 // GENERIC_EXECUTE
	GenericWrite         AccessMask = 0x40000000 // GENERIC_WRITE
	GenericRead          AccessMask = 0x80000000 // GENERIC_READ

	// KeyRead is KEY_READ: READ_CONTROL | KEY_QUERY_VALUE |
	// KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY. KEY_EXECUTE has the same value.
	KeyRead AccessMask = 0x00020019
	// KeyExecute is KEY_EXECUTE, equal to KEY_READ.
	KeyExecute AccessMask = 0x00020019
	// KeyWrite is KEY_WRITE: READ_CONTROL | KEY_SET_VALUE |
	// KEY_CREATE_SUB_KEY.
	KeyWrite AccessMask = 0x00020006
	// KeyAllAccess is KEY_ALL_ACCESS: every key right and the four standard
	// rights DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER.
	KeyAllAccess AccessMask = 0x000F003F

	// WriteRights are the rights that let a holder change what the key
	// holds or who may change it: KEY_SET_VALUE, WRITE_DAC, WRITE_OWNER.
	WriteRights = KeySetValue | WriteDAC | WriteOwner
	// LesserWriteRights change the key's shape but not its values:
	// DELETE and KEY_CREATE_SUB_KEY.
	LesserWriteRights = Delete | KeyCreateSubKey

	genericBits  = GenericAll | GenericExecute | GenericWrite | GenericRead
	grantableKey = KeyAllAccess | Synchronize
)

var maskBitNames = [32]string{
	0: "KEY_QUERY_VALUE", 1: "KEY_SET_VALUE", 2: "KEY_CREATE_SUB_KEY", 3: "KEY_ENUMERATE_SUB_KEYS",
	4: "KEY_NOTIFY", 5: "KEY_CREATE_LINK", 8: "KEY_WOW64_64KEY", 9: "KEY_WOW64_32KEY",
	16: "DELETE", 17: "READ_CONTROL", 18: "WRITE_DAC", 19: "WRITE_OWNER", 20: "SYNCHRONIZE",
	24: "ACCESS_SYSTEM_SECURITY", 25: "MAXIMUM_ALLOWED",
	28: "GENERIC_ALL", 29: "GENERIC_EXECUTE", 30: "GENERIC_WRITE", 31: "GENERIC_READ",
}

// Names returns the name of every bit set in m, lowest bit first, as
// registry-key rights; bits without a name appear as 8-digit hex
// ("0x00000400"). Composite names are not used here (see Composite), so a
// rule looking for KEY_SET_VALUE finds it in a KEY_ALL_ACCESS mask.
func (m AccessMask) Names() []string {
	out := make([]string, 0, bits.OnesCount32(uint32(m)))
	for i := 0; i < 32; i++ {
		if m&(1<<i) == 0 {
			continue
		}
		if n := maskBitNames[i]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("0x%08x", uint32(1)<<i))
		}
	}
	return out
}

// Composite returns the name of the composite right m equals exactly
// (KEY_ALL_ACCESS, KEY_READ, KEY_WRITE), or "".
func (m AccessMask) Composite() string {
	switch m {
	case KeyAllAccess:
		return "KEY_ALL_ACCESS"
	case KeyRead:
		return "KEY_READ"
	case KeyWrite:
		return "KEY_WRITE"
	}
	return ""
}

// String renders m for people: the composite name when there is one, else
// the bit names joined with "|", followed by the hex value.
func (m AccessMask) String() string {
	if c := m.Composite(); c != "" {
		return fmt.Sprintf("%s (0x%08x)", c, uint32(m))
	}
	if m == 0 {
		return "0x00000000"
	}
	return fmt.Sprintf("%s (0x%08x)", strings.Join(m.Names(), "|"), uint32(m))
}

// Hex returns m as "0x" and 8 lowercase hex digits.
func (m AccessMask) Hex() string { return fmt.Sprintf("0x%08x", uint32(m)) }

// MapGeneric maps the GENERIC_* bits of m to registry-key rights as the
// key object type's generic mapping does (GENERIC_READ and GENERIC_EXECUTE
// to KEY_READ, GENERIC_WRITE to KEY_WRITE, GENERIC_ALL to KEY_ALL_ACCESS)
// and returns the result without the generic bits.
func (m AccessMask) MapGeneric() AccessMask {
	out := m &^ genericBits
	if m&GenericRead != 0 {
		out |= KeyRead
	}
	if m&GenericWrite != 0 {
		out |= KeyWrite
	}
	if m&GenericExecute != 0 {
		out |= KeyExecute
	}
	if m&GenericAll != 0 {
		out |= KeyAllAccess
	}
	return out
}

// sddlRightsExact are the SDDL rights strings matched against a whole
// mask first, in the order Windows tries them.
var sddlRightsExact = []struct {
	s string
	m AccessMask
}{
	{"GA", GenericAll}, {"GR", GenericRead}, {"GW", GenericWrite}, {"GX", GenericExecute},
	{"RC", ReadControl}, {"SD", Delete}, {"WD", WriteDAC}, {"WO", WriteOwner},
	{"RP", 0x10}, {"WP", 0x20}, {"CC", 0x1}, {"DC", 0x2}, {"LC", 0x4}, {"SW", 0x8},
	{"LO", 0x80}, {"DT", 0x40}, {"CR", 0x100},
	{"FA", 0x001F01FF}, {"FR", 0x00120089}, {"FW", 0x00120116}, {"FX", 0x001200A0},
	{"KA", KeyAllAccess}, {"KR", KeyRead}, {"KW", KeyWrite}, {"KX", KeyExecute},
}

// sddlRightBits are the per-bit SDDL strings Windows composes a mask from
// when no single string matches, lowest bit first.
var sddlRightBits = [32]string{
	0: "CC", 1: "DC", 2: "LC", 3: "SW", 4: "RP", 5: "WP", 6: "DT", 7: "LO", 8: "CR",
	16: "SD", 17: "RC", 18: "WD", 19: "WO",
	28: "GA", 29: "GX", 30: "GW", 31: "GR",
}

// SDDL renders m as Windows' ConvertSecurityDescriptorToStringSecurityDescriptor
// does: a whole-mask string when one matches (KA, KR, KW, FA, GA, ...),
// else the per-bit strings from the lowest bit, else, when any set bit has
// no string (SYNCHRONIZE, MAXIMUM_ALLOWED, ACCESS_SYSTEM_SECURITY, ...), the
// whole mask as lowercase hex without padding ("0x1200a9").
func (m AccessMask) SDDL() string {
	if m == 0 {
		return ""
	}
	for _, r := range sddlRightsExact {
		if m == r.m {
			return r.s
		}
	}
	var b strings.Builder
	for i := 0; i < 32; i++ {
		if m&(1<<i) == 0 {
			continue
		}
		if sddlRightBits[i] == "" {
			return fmt.Sprintf("0x%x", uint32(m))
		}
		b.WriteString(sddlRightBits[i])
	}
	return b.String()
}

// Mandatory label policy bits, held in the access mask of a mandatory label
// ACE (SYSTEM_MANDATORY_LABEL_NO_*_UP).
const (
	LabelNoWriteUp   AccessMask = 0x1
	LabelNoReadUp    AccessMask = 0x2
	LabelNoExecuteUp AccessMask = 0x4
)

// labelSDDL renders a mandatory label policy mask (NW, NR, NX).
func labelSDDL(m AccessMask) string {
	if m == 0 {
		return ""
	}
	if m&^7 != 0 {
		return fmt.Sprintf("0x%x", uint32(m))
	}
	var b strings.Builder
	for i, s := range []string{"NW", "NR", "NX"} {
		if m&(1<<i) != 0 {
			b.WriteString(s)
		}
	}
	return b.String()
}

// LabelPolicyNames names the bits of a mandatory label policy mask.
func LabelPolicyNames(m AccessMask) []string {
	var out []string
	for i, s := range []string{"NO_WRITE_UP", "NO_READ_UP", "NO_EXECUTE_UP"} {
		if m&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	for i := 3; i < 32; i++ {
		if m&(1<<i) != 0 {
			out = append(out, fmt.Sprintf("0x%08x", uint32(1)<<i))
		}
	}
	return out
}
