package casereport

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/winreg"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Identity is what the machine's hives say about the host.
type Identity struct {
	ComputerName Fact
	Domain       Fact
	Product      Fact
	// OSNote explains a correction, e.g. a Windows 11 build whose
	// ProductName still says Windows 10.
	OSNote         string
	Build          Fact
	Edition        Fact
	DisplayVersion Fact
	// InstallDate is CurrentVersion's InstallDate (seconds since 1970) and
	// InstallTime its InstallTime (FILETIME); zero when absent.
	InstallDate time.Time
	InstallTime time.Time
	TimeZone    TimeZone
}

// TimeZone is the host's time zone as Control\TimeZoneInformation records it.
type TimeZone struct {
	KeyName string
	// Bias and ActiveTimeBias are minutes (UTC = local + bias).
	Bias, ActiveTimeBias       int
	HasBias, HasActiveTimeBias bool
	// Source says how local times are computed ("IANA Europe/Berlin from
	// TimeZoneKeyName", "Bias and the daylight rules", ...), or why they
	// cannot be.
	Source string

	loc   *time.Location
	rules *tziRules
	fixed *time.Location
}

// Known reports whether local times can be shown.
func (z *TimeZone) Known() bool { return z.loc != nil || z.rules != nil || z.fixed != nil }

// Local returns t in the host's local time, or false when it is unknown.
func (z *TimeZone) Local(t time.Time) (time.Time, bool) {
	switch {
	case t.IsZero():
		return t, false
	case z.loc != nil:
		return t.In(z.loc), true
	case z.rules != nil:
		return z.rules.local(t), true
	case z.fixed != nil:
		return t.In(z.fixed), true
	}
	return t, false
}

// Times renders t as the report shows every time: 7-digit UTC, and the
// host's local time when known.
func (z *TimeZone) Times(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	s := wintime.Format(t)
	if l, ok := z.Local(t); ok {
		s += " (host local " + l.Format("2006-01-02 15:04:05 -07:00") + ")"
	}
	return s
}

const (
	keyCurrentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	keyComputerName   = `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`
	keyTcpip          = `HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`
	keyTimeZone       = `HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation`
	keyIdentityCache  = `HKLM\SOFTWARE\Microsoft\IdentityStore\Cache`
)

func stringFact(m *winreg.Machine, key string, names ...string) Fact {
	k, _, err := m.OpenKey(key)
	if err != nil {
		return Fact{}
	}
	for _, n := range names {
		if s, ok := winreg.StringValue(k, n); ok && s != "" {
			return Fact{Value: s, Source: key + `\` + n}
		}
	}
	return Fact{}
}

func hostIdentity(m *winreg.Machine) Identity {
	var id Identity
	id.ComputerName = stringFact(m, keyComputerName, "ComputerName")
	if id.ComputerName.Value == "" {
		id.ComputerName = stringFact(m, keyTcpip, "Hostname", "NV Hostname")
	}
	id.Domain = stringFact(m, keyTcpip, "Domain", "NV Domain")
	id.Product = stringFact(m, keyCurrentVersion, "ProductName")
	id.Build = stringFact(m, keyCurrentVersion, "CurrentBuild", "CurrentBuildNumber")
	id.Edition = stringFact(m, keyCurrentVersion, "EditionID")
	id.DisplayVersion = stringFact(m, keyCurrentVersion, "DisplayVersion", "ReleaseId")
	if k, _, err := m.OpenKey(keyCurrentVersion); err == nil {
		if ubr, ok := winreg.DWORDValue(k, "UBR"); ok && id.Build.Value != "" {
			id.Build.Value += "." + strconv.FormatUint(ubr, 10)
		}
		if n, ok := winreg.DWORDValue(k, "InstallDate"); ok && n > 0 {
			id.InstallDate = time.Unix(int64(n), 0).UTC()
		}
		if n, ok := winreg.DWORDValue(k, "InstallTime"); ok && n > 0 {
			id.InstallTime = wintime.FromFiletime(n)
		}
	}
	if b, err := strconv.Atoi(strings.SplitN(id.Build.Value, ".", 2)[0]); err == nil && b >= 22000 && strings.Contains(id.Product.Value, "Windows 10") {
		id.OSNote = fmt.Sprintf("build %d is Windows 11; ProductName still says %q, as Windows 11 leaves it", b, id.Product.Value)
		id.Product.Value = strings.Replace(id.Product.Value, "Windows 10", "Windows 11", 1)
	}
	id.TimeZone = timeZone(m)
	return id
}

// timeZone reads Control\TimeZoneInformation and picks the best way to show
// local times: the IANA zone of the Windows zone name, else the recorded
// bias with its daylight rules, else the bias alone.
func timeZone(m *winreg.Machine) TimeZone {
	var z TimeZone
	k, _, err := m.OpenKey(keyTimeZone)
	if err != nil {
		z.Source = "SYSTEM hive or Control\\TimeZoneInformation absent: local times unknown"
		return z
	}
	z.KeyName, _ = winreg.StringValue(k, "TimeZoneKeyName")
	if z.KeyName == "" {
		z.KeyName, _ = winreg.StringValue(k, "StandardName")
	}
	if n, ok := winreg.DWORDValue(k, "Bias"); ok {
		z.Bias, z.HasBias = int(int32(uint32(n))), true
	}
	if n, ok := winreg.DWORDValue(k, "ActiveTimeBias"); ok {
		z.ActiveTimeBias, z.HasActiveTimeBias = int(int32(uint32(n))), true
	}
	if iana, ok := windowsZones[z.KeyName]; ok {
		if loc, err := time.LoadLocation(iana); err == nil {
			z.loc = loc
			z.Source = "IANA zone " + iana + " for TimeZoneKeyName " + z.KeyName
			return z
		}
	}
	if z.HasBias {
		if r := readTZIRules(k, z.Bias); r != nil {
			z.rules = r
			z.Source = "Bias, StandardBias/DaylightBias and the StandardStart/DaylightStart rules"
			return z
		}
		z.fixed = time.FixedZone("", -z.Bias*60)
		z.Source = "Bias only (no daylight rules recorded)"
		return z
	}
	if z.HasActiveTimeBias {
		z.fixed = time.FixedZone("", -z.ActiveTimeBias*60)
		z.Source = "ActiveTimeBias (the offset in force when the hive was written; daylight changes not applied)"
		return z
	}
	z.Source = "no bias recorded and the zone name is not known to envhunt: local times unknown"
	return z
}

// tziRules are the daylight rules of Control\TimeZoneInformation.
type tziRules struct {
	bias, stdBias, dstBias int
	std, dst               timeFields
}

// timeFields is a transition rule as the kernel stores StandardStart and
// DaylightStart under Control\TimeZoneInformation: a TIME_FIELDS structure
// (Year, Month, Day, Hour, Minute, Second, Milliseconds, Weekday; 16-bit
// little-endian each), not the SYSTEMTIME order of the TZI values under
// "Time Zones". With Year 0 the rule recurs: Day is the occurrence of
// Weekday in Month (5 = the last one).
type timeFields struct{ year, month, day, hour, min, sec, weekday int }

func parseTimeFields(b []byte) (timeFields, bool) {
	if len(b) < 16 {
		return timeFields{}, false
	}
	u := func(i int) int { return int(binary.LittleEndian.Uint16(b[i:])) }
	tf := timeFields{year: u(0), month: u(2), day: u(4), hour: u(6), min: u(8), sec: u(10), weekday: u(14)}
	return tf, tf.year == 0 && tf.month >= 1 && tf.month <= 12 && tf.weekday <= 6 && tf.day >= 1 && tf.day <= 5 && tf.hour < 24 && tf.min < 60 && tf.sec < 60
}

func readTZIRules(k *hive.Key, bias int) *tziRules {
	r := &tziRules{bias: bias}
	if n, ok := winreg.DWORDValue(k, "StandardBias"); ok {
		r.stdBias = int(int32(uint32(n)))
	}
	if n, ok := winreg.DWORDValue(k, "DaylightBias"); ok {
		r.dstBias = int(int32(uint32(n)))
	}
	raw := func(name string) []byte {
		v, err := k.Value(name)
		if err != nil {
			return nil
		}
		b, _ := v.Data()
		return b
	}
	var ok1, ok2 bool
	r.std, ok1 = parseTimeFields(raw("StandardStart"))
	r.dst, ok2 = parseTimeFields(raw("DaylightStart"))
	if !ok1 || !ok2 {
		return nil
	}
	return r
}

// transition returns the UTC instant of a rule in year y; offset is the
// local offset (minutes east of UTC) in force before it.
func (tf timeFields) transition(y, offset int) time.Time {
	first := time.Date(y, time.Month(tf.month), 1, tf.hour, tf.min, tf.sec, 0, time.UTC)
	d := first.AddDate(0, 0, (tf.weekday-int(first.Weekday())+7)%7+7*(tf.day-1))
	for d.Month() != time.Month(tf.month) { // "5" means the last one
		d = d.AddDate(0, 0, -7)
	}
	return d.Add(-time.Duration(offset) * time.Minute)
}

func (r *tziRules) local(t time.Time) time.Time {
	stdOff, dstOff := -(r.bias + r.stdBias), -(r.bias + r.dstBias)
	y := t.UTC().Year()
	start, end := r.dst.transition(y, stdOff), r.std.transition(y, dstOff)
	inDST := false
	if start.Before(end) {
		inDST = !t.Before(start) && t.Before(end)
	} else {
		inDST = !t.Before(start) || t.Before(end)
	}
	off := stdOff
	if inDST {
		off = dstOff
	}
	return t.In(time.FixedZone("", off*60))
}

// windowsZones maps common Windows time zone names to IANA zones (the
// territory-001 entries of CLDR's windowsZones table).
var windowsZones = map[string]string{
	"Dateline Standard Time": "Etc/GMT+12", "UTC-11": "Etc/GMT+11", "Hawaiian Standard Time": "Pacific/Honolulu",
	"Alaskan Standard Time": "America/Anchorage", "Pacific Standard Time": "America/Los_Angeles",
	"US Mountain Standard Time": "America/Phoenix", "Mountain Standard Time": "America/Denver",
	"Central Standard Time": "America/Chicago", "Eastern Standard Time": "America/New_York",
	"Atlantic Standard Time": "America/Halifax", "Newfoundland Standard Time": "America/St_Johns",
	"E. South America Standard Time": "America/Sao_Paulo", "SA Pacific Standard Time": "America/Bogota",
	"Central America Standard Time": "America/Guatemala", "Canada Central Standard Time": "America/Regina",
	"UTC": "Etc/UTC", "Coordinated Universal Time": "Etc/UTC", "GMT Standard Time": "Europe/London",
	"Greenwich Standard Time": "Atlantic/Reykjavik", "W. Europe Standard Time": "Europe/Berlin",
	"Central Europe Standard Time": "Europe/Budapest", "Romance Standard Time": "Europe/Paris",
	"Central European Standard Time": "Europe/Warsaw", "W. Central Africa Standard Time": "Africa/Lagos",
	"GTB Standard Time": "Europe/Bucharest", "FLE Standard Time": "Europe/Kiev", "E. Europe Standard Time": "Europe/Chisinau",
	"Egypt Standard Time": "Africa/Cairo", "South Africa Standard Time": "Africa/Johannesburg",
	"Israel Standard Time": "Asia/Jerusalem", "Turkey Standard Time": "Europe/Istanbul",
	"Russian Standard Time": "Europe/Moscow", "Arab Standard Time": "Asia/Riyadh", "Iran Standard Time": "Asia/Tehran",
	"Arabian Standard Time": "Asia/Dubai", "Pakistan Standard Time": "Asia/Karachi", "India Standard Time": "Asia/Calcutta",
	"Nepal Standard Time": "Asia/Katmandu", "Bangladesh Standard Time": "Asia/Dhaka", "SE Asia Standard Time": "Asia/Bangkok",
	"China Standard Time": "Asia/Shanghai", "Singapore Standard Time": "Asia/Singapore", "Taipei Standard Time": "Asia/Taipei",
	"W. Australia Standard Time": "Australia/Perth", "Tokyo Standard Time": "Asia/Tokyo", "Korea Standard Time": "Asia/Seoul",
	"Cen. Australia Standard Time": "Australia/Adelaide", "AUS Eastern Standard Time": "Australia/Sydney",
	"E. Australia Standard Time": "Australia/Brisbane", "New Zealand Standard Time": "Pacific/Auckland",
}

// User is one user profile: who it belongs to and how it is kept.
type User struct {
	SID         string
	Folder      string
	ProfilePath string
	Name        string
	// NameSource is where the name was read: "SAM" (local accounts),
	// "IdentityStore\Cache (<provider>)" (Azure AD and Microsoft accounts),
	// "ProfileList (profile folder)", or "unknown".
	NameSource string
	// SIDSource says how the SID was found (ProfileList, the hive's root
	// ACL, ...).
	SIDSource string
	// Status is "local", "roaming", "mandatory", "temporary", possibly
	// several.
	Status         []string
	CentralProfile string
	State          string
	LoadTime       time.Time
	UnloadTime     time.Time
	// Hive is the profile hive file and HiveState how it was read.
	Hive      string
	HiveState string
	// Roaming is the comparison with the server copy of a roaming
	// profile, when one was compared.
	Roaming *RoamingVerdict
}

// RoamingVerdict says which copy of a roaming profile Windows loads at the
// next logon, by which clock, and what that does to the Environment key.
type RoamingVerdict struct {
	ServerFile string
	// Winner is "local" or "server" ("" when it cannot be told).
	Winner    string
	DecidedBy string
	LocalTime time.Time
	// ServerTime is the server copy's time on the same clock.
	ServerTime time.Time
	// EnvironmentChanges counts the Environment values the winning copy
	// changes; StaleServerEnvironment is true when the server copy is
	// newer but its Environment key older (loading it puts older values
	// back).
	EnvironmentChanges     int
	StaleServerEnvironment bool
}

// Label is "name (SID)", or whichever is known.
func (u User) Label() string { return userLabel(u.Name, u.SID) }

func userIdentities(he *scan.HostEvidence) []User {
	m := he.Machine
	sam := samNames(m)
	idStore := identityStoreNames(m)
	var out []User
	seen := map[string]bool{}
	for _, wu := range m.Users {
		if wu.Template {
			continue
		}
		u := User{SID: wu.SID, Folder: wu.Folder, ProfilePath: wu.ProfilePath, SIDSource: wu.SIDSource, Hive: he.HiveFiles[wu.Hive]}
		if wu.Mandatory {
			u.Status = append(u.Status, "mandatory (NTUSER.MAN)")
		}
		u.HiveState = hiveState(wu.Hive)
		src := "profile folder in the collection"
		if !strings.EqualFold(filepath.Base(filepath.Dir(u.Hive)), wu.Folder) {
			src = "profile folder named in the hive's base block"
		}
		fillUser(&u, m, sam, idStore, wu.Name, src)
		for _, rc := range he.Roaming {
			if rc.User == wu && rc.Summary != nil {
				u.Roaming = &RoamingVerdict{ServerFile: rc.File, Winner: rc.Summary.Winner, DecidedBy: rc.Summary.DecidedBy,
					LocalTime: rc.Summary.LocalTime, ServerTime: rc.Summary.ServerTime,
					EnvironmentChanges: len(rc.Summary.Environment), StaleServerEnvironment: rc.Summary.StaleServerEnvironment}
			}
		}
		seen[strings.ToUpper(wu.SID)] = true
		out = append(out, u)
	}
	var sids []string
	for sid := range m.Profiles {
		if !seen[strings.ToUpper(sid)] && (strings.HasPrefix(sid, "S-1-5-21-") || strings.HasPrefix(sid, "S-1-12-1-")) {
			sids = append(sids, sid)
		}
	}
	sort.Strings(sids)
	for _, sid := range sids {
		p := m.Profiles[sid]
		u := User{SID: sid, ProfilePath: p.ProfileImagePath, SIDSource: "ProfileList", HiveState: "profile hive not in the collection"}
		fillUser(&u, m, sam, idStore, "", "")
		out = append(out, u)
	}
	return out
}

func fillUser(u *User, m *winreg.Machine, sam map[string]string, idStore map[string]Fact, fallback, fallbackSource string) {
	sid := strings.ToUpper(u.SID)
	switch {
	case sam[sid] != "":
		u.Name, u.NameSource = sam[sid], "SAM"
	case idStore[sid].Value != "":
		u.Name, u.NameSource = idStore[sid].Value, idStore[sid].Source
	default:
		folder := ""
		if p, ok := m.Profiles[u.SID]; ok && p.ProfileImagePath != "" {
			folder = lastElem(p.ProfileImagePath)
		}
		switch {
		case folder != "":
			u.Name, u.NameSource = folder, "ProfileList (profile folder)"
		case fallback != "":
			u.Name, u.NameSource = fallback, fallbackSource
		default:
			u.NameSource = "unknown"
		}
	}
	p, ok := m.Profiles[u.SID]
	if !ok {
		if len(u.Status) == 0 {
			u.Status = append(u.Status, "unknown (no ProfileList entry)")
		}
		return
	}
	if u.ProfilePath == "" {
		u.ProfilePath = p.ProfileImagePath
	}
	u.CentralProfile = p.CentralProfile
	u.LoadTime, u.UnloadTime = p.LoadTime, p.UnloadTime
	if p.HasState {
		u.State = fmt.Sprintf("0x%x", p.State)
	}
	if p.CentralProfile != "" {
		u.Status = append(u.Status, "roaming")
	}
	if p.HasState && p.State&0x1 != 0 && !containsPrefix(u.Status, "mandatory") {
		u.Status = append(u.Status, "mandatory (State 0x1)")
	}
	if p.HasState && p.State&0x800 != 0 {
		u.Status = append(u.Status, "temporary (State 0x800)")
	} else if p.Backup {
		u.Status = append(u.Status, "temporary (a "+u.SID+".bak key exists)")
	}
	if len(u.Status) == 0 {
		u.Status = append(u.Status, "local")
	}
}

func containsPrefix(ss []string, p string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func lastElem(p string) string {
	p = strings.TrimRight(strings.ReplaceAll(p, "/", `\`), `\`)
	if i := strings.LastIndex(p, `\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func hiveState(h *hive.Hive) string {
	if h == nil {
		return "not in the collection"
	}
	switch {
	case h.Recovered():
		var applied []string
		for _, l := range h.Logs() {
			if l.Applied {
				applied = append(applied, filepath.Base(l.File))
			}
		}
		return "dirty, recovered with " + strings.Join(applied, ", ")
	case h.Dirty():
		return "dirty, no transaction log applied: the newest writes may be missing"
	case h.Partial():
		return "read in part (damaged)"
	}
	return "clean"
}

// samNames maps local account SIDs to names from the SAM hive: each
// SAM\Domains\Account\Users\Names\<name> key's default value has the RID as
// its type; the machine's SID is the end of SAM\Domains\Account's V value.
func samNames(m *winreg.Machine) map[string]string {
	out := map[string]string{}
	if m.SAM == nil {
		return out
	}
	domain := ""
	if k, err := m.SAM.OpenKey(`SAM\Domains\Account`); err == nil {
		if v, err := k.Value("V"); err == nil {
			if b, err := v.Data(); err == nil && len(b) >= 12 {
				t := b[len(b)-12:]
				domain = fmt.Sprintf("S-1-5-21-%d-%d-%d", binary.LittleEndian.Uint32(t), binary.LittleEndian.Uint32(t[4:]), binary.LittleEndian.Uint32(t[8:]))
			}
		}
	}
	k, err := m.SAM.OpenKey(`SAM\Domains\Account\Users\Names`)
	if err != nil {
		return out
	}
	subs, _ := k.Subkeys()
	rids := map[uint32]string{}
	for _, s := range subs {
		v, err := s.Value("")
		if err != nil {
			continue
		}
		rids[uint32(v.Type())] = s.Name()
	}
	for _, sid := range profileSIDs(m) {
		i := strings.LastIndex(sid, "-")
		rid, err := strconv.ParseUint(sid[i+1:], 10, 32)
		if err != nil || (domain != "" && !strings.EqualFold(sid[:i], domain)) {
			continue
		}
		if n, ok := rids[uint32(rid)]; ok {
			out[strings.ToUpper(sid)] = n
		}
	}
	return out
}

func profileSIDs(m *winreg.Machine) []string {
	var out []string
	for sid := range m.Profiles {
		out = append(out, sid)
	}
	for _, u := range m.Users {
		if u.SID != "" {
			out = append(out, u.SID)
		}
	}
	return out
}

// identityStoreNames reads SOFTWARE\Microsoft\IdentityStore\Cache\<SID>\
// IdentityCache\<SID> (UserName, ProviderName), where Windows caches Azure AD
// and Microsoft account identities.
func identityStoreNames(m *winreg.Machine) map[string]Fact {
	out := map[string]Fact{}
	cache, _, err := m.OpenKey(keyIdentityCache)
	if err != nil {
		return out
	}
	subs, _ := cache.Subkeys()
	for _, s := range subs {
		ic, err := s.Subkey("IdentityCache")
		if err != nil {
			continue
		}
		ids, _ := ic.Subkeys()
		for _, id := range ids {
			name, _ := winreg.StringValue(id, "UserName")
			if name == "" {
				name, _ = winreg.StringValue(id, "DisplayName")
			}
			if name == "" {
				continue
			}
			src := `IdentityStore\Cache`
			if p, ok := winreg.StringValue(id, "ProviderName"); ok && p != "" {
				src += " (" + p + ")"
			}
			out[strings.ToUpper(id.Name())] = Fact{Value: name, Source: src}
		}
	}
	return out
}
