package secdesc

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// ACEType is an ACE_HEADER's AceType.
type ACEType uint8

// ACE types (winnt.h).
const (
	AccessAllowed               ACEType = 0x00
	AccessDenied                ACEType = 0x01
	SystemAudit                 ACEType = 0x02
	SystemAlarm                 ACEType = 0x03
	AccessAllowedCompound       ACEType = 0x04
	AccessAllowedObject         ACEType = 0x05
	AccessDeniedObject          ACEType = 0x06
	SystemAuditObject           ACEType = 0x07
	SystemAlarmObject           ACEType = 0x08
	AccessAllowedCallback       ACEType = 0x09
	AccessDeniedCallback        ACEType = 0x0A
	AccessAllowedCallbackObject ACEType = 0x0B
	AccessDeniedCallbackObject  ACEType = 0x0C
	SystemAuditCallback         ACEType = 0x0D
	SystemAlarmCallback         ACEType = 0x0E
	SystemAuditCallbackObject   ACEType = 0x0F
	SystemAlarmCallbackObject   ACEType = 0x10
	SystemMandatoryLabel        ACEType = 0x11
	SystemResourceAttribute     ACEType = 0x12
	SystemScopedPolicyID        ACEType = 0x13
	SystemProcessTrustLabel     ACEType = 0x14
	SystemAccessFilter          ACEType = 0x15
)

var aceTypeNames = map[ACEType]struct{ name, sddl string }{
	AccessAllowed:               {"ACCESS_ALLOWED", "A"},
	AccessDenied:                {"ACCESS_DENIED", "D"},
	SystemAudit:                 {"SYSTEM_AUDIT", "AU"},
	SystemAlarm:                 {"SYSTEM_ALARM", "AL"},
	AccessAllowedCompound:       {"ACCESS_ALLOWED_COMPOUND", ""},
	AccessAllowedObject:         {"ACCESS_ALLOWED_OBJECT", "OA"},
	AccessDeniedObject:          {"ACCESS_DENIED_OBJECT", "OD"},
	SystemAuditObject:           {"SYSTEM_AUDIT_OBJECT", "OU"},
	SystemAlarmObject:           {"SYSTEM_ALARM_OBJECT", "OL"},
	AccessAllowedCallback:       {"ACCESS_ALLOWED_CALLBACK", "XA"},
	AccessDeniedCallback:        {"ACCESS_DENIED_CALLBACK", "XD"},
	AccessAllowedCallbackObject: {"ACCESS_ALLOWED_CALLBACK_OBJECT", "ZA"},
	AccessDeniedCallbackObject:  {"ACCESS_DENIED_CALLBACK_OBJECT", ""},
	SystemAuditCallback:         {"SYSTEM_AUDIT_CALLBACK", "XU"},
	SystemAlarmCallback:         {"SYSTEM_ALARM_CALLBACK", ""},
	SystemAuditCallbackObject:   {"SYSTEM_AUDIT_CALLBACK_OBJECT", ""},
	SystemAlarmCallbackObject:   {"SYSTEM_ALARM_CALLBACK_OBJECT", ""},
	SystemMandatoryLabel:        {"SYSTEM_MANDATORY_LABEL", "ML"},
	SystemResourceAttribute:     {"SYSTEM_RESOURCE_ATTRIBUTE", "RA"},
	SystemScopedPolicyID:        {"SYSTEM_SCOPED_POLICY_ID", "SP"},
	SystemProcessTrustLabel:     {"SYSTEM_PROCESS_TRUST_LABEL", "TL"},
	SystemAccessFilter:          {"SYSTEM_ACCESS_FILTER", "FL"},
}

// String returns the winnt.h name without the _ACE_TYPE suffix
// ("ACCESS_ALLOWED", "SYSTEM_MANDATORY_LABEL"), or "ACE_TYPE_0xNN".
func (t ACEType) String() string {
	if n, ok := aceTypeNames[t]; ok {
		return n.name
	}
	return fmt.Sprintf("ACE_TYPE_0x%02x", uint8(t))
}

// SDDL returns the SDDL ace_type string ("A", "D", "ML", ...). Types that
// SDDL cannot express are written as "0x" and two hex digits, an envhunt
// extension so that nothing is hidden.
func (t ACEType) SDDL() string {
	if n, ok := aceTypeNames[t]; ok && n.sddl != "" {
		return n.sddl
	}
	return fmt.Sprintf("0x%02x", uint8(t))
}

// IsAllow reports whether t grants access (plain, object or callback
// allow).
func (t ACEType) IsAllow() bool {
	return t == AccessAllowed || t == AccessAllowedObject || t == AccessAllowedCallback || t == AccessAllowedCallbackObject
}

// IsDeny reports whether t denies access (plain, object or callback deny).
func (t ACEType) IsDeny() bool {
	return t == AccessDenied || t == AccessDeniedObject || t == AccessDeniedCallback || t == AccessDeniedCallbackObject
}

// isObject reports whether t has the object ACE layout (Flags and optional
// GUIDs before the SID).
func (t ACEType) isObject() bool {
	switch t {
	case AccessAllowedObject, AccessDeniedObject, SystemAuditObject, SystemAlarmObject,
		AccessAllowedCallbackObject, AccessDeniedCallbackObject, SystemAuditCallbackObject, SystemAlarmCallbackObject:
		return true
	}
	return false
}

// hasMaskAndSID reports whether t has the basic layout Mask then SID
// (optionally followed by application data).
func (t ACEType) hasMaskAndSID() bool {
	switch t {
	case AccessAllowed, AccessDenied, SystemAudit, SystemAlarm,
		AccessAllowedCallback, AccessDeniedCallback, SystemAuditCallback, SystemAlarmCallback,
		SystemMandatoryLabel, SystemResourceAttribute, SystemScopedPolicyID, SystemProcessTrustLabel, SystemAccessFilter:
		return true
	}
	return false
}

// ACEFlags is an ACE_HEADER's AceFlags.
type ACEFlags uint8

// ACE flags (winnt.h).
const (
	ObjectInherit      ACEFlags = 0x01 // OBJECT_INHERIT_ACE
	ContainerInherit   ACEFlags = 0x02 // CONTAINER_INHERIT_ACE
	NoPropagateInherit ACEFlags = 0x04 // NO_PROPAGATE_INHERIT_ACE
	InheritOnly        ACEFlags = 0x08 // INHERIT_ONLY_ACE
	Inherited          ACEFlags = 0x10 // INHERITED_ACE
	Critical           ACEFlags = 0x20 // CRITICAL_ACE_FLAG
	SuccessfulAccess   ACEFlags = 0x40 // SUCCESSFUL_ACCESS_ACE_FLAG (also TRUST_PROTECTED_FILTER_ACE_FLAG on access filter ACEs)
	FailedAccess       ACEFlags = 0x80 // FAILED_ACCESS_ACE_FLAG
)

var aceFlagNames = [8]struct{ name, sddl string }{
	{"OBJECT_INHERIT", "OI"}, {"CONTAINER_INHERIT", "CI"}, {"NO_PROPAGATE_INHERIT", "NP"},
	{"INHERIT_ONLY", "IO"}, {"INHERITED", "ID"}, {"CRITICAL", ""},
	{"SUCCESSFUL_ACCESS", "SA"}, {"FAILED_ACCESS", "FA"},
}

// Names returns the names of the flags set, lowest bit first
// ("OBJECT_INHERIT", "CONTAINER_INHERIT", "INHERITED", ...).
func (f ACEFlags) Names() []string {
	out := []string{}
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			out = append(out, aceFlagNames[i].name)
		}
	}
	return out
}

// String joins the flag names with "|" ("" for none).
func (f ACEFlags) String() string { return strings.Join(f.Names(), "|") }

// SDDL returns the flags in SDDL order: OI CI NP IO ID SA FA.
func (f ACEFlags) SDDL() string {
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			b.WriteString(aceFlagNames[i].sddl)
		}
	}
	return b.String()
}

// Object ACE flags: which GUIDs an object ACE carries.
const (
	ACEObjectTypePresent          uint32 = 0x1 // ACE_OBJECT_TYPE_PRESENT
	ACEInheritedObjectTypePresent uint32 = 0x2 // ACE_INHERITED_OBJECT_TYPE_PRESENT
)

// GUID is a Windows GUID in its on-disk (mixed-endian) layout.
type GUID [16]byte

// String returns the GUID in the lowercase form SDDL uses, without braces.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(g[0:4]), binary.LittleEndian.Uint16(g[4:6]),
		binary.LittleEndian.Uint16(g[6:8]), g[8:10], g[10:16])
}

// ACE is one access control entry.
type ACE struct {
	// Offset is the ACE's offset from the start of the security descriptor.
	Offset int
	Type   ACEType
	Flags  ACEFlags
	// Size is the AceSize field: the ACE's length in bytes, header included.
	Size uint16
	// Mask is the access mask (for a mandatory label ACE, the policy bits
	// NO_WRITE_UP, NO_READ_UP, NO_EXECUTE_UP).
	Mask AccessMask
	// SID is the trustee. Zero for types whose layout is unknown.
	SID SID
	// ObjectFlags, ObjectType and InheritedObjectType are the object ACE
	// fields; the GUIDs are nil when absent.
	ObjectFlags         uint32
	ObjectType          *GUID
	InheritedObjectType *GUID
	// ApplicationData holds the bytes after the SID: a callback ACE's
	// condition or a resource attribute, undecoded. Nil when there are none.
	ApplicationData []byte
	// Raw holds the bytes after the 4-byte header for ACE types whose
	// layout is not known (compound ACEs, future types), so nothing is lost.
	Raw []byte
}

// Known reports whether the ACE's layout was decoded (Mask and SID are
// meaningful).
func (a *ACE) Known() bool { return a.Raw == nil }

// IsInherited reports whether the ACE carries INHERITED_ACE.
func (a *ACE) IsInherited() bool { return a.Flags&Inherited != 0 }

// IsInheritOnly reports whether the ACE carries INHERIT_ONLY_ACE: it
// shapes children created later and grants nothing on the object itself.
func (a *ACE) IsInheritOnly() bool { return a.Flags&InheritOnly != 0 }

// Inheritable reports whether a child key would inherit the ACE
// (CONTAINER_INHERIT or OBJECT_INHERIT).
func (a *ACE) Inheritable() bool { return a.Flags&(ContainerInherit|ObjectInherit) != 0 }

// SDDL renders the ACE as an SDDL ace string:
// (type;flags;rights;object_guid;inherit_object_guid;sid). Conditional
// expressions of callback ACEs and resource attributes are not rendered.
func (a *ACE) SDDL() string {
	var b strings.Builder
	b.WriteByte('(')
	b.WriteString(a.Type.SDDL())
	b.WriteByte(';')
	b.WriteString(a.Flags.SDDL())
	b.WriteByte(';')
	if a.Type == SystemMandatoryLabel {
		b.WriteString(labelSDDL(a.Mask))
	} else {
		b.WriteString(a.Mask.SDDL())
	}
	b.WriteByte(';')
	if a.ObjectType != nil {
		b.WriteString(a.ObjectType.String())
	}
	b.WriteByte(';')
	if a.InheritedObjectType != nil {
		b.WriteString(a.InheritedObjectType.String())
	}
	b.WriteByte(';')
	if !a.SID.IsZero() {
		b.WriteString(a.SID.SDDL())
	}
	b.WriteByte(')')
	return b.String()
}

// parseACE decodes one ACE from b (exactly AceSize bytes); base is b's
// offset in the descriptor, for errors.
func parseACE(b []byte, base int) (ACE, error) {
	a := ACE{Offset: base, Type: ACEType(b[0]), Flags: ACEFlags(b[1]), Size: binary.LittleEndian.Uint16(b[2:4])}
	body := b[4:]
	switch {
	case a.Type.hasMaskAndSID():
		if len(body) < 4 {
			return a, errAt(base, "%s ACE of %d bytes has no room for its access mask", a.Type, len(b))
		}
		a.Mask = AccessMask(binary.LittleEndian.Uint32(body))
		sid, n, err := ParseSID(body[4:])
		if err != nil {
			return a, wrapAt(base+8, err, "%s ACE trustee", a.Type)
		}
		a.SID = sid
		if rest := body[4+n:]; len(rest) > 0 && a.hasAppData() {
			a.ApplicationData = append([]byte(nil), rest...)
		}
	case a.Type.isObject():
		if len(body) < 8 {
			return a, errAt(base, "%s ACE of %d bytes has no room for its mask and flags", a.Type, len(b))
		}
		a.Mask = AccessMask(binary.LittleEndian.Uint32(body))
		a.ObjectFlags = binary.LittleEndian.Uint32(body[4:])
		p := 8
		for _, f := range []struct {
			bit uint32
			dst **GUID
		}{{ACEObjectTypePresent, &a.ObjectType}, {ACEInheritedObjectTypePresent, &a.InheritedObjectType}} {
			if a.ObjectFlags&f.bit == 0 {
				continue
			}
			if len(body) < p+16 {
				return a, errAt(base+4+p, "%s ACE ends inside its object GUID", a.Type)
			}
			var g GUID
			copy(g[:], body[p:p+16])
			*f.dst = &g
			p += 16
		}
		sid, n, err := ParseSID(body[p:])
		if err != nil {
			return a, wrapAt(base+4+p, err, "%s ACE trustee", a.Type)
		}
		a.SID = sid
		if rest := body[p+n:]; len(rest) > 0 && a.hasAppData() {
			a.ApplicationData = append([]byte(nil), rest...)
		}
	default:
		a.Raw = append([]byte{}, body...)
	}
	return a, nil
}

// hasAppData reports whether bytes after the SID belong to the ACE (a
// condition or attribute) rather than being padding.
func (a *ACE) hasAppData() bool {
	switch a.Type {
	case AccessAllowedCallback, AccessDeniedCallback, SystemAuditCallback, SystemAlarmCallback,
		AccessAllowedCallbackObject, AccessDeniedCallbackObject, SystemAuditCallbackObject, SystemAlarmCallbackObject,
		SystemResourceAttribute, SystemProcessTrustLabel, SystemAccessFilter:
		return true
	}
	return false
}
