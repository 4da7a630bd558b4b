package hivetest

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Well-known SIDs used in registry security descriptors.
const (
	SIDEveryone           = "S-1-1-0"
	SIDCreatorOwner       = "S-1-3-0"
	SIDAuthenticatedUsers = "S-1-5-11"
	SIDRestricted         = "S-1-5-12"
	SIDSystem             = "S-1-5-18"
	SIDAdministrators     = "S-1-5-32-544"
	SIDUsers              = "S-1-5-32-545"
	SIDAllAppPackages     = "S-1-15-2-1"
	// SIDCapabilityLPAC is the capability SID Windows 10 and 11 grant
	// KEY_READ on per-user keys such as HKCU\Environment.
	SIDCapabilityLPAC = "S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681"
	// SIDLowIntegrity and SIDMediumIntegrity are mandatory-label SIDs.
	SIDLowIntegrity    = "S-1-16-4096"
	SIDMediumIntegrity = "S-1-16-8192"
)

// Access masks and ACE flags used on registry keys.
const (
	KeyQueryValue = 0x0001
	KeySetValue   = 0x0002
	KeyCreateSub  = 0x0004
	KeyRead       = 0x00020019
	KeyWrite      = 0x00020006
	KeyAllAccess  = 0x000F003F
	WriteDAC      = 0x00040000
	WriteOwner    = 0x00080000
	GenericAll    = 0x10000000
	GenericRead   = 0x80000000
	// NoWriteUp is the mandatory-label policy bit.
	NoWriteUp = 0x1

	ObjectInherit    = 0x01
	ContainerInherit = 0x02
	InheritOnly      = 0x08
	Inherited        = 0x10
)

// ACE types.
const (
	AccessAllowed  = 0x00
	AccessDenied   = 0x01
	MandatoryLabel = 0x11
)

// ACE is one access-control entry of a security descriptor built by SD.
type ACE struct {
	Type  uint8  // AccessAllowed, AccessDenied or MandatoryLabel
	Flags uint8  // ObjectInherit, ContainerInherit, InheritOnly, Inherited
	Mask  uint32 // access mask (or the mandatory-label policy)
	SID   string // trustee, "S-1-..."
}

// Allow is an access-allowed ACE.
func Allow(sid string, mask uint32, flags uint8) ACE {
	return ACE{Type: AccessAllowed, Flags: flags, Mask: mask, SID: sid}
}

// Deny is an access-denied ACE.
func Deny(sid string, mask uint32, flags uint8) ACE {
	return ACE{Type: AccessDenied, Flags: flags, Mask: mask, SID: sid}
}

// Label is a mandatory-label ACE (it goes to the SACL).
func Label(sid string, policy uint32, flags uint8) ACE {
	return ACE{Type: MandatoryLabel, Flags: flags, Mask: policy, SID: sid}
}

// SID encodes a SID string ("S-1-5-21-...") in its binary form.
func SID(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" || len(parts)-3 > 15 {
		return nil, fmt.Errorf("hivetest: malformed SID %q", s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("hivetest: malformed SID %q: %v", s, err)
	}
	b := make([]byte, 8, 8+4*(len(parts)-3))
	b[0], b[1] = 1, byte(len(parts)-3)
	for i := range 6 {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, p := range parts[3:] {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("hivetest: malformed SID %q: %v", s, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return b, nil
}

// SD builds a self-relative security descriptor with the given owner and
// group and a DACL holding the allow and deny ACEs in order (a SACL holds
// the mandatory-label ACEs, if any). An empty ACE list gives an empty DACL,
// which denies everything; see NullDACLSD for the opposite.
func SD(owner, group string, aces ...ACE) ([]byte, error) {
	var dacl, sacl []ACE
	for _, a := range aces {
		if a.Type == MandatoryLabel {
			sacl = append(sacl, a)
		} else {
			dacl = append(dacl, a)
		}
	}
	control := uint16(0x8004) // SE_SELF_RELATIVE | SE_DACL_PRESENT
	var body []byte
	var saclOff, daclOff uint32
	if len(sacl) > 0 {
		control |= 0x0010 // SE_SACL_PRESENT
		acl, err := encodeACL(sacl)
		if err != nil {
			return nil, err
		}
		saclOff = 20
		body = append(body, acl...)
	}
	acl, err := encodeACL(dacl)
	if err != nil {
		return nil, err
	}
	daclOff = uint32(20 + len(body))
	body = append(body, acl...)
	return assembleSD(control, owner, group, saclOff, daclOff, body)
}

// NullDACLSD builds a descriptor whose DACL is present but NULL: everyone
// has full access.
func NullDACLSD(owner, group string) ([]byte, error) {
	return assembleSD(0x8004, owner, group, 0, 0, nil)
}

func assembleSD(control uint16, owner, group string, saclOff, daclOff uint32, body []byte) ([]byte, error) {
	b := make([]byte, 20, 20+len(body)+64)
	b[0] = 1
	binary.LittleEndian.PutUint16(b[2:], control)
	b = append(b, body...)
	var ownerOff, groupOff uint32
	if owner != "" {
		sid, err := SID(owner)
		if err != nil {
			return nil, err
		}
		ownerOff = uint32(len(b))
		b = append(b, sid...)
	}
	if group != "" {
		sid, err := SID(group)
		if err != nil {
			return nil, err
		}
		groupOff = uint32(len(b))
		b = append(b, sid...)
	}
	binary.LittleEndian.PutUint32(b[4:], ownerOff)
	binary.LittleEndian.PutUint32(b[8:], groupOff)
	binary.LittleEndian.PutUint32(b[12:], saclOff)
	binary.LittleEndian.PutUint32(b[16:], daclOff)
	return b, nil
}

func encodeACL(aces []ACE) ([]byte, error) {
	b := make([]byte, 8)
	for _, a := range aces {
		sid, err := SID(a.SID)
		if err != nil {
			return nil, err
		}
		e := []byte{a.Type, a.Flags, 0, 0}
		binary.LittleEndian.PutUint16(e[2:], uint16(8+len(sid)))
		e = binary.LittleEndian.AppendUint32(e, a.Mask)
		b = append(b, append(e, sid...)...)
	}
	b[0] = 2 // ACL_REVISION
	binary.LittleEndian.PutUint16(b[2:], uint16(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(aces)))
	return b, nil
}

// MustSD is SD for descriptors written as literals in tests and fixture
// generators; it panics on a malformed SID string.
func MustSD(owner, group string, aces ...ACE) []byte {
	b, err := SD(owner, group, aces...)
	if err != nil {
		panic(err)
	}
	return b
}

// DefaultSD is the descriptor given to a root key without one: owner and
// group Administrators and SYSTEM; SYSTEM and Administrators full control,
// Users read, all inheritable.
func DefaultSD() []byte {
	return MustSD(SIDAdministrators, SIDSystem,
		Allow(SIDSystem, KeyAllAccess, ObjectInherit|ContainerInherit),
		Allow(SIDAdministrators, KeyAllAccess, ObjectInherit|ContainerInherit),
		Allow(SIDUsers, KeyRead, ObjectInherit|ContainerInherit),
	)
}

// UserKeySD is the descriptor Windows 10 and 11 give HKCU keys such as the
// root and Environment of a user's NTUSER.DAT: the user, SYSTEM and
// Administrators full control, RESTRICTED, ALL APPLICATION PACKAGES and the
// LPAC capability read, all OBJECT_INHERIT|CONTAINER_INHERIT; owner the
// user. extra ACEs are appended (a planted grant, say).
func UserKeySD(userSID string, extra ...ACE) ([]byte, error) {
	oc := uint8(ObjectInherit | ContainerInherit)
	aces := []ACE{
		Allow(userSID, KeyAllAccess, oc),
		Allow(SIDSystem, KeyAllAccess, oc),
		Allow(SIDAdministrators, KeyAllAccess, oc),
		Allow(SIDRestricted, KeyRead, oc),
		Allow(SIDAllAppPackages, KeyRead, oc),
		Allow(SIDCapabilityLPAC, KeyRead, oc),
	}
	return SD(userSID, SIDSystem, append(aces, extra...)...)
}
