package secdesc

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Marshal encodes the descriptor in self-relative form: header, SACL,
// DACL, owner, group (the order Windows writes). Offsets and sizes are
// recomputed; SE_SELF_RELATIVE is set. It is used to build test fixtures
// and remediation material, never to change evidence.
func (sd *SecurityDescriptor) Marshal() ([]byte, error) {
	rev := sd.Revision
	if rev == 0 {
		rev = 1
	}
	b := make([]byte, HeaderSize, 256)
	b[0] = rev
	b[1] = sd.Sbz1
	ctl := sd.Control | SESelfRelative
	var err error
	put := func(field int, acl *ACL, present Control) {
		if err != nil || acl == nil {
			return
		}
		ctl |= present
		binary.LittleEndian.PutUint32(b[field:], uint32(len(b)))
		b, err = appendACL(b, acl)
	}
	put(12, sd.SACL, SESACLPresent)
	put(16, sd.DACL, SEDACLPresent)
	if err != nil {
		return nil, err
	}
	if sd.Owner != nil {
		binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
		b = append(b, sd.Owner.Bytes()...)
	}
	if sd.Group != nil {
		binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
		b = append(b, sd.Group.Bytes()...)
	}
	binary.LittleEndian.PutUint16(b[2:], uint16(ctl))
	if len(b) > MaxDescriptorSize {
		return nil, fmt.Errorf("secdesc: descriptor of %d bytes is too large", len(b))
	}
	return b, nil
}

func appendACL(b []byte, acl *ACL) ([]byte, error) {
	start := len(b)
	rev := acl.Revision
	if rev == 0 {
		rev = 2
	}
	b = append(b, rev, 0, 0, 0, 0, 0, 0, 0)
	for i := range acl.ACEs {
		a := &acl.ACEs[i]
		as := len(b)
		b = append(b, byte(a.Type), byte(a.Flags), 0, 0)
		switch {
		case a.Raw != nil:
			b = append(b, a.Raw...)
		case a.Type.isObject():
			b = binary.LittleEndian.AppendUint32(b, uint32(a.Mask))
			flags := uint32(0)
			if a.ObjectType != nil {
				flags |= ACEObjectTypePresent
			}
			if a.InheritedObjectType != nil {
				flags |= ACEInheritedObjectTypePresent
			}
			b = binary.LittleEndian.AppendUint32(b, flags)
			if a.ObjectType != nil {
				b = append(b, a.ObjectType[:]...)
			}
			if a.InheritedObjectType != nil {
				b = append(b, a.InheritedObjectType[:]...)
			}
			b = append(b, a.SID.Bytes()...)
			b = append(b, a.ApplicationData...)
		default:
			b = binary.LittleEndian.AppendUint32(b, uint32(a.Mask))
			b = append(b, a.SID.Bytes()...)
			b = append(b, a.ApplicationData...)
		}
		for (len(b)-as)%4 != 0 {
			b = append(b, 0)
		}
		if len(b)-as > 0xFFFF {
			return nil, fmt.Errorf("secdesc: ACE %d is too large", i)
		}
		binary.LittleEndian.PutUint16(b[as+2:], uint16(len(b)-as))
	}
	if len(b)-start > 0xFFFF || len(acl.ACEs) > 0xFFFF {
		return nil, fmt.Errorf("secdesc: ACL is too large")
	}
	binary.LittleEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	binary.LittleEndian.PutUint16(b[start+4:], uint16(len(acl.ACEs)))
	return b, nil
}

// FromSDDL parses an SDDL string (O:, G:, D:, S: parts; ACE types A, D,
// AU, AL, ML; flags OI CI NP IO ID SA FA; rights as two-letter strings or
// 0x hex; SIDs as aliases or S-1-... strings) into a descriptor. It
// exists to build fixtures and baselines in readable form; object GUIDs,
// conditions and resource attributes are not supported.
func FromSDDL(s string) (*SecurityDescriptor, error) {
	sd := &SecurityDescriptor{Revision: 1, Control: SESelfRelative}
	rest := s
	for rest != "" {
		if len(rest) < 2 || rest[1] != ':' {
			return nil, fmt.Errorf("secdesc: SDDL %q: expected O:, G:, D: or S: at %q", s, rest)
		}
		tag := rest[0]
		rest = rest[2:]
		end := nextPart(rest)
		part := rest[:end]
		rest = rest[end:]
		switch tag {
		case 'O', 'G':
			sid, err := ParseSIDString(part)
			if err != nil {
				return nil, err
			}
			if tag == 'O' {
				sd.Owner = &sid
			} else {
				sd.Group = &sid
			}
		case 'D', 'S':
			acl, ctl, err := parseSDDLACL(part, tag == 'S')
			if err != nil {
				return nil, fmt.Errorf("secdesc: SDDL %c: part: %w", tag, err)
			}
			sd.Control |= ctl
			if tag == 'D' {
				sd.DACL = acl
			} else {
				sd.SACL = acl
			}
		default:
			return nil, fmt.Errorf("secdesc: SDDL %q: unknown part %c:", s, tag)
		}
	}
	return sd, nil
}

// nextPart returns the length of the part starting at s: up to the next
// "X:" tag outside parentheses.
func nextPart(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		default:
			if depth == 0 && i+1 < len(s) && s[i+1] == ':' && strings.IndexByte("OGDS", s[i]) >= 0 && i > 0 {
				return i
			}
		}
	}
	return len(s)
}

func parseSDDLACL(part string, sacl bool) (*ACL, Control, error) {
	present, prot, req, inh := SEDACLPresent, SEDACLProtected, SEDACLAutoInheritReq, SEDACLAutoInherited
	if sacl {
		present, prot, req, inh = SESACLPresent, SESACLProtected, SESACLAutoInheritReq, SESACLAutoInherited
	}
	ctl := present
	i := strings.IndexByte(part, '(')
	flags := part
	if i >= 0 {
		flags = part[:i]
	}
	if strings.HasSuffix(flags, "NO_ACCESS_CONTROL") {
		flags = strings.TrimSuffix(flags, "NO_ACCESS_CONTROL")
		if i >= 0 {
			return nil, 0, fmt.Errorf("NO_ACCESS_CONTROL with ACEs")
		}
		i = -2
	}
	for flags != "" {
		switch {
		case strings.HasPrefix(flags, "P"):
			ctl |= prot
			flags = flags[1:]
		case strings.HasPrefix(flags, "AR"):
			ctl |= req
			flags = flags[2:]
		case strings.HasPrefix(flags, "AI"):
			ctl |= inh
			flags = flags[2:]
		default:
			return nil, 0, fmt.Errorf("unknown ACL flag at %q", flags)
		}
	}
	if i == -2 {
		return nil, ctl, nil
	}
	acl := &ACL{Revision: 2, ACEs: []ACE{}}
	if i < 0 {
		return acl, ctl, nil
	}
	aces := part[i:]
	for aces != "" {
		if aces[0] != '(' {
			return nil, 0, fmt.Errorf("expected '(' at %q", aces)
		}
		j := strings.IndexByte(aces, ')')
		if j < 0 {
			return nil, 0, fmt.Errorf("unterminated ACE %q", aces)
		}
		a, err := parseSDDLACE(aces[1:j])
		if err != nil {
			return nil, 0, err
		}
		acl.ACEs = append(acl.ACEs, a)
		aces = aces[j+1:]
	}
	return acl, ctl, nil
}

func parseSDDLACE(s string) (ACE, error) {
	f := strings.Split(s, ";")
	if len(f) != 6 {
		return ACE{}, fmt.Errorf("ACE %q: want 6 fields", s)
	}
	var a ACE
	found := false
	for t, n := range aceTypeNames {
		if n.sddl != "" && n.sddl == f[0] {
			a.Type, found = t, true
		}
	}
	if !found {
		return a, fmt.Errorf("ACE %q: unknown type %q", s, f[0])
	}
	for fl := f[1]; fl != ""; {
		ok := false
		for i, n := range aceFlagNames {
			if n.sddl != "" && strings.HasPrefix(fl, n.sddl) {
				a.Flags |= 1 << i
				fl = fl[2:]
				ok = true
				break
			}
		}
		if !ok {
			return a, fmt.Errorf("ACE %q: unknown flag at %q", s, fl)
		}
	}
	m, err := parseSDDLRights(f[2], a.Type == SystemMandatoryLabel)
	if err != nil {
		return a, fmt.Errorf("ACE %q: %w", s, err)
	}
	a.Mask = m
	if f[3] != "" || f[4] != "" {
		return a, fmt.Errorf("ACE %q: object GUIDs are not supported", s)
	}
	if a.SID, err = ParseSIDString(f[5]); err != nil {
		return a, err
	}
	return a, nil
}

func parseSDDLRights(r string, label bool) (AccessMask, error) {
	if strings.HasPrefix(r, "0x") || strings.HasPrefix(r, "0X") {
		v, err := strconv.ParseUint(r[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("bad rights %q", r)
		}
		return AccessMask(v), nil
	}
	var m AccessMask
	for r != "" {
		if len(r) < 2 {
			return 0, fmt.Errorf("bad rights at %q", r)
		}
		tok := r[:2]
		r = r[2:]
		if label {
			switch tok {
			case "NW":
				m |= LabelNoWriteUp
				continue
			case "NR":
				m |= LabelNoReadUp
				continue
			case "NX":
				m |= LabelNoExecuteUp
				continue
			}
		}
		ok := false
		for _, e := range sddlRightsExact {
			if e.s == tok {
				m |= e.m
				ok = true
				break
			}
		}
		if !ok {
			return 0, fmt.Errorf("unknown right %q", tok)
		}
	}
	return m, nil
}
