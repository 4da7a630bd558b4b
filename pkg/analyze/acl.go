package analyze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/secdesc"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// ACLKey is one key whose security descriptor becomes registry_acl events.
type ACLKey struct {
	// Name is the key's full name as rules see it (TargetObject):
	// HKU\<SID>\Environment, HKLM\SYSTEM\CurrentControlSet\...
	Name string
	// Kind selects the baseline; "" derives it from Name
	// (secdesc.KindOf).
	Kind secdesc.KeyKind
	// Hive is the hive type (NTUSER, SYSTEM, ...).
	Hive string
	// Host and File locate the evidence; UserSid and User are the common
	// user fields.
	Host, File    string
	UserSid, User string
	LastWrite     time.Time
	// SecurityOffset is the sk cell's offset (the events' source offset).
	SecurityOffset int64
	// SharedBy is the sk cell's reference count.
	SharedBy uint32
	// Descriptor is the key's parsed descriptor.
	Descriptor *secdesc.SecurityDescriptor
	// Parent is the parent key's descriptor, for the check that inherited
	// entries come from the parent; nil skips the check.
	Parent *secdesc.SecurityDescriptor
	// ProfileOwner is the SID of the user whose profile holds the key; zero
	// for machine keys or when unknown.
	ProfileOwner secdesc.SID
	// Names resolves trustee SIDs to names (ProfileList users); nil gives
	// well-known names only.
	Names secdesc.Names
}

// DescriptorEvents turns one key's descriptor into registry_acl events: a
// summary ("key"), one event per DACL entry ("ace") and one per trustee
// with its effective rights ("principal"), in that order. The fields are
// documented in docs/acl.md and docs/fields.md.
func DescriptorEvents(k ACLKey) []*event.Event {
	sd := k.Descriptor
	kind := k.Kind
	if kind == "" {
		kind = secdesc.KindOf(k.Name)
	}
	names := k.Names
	owner := k.ProfileOwner
	base := func(typ string) *event.Event {
		ev := event.New(event.RegistryACL, k.LastWrite)
		ev.Source = event.Source{Host: k.Host, File: k.File, Offset: k.SecurityOffset}
		ev.Set("EventType", typ).Set("TargetObject", k.Name).Set("KeyKind", string(kind))
		if k.Hive != "" {
			ev.Set("Hive", k.Hive)
		}
		ev.Set("Host", k.Host).Set("EvidenceFile", k.File)
		if k.UserSid != "" {
			ev.Set("UserSid", k.UserSid)
		}
		if k.User != "" {
			ev.Set("User", k.User)
		}
		ev.Set("LastWrite", k.LastWrite)
		if !owner.IsZero() {
			ev.Set("ProfileOwnerSid", owner.String())
		}
		return ev
	}
	setName := func(ev *event.Event, field string, s secdesc.SID) {
		if n := names.Name(s); n != "" {
			ev.Set(field, n)
		}
	}
	var out []*event.Event

	// The key summary.
	sum := base("key")
	if sd.Owner != nil {
		sum.Set("Owner", sd.Owner.String())
		setName(sum, "OwnerName", *sd.Owner)
		sum.Set("OwnerClass", string(secdesc.Classify(*sd.Owner, owner)))
		sum.Set("OwnerAllowed", secdesc.AllowedOwner(kind, *sd.Owner, owner))
	} else {
		sum.Set("Owner", "").Set("OwnerAllowed", false)
	}
	if sd.Group != nil {
		sum.Set("Group", sd.Group.String())
	}
	sum.Set("Sddl", sd.SDDL()).
		Set("Control", sd.Control.Names()).
		Set("DaclProtected", sd.Control&secdesc.SEDACLProtected != 0).
		Set("NullDacl", sd.NullDACL()).
		Set("EmptyDacl", sd.EmptyDACL()).
		Set("Canonical", secdesc.Canonical(sd)).
		Set("SharedBy", int64(k.SharedBy))
	label := ""
	var policy []string
	if l := sd.MandatoryLabel(); l != nil {
		label = secdesc.IntegrityLevelName(l.SID.RID())
		if label == "" || !l.SID.IsMandatoryLabel() {
			label = l.SID.String()
		}
		policy = secdesc.LabelPolicyNames(l.Mask)
	}
	if policy == nil {
		policy = []string{}
	}
	sum.Set("MandatoryLabel", label).Set("MandatoryPolicy", policy).Set("LowIntegrityWrite", secdesc.LowIntegrityWrite(sd))
	era := ""
	if kind != "" {
		era = secdesc.MatchBaseline(kind, sd, owner)
	}
	sum.Set("BaselineEra", era).Set("IsBaseline", era != "")
	sum.Set("OwnerWriteDenied", aclWriterDenied(kind, sd, owner))
	principals := secdesc.Principals(sd)
	writers := []string{}
	for _, p := range principals {
		if p.Effective&secdesc.WriteRights != 0 && !aclTrusted(secdesc.Classify(p.SID, owner)) {
			writers = append(writers, p.SID.String())
		}
	}
	sum.Set("WriteTrustees", writers)
	unmatched := []string{}
	unmatchedIdx := map[int]bool{}
	if k.Parent != nil && sd.DACL != nil {
		for i := range sd.DACL.ACEs {
			a := &sd.DACL.ACEs[i]
			if a.Known() && a.IsInherited() && !inheritedFromParent(a, sd, k.Parent) {
				unmatchedIdx[i] = true
				if s := a.SID.String(); !containsString(unmatched, s) {
					unmatched = append(unmatched, s)
				}
			}
		}
	}
	sum.Set("UnmatchedInheritedTrustees", unmatched)
	out = append(out, sum)

	// One event per DACL entry.
	if sd.DACL != nil {
		for i := range sd.DACL.ACEs {
			a := &sd.DACL.ACEs[i]
			ev := base("ace")
			ev.Set("AceIndex", int64(i)).Set("AceType", a.Type.String()).Set("AceFlags", a.Flags.Names())
			if a.Known() {
				ev.Set("Trustee", a.SID.String())
				setName(ev, "TrusteeName", a.SID)
				ev.Set("TrusteeClass", string(secdesc.Classify(a.SID, owner)))
				eff := secdesc.Effective(sd, a.SID)
				ev.Set("AccessMask", int64(a.Mask)).
					Set("Rights", a.Mask.Names()).
					Set("RightsText", rightsText(a.Mask)).
					Set("MappedRights", a.Mask.MapGeneric().Names()).
					Set("EffectiveRights", eff.Names()).
					Set("EffectiveRightsText", rightsText(eff))
			}
			ev.Set("AceSddl", a.SDDL())
			ev.Set("Inherited", a.IsInherited()).
				Set("InheritOnly", a.IsInheritOnly()).
				Set("Inheritable", a.Inheritable()).
				Set("AppliesToKey", aclApplies(a)).
				Set("InheritedUnmatched", unmatchedIdx[i]).
				Set("IsBaseline", kind != "" && secdesc.IsBaselineACE(kind, a, owner))
			out = append(out, ev)
		}
	}

	// One event per trustee.
	for _, p := range principals {
		ev := base("principal")
		ev.Set("Trustee", p.SID.String())
		setName(ev, "TrusteeName", p.SID)
		ev.Set("TrusteeClass", string(secdesc.Classify(p.SID, owner))).
			Set("EffectiveRights", p.Effective.Names()).
			Set("EffectiveRightsText", rightsText(p.Effective)).
			Set("EffectiveMask", int64(p.Effective)).
			Set("DeniedRights", p.Denied.Names()).
			Set("InheritOnlyRights", p.InheritOnly.Names()).
			Set("CanWrite", p.Effective&secdesc.WriteRights != 0).
			Set("CanDeleteOrCreateSubkey", p.Effective&secdesc.LesserWriteRights != 0)
		baseline := kind != ""
		if baseline {
			for i := range sd.DACL.ACEs {
				a := &sd.DACL.ACEs[i]
				if a.Known() && a.SID == p.SID && !secdesc.IsBaselineACE(kind, a, owner) {
					baseline = false
				}
			}
		}
		ev.Set("IsBaseline", baseline)
		out = append(out, ev)
	}
	return out
}

// rightsText renders a mask for explanations: the composite name when the
// mask is exactly one, else the names joined with "|", "none" for 0.
func rightsText(m secdesc.AccessMask) string {
	if c := m.Composite(); c != "" {
		return c
	}
	if m == 0 {
		return "none"
	}
	return strings.Join(m.Names(), "|")
}

// aclTrusted reports whether a trustee class may hold write rights on an
// Environment key without remark.
func aclTrusted(c secdesc.TrusteeClass) bool {
	return c == secdesc.ClassProfileOwner || c == secdesc.ClassSystem || c == secdesc.ClassAdministrators
}

func aclApplies(a *secdesc.ACE) bool {
	return a.Known() && !a.IsInheritOnly() && (a.Type.IsAllow() || a.Type.IsDeny()) &&
		a.SID != secdesc.SIDCreatorOwner && a.SID != secdesc.SIDCreatorGroup
}

// aclWriterDenied reports whether the key's rightful writer lacks
// KEY_SET_VALUE: the profile owner (standard interactive token) on a user
// key, SYSTEM on the machine key. Unknown for other keys or an unknown
// profile owner (false).
func aclWriterDenied(kind secdesc.KeyKind, sd *secdesc.SecurityDescriptor, owner secdesc.SID) bool {
	switch kind {
	case secdesc.UserEnvironment:
		if owner.IsZero() {
			return false
		}
		return secdesc.Effective(sd, secdesc.InteractiveUserToken(owner)...)&secdesc.KeySetValue == 0
	case secdesc.MachineEnvironment:
		token := []secdesc.SID{secdesc.SIDSystem, secdesc.SIDAdministrators, secdesc.SIDEveryone, secdesc.SIDAuthenticatedUsers, secdesc.SIDLocal}
		return secdesc.Effective(sd, token...)&secdesc.KeySetValue == 0
	}
	return false
}

// inheritedFromParent reports whether an inherited entry can come from the
// parent's DACL: the parent has an inheritable entry for the same SID, or
// an inheritable CREATOR OWNER (CREATOR GROUP) entry and the SID is the
// key's owner (group), which Windows stamps in place of the placeholder.
func inheritedFromParent(a *secdesc.ACE, sd, parent *secdesc.SecurityDescriptor) bool {
	if parent.DACL == nil {
		return true // a NULL parent DACL gives nothing to compare with
	}
	for i := range parent.DACL.ACEs {
		p := &parent.DACL.ACEs[i]
		if !p.Known() || !p.Inheritable() {
			continue
		}
		if p.SID == a.SID {
			return true
		}
		if p.SID == secdesc.SIDCreatorOwner && sd.Owner != nil && *sd.Owner == a.SID {
			return true
		}
		if p.SID == secdesc.SIDCreatorGroup && sd.Group != nil && *sd.Group == a.SID {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// aclTargets are the keys ACLEvents reads in each hive.
type aclTarget struct {
	h      *hive.Hive
	path   string // hive-relative
	parent string // hive-relative path of the parent key
	owner  string // profile owner SID, "" for machine keys
	user   *winreg.User
}

// ACLEvents emits registry_acl events for the two keys whose descriptors
// decide who can rewrite the environment: Environment in every user's
// NTUSER.DAT (HKU\<SID>\Environment) and the current control set's
// Control\Session Manager\Environment in SYSTEM. The profile owner comes
// from ProfileList, else from the hive root's DACL; each key's parent
// descriptor is read for the inherited-entry check. The template profile
// (Users\Default) and HKU\.DEFAULT are not read: their owners are not a
// user. This is the function the scanner calls; DescriptorEvents does the
// work for any other key a caller wants to examine.
//
// Problems (a missing key is not one) are returned joined after all keys
// were tried.
func ACLEvents(ctx context.Context, m *winreg.Machine, files map[*hive.Hive]string, f Filter, emit Emit) error {
	if f == nil {
		f = All
	}
	if !f.WantCategory(event.RegistryACL) {
		return nil
	}
	var targets []aclTarget
	for _, u := range m.Users {
		if u.Hive == nil || u.Template {
			continue
		}
		targets = append(targets, aclTarget{h: u.Hive, path: "Environment", parent: "", owner: u.SID, user: u})
	}
	if m.System != nil {
		if cs := m.CurrentControlSetPath(); cs != "" {
			targets = append(targets, aclTarget{h: m.System, path: cs + `\Control\Session Manager\Environment`, parent: cs + `\Control\Session Manager`})
		}
	}
	names := secdesc.Names{}
	for _, u := range m.Users {
		if u.SID != "" && u.Name != "" {
			names[u.SID] = u.Name
		}
	}
	var errs []error
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := m.KeyName(t.h, t.path)
		if !f.Want(event.RegistryACL, name) {
			continue
		}
		file := files[t.h]
		if file == "" {
			file = t.h.Name()
		}
		k, err := t.h.OpenKey(t.path)
		if err != nil {
			continue // no such key in this hive: nothing to report
		}
		sd, sec, err := aclDescriptor(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: key %s: %w", file, name, err))
			continue
		}
		in := ACLKey{
			Name: name, Hive: t.h.Type().String(), Host: m.Host, File: file, LastWrite: k.LastWrite(),
			SecurityOffset: sec.Offset, SharedBy: sec.RefCount, Descriptor: sd, Names: names,
		}
		if t.user != nil {
			in.UserSid, in.User = t.user.SID, t.user.Name
		}
		if pk, err := t.h.OpenKey(t.parent); err == nil {
			if psd, _, err := aclDescriptor(pk); err == nil {
				in.Parent = psd
				if t.parent == "" && t.owner == "" {
					if s, ok := secdesc.ProfileOwner(psd); ok {
						in.ProfileOwner = s
					}
				}
			}
		}
		if t.owner != "" {
			if s, err := secdesc.ParseSIDString(t.owner); err == nil {
				in.ProfileOwner = s
			}
		}
		for _, ev := range DescriptorEvents(in) {
			if err := emit(ev); err != nil {
				return fmt.Errorf("%w: %w", errStop, err)
			}
		}
	}
	return errors.Join(errs...)
}

// aclDescriptor reads and parses a key's descriptor.
func aclDescriptor(k *hive.Key) (*secdesc.SecurityDescriptor, *hive.Security, error) {
	sec, err := k.Security()
	if err != nil {
		return nil, nil, err
	}
	sd, err := secdesc.Parse(sec.Descriptor)
	if err != nil {
		return nil, nil, fmt.Errorf("sk cell 0x%x: %w", sec.Offset, err)
	}
	return sd, sec, nil
}
