package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/secdesc"
	"github.com/envhunt/envhunt/pkg/winreg"
)

func init() {
	register(command{name: "acl", summary: "owner, ACEs, effective rights and SDDL of a key's security descriptor", run: runACL})
}

// aclReport is the JSON shape of "acl --format json". Field names are part
// of the interface (docs/acl.md).
type aclReport struct {
	Key            string         `json:"key"`
	File           string         `json:"file"`
	Owner          *string        `json:"owner"`
	OwnerName      string         `json:"owner_name"`
	Group          *string        `json:"group"`
	GroupName      string         `json:"group_name"`
	Control        []string       `json:"control"`
	DACL           []aclACE       `json:"dacl"`
	SACL           []aclACE       `json:"sacl"`
	SDDL           string         `json:"sddl"`
	SharedBy       uint32         `json:"shared_by"`
	SecurityCell   string         `json:"security_cell"`
	ProfileOwner   string         `json:"profile_owner,omitempty"`
	Canonical      bool           `json:"canonical"`
	MandatoryLabel *aclLabel      `json:"mandatory_label"`
	Effective      []aclPrincipal `json:"effective"`
	BaselineEra    string         `json:"baseline_era,omitempty"`
}

type aclACE struct {
	Type        string   `json:"type"`
	Flags       []string `json:"flags"`
	SID         string   `json:"sid"`
	Name        string   `json:"name"`
	Mask        string   `json:"mask"`
	Rights      []string `json:"rights"`
	Inherited   bool     `json:"inherited"`
	InheritOnly bool     `json:"inherit_only"`
	SDDL        string   `json:"sddl"`
	Raw         string   `json:"raw,omitempty"`
}

type aclLabel struct {
	Level                string   `json:"level"`
	SID                  string   `json:"sid"`
	Policy               []string `json:"policy"`
	LowIntegrityCanWrite bool     `json:"low_integrity_can_write"`
}

type aclPrincipal struct {
	SID         string   `json:"sid"`
	Name        string   `json:"name"`
	Class       string   `json:"class"`
	Mask        string   `json:"mask"`
	Rights      []string `json:"rights"`
	Denied      []string `json:"denied"`
	InheritOnly []string `json:"inherit_only_rights"`
	ioMask      string
}

func runACL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("acl", `acl HIVE KEY [--format text|json] [--log FILE]... [--no-logs] [--output FILE]

KEY is relative to the hive root ("Environment", "ControlSet001\Control\Session Manager\Environment",
"" for the root) or a full name (HKCU\Environment, HKU\<SID>\Environment, HKLM\SYSTEM\CurrentControlSet\...).`, stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "text", "text", "json")
	if err := parseChecked(fs, args, &hf, &of); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("acl: want a hive file and a key, got %d arguments", fs.NArg())
	}
	h, err := dumpOpenHive(fs.Arg(0), hf)
	if err != nil {
		return err
	}
	m := winreg.New("", []winreg.HiveInfo{{Hive: h}})
	k, err := aclOpenKey(m, h, fs.Arg(1))
	if err != nil {
		if errors.Is(err, hive.ErrNotFound) {
			return inputError(fmt.Errorf("%s: key %q not found", h.Name(), fs.Arg(1)))
		}
		return inputError(err)
	}
	rep, err := aclCollect(m, h, k)
	if err != nil {
		return partialError(err)
	}
	if err := of.writeDocument(stdout, rep, func(w io.Writer) error { return aclText(w, rep) }); err != nil {
		return fmt.Errorf("acl: writing output: %w", err)
	}
	return dumpPartial(h)
}

// aclOpenKey accepts a hive-relative path or a full registry name whose
// root matches the hive (HKCU and HKEY_CURRENT_USER for profile hives,
// CurrentControlSet resolved through Select).
func aclOpenKey(m *winreg.Machine, h *hive.Hive, name string) (*hive.Key, error) {
	name = strings.Trim(name, `\`)
	first, rest, _ := strings.Cut(name, `\`)
	switch strings.ToUpper(first) {
	case "HKCU", "HKEY_CURRENT_USER":
		return h.OpenKey(rest)
	case "HKLM", "HKEY_LOCAL_MACHINE", "HKU", "HKEY_USERS":
		if k, _, err := m.OpenKey(name); err == nil {
			return k, nil
		}
		// A profile hive whose SID could not be inferred: accept any
		// HKU\<SID>\ prefix.
		if u := strings.ToUpper(first); u == "HKU" || u == "HKEY_USERS" {
			_, rel, _ := strings.Cut(rest, `\`)
			return h.OpenKey(rel)
		}
		_, rel, _ := strings.Cut(rest, `\`)
		return h.OpenKey(rel)
	}
	if cs, tail, _ := strings.Cut(name, `\`); strings.EqualFold(cs, "CurrentControlSet") && m.CurrentControlSet != 0 {
		name = fmt.Sprintf("ControlSet%03d", m.CurrentControlSet)
		if tail != "" {
			name += `\` + tail
		}
	}
	return h.OpenKey(name)
}

func aclCollect(m *winreg.Machine, h *hive.Hive, k *hive.Key) (*aclReport, error) {
	keyName := m.KeyName(h, k.Path())
	sec, err := k.Security()
	if err != nil {
		return nil, fmt.Errorf("%s: key %s: %w", h.Name(), keyName, err)
	}
	sd, err := secdesc.Parse(sec.Descriptor)
	if err != nil {
		return nil, fmt.Errorf("%s: key %s: sk cell 0x%x: %w", h.Name(), keyName, sec.Offset, err)
	}
	names := secdesc.Names{}
	var profileOwner secdesc.SID
	if u := m.UserOf(h); u != nil && u.SID != "" {
		if s, err := secdesc.ParseSIDString(u.SID); err == nil {
			profileOwner = s
			if u.Name != "" {
				names[u.SID] = u.Name
			}
		}
	}
	rep := &aclReport{
		Key: keyName, File: h.Name(), Control: sd.Control.Names(), SDDL: sd.SDDL(),
		SharedBy: sec.RefCount, SecurityCell: fmt.Sprintf("0x%x", sec.Offset), Canonical: secdesc.Canonical(sd),
		Effective: []aclPrincipal{},
	}
	if sd.Owner != nil {
		s := sd.Owner.String()
		rep.Owner, rep.OwnerName = &s, names.Name(*sd.Owner)
	}
	if sd.Group != nil {
		s := sd.Group.String()
		rep.Group, rep.GroupName = &s, names.Name(*sd.Group)
	}
	if !profileOwner.IsZero() {
		rep.ProfileOwner = profileOwner.String()
	}
	rep.DACL = aclACEs(sd.DACL, names)
	rep.SACL = aclACEs(sd.SACL, names)
	if l := sd.MandatoryLabel(); l != nil {
		rep.MandatoryLabel = &aclLabel{Level: secdesc.IntegrityLevelName(l.SID.RID()), SID: l.SID.String(),
			Policy: secdesc.LabelPolicyNames(l.Mask), LowIntegrityCanWrite: secdesc.LowIntegrityWrite(sd)}
		if rep.MandatoryLabel.Policy == nil {
			rep.MandatoryLabel.Policy = []string{}
		}
	}
	if sd.NullDACL() {
		rep.Effective = append(rep.Effective, aclPrincipal{SID: secdesc.SIDEveryone.String(), Name: names.Name(secdesc.SIDEveryone),
			Class: string(secdesc.ClassBroad), Mask: secdesc.KeyAllAccess.Hex(), Rights: secdesc.KeyAllAccess.Names(),
			Denied: []string{}, InheritOnly: []string{}})
	}
	for _, p := range secdesc.Principals(sd) {
		rep.Effective = append(rep.Effective, aclPrincipal{
			SID: p.SID.String(), Name: names.Name(p.SID), Class: string(secdesc.Classify(p.SID, profileOwner)),
			Mask: p.Effective.Hex(), Rights: p.Effective.Names(), Denied: p.Denied.Names(), InheritOnly: p.InheritOnly.Names(), ioMask: p.InheritOnly.Hex(),
		})
	}
	if kind := secdesc.KindOf(keyName); kind != "" {
		rep.BaselineEra = secdesc.MatchBaseline(kind, sd, profileOwner)
	}
	return rep, nil
}

// aclACEs converts an ACL for output; nil (NULL or absent ACL) stays nil so
// JSON shows null.
func aclACEs(acl *secdesc.ACL, names secdesc.Names) []aclACE {
	if acl == nil {
		return nil
	}
	out := make([]aclACE, 0, len(acl.ACEs))
	for i := range acl.ACEs {
		a := &acl.ACEs[i]
		e := aclACE{
			Type: a.Type.String(), Flags: a.Flags.Names(), Mask: a.Mask.Hex(), Rights: a.Mask.Names(),
			Inherited: a.IsInherited(), InheritOnly: a.IsInheritOnly(), SDDL: a.SDDL(),
		}
		if a.Type == secdesc.SystemMandatoryLabel {
			e.Rights = secdesc.LabelPolicyNames(a.Mask)
			if e.Rights == nil {
				e.Rights = []string{}
			}
		}
		if !a.SID.IsZero() {
			e.SID, e.Name = a.SID.String(), names.Name(a.SID)
		}
		if !a.Known() {
			e.Raw = fmt.Sprintf("%x", a.Raw)
		}
		out = append(out, e)
	}
	return out
}

func aclTrustee(sid, name string) string {
	if name == "" {
		return sid
	}
	return sid + " (" + name + ")"
}

func aclText(w io.Writer, r *aclReport) error {
	var b strings.Builder
	line := func(k, format string, a ...any) {
		fmt.Fprintf(&b, "%-12s %s\n", k+":", visible(fmt.Sprintf(format, a...)))
	}
	line("key", "%s", r.Key)
	line("file", "%s", r.File)
	if r.Owner != nil {
		line("owner", "%s", aclTrustee(*r.Owner, r.OwnerName))
	} else {
		line("owner", "(none)")
	}
	if r.Group != nil {
		line("group", "%s", aclTrustee(*r.Group, r.GroupName))
	} else {
		line("group", "(none)")
	}
	line("control", "%s", strings.Join(r.Control, " "))
	line("shared by", "%d key(s) (sk cell %s)", r.SharedBy, r.SecurityCell)
	if r.ProfileOwner != "" {
		line("profile of", "%s", r.ProfileOwner)
	}
	aclTextACL(&b, "DACL", r.DACL, "NULL DACL: everyone has full access")
	aclTextACL(&b, "SACL", r.SACL, "none")
	if l := r.MandatoryLabel; l != nil {
		line("label", "%s (%s) policy %s; low-integrity processes can write: %v", l.Level, l.SID, strings.Join(l.Policy, "|"), l.LowIntegrityCanWrite)
	}
	b.WriteString("effective rights on the key itself:\n")
	for _, p := range r.Effective {
		rights := aclRightsText(p.Mask, p.Rights, false)
		if len(p.Rights) == 0 {
			rights = "(none)"
		}
		extra := ""
		if len(p.Denied) > 0 {
			extra += "; denied " + strings.Join(p.Denied, "|")
		}
		if len(p.InheritOnly) > 0 {
			extra += "; subkeys only " + aclRightsText(p.ioMask, p.InheritOnly, false)
		}
		fmt.Fprintf(&b, "  %s [%s]: %s%s\n", visible(aclTrustee(p.SID, p.Name)), p.Class, rights, extra)
	}
	if !r.Canonical {
		b.WriteString("note: the DACL is not in canonical order (rights follow the ACE order, as Windows applies them)\n")
	}
	if r.BaselineEra != "" {
		line("baseline", "matches the %s baseline for this key", r.BaselineEra)
	}
	line("sddl", "%s", r.SDDL)
	_, err := io.WriteString(w, b.String())
	return err
}

func aclTextACL(b *strings.Builder, title string, aces []aclACE, nilText string) {
	if aces == nil {
		fmt.Fprintf(b, "%-12s %s\n", title+":", nilText)
		return
	}
	fmt.Fprintf(b, "%s (%d ACEs; flags as in SDDL: OI object inherit, CI container inherit, NP no propagate, IO inherit only, ID inherited):\n", title, len(aces))
	for i, a := range aces {
		rights := aclRightsText(a.Mask, a.Rights, a.Type == secdesc.SystemMandatoryLabel.String())
		flags := aclFlagsText(a.Flags)
		line := fmt.Sprintf("  %2d %-22s %-8s %-30s %s", i, a.Type, flags, rights, aclTrustee(a.SID, a.Name))
		b.WriteString(visible(strings.TrimRight(line, " ")))
		b.WriteByte('\n')
	}
}

// aclFlagsText abbreviates ACE flag names as SDDL does ("OICIID"), "-"
// for none.
func aclFlagsText(names []string) string {
	short := map[string]string{"OBJECT_INHERIT": "OI", "CONTAINER_INHERIT": "CI", "NO_PROPAGATE_INHERIT": "NP",
		"INHERIT_ONLY": "IO", "INHERITED": "ID", "SUCCESSFUL_ACCESS": "SA", "FAILED_ACCESS": "FA", "CRITICAL": "CR"}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(short[n])
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// aclRightsText renders a mask for people: the composite name when it is
// one (KEY_ALL_ACCESS), else the right names, with the hex value.
func aclRightsText(mask string, rights []string, label bool) string {
	var m uint32
	fmt.Sscanf(mask, "0x%x", &m)
	if c := secdesc.AccessMask(m).Composite(); c != "" && !label {
		return c + " (" + mask + ")"
	}
	if len(rights) == 0 {
		return mask
	}
	return strings.Join(rights, "|") + " (" + mask + ")"
}
