package casereport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Hostile strings planted in the fixture: each must stay text.
const (
	hostileHost   = `<script>document.title='pwned'</script>`
	hostileDomain = `corp"onload=alert(1) x="`
	hostileName   = "</style><b>bold</b>|pipe|`tick`"
	hostileData   = "C:\\Users\\Public\\x.bat\u202e\x1b[31m\"onload=alert(2)|<img src=x onerror=alert(3)>\r\n# heading"
	hostilePath   = `C:\Users\Public\<script>alert(4)</script>;%SystemRoot%\system32`
)

const (
	eveSID   = "S-1-5-21-10-20-30-1001"
	frankSID = "S-1-12-1-1111-2222-3333-4444"
)

var fixT0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func fk(name string, vals []hivetest.Value, subs ...*hivetest.Key) *hivetest.Key {
	return &hivetest.Key{Name: name, LastWrite: fixT0, Values: vals, Subkeys: subs}
}

func writeHive(t *testing.T, path string, root *hivetest.Key) {
	t.Helper()
	b, err := hivetest.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// timeFieldsBytes is a recurring transition rule in the TIME_FIELDS layout
// of Control\TimeZoneInformation: month, occurrence (5 = last), hour,
// weekday.
func timeFieldsBytes(month, occurrence, hour, weekday int) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[2:], uint16(month))
	binary.LittleEndian.PutUint16(b[4:], uint16(occurrence))
	binary.LittleEndian.PutUint16(b[6:], uint16(hour))
	binary.LittleEndian.PutUint16(b[14:], uint16(weekday))
	return b
}

// hostileHost writes a KAPE-style host whose names and data are hostile,
// with a Windows 11 build, a time zone known only by its rules, a SAM with
// eve's account and an Azure AD user cached in IdentityStore.
func hostileCollection(t *testing.T) string {
	dir := t.TempDir()
	vol := filepath.Join(dir, "HOST", "C")
	// A zone name envhunt does not map, so the recorded rules decide:
	// UTC-3 standard, UTC-2 from the last Sunday of March 02:00 to the
	// last Sunday of October 03:00.
	bias := uint32(180)
	dst := int32(-60)
	writeHive(t, filepath.Join(vol, "Windows/System32/config/SYSTEM"), fk("ROOT", nil,
		fk("ControlSet001", nil,
			fk("Control", nil,
				fk("ComputerName", nil, fk("ComputerName", []hivetest.Value{hivetest.SZ("ComputerName", hostileHost)})),
				fk("TimeZoneInformation", []hivetest.Value{
					hivetest.SZ("TimeZoneKeyName", "Fixture Standard Time"),
					hivetest.DWORD("Bias", bias),
					hivetest.DWORD("StandardBias", 0),
					hivetest.DWORD("DaylightBias", uint32(dst)),
					hivetest.DWORD("ActiveTimeBias", bias),
					hivetest.Binary("StandardStart", timeFieldsBytes(10, 5, 3, 0)),
					hivetest.Binary("DaylightStart", timeFieldsBytes(3, 5, 2, 0)),
				}),
				fk("Session Manager", nil, fk("Environment", []hivetest.Value{
					hivetest.ExpandSZ("Path", hostilePath),
					hivetest.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
				}))),
			fk("Services", nil, fk("Tcpip", nil, fk("Parameters", []hivetest.Value{hivetest.SZ("Domain", hostileDomain)})))),
		fk("Select", []hivetest.Value{hivetest.DWORD("Current", 1)})))
	installTime := wintime.ToFiletime(time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC))
	writeHive(t, filepath.Join(vol, "Windows/System32/config/SOFTWARE"), fk("ROOT", nil, fk("Microsoft", nil,
		fk("Windows NT", nil, fk("CurrentVersion", []hivetest.Value{
			hivetest.SZ("SystemRoot", `C:\Windows`),
			hivetest.SZ("ProductName", "Windows 10 Enterprise"),
			hivetest.SZ("CurrentBuild", "22631"),
			hivetest.DWORD("UBR", 4460),
			hivetest.SZ("EditionID", "Enterprise"),
			hivetest.SZ("DisplayVersion", "23H2"),
			hivetest.DWORD("InstallDate", uint32(time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC).Unix())),
			hivetest.QWORD("InstallTime", installTime),
		},
			fk("ProfileList", nil,
				fk(eveSID, []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", `C:\Users\eve`), hivetest.DWORD("State", 0x800)}),
				fk(frankSID, []hivetest.Value{hivetest.ExpandSZ("ProfileImagePath", `C:\Users\frank`), hivetest.SZ("CentralProfile", `\\fs\p$\frank`)})))),
		fk("IdentityStore", nil, fk("Cache", nil, fk(frankSID, nil, fk("IdentityCache", nil, fk(frankSID, []hivetest.Value{
			hivetest.SZ("UserName", "frank@corp.example"),
			hivetest.SZ("ProviderName", "AzureAD"),
		}))))),
		fk("Windows", nil, fk("CurrentVersion", nil, fk("Run", []hivetest.Value{hivetest.SZ(hostileName, hostileData)}))))))
	// SAM: the machine SID ends the Account key's V value; each Names\<name>
	// key's default value has the RID as its type.
	v := make([]byte, 40)
	binary.LittleEndian.PutUint32(v[28:], 10)
	binary.LittleEndian.PutUint32(v[32:], 20)
	binary.LittleEndian.PutUint32(v[36:], 30)
	writeHive(t, filepath.Join(vol, "Windows/System32/config/SAM"), fk("ROOT", nil, fk("SAM", nil, fk("Domains", nil,
		fk("Account", []hivetest.Value{hivetest.Binary("V", v)}, fk("Users", nil, fk("Names", nil,
			fk("eve.local", []hivetest.Value{hivetest.Raw("", 1001, nil)}),
			fk("Administrator", []hivetest.Value{hivetest.Raw("", 500, nil)}))))))))
	sd, err := hivetest.UserKeySD(eveSID)
	if err != nil {
		t.Fatal(err)
	}
	env := fk("Environment", []hivetest.Value{
		hivetest.SZ("UserInitMprLogonScript", hostileData),
		hivetest.ExpandSZ("Path", `%USERPROFILE%\bin|<b>x</b>;C:\a`+"\u202e"+`b`),
		hivetest.SZ("GOPATH", hostileName),
	})
	env.Security = sd
	root := fk("ROOT", nil, env, fk("Software", nil))
	root.Security = sd
	writeHive(t, filepath.Join(vol, "Users/eve/NTUSER.DAT"), root)
	goEnv := filepath.Join(vol, "Users/eve/AppData/Roaming/go/env")
	if err := os.MkdirAll(filepath.Dir(goEnv), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goEnv, []byte("GOPATH=C:\\Users\\eve\\go\nGOPROXY=direct\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hostileReport(t *testing.T) *Report {
	t.Helper()
	r, err := Build(context.Background(), []string{hostileCollection(t)}, Options{
		Scan:        scan.Options{},
		Version:     "test",
		CommandLine: "envhunt report '" + hostileName + "'",
		Now:         func() time.Time { return runTime },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hosts) != 1 {
		t.Fatalf("hosts = %d", len(r.Hosts))
	}
	return r
}

func TestBuild_IdentityFromSAMIdentityStoreAndTimeZoneRules(t *testing.T) {
	h := hostileReport(t).Hosts[0]
	id := h.Identity
	if id.Product.Value != "Windows 11 Enterprise" || id.OSNote == "" || id.Build.Value != "22631.4460" {
		t.Errorf("OS = %q (%s), build %q: want Windows 11 from build 22631", id.Product.Value, id.OSNote, id.Build.Value)
	}
	if id.Domain.Value != hostileDomain {
		t.Errorf("domain = %q", id.Domain.Value)
	}
	if want := time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC); !id.InstallDate.Equal(want) || !id.InstallTime.Equal(want) {
		t.Errorf("install date %v, install time %v, want %v", id.InstallDate, id.InstallTime, want)
	}
	for _, c := range []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "2026-01-15 09:00:00 -03:00"},
		{time.Date(2026, 3, 29, 4, 59, 0, 0, time.UTC), "2026-03-29 01:59:00 -03:00"}, // last Sunday of March, before 02:00
		{time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC), "2026-03-29 03:00:00 -02:00"},
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "2026-07-01 10:00:00 -02:00"},
		{time.Date(2026, 10, 25, 4, 59, 0, 0, time.UTC), "2026-10-25 02:59:00 -02:00"}, // last Sunday of October, before 03:00 daylight
		{time.Date(2026, 10, 25, 5, 0, 0, 0, time.UTC), "2026-10-25 02:00:00 -03:00"},
	} {
		l, ok := id.TimeZone.Local(c.utc)
		if !ok || l.Format("2006-01-02 15:04:05 -07:00") != c.want {
			t.Errorf("local time of %v = %s, want %s (%s)", c.utc, l.Format("2006-01-02 15:04:05 -07:00"), c.want, id.TimeZone.Source)
		}
	}
	users := map[string]User{}
	for _, u := range h.Users {
		users[u.SID] = u
	}
	if u := users[eveSID]; u.Name != "eve.local" || u.NameSource != "SAM" || len(u.Status) != 1 || u.Status[0] != "temporary (State 0x800)" {
		t.Errorf("eve = %+v, want eve.local from the SAM, temporary profile", u)
	}
	if u := users[frankSID]; u.Name != "frank@corp.example" || u.NameSource != `IdentityStore\Cache (AzureAD)` || u.Hive != "" || u.Status[0] != "roaming" {
		t.Errorf("frank = %+v, want the Azure AD name from IdentityStore, roaming, hive not collected", u)
	}
	var gaps []string
	for _, g := range h.NotChecked {
		gaps = append(gaps, g.What)
	}
	want := "profile hive of frank@corp.example (" + frankSID + ") not collected"
	found := false
	for _, g := range gaps {
		found = found || g == want
	}
	if !found {
		t.Errorf("not-checked list %q lacks %q", gaps, want)
	}
}

func TestBuild_TwoHostsGiveTwoSectionsAndSplit(t *testing.T) {
	r, err := Build(context.Background(), []string{demoHost, hostileCollection(t)}, Options{Version: "test", NoHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hosts) != 2 || r.Hosts[0].Name != "WS-DEV-07" || r.Hosts[1].Name != hostileHost {
		t.Fatalf("hosts = %d", len(r.Hosts))
	}
	html := renderHTML(t, r)
	for _, want := range []string{`<a href="#host-0">WS-DEV-07</a>`, `<h2 id="host-0">Host WS-DEV-07</h2>`, `<h2 id="host-1">Host &lt;script&gt;`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	parts := r.Split()
	if len(parts) != 2 {
		t.Fatalf("Split gave %d reports", len(parts))
	}
	total := 0
	for i, p := range parts {
		total += len(p.Header.Evidence)
		if len(p.Hosts) != 1 || p.Hosts[0] != r.Hosts[i] || len(p.Header.Evidence) == 0 {
			t.Errorf("part %d: %d hosts, %d evidence files", i, len(p.Hosts), len(p.Header.Evidence))
		}
		for _, f := range p.Header.Evidence {
			if (i == 0) != strings.Contains(filepath.ToSlash(f.Path), "testdata/demo") {
				t.Errorf("part %d lists another host's file %s", i, f.Path)
			}
		}
	}
	if total != len(r.Header.Evidence) {
		t.Errorf("split evidence lists hold %d files, the whole report %d", total, len(r.Header.Evidence))
	}
}

func TestRuleSetInfo_DigestCoversEveryRuleFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yml")
	digest := func(content string) string {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := ruleSetInfo(Options{RulePaths: []string{dir}})
		if err != nil {
			t.Fatal(err)
		}
		if info.Files != 1 || info.Version != dir {
			t.Fatalf("rule set = %+v, want one file from %s", info, dir)
		}
		inner := sha256.Sum256([]byte(content))
		outer := sha256.Sum256([]byte(file + "\x00" + hex.EncodeToString(inner[:]) + "\n"))
		if info.SHA256 != hex.EncodeToString(outer[:]) {
			t.Fatalf("digest %s, want %x", info.SHA256, outer)
		}
		return info.SHA256
	}
	if digest("title: a\n") == digest("title: b\n") {
		t.Error("changing a rule file did not change the digest")
	}
	builtin, err := ruleSetInfo(Options{Builtin: true, Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if builtin.Files == 0 || builtin.Version != "built-in rules of envhunt v" {
		t.Errorf("built-in rule set = %+v", builtin)
	}
}

func TestBuild_GoEnvFileOverriddenByTheEnvironmentIsShown(t *testing.T) {
	h := hostileReport(t).Hosts[0]
	var rows []GoRow
	for _, ue := range h.Environment {
		if ue.SID == eveSID {
			rows = ue.Go
		}
	}
	got := map[string]GoRow{}
	for _, r := range rows {
		got[r.Name] = r
	}
	if g := got["GOPATH"]; g.Env != hostileName || g.File != `C:\Users\eve\go` || g.Winner != "environment" || !g.Overridden {
		t.Errorf("GOPATH = %+v, want the environment's value winning over the go env file's", g)
	}
	if g := got["GOPROXY"]; g.Env != "" || g.File != "direct" || g.Winner != "go env file" || g.Overridden {
		t.Errorf("GOPROXY = %+v, want the go env file's value", g)
	}
}

func TestBuild_LooseUserHiveSaysWhatIsMissing(t *testing.T) {
	r, err := Build(context.Background(), []string{demoHost + "/C/Users/carol/NTUSER.DAT"}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Hosts[0]
	if h.Identity.ComputerName.Value != "" || h.Identity.TimeZone.Known() || !strings.Contains(h.Identity.TimeZone.Source, "absent") {
		t.Errorf("identity = %+v, want nothing recorded and local times unknown", h.Identity)
	}
	var what []string
	for _, g := range h.NotChecked {
		what = append(what, g.What)
	}
	all := strings.Join(what, "\n")
	for _, w := range []string{"SYSTEM hive absent", "SOFTWARE hive absent", "SAM hive absent", "no traces or event logs"} {
		if !strings.Contains(all, w) {
			t.Errorf("not-checked list lacks %q:\n%s", w, all)
		}
	}
	if len(h.Users) != 1 || h.Users[0].SID != carolSID || h.Users[0].SIDSource != "root ACL" {
		t.Errorf("users = %+v, want carol with the SID from the root ACL", h.Users)
	}
	md := renderMarkdown(t, r)
	if !strings.Contains(md, "| Time zone | not recorded; local times: SYSTEM hive") {
		t.Errorf("Markdown does not say the time zone is unknown")
	}
	if strings.Contains(md, "host local") {
		t.Errorf("Markdown shows host local times without a time zone")
	}
}

func TestChartOf_MarksWidenTheAxisAndCarvedStatesStayOff(t *testing.T) {
	t1 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)
	states := []HState{
		{Source: "primary", Time: t1, Values: []HValue{{Name: "Path", Data: "a"}}},
		{Source: "log", Time: t2, Values: []HValue{{Name: "Path", Data: "b"}, {Name: "GOROOT", Data: "g"}}},
		{Source: "free cell", Values: []HValue{{Name: "Path", Data: "c"}}},
	}
	c := chartOf(states, []ChartMark{{Time: t2.Add(48 * time.Hour), Label: "last profile unload"}})
	if len(c.Rows) != len(HistoryVars) || len(c.Rows[0].Points) != 2 || len(c.Rows[1].Points) != 1 || len(c.Rows[2].Points) != 0 {
		t.Fatalf("rows = %+v", c.Rows)
	}
	p := c.Rows[0].Points
	if p[0].X >= p[1].X || p[0].Color == p[1].Color || len(c.Rows[0].Legend) != 2 {
		t.Errorf("Path points %+v, legend %+v: want two colours in time order", p, c.Rows[0].Legend)
	}
	if len(c.Marks) != 1 || c.Marks[0].X <= p[1].X || c.Marks[0].X > c.Width {
		t.Errorf("mark %+v: want it after the last state, inside the chart", c.Marks)
	}
	if empty := chartOf([]HState{states[2]}, nil); len(empty.Rows) != 0 {
		t.Errorf("a chart of carved states only has rows: %+v", empty.Rows)
	}
}
