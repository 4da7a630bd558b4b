package secdesc

// The effective-rights model. It answers "what can this principal do to the
// key itself" from the descriptor alone, the way the kernel's access check
// does for a token holding the given SIDs:
//
//   - INHERIT_ONLY ACEs grant and deny nothing on the key itself: they only
//     shape subkeys created later.
//   - CREATOR OWNER and CREATOR GROUP are placeholders replaced by the
//     creator's SIDs when a subkey inherits the ACE; on the key itself they
//     match nobody.
//   - GENERIC_* bits are mapped to key rights (GENERIC_READ and
//     GENERIC_EXECUTE to KEY_READ, GENERIC_WRITE to KEY_WRITE, GENERIC_ALL to
//     KEY_ALL_ACCESS).
//   - ACEs are applied in order: an allow ACE grants the bits no earlier ACE
//     denied, a deny ACE denies the bits no earlier ACE granted. In a
//     canonical DACL (explicit denies first) this is "deny before allow";
//     Canonical reports when the order is not canonical.
//   - A NULL DACL (or no DACL) grants everyone KEY_ALL_ACCESS; an empty
//     DACL grants nobody anything.
//   - Callback ACEs count as their plain counterparts (their conditions are
//     not evaluated offline); object ACEs, which carry no meaning for
//     registry keys, count the same way.

// grantable is what an effective mask keeps: key rights, standard rights
// and SYNCHRONIZE. MAXIMUM_ALLOWED and ACCESS_SYSTEM_SECURITY cannot be
// granted through a DACL.
const grantable = grantableKey

// appliesToObject reports whether an ACE takes part in the access check of
// the key itself.
func appliesToObject(a *ACE) bool {
	if !a.Known() || a.IsInheritOnly() {
		return false
	}
	if a.SID == SIDCreatorOwner || a.SID == SIDCreatorGroup {
		return false
	}
	return a.Type.IsAllow() || a.Type.IsDeny()
}

// Effective returns the rights a token holding exactly the given SIDs has
// on the object under the descriptor's DACL, generic rights mapped to key
// rights. It does not add the owner's implicit READ_CONTROL and WRITE_DAC
// (see OwnerImplicit) nor apply the mandatory label (see
// LowIntegrityWrite).
func Effective(sd *SecurityDescriptor, token ...SID) AccessMask {
	granted, _ := accessCheck(sd, token)
	return granted
}

// Denied returns the rights the DACL denies to a token holding the given
// SIDs (bits an earlier allow ACE already granted are not counted, as in
// Effective).
func Denied(sd *SecurityDescriptor, token ...SID) AccessMask {
	_, denied := accessCheck(sd, token)
	return denied
}

// accessCheck walks the DACL in order as the kernel does for a
// MAXIMUM_ALLOWED request.
func accessCheck(sd *SecurityDescriptor, token []SID) (granted, denied AccessMask) {
	if sd.NullDACL() {
		return KeyAllAccess, 0
	}
	for i := range sd.DACL.ACEs {
		a := &sd.DACL.ACEs[i]
		if !appliesToObject(a) || !containsSID(token, a.SID) {
			continue
		}
		m := a.Mask.MapGeneric() & grantable
		if a.Type.IsDeny() {
			denied |= m &^ granted
		} else {
			granted |= m &^ denied
		}
	}
	return granted, denied
}

// OwnerImplicit returns the rights the owner holds whatever the DACL says:
// READ_CONTROL and WRITE_DAC, unless the DACL names OWNER RIGHTS (S-1-3-4),
// which then replaces them.
func OwnerImplicit(sd *SecurityDescriptor) AccessMask {
	if sd.DACL != nil {
		for i := range sd.DACL.ACEs {
			if a := &sd.DACL.ACEs[i]; a.Known() && a.SID == SIDOwnerRights && !a.IsInheritOnly() {
				return 0
			}
		}
	}
	return ReadControl | WriteDAC
}

func containsSID(list []SID, s SID) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// InteractiveUserToken returns the SIDs a standard (non-elevated)
// interactive logon of user carries that DACLs commonly name: the user,
// Everyone, LOCAL, CONSOLE LOGON, INTERACTIVE, Authenticated Users, This
// Organization and BUILTIN\Users. It is the token envhunt uses to decide
// whether the profile owner can still write their own key.
func InteractiveUserToken(user SID) []SID {
	return []SID{user, SIDEveryone, SIDLocal, SIDConsoleLogon, SIDInteractive,
		SIDAuthenticatedUsers, SIDThisOrganization, SIDUsers}
}

// Principal is one trustee's standing under a DACL.
type Principal struct {
	SID SID
	// Allowed is the union of the (generic-mapped) masks of the allow ACEs
	// that apply to the key itself; Denied likewise for deny ACEs.
	Allowed, Denied AccessMask
	// Effective is Effective(sd, SID) for a token holding this SID alone.
	Effective AccessMask
	// InheritOnly is the union of the masks of this SID's INHERIT_ONLY
	// ACEs: rights that only subkeys created later receive.
	InheritOnly AccessMask
}

// Principals returns every trustee the DACL names, in order of first
// appearance, with its rights on the key itself. CREATOR OWNER and CREATOR
// GROUP appear with Effective 0 (placeholders grant nothing on the key).
func Principals(sd *SecurityDescriptor) []Principal {
	if sd.DACL == nil {
		return nil
	}
	var out []Principal
	idx := map[SID]int{}
	for i := range sd.DACL.ACEs {
		a := &sd.DACL.ACEs[i]
		if !a.Known() || !(a.Type.IsAllow() || a.Type.IsDeny()) {
			continue
		}
		j, ok := idx[a.SID]
		if !ok {
			j = len(out)
			idx[a.SID] = j
			out = append(out, Principal{SID: a.SID})
		}
		m := a.Mask.MapGeneric() & grantable
		switch {
		case a.IsInheritOnly():
			if a.Type.IsAllow() {
				out[j].InheritOnly |= m
			}
		case !appliesToObject(a):
		case a.Type.IsDeny():
			out[j].Denied |= m
		default:
			out[j].Allowed |= m
		}
	}
	for j := range out {
		out[j].Effective = Effective(sd, out[j].SID)
	}
	return out
}

// Canonical reports whether the DACL's ACEs are in canonical order:
// explicit ACEs before inherited ones, and within each group deny ACEs
// before allow ACEs. Windows' editors always write canonical DACLs; a
// non-canonical one was written by a program, and its effective rights
// depend on the order (Effective follows the order, as Windows does).
func Canonical(sd *SecurityDescriptor) bool {
	if sd.DACL == nil {
		return true
	}
	// stage: 0 explicit deny, 1 explicit allow, 2 inherited deny, 3 inherited allow
	stage := 0
	for i := range sd.DACL.ACEs {
		a := &sd.DACL.ACEs[i]
		if !a.Known() {
			continue
		}
		s := 0
		switch {
		case a.Type.IsDeny():
		case a.Type.IsAllow():
			s = 1
		default:
			continue
		}
		if a.IsInherited() {
			s += 2
		}
		if s < stage {
			return false
		}
		stage = s
	}
	return true
}

// Integrity levels (the RID of a mandatory label SID S-1-16-N).
const (
	IntegrityUntrusted uint32 = 0x0000
	IntegrityLow       uint32 = 0x1000
	IntegrityMedium    uint32 = 0x2000
	IntegrityHigh      uint32 = 0x3000
	IntegritySystem    uint32 = 0x4000
)

// LowIntegrityWrite reports whether the mandatory integrity policy lets a
// Low-integrity process (a sandboxed browser or document viewer) write the
// key, DACL permitting. Without a label the key is Medium with NO_WRITE_UP
// and it cannot. With a label, a process may write when its level is at
// least the label's or when the label lacks NO_WRITE_UP: so a Low or
// Untrusted label, or any label without NO_WRITE_UP, opens the key to
// Low-integrity writers.
func LowIntegrityWrite(sd *SecurityDescriptor) bool {
	l := sd.MandatoryLabel()
	if l == nil {
		return false
	}
	if l.Mask&LabelNoWriteUp == 0 {
		return true
	}
	return l.SID.IsMandatoryLabel() && l.SID.RID() <= IntegrityLow
}

// IntegrityLevelName names an integrity level RID ("Low", "Medium", ...).
func IntegrityLevelName(rid uint32) string {
	switch rid {
	case IntegrityUntrusted:
		return "Untrusted"
	case IntegrityLow:
		return "Low"
	case IntegrityMedium:
		return "Medium"
	case 0x2100:
		return "Medium Plus"
	case IntegrityHigh:
		return "High"
	case IntegritySystem:
		return "System"
	case 0x5000:
		return "Protected Process"
	}
	return ""
}
