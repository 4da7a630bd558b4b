package secdesc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// HeaderSize is the size of a self-relative SECURITY_DESCRIPTOR header.
const HeaderSize = 20

// ACLHeaderSize is the size of an ACL header.
const ACLHeaderSize = 8

// MaxDescriptorSize bounds the descriptors Parse accepts. A registry sk
// cell's descriptor cannot exceed a hive bin; 1 MiB leaves ample room while
// keeping hostile input cheap.
const MaxDescriptorSize = 1 << 20

// FormatError reports a malformed descriptor. Offset is relative to the
// start of the descriptor bytes given to Parse; callers that know the file
// and key add them when wrapping.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("security descriptor: at offset 0x%x: %s", e.Offset, e.Msg)
}

func errAt(off int, format string, a ...any) error {
	return &FormatError{Offset: int64(off), Msg: fmt.Sprintf(format, a...)}
}

// wrapAt rebases a FormatError from a nested parser (offset relative to
// off) and prefixes its message.
func wrapAt(off int, err error, format string, a ...any) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return &FormatError{Offset: int64(off) + fe.Offset, Msg: fmt.Sprintf(format, a...) + ": " + fe.Msg}
	}
	return errAt(off, "%s: %v", fmt.Sprintf(format, a...), err)
}

// Control is the descriptor's SECURITY_DESCRIPTOR_CONTROL.
type Control uint16

// Control bits (winnt.h / ntifs.h).
const (
	SEOwnerDefaulted     Control = 0x0001
	SEGroupDefaulted     Control = 0x0002
	SEDACLPresent        Control = 0x0004
	SEDACLDefaulted      Control = 0x0008
	SESACLPresent        Control = 0x0010
	SESACLDefaulted      Control = 0x0020
	SEDACLUntrusted      Control = 0x0040
	SEServerSecurity     Control = 0x0080
	SEDACLAutoInheritReq Control = 0x0100
	SESACLAutoInheritReq Control = 0x0200
	SEDACLAutoInherited  Control = 0x0400
	SESACLAutoInherited  Control = 0x0800
	SEDACLProtected      Control = 0x1000
	SESACLProtected      Control = 0x2000
	SERMControlValid     Control = 0x4000
	SESelfRelative       Control = 0x8000
)

var controlNames = [16]string{
	"SE_OWNER_DEFAULTED", "SE_GROUP_DEFAULTED", "SE_DACL_PRESENT", "SE_DACL_DEFAULTED",
	"SE_SACL_PRESENT", "SE_SACL_DEFAULTED", "SE_DACL_UNTRUSTED", "SE_SERVER_SECURITY",
	"SE_DACL_AUTO_INHERIT_REQ", "SE_SACL_AUTO_INHERIT_REQ", "SE_DACL_AUTO_INHERITED", "SE_SACL_AUTO_INHERITED",
	"SE_DACL_PROTECTED", "SE_SACL_PROTECTED", "SE_RM_CONTROL_VALID", "SE_SELF_RELATIVE",
}

// Names returns the names of the bits set, lowest first.
func (c Control) Names() []string {
	out := []string{}
	for i := 0; i < 16; i++ {
		if c&(1<<i) != 0 {
			out = append(out, controlNames[i])
		}
	}
	return out
}

// String joins the names with "|".
func (c Control) String() string { return strings.Join(c.Names(), "|") }

// ACL is a discretionary or system access control list.
type ACL struct {
	// Offset is the ACL's offset in the descriptor.
	Offset   int
	Revision uint8
	// Size is the AclSize field.
	Size uint16
	// Count is the AceCount field; len(ACEs) equals it.
	Count uint16
	ACEs  []ACE
}

// SecurityDescriptor is a decoded self-relative SECURITY_DESCRIPTOR. Field
// names follow the structure's.
type SecurityDescriptor struct {
	Revision uint8
	Sbz1     uint8
	Control  Control
	// The header's offsets, as stored (0 = absent).
	OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl uint32
	// Owner and Group are nil when the descriptor has none.
	Owner, Group *SID
	// DACL is nil when the descriptor has no DACL or a NULL DACL (see
	// NullDACL); an empty ACL (no ACEs) is a non-nil DACL with no ACEs.
	DACL *ACL
	// SACL is nil when absent.
	SACL *ACL
	// Size is the number of descriptor bytes parsed (the end of its last
	// part).
	Size int
}

// DACLPresent reports whether SE_DACL_PRESENT is set.
func (sd *SecurityDescriptor) DACLPresent() bool { return sd.Control&SEDACLPresent != 0 }

// NullDACL reports whether the descriptor grants everyone full access for
// lack of a DACL: SE_DACL_PRESENT with no ACL (a NULL DACL), or no DACL at
// all. An empty DACL is the opposite: it grants nobody anything.
func (sd *SecurityDescriptor) NullDACL() bool { return sd.DACL == nil }

// EmptyDACL reports whether the DACL is present and has no ACEs: nobody
// but the owner (through its implicit READ_CONTROL and WRITE_DAC) has any
// access.
func (sd *SecurityDescriptor) EmptyDACL() bool { return sd.DACL != nil && len(sd.DACL.ACEs) == 0 }

// Parse decodes a self-relative security descriptor (as held by a registry
// sk cell). Every offset and length is checked against b; a malformed
// descriptor gives a *FormatError naming the offset. ACE types whose layout
// is unknown are kept raw (ACE.Raw), never rejected.
func Parse(b []byte) (*SecurityDescriptor, error) {
	if len(b) > MaxDescriptorSize {
		return nil, errAt(0, "descriptor of %d bytes exceeds the %d-byte limit", len(b), MaxDescriptorSize)
	}
	if len(b) < HeaderSize {
		return nil, errAt(0, "descriptor of %d bytes is shorter than its %d-byte header", len(b), HeaderSize)
	}
	sd := &SecurityDescriptor{
		Revision:    b[0],
		Sbz1:        b[1],
		Control:     Control(binary.LittleEndian.Uint16(b[2:])),
		OffsetOwner: binary.LittleEndian.Uint32(b[4:]),
		OffsetGroup: binary.LittleEndian.Uint32(b[8:]),
		OffsetSacl:  binary.LittleEndian.Uint32(b[12:]),
		OffsetDacl:  binary.LittleEndian.Uint32(b[16:]),
		Size:        HeaderSize,
	}
	if sd.Revision != 1 {
		return nil, errAt(0, "revision %d, want 1", sd.Revision)
	}
	if sd.Control&SESelfRelative == 0 {
		return nil, errAt(2, "control 0x%04x lacks SE_SELF_RELATIVE: an absolute descriptor holds pointers, not offsets", uint16(sd.Control))
	}
	var err error
	if sd.Owner, err = parseSIDAt(b, sd.OffsetOwner, 4, "owner", sd); err != nil {
		return nil, err
	}
	if sd.Group, err = parseSIDAt(b, sd.OffsetGroup, 8, "group", sd); err != nil {
		return nil, err
	}
	if sd.Control&SESACLPresent != 0 && sd.OffsetSacl != 0 {
		if sd.SACL, err = parseACL(b, sd.OffsetSacl, 12, "SACL", sd); err != nil {
			return nil, err
		}
	}
	if sd.Control&SEDACLPresent != 0 && sd.OffsetDacl != 0 {
		if sd.DACL, err = parseACL(b, sd.OffsetDacl, 16, "DACL", sd); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

func checkOffset(b []byte, off uint32, field int, what string) error {
	if off < HeaderSize {
		return errAt(field, "%s offset 0x%x points into the header", what, off)
	}
	if uint64(off) >= uint64(len(b)) {
		return errAt(field, "%s offset 0x%x is beyond the %d-byte descriptor", what, off, len(b))
	}
	return nil
}

func parseSIDAt(b []byte, off uint32, field int, what string, sd *SecurityDescriptor) (*SID, error) {
	if off == 0 {
		return nil, nil
	}
	if err := checkOffset(b, off, field, what); err != nil {
		return nil, err
	}
	s, n, err := ParseSID(b[off:])
	if err != nil {
		return nil, wrapAt(int(off), err, "%s SID", what)
	}
	sd.Size = max(sd.Size, int(off)+n)
	return &s, nil
}

func parseACL(b []byte, off uint32, field int, what string, sd *SecurityDescriptor) (*ACL, error) {
	if err := checkOffset(b, off, field, what); err != nil {
		return nil, err
	}
	o := int(off)
	if len(b)-o < ACLHeaderSize {
		return nil, errAt(o, "%s header needs %d bytes, %d remain", what, ACLHeaderSize, len(b)-o)
	}
	acl := &ACL{
		Offset:   o,
		Revision: b[o],
		Size:     binary.LittleEndian.Uint16(b[o+2:]),
		Count:    binary.LittleEndian.Uint16(b[o+4:]),
	}
	if int(acl.Size) < ACLHeaderSize {
		return nil, errAt(o+2, "%s size %d is smaller than its header", what, acl.Size)
	}
	if int(acl.Size) > len(b)-o {
		return nil, errAt(o+2, "%s size %d runs past the descriptor's end (%d bytes remain)", what, acl.Size, len(b)-o)
	}
	end := o + int(acl.Size)
	// Each ACE needs at least its 4-byte header, which bounds the count
	// before anything is allocated.
	if maxACEs := (int(acl.Size) - ACLHeaderSize) / 4; int(acl.Count) > maxACEs {
		return nil, errAt(o+4, "%s claims %d ACEs but its %d bytes hold at most %d", what, acl.Count, acl.Size, maxACEs)
	}
	acl.ACEs = make([]ACE, 0, acl.Count)
	p := o + ACLHeaderSize
	for i := 0; i < int(acl.Count); i++ {
		if end-p < 4 {
			return nil, errAt(p, "%s ACE %d: header runs past the ACL's end", what, i)
		}
		size := int(binary.LittleEndian.Uint16(b[p+2:]))
		if size < 4 {
			return nil, errAt(p+2, "%s ACE %d: size %d is smaller than its header", what, i, size)
		}
		if size > end-p {
			return nil, errAt(p+2, "%s ACE %d: size %d runs past the ACL's end (%d bytes remain)", what, i, size, end-p)
		}
		ace, err := parseACE(b[p:p+size], p)
		if err != nil {
			return nil, wrapAt(0, err, "%s ACE %d", what, i)
		}
		acl.ACEs = append(acl.ACEs, ace)
		p += size
	}
	sd.Size = max(sd.Size, end)
	return acl, nil
}

// SDDL renders the descriptor in Security Descriptor Definition Language as
// Windows' ConvertSecurityDescriptorToStringSecurityDescriptor does with all
// four parts requested: O:owner G:group D:flags(aces) S:flags(aces), SIDs as
// two-letter aliases where Windows uses them, a NULL DACL or SACL as
// NO_ACCESS_CONTROL.
func (sd *SecurityDescriptor) SDDL() string {
	var b strings.Builder
	if sd.Owner != nil {
		b.WriteString("O:")
		b.WriteString(sd.Owner.SDDL())
	}
	if sd.Group != nil {
		b.WriteString("G:")
		b.WriteString(sd.Group.SDDL())
	}
	if sd.Control&SEDACLPresent != 0 {
		b.WriteString("D:")
		writeACLSDDL(&b, sd.DACL, sd.Control&SEDACLProtected != 0, sd.Control&SEDACLAutoInheritReq != 0, sd.Control&SEDACLAutoInherited != 0)
	}
	if sd.Control&SESACLPresent != 0 {
		b.WriteString("S:")
		writeACLSDDL(&b, sd.SACL, sd.Control&SESACLProtected != 0, sd.Control&SESACLAutoInheritReq != 0, sd.Control&SESACLAutoInherited != 0)
	}
	return b.String()
}

func writeACLSDDL(b *strings.Builder, acl *ACL, protected, autoInheritReq, autoInherited bool) {
	if protected {
		b.WriteString("P")
	}
	if autoInheritReq {
		b.WriteString("AR")
	}
	if autoInherited {
		b.WriteString("AI")
	}
	if acl == nil {
		b.WriteString("NO_ACCESS_CONTROL")
		return
	}
	for i := range acl.ACEs {
		b.WriteString(acl.ACEs[i].SDDL())
	}
}

// MandatoryLabel returns the descriptor's integrity label: the first
// mandatory label ACE of the SACL that applies to the object itself (not
// INHERIT_ONLY), or nil when there is none (Windows then treats the object
// as Medium with NO_WRITE_UP).
func (sd *SecurityDescriptor) MandatoryLabel() *ACE {
	if sd.SACL == nil {
		return nil
	}
	for i := range sd.SACL.ACEs {
		a := &sd.SACL.ACEs[i]
		if a.Type == SystemMandatoryLabel && a.Known() && !a.IsInheritOnly() {
			return a
		}
	}
	return nil
}
