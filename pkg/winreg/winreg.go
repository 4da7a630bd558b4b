// Package winreg assembles the hives of one machine into the registry view
// Windows itself presents: HKLM\SYSTEM with CurrentControlSet resolved
// through Select\Current, HKLM\SOFTWARE, and HKU\<SID> for each user hive,
// with the user's SID and name taken from SOFTWARE's ProfileList or, for a
// loose NTUSER.DAT, inferred from the hive itself.
//
// Offline there is no CurrentControlSet: this package maps ControlSet00N to
// it when N is the current set, so key names match what Sysmon logs and what
// SigmaHQ rules expect.
package winreg

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/secdesc"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Machine is the registry of one host.
type Machine struct {
	// Host is the machine's ComputerName when SYSTEM gives it, else the name
	// the caller passed (the collection folder).
	Host string
	// Hives by role; nil when absent.
	System, Software, Security, SAM, Default *hive.Hive
	// Users are the profile hives (NTUSER.DAT, NTUSER.MAN), one per user.
	Users []*User
	// Others are hives with no machine role here (UsrClass, Amcache,
	// unknown).
	Others []*hive.Hive
	// CurrentControlSet is N of ControlSet00N, or 0 when SYSTEM is absent or
	// names none.
	CurrentControlSet int
	// ControlSetSource says which value chose it: "Select\Current",
	// "Select\Default" or "first ControlSet".
	ControlSetSource string
	// Profiles is SOFTWARE's ProfileList, by SID.
	Profiles map[string]*Profile
	// Problems records what could not be read while assembling the view.
	Problems []error
}

// User is one user's profile hive and what is known of its owner.
type User struct {
	// SID of the user; "" when it could not be known or inferred.
	SID string
	// Name is the account name when known (DOMAIN\name, or the profile
	// folder's name for local profiles), else "".
	Name string
	// ProfilePath is the profile folder (C:\Users\alice) when known.
	ProfilePath string
	// SIDSource says how the SID was found: "ProfileList", "root ACL",
	// "well-known profile" or "".
	SIDSource string
	Hive      *hive.Hive
	// Classes is the user's UsrClass.dat when the collection has it.
	Classes *hive.Hive
	// Folder is the collection's profile folder name (Users\<Folder>).
	Folder string
	// Mandatory is true for an NTUSER.MAN hive.
	Mandatory bool
	// Template is true for Users\Default\NTUSER.DAT, the hive every new
	// profile copies.
	Template bool
}

// Profile is one entry of SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList.
type Profile struct {
	SID              string
	ProfileImagePath string
	// State bits: 0x1 mandatory, 0x800 temporary, ... (see docs).
	State          uint32
	HasState       bool
	CentralProfile string
	Flags          uint32
	LoadTime       time.Time
	UnloadTime     time.Time
	// Backup is true when a <SID>.bak key exists (a temporary profile was
	// used because the real one failed to load).
	Backup    bool
	LastWrite time.Time
}

// HiveInfo is what the caller knows about a hive from where it was found.
type HiveInfo struct {
	Hive *hive.Hive
	// Profile is the profile folder the hive was found in (Users\<Profile>),
	// or "".
	Profile   string
	Mandatory bool
	// Kind is the role suggested by the file's location ("SYSTEM",
	// "DEFAULT", "NTUSER", ...); content decides where they disagree, except
	// that DEFAULT (which looks like an NTUSER hive) is taken from here.
	Kind string
}

// New assembles a machine view from opened hives. host names the machine
// until SYSTEM's ComputerName replaces it.
func New(host string, hives []HiveInfo) *Machine {
	m := &Machine{Host: host, Profiles: map[string]*Profile{}}
	var users []HiveInfo
	var classes []HiveInfo
	for _, hi := range hives {
		h := hi.Hive
		if h == nil {
			continue
		}
		t := h.Type() // the role, decided from content
		if strings.EqualFold(hi.Kind, "DEFAULT") {
			m.setRole(&m.Default, h)
			continue
		}
		switch t {
		case hive.TypeSYSTEM:
			m.setRole(&m.System, h)
		case hive.TypeSOFTWARE:
			m.setRole(&m.Software, h)
		case hive.TypeSECURITY:
			m.setRole(&m.Security, h)
		case hive.TypeSAM:
			m.setRole(&m.SAM, h)
		case hive.TypeNTUSER:
			users = append(users, hi)
		case hive.TypeUsrClass:
			classes = append(classes, hi)
			m.Others = append(m.Others, h)
		default:
			m.Others = append(m.Others, h)
		}
	}
	if m.System != nil {
		m.CurrentControlSet, m.ControlSetSource = currentControlSet(m.System)
		if name := m.computerName(); name != "" {
			m.Host = name
		}
	}
	if m.Software != nil {
		m.readProfileList()
	}
	for _, hi := range users {
		m.Users = append(m.Users, m.identify(hi))
	}
	for _, ci := range classes {
		for _, u := range m.Users {
			if ci.Profile != "" && strings.EqualFold(ci.Profile, u.Folder) {
				u.Classes = ci.Hive
			}
		}
	}
	sort.SliceStable(m.Users, func(i, j int) bool { return m.Users[i].Folder < m.Users[j].Folder })
	return m
}

func (m *Machine) setRole(slot **hive.Hive, h *hive.Hive) {
	if *slot != nil {
		m.Problems = append(m.Problems, fmt.Errorf("%s: a second %s hive for host %s; using %s", h.Name(), h.Type(), m.Host, (*slot).Name()))
		m.Others = append(m.Others, h)
		return
	}
	*slot = h
}

// currentControlSet reads Select\Current (fallback Default, then the lowest
// ControlSet00N present).
func currentControlSet(sys *hive.Hive) (int, string) {
	if sel, err := sys.OpenKey("Select"); err == nil {
		for _, name := range []string{"Current", "Default"} {
			if n, ok := dwordValue(sel, name); ok && n > 0 && n < 1000 {
				if _, err := sys.OpenKey(controlSetName(int(n))); err == nil {
					return int(n), `Select\` + name
				}
			}
		}
	}
	root, err := sys.Root()
	if err != nil {
		return 0, ""
	}
	subs, _ := root.Subkeys()
	best := 0
	for _, k := range subs {
		name := strings.ToLower(k.Name())
		if strings.HasPrefix(name, "controlset") {
			if n, err := strconv.Atoi(name[len("controlset"):]); err == nil && n > 0 && (best == 0 || n < best) {
				best = n
			}
		}
	}
	if best > 0 {
		return best, "first ControlSet"
	}
	return 0, ""
}

func controlSetName(n int) string { return fmt.Sprintf("ControlSet%03d", n) }

// CurrentControlSetPath is the hive-relative path of the current control set
// ("ControlSet001"), or "" when unknown.
func (m *Machine) CurrentControlSetPath() string {
	if m.CurrentControlSet == 0 {
		return ""
	}
	return controlSetName(m.CurrentControlSet)
}

func (m *Machine) computerName() string {
	cs := m.CurrentControlSetPath()
	if cs == "" {
		return ""
	}
	k, err := m.System.OpenKey(cs + `\Control\ComputerName\ComputerName`)
	if err != nil {
		return ""
	}
	s, _ := stringValue(k, "ComputerName")
	return s
}

func (m *Machine) readProfileList() {
	pl, err := m.Software.OpenKey(`Microsoft\Windows NT\CurrentVersion\ProfileList`)
	if err != nil {
		return
	}
	subs, err := pl.Subkeys()
	if err != nil {
		m.Problems = append(m.Problems, err)
	}
	for _, k := range subs {
		name := k.Name()
		bak := false
		if strings.HasSuffix(strings.ToLower(name), ".bak") {
			name, bak = name[:len(name)-4], true
		}
		if !strings.HasPrefix(strings.ToUpper(name), "S-1-") {
			continue
		}
		p := m.Profiles[name]
		if p == nil {
			p = &Profile{SID: name}
			m.Profiles[name] = p
		}
		if bak {
			p.Backup = true
			continue
		}
		p.LastWrite = k.LastWrite()
		p.ProfileImagePath, _ = stringValue(k, "ProfileImagePath")
		p.CentralProfile, _ = stringValue(k, "CentralProfile")
		if v, ok := dwordValue(k, "State"); ok {
			p.State, p.HasState = uint32(v), true
		}
		if v, ok := dwordValue(k, "Flags"); ok {
			p.Flags = uint32(v)
		}
		p.LoadTime = highLowTime(k, "LocalProfileLoadTimeHigh", "LocalProfileLoadTimeLow")
		p.UnloadTime = highLowTime(k, "LocalProfileUnloadTimeHigh", "LocalProfileUnloadTimeLow")
	}
}

func highLowTime(k *hive.Key, high, low string) time.Time {
	h, ok1 := dwordValue(k, high)
	l, ok2 := dwordValue(k, low)
	if !ok1 || !ok2 {
		return time.Time{}
	}
	return wintime.FromFiletime(h<<32 | l)
}

// wellKnownProfiles maps the service profiles' folder names to their SIDs.
var wellKnownProfiles = map[string]string{
	"localservice":   "S-1-5-19",
	"networkservice": "S-1-5-20",
	"systemprofile":  "S-1-5-18",
}

// identify ties a user hive to its SID and name: ProfileList by profile
// folder, else the SID in the root key's DACL and the profile path from the
// base block's embedded file name.
func (m *Machine) identify(hi HiveInfo) *User {
	u := &User{Hive: hi.Hive, Folder: hi.Profile, Mandatory: hi.Mandatory, Template: strings.EqualFold(hi.Profile, "Default") || strings.EqualFold(hi.Profile, "Default User")}
	embedded := profileFromEmbeddedName(hi.Hive.BaseBlock().FileName)
	if u.Folder == "" && embedded != "" {
		u.Folder = path.Base(strings.ReplaceAll(embedded, `\`, "/"))
	}
	if u.Template {
		return u
	}
	// ProfileList: match by profile folder name (the last element of
	// ProfileImagePath), case-insensitively.
	if u.Folder != "" {
		var match *Profile
		for _, p := range m.sortedProfiles() {
			img := strings.ReplaceAll(p.ProfileImagePath, `\`, "/")
			if strings.EqualFold(path.Base(img), u.Folder) {
				if match != nil {
					match = nil // ambiguous: two SIDs with the same folder name
					break
				}
				match = p
			}
		}
		if match != nil {
			u.SID, u.SIDSource, u.ProfilePath = match.SID, "ProfileList", match.ProfileImagePath
		}
	}
	if u.SID == "" {
		if sid, ok := wellKnownProfiles[strings.ToLower(u.Folder)]; ok {
			u.SID, u.SIDSource = sid, "well-known profile"
		}
	}
	if u.SID == "" {
		if sid := InferOwnerSID(hi.Hive); sid != "" {
			u.SID, u.SIDSource = sid, "root ACL"
		}
	}
	if u.ProfilePath == "" {
		if p, ok := m.Profiles[u.SID]; ok && p.ProfileImagePath != "" {
			u.ProfilePath = p.ProfileImagePath
		} else if embedded != "" {
			u.ProfilePath = embedded
		} else if u.Folder != "" {
			u.ProfilePath = `C:\Users\` + u.Folder
		}
	}
	if u.Folder != "" {
		u.Name = u.Folder
	}
	return u
}

func (m *Machine) sortedProfiles() []*Profile {
	out := make([]*Profile, 0, len(m.Profiles))
	for _, p := range m.Profiles {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SID < out[j].SID })
	return out
}

// profileFromEmbeddedName turns the base block's file name
// ("\??\C:\Users\alice\ntuser.dat") into the profile folder
// ("C:\Users\alice"); "" when it does not name a profile hive.
func profileFromEmbeddedName(name string) string {
	// The field holds only the last 31 characters of the path, so a long
	// path arrives cut ("?\C:\Users\vibranium\ntuser.dat"): start at the
	// drive letter when there is one, else give up on the folder.
	n := name
	if i := strings.Index(n, `:\`); i >= 1 {
		n = n[i-1:]
	} else {
		return ""
	}
	lower := strings.ToLower(n)
	if !strings.HasSuffix(lower, `\ntuser.dat`) && !strings.HasSuffix(lower, `\ntuser.man`) {
		return ""
	}
	dir := n[:len(n)-len(`\ntuser.dat`)]
	if i := strings.LastIndex(dir, `\`); i < 0 {
		return ""
	}
	return dir
}

// InferOwnerSID returns the SID a profile hive belongs to, read from its root
// key's DACL (the account SID granted access there, see
// secdesc.ProfileOwner); "" when it cannot be told.
func InferOwnerSID(h *hive.Hive) string {
	root, err := h.Root()
	if err != nil {
		return ""
	}
	sec, err := root.Security()
	if err != nil || sec == nil {
		return ""
	}
	sd, err := secdesc.Parse(sec.Descriptor)
	if err != nil {
		return ""
	}
	sid, ok := secdesc.ProfileOwner(sd)
	if !ok {
		return ""
	}
	return sid.String()
}

// RootName is the name rules use for the root of h: HKLM\SYSTEM,
// HKLM\SOFTWARE, HKU\<SID>, HKU\<SID>_Classes, HKU\.DEFAULT, HKCU when the
// user's SID is unknown, or HKLM\<TYPE> for other machine hives.
func (m *Machine) RootName(h *hive.Hive) string {
	switch h {
	case nil:
		return ""
	case m.System:
		return `HKLM\SYSTEM`
	case m.Software:
		return `HKLM\SOFTWARE`
	case m.Security:
		return `HKLM\SECURITY`
	case m.SAM:
		return `HKLM\SAM`
	case m.Default:
		return `HKU\.DEFAULT`
	}
	for _, u := range m.Users {
		if u.Hive == h {
			if u.SID == "" {
				return "HKCU"
			}
			return `HKU\` + u.SID
		}
		if u.Classes == h {
			if u.SID == "" {
				return `HKCU\Software\Classes`
			}
			return `HKU\` + u.SID + "_Classes"
		}
	}
	return `HKLM\` + h.Type().String()
}

// KeyName is the full name rules use for the key at relPath in h, with
// ControlSet00N of the current set shown as CurrentControlSet.
func (m *Machine) KeyName(h *hive.Hive, relPath string) string {
	root := m.RootName(h)
	if relPath == "" {
		return root
	}
	if h == m.System && m.CurrentControlSet != 0 {
		cs := controlSetName(m.CurrentControlSet)
		if len(relPath) >= len(cs) && strings.EqualFold(relPath[:len(cs)], cs) && (len(relPath) == len(cs) || relPath[len(cs)] == '\\') {
			relPath = "CurrentControlSet" + relPath[len(cs):]
		}
	}
	return root + `\` + relPath
}

// UserOf returns the user whose hive h is (NTUSER or UsrClass), or nil.
func (m *Machine) UserOf(h *hive.Hive) *User {
	for _, u := range m.Users {
		if u.Hive == h || u.Classes == h {
			return u
		}
	}
	return nil
}

// ErrNoHive is returned by OpenKey when the hive a name refers to is not in
// the evidence.
var ErrNoHive = errors.New("hive not in the evidence")

// OpenKey opens a key by its full name (HKLM\SYSTEM\CurrentControlSet\...,
// HKLM\SOFTWARE\..., HKU\<SID>\...). HKCU is not accepted: name the user.
func (m *Machine) OpenKey(name string) (*hive.Key, *hive.Hive, error) {
	h, rel, err := m.resolve(name)
	if err != nil {
		return nil, nil, err
	}
	k, err := h.OpenKey(rel)
	return k, h, err
}

func (m *Machine) resolve(name string) (*hive.Hive, string, error) {
	first, rest := cut(name)
	switch strings.ToUpper(first) {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		second, rel := cut(rest)
		var h *hive.Hive
		switch strings.ToUpper(second) {
		case "SYSTEM":
			h = m.System
			if h != nil && m.CurrentControlSet != 0 {
				cs, tail := cut(rel)
				if strings.EqualFold(cs, "CurrentControlSet") {
					rel = controlSetName(m.CurrentControlSet)
					if tail != "" {
						rel += `\` + tail
					}
				}
			}
		case "SOFTWARE":
			h = m.Software
		case "SECURITY":
			h = m.Security
		case "SAM":
			h = m.SAM
		}
		if h == nil {
			return nil, "", fmt.Errorf("%s: %w", name, ErrNoHive)
		}
		return h, rel, nil
	case "HKU", "HKEY_USERS":
		sid, rel := cut(rest)
		if strings.EqualFold(sid, ".DEFAULT") && m.Default != nil {
			return m.Default, rel, nil
		}
		for _, u := range m.Users {
			if u.SID != "" && strings.EqualFold(u.SID, sid) {
				return u.Hive, rel, nil
			}
			if u.SID != "" && u.Classes != nil && strings.EqualFold(u.SID+"_Classes", sid) {
				return u.Classes, rel, nil
			}
		}
	}
	return nil, "", fmt.Errorf("%s: %w", name, ErrNoHive)
}

func cut(s string) (string, string) {
	if i := strings.IndexByte(s, '\\'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func dwordValue(k *hive.Key, name string) (uint64, bool) {
	v, err := k.Value(name)
	if err != nil {
		return 0, false
	}
	d, err := v.Decode()
	if err != nil {
		return 0, false
	}
	switch d.Type {
	case hive.RegDWORD, hive.RegDWORDBigEndian, hive.RegQWORD:
		return d.Int, true
	}
	return 0, false
}

func stringValue(k *hive.Key, name string) (string, bool) {
	v, err := k.Value(name)
	if err != nil {
		return "", false
	}
	d, err := v.Decode()
	if err != nil {
		return "", false
	}
	switch d.Type {
	case hive.RegSZ, hive.RegExpandSZ, hive.RegLink:
		return d.Text, true
	}
	return "", false
}

// StringValue returns the text of a REG_SZ/REG_EXPAND_SZ/REG_LINK value of k.
func StringValue(k *hive.Key, name string) (string, bool) { return stringValue(k, name) }

// DWORDValue returns the integer of a REG_DWORD/REG_QWORD value of k.
func DWORDValue(k *hive.Key, name string) (uint64, bool) { return dwordValue(k, name) }
