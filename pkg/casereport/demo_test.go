package casereport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	demoHost    = "../../testdata/demo/WS-DEV-07"
	demoRoaming = "../../testdata/demo/profiles"
	aliceSID    = "S-1-5-21-1111111111-2222222222-3333333333-1001"
	bobSID      = "S-1-5-21-1111111111-2222222222-3333333333-1002"
	carolSID    = "S-1-5-21-1111111111-2222222222-3333333333-1003"
)

var runTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func demoReport(t *testing.T) *Report {
	t.Helper()
	r, err := Build(context.Background(), []string{demoHost}, Options{
		Scan:        scan.Options{Roaming: []string{demoRoaming}},
		Version:     "test",
		CommandLine: "envhunt report testdata/demo/WS-DEV-07 --roaming testdata/demo/profiles",
		Now:         func() time.Time { return runTime },
		Platform:    "go test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hosts) != 1 {
		t.Fatalf("hosts = %d, want 1", len(r.Hosts))
	}
	return r
}

func TestBuild_DemoHeaderHashesEveryEvidenceFile(t *testing.T) {
	r := demoReport(t)
	h := r.Header
	if h.RunTime != runTime || h.Version != "test" || !strings.HasPrefix(h.CommandLine, "envhunt report") {
		t.Errorf("header = %+v", h)
	}
	if h.RuleSet.Rules == 0 || h.RuleSet.Files == 0 || len(h.RuleSet.SHA256) != 64 {
		t.Errorf("rule set = %+v, want rules, files and a SHA-256", h.RuleSet)
	}
	want := map[string]bool{
		"WS-DEV-07/C/Windows/System32/config/SYSTEM":   false,
		"WS-DEV-07/C/Windows/System32/config/SOFTWARE": false,
		"WS-DEV-07/C/Users/alice/NTUSER.DAT":           false,
		"WS-DEV-07/C/Users/bob/NTUSER.DAT":             false,
		"WS-DEV-07/C/Users/bob/NTUSER.DAT.LOG1":        false,
		"WS-DEV-07/C/Users/bob/NTUSER.DAT.LOG2":        false,
		"WS-DEV-07/C/Users/carol/NTUSER.DAT":           false,
		"profiles/alice.V6/NTUSER.DAT":                 false,
	}
	for _, f := range h.Evidence {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(data)) {
			t.Errorf("%s: SHA-256 %s size %d, want %x size %d", f.Path, f.SHA256, f.Size, sum, len(data))
		}
		rel := strings.TrimPrefix(filepath.ToSlash(f.Path), "../../testdata/demo/")
		if _, ok := want[rel]; ok {
			want[rel] = true
			if !f.Parsed {
				t.Errorf("%s: hive or log not hashed from the bytes parsed", rel)
			}
		}
	}
	for rel, seen := range want {
		if !seen {
			t.Errorf("evidence file %s missing from the header", rel)
		}
	}
}

func TestBuild_DemoHostIdentity(t *testing.T) {
	id := demoReport(t).Hosts[0].Identity
	for _, c := range []struct{ what, got, want string }{
		{"computer name", id.ComputerName.Value, "WS-DEV-07"},
		{"product", id.Product.Value, "Windows 10 Pro"},
		{"build", id.Build.Value, "19045.5854"},
		{"edition", id.Edition.Value, "Professional"},
		{"display version", id.DisplayVersion.Value, "22H2"},
		{"time zone", id.TimeZone.KeyName, "W. Europe Standard Time"},
		{"domain (not in the demo)", id.Domain.Value, ""},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	// InstallDate 1736845953 in the demo's SOFTWARE.
	if want := time.Unix(1736845953, 0).UTC(); !id.InstallDate.Equal(want) {
		t.Errorf("install date = %v, want %v", id.InstallDate, want)
	}
	// Europe/Berlin: UTC+1 in January, UTC+2 in June.
	for _, c := range []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2025, 1, 14, 9, 12, 33, 0, time.UTC), "2025-01-14 10:12:33 +01:00"},
		{time.Date(2025, 6, 10, 18, 2, 44, 0, time.UTC), "2025-06-10 20:02:44 +02:00"},
	} {
		l, ok := id.TimeZone.Local(c.utc)
		if !ok || l.Format("2006-01-02 15:04:05 -07:00") != c.want {
			t.Errorf("local time of %v = %v (%v), want %s", c.utc, l, ok, c.want)
		}
	}
}

func TestBuild_DemoUsers(t *testing.T) {
	h := demoReport(t).Hosts[0]
	users := map[string]User{}
	for _, u := range h.Users {
		users[u.SID] = u
	}
	for _, c := range []struct {
		sid, name, status, hiveState string
	}{
		{aliceSID, "alice", "roaming", "clean"},
		{bobSID, "bob", "local", "dirty, recovered with NTUSER.DAT.LOG1"},
		{carolSID, "carol", "local", "clean"},
	} {
		u, ok := users[c.sid]
		if !ok {
			t.Errorf("user %s missing", c.sid)
			continue
		}
		if u.Name != c.name || u.NameSource != "ProfileList (profile folder)" || strings.Join(u.Status, ",") != c.status || u.HiveState != c.hiveState {
			t.Errorf("user %s = %+v, want name %s from ProfileList, status %s, hive %s", c.sid, u, c.name, c.status, c.hiveState)
		}
	}
	if a := users[aliceSID]; a.CentralProfile != `\\FS01\profiles$\alice` || !a.UnloadTime.Equal(time.Date(2025, 6, 10, 18, 2, 44, 0, time.UTC)) {
		t.Errorf("alice: central profile %q, unload %v", a.CentralProfile, a.UnloadTime)
	}
	// The server copy's base block (2025-06-11T17:45:19.8765432Z) is newer
	// than the local one (2025-06-10T18:02:44Z): it wins, and replaces Path
	// and GOPATH.
	if v := users[aliceSID].Roaming; v == nil || v.Winner != "server" || !strings.Contains(v.DecidedBy, "base block") ||
		!v.ServerTime.Equal(time.Date(2025, 6, 11, 17, 45, 19, 876543200, time.UTC)) || v.EnvironmentChanges < 2 {
		t.Errorf("alice's roaming verdict = %+v", v)
	}
	if users[bobSID].Roaming != nil || users[carolSID].Roaming != nil {
		t.Error("a local profile has a roaming verdict")
	}
}

// TestBuild_DemoFindings checks the planted items of testdata/demo/README.md.
func TestBuild_DemoFindings(t *testing.T) {
	h := demoReport(t).Hosts[0]
	type key struct{ pattern, title, value, sid string }
	got := map[key]int{}
	for _, g := range h.Groups {
		for _, f := range g.Findings {
			if f.Pattern != g.Pattern || f.Level != g.Level {
				t.Errorf("finding %s (%s, %s) in group %s/%s", f.Title, f.Pattern, f.Level, g.Pattern, g.Level)
			}
			if f.UserSID == carolSID || strings.Contains(f.Key, carolSID) {
				t.Errorf("a finding names carol, who is clean: %s %s", f.Title, f.Key)
			}
			if f.Explain == "" || len(f.Steps) == 0 {
				t.Errorf("%s: no explanation or remediation step", f.Title)
			}
			got[key{f.Pattern, f.Title, f.Value, f.UserSID}]++
		}
	}
	for _, w := range []struct {
		k key
		n int
	}{
		{key{"acl", "Environment Key Writable by Another Principal", "", aliceSID}, 1},
		{key{"gpo", "Group Policy Script That Rewrites the Environment", "Parameters", aliceSID}, 1},
		{key{"callback", "Code Integrity Callbacks Key Present", "", ""}, 1},
		{key{"callback", "Kernel Driver Loaded From a User-Writable, Temporary or Network Location", "", ""}, 1},
		{key{"roaming", "Roaming Profile Server Copy Overwrites the Local Environment at Logon", "Path", aliceSID}, 1},
		{key{"persistence", "Logon Script Registered in the User Environment (UserInitMprLogonScript)", "UserInitMprLogonScript", bobSID}, 1},
		{key{"persistence", "Command Processor AutoRun Set", "AutoRun", bobSID}, 1},
		{key{"persistence", ".NET Profiler or Startup Hook Registered in an Environment Key", "COR_PROFILER_PATH", bobSID}, 1},
		{key{"path", "User-Writable, Temporary, Network or Relative Directory Ahead of System32 in the Machine Path", "Path", ""}, 1},
		{key{"path", "GOROOT, GOPATH or GOBIN in an Unusual Place", "GOROOT", bobSID}, 1},
		{key{"misconfig", "User Path Cut at 1024 Characters (setx Truncation)", "Path", aliceSID}, 1},
	} {
		if got[w.k] != w.n {
			t.Errorf("%d findings %+v, want %d", got[w.k], w.k, w.n)
		}
	}
	// The trace in the demo records reg.exe writing the Path the server
	// copy holds: the roaming finding names that write.
	var writes []string
	for _, g := range h.Groups {
		for _, f := range g.Findings {
			if f.Pattern == "roaming" && f.Value == "Path" {
				writes = f.Writes
			}
		}
	}
	if len(writes) != 1 || !strings.Contains(writes[0], `C:\Windows\System32\reg.exe (PID 5832) at 2025-06-10T07:58:13.2500000Z wrote this data`) {
		t.Errorf("writes recorded for alice's roaming Path = %q", writes)
	}
	// Groups run in pattern order, highest level first within a pattern.
	for i := 1; i < len(h.Groups); i++ {
		a, b := h.Groups[i-1], h.Groups[i]
		if patternRank(a.Pattern) > patternRank(b.Pattern) || (a.Pattern == b.Pattern && a.Level <= b.Level) {
			t.Errorf("group %s/%s before %s/%s", a.Pattern, a.Level, b.Pattern, b.Level)
		}
	}
}

func TestBuild_DemoEnvironmentAndHistory(t *testing.T) {
	h := demoReport(t).Hosts[0]
	var bob *UserEnv
	for i := range h.Environment {
		if h.Environment[i].SID == bobSID {
			bob = &h.Environment[i]
		}
	}
	if bob == nil || len(bob.Path) == 0 {
		t.Fatalf("no PATH table for bob: %+v", h.Environment)
	}
	if p := bob.Path[0]; p.Expanded != `C:\Users\Public\bin` || !strings.Contains(strings.Join(p.Flags, ","), "ahead-of-system32") || !strings.HasPrefix(p.Origin, "machine") {
		t.Errorf("bob's first PATH entry = %+v, want the machine's C:\\Users\\Public\\bin ahead of system32", p)
	}
	found := false
	for _, p := range bob.Path {
		if p.Expanded == `C:\Users\Public\go\bin` && strings.HasPrefix(p.Origin, "user") && strings.Contains(strings.Join(p.Flags, ","), "public") {
			found = true
		}
	}
	if !found {
		t.Errorf("bob's PATH lacks the user entry C:\\Users\\Public\\go\\bin flagged public: %+v", bob.Path)
	}
	series := map[string]Series{}
	for _, s := range h.History {
		series[s.Name] = s
	}
	bobH := series["bob ("+bobSID+")"]
	var goroot []string
	for _, st := range bobH.States {
		for _, v := range st.Values {
			if v.Name == "GOROOT" {
				goroot = append(goroot, st.Source+"="+v.Data)
			}
		}
	}
	// On disk the default install, after LOG1 entry 1 the planted one.
	if len(goroot) < 2 || goroot[0] != `primary=C:\Program Files\Go` || !strings.HasPrefix(goroot[1], "log:") || !strings.HasSuffix(goroot[1], `=C:\Users\Public\go`) {
		t.Errorf("bob's GOROOT history = %v", goroot)
	}
	aliceH := series["alice ("+aliceSID+")"]
	var sources []string
	for _, st := range aliceH.States {
		sources = append(sources, st.Kind)
	}
	if s := strings.Join(sources, ","); !strings.Contains(s, "primary") || !strings.Contains(s, "roaming") || !strings.Contains(s, "free cell") {
		t.Errorf("alice's history kinds = %s, want the primary, the roaming copy and the carved values", s)
	}
	if len(aliceH.Chart.Rows) != len(HistoryVars) || len(aliceH.Chart.Rows[0].Points) == 0 {
		t.Errorf("alice's chart = %+v", aliceH.Chart)
	}
}

func TestBuild_DemoNotChecked(t *testing.T) {
	h := demoReport(t).Hosts[0]
	var what []string
	for _, g := range h.NotChecked {
		what = append(what, g.What)
	}
	all := strings.Join(what, "\n")
	for _, w := range []string{"SAM hive absent", "file system not (fully) in the collection", `no config\RegBack or Windows.old copies`} {
		if !strings.Contains(all, w) {
			t.Errorf("not-checked list lacks %q:\n%s", w, all)
		}
	}
	for _, absent := range []string{"SYSTEM hive absent", "SOFTWARE hive absent", "no traces or event logs", "roaming profile not given"} {
		if strings.Contains(all, absent) {
			t.Errorf("not-checked list says %q, but the demo has it:\n%s", absent, all)
		}
	}
}

func TestBuild_DemoWithoutRoamingOrLogsSaysWhatIsMissing(t *testing.T) {
	r, err := Build(context.Background(), []string{demoHost}, Options{Scan: scan.Options{NoLogs: true}, Version: "test", NoHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, g := range r.Hosts[0].NotChecked {
		all = append(all, g.What+": "+g.Why)
	}
	s := strings.Join(all, "\n")
	for _, w := range []string{
		"NTUSER.DAT of bob dirty and its transaction logs not applied (--no-logs): newest writes may be absent",
		"server copy of alice (" + aliceSID + ")'s roaming profile not given",
		"history of Path, GOROOT and GOPATH not read",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("not-checked list lacks %q:\n%s", w, s)
		}
	}
}

// TestWriteMarkdown_DemoGolden compares the demo's Markdown with the
// reviewed golden file (refresh with go test -update after checking the
// diff).
func TestWriteMarkdown_DemoGolden(t *testing.T) {
	r := demoReport(t)
	// The rule set grows with the built-in rules; its own test checks it.
	r.Header.RuleSet = RuleSet{Version: "built-in rules of envhunt test", Rules: 50, Files: 50, SHA256: "(digest of the rule files)"}
	var buf bytes.Buffer
	if err := r.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "demo.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		got := strings.Split(buf.String(), "\n")
		wl := strings.Split(string(want), "\n")
		for i := 0; i < len(got) && i < len(wl); i++ {
			if got[i] != wl[i] {
				t.Fatalf("Markdown differs from %s at line %d:\n got: %s\nwant: %s\n(run go test -update and review the diff)", golden, i+1, got[i], wl[i])
			}
		}
		t.Fatalf("Markdown differs from %s in length: %d lines, want %d", golden, len(got), len(wl))
	}
}
