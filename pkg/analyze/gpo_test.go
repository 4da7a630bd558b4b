package analyze

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/gpo"
	"github.com/envhunt/envhunt/pkg/hive"
)

const (
	testGPOGuid = "{7C2A4E1B-3D5F-4A6B-9C8D-0E1F2A3B4C5D}"
	testSID     = "S-1-5-21-1111111111-2222222222-3333333333-1001"
)

// gpoTree writes a host whose local policy, scripts and history cache hold
// one of each kind of Group Policy evidence.
func gpoTree(t *testing.T) []evidence.File {
	t.Helper()
	root := t.TempDir()
	files := map[string][]byte{
		"H/C/Users/alice/NTUSER.DAT": []byte("regf"),
		"H/C/Windows/System32/GroupPolicy/User/Registry.pol": gpo.EncodePol([]gpo.PolRecord{
			{Key: `Environment`, ValueName: `GOPATH`, Type: hive.RegExpandSZ, Data: gpo.StringData(`C:\Users\Public\go`)},
			{Key: `Environment`, ValueName: `**DeleteValues`, Type: hive.RegSZ, Data: gpo.StringData(`GOROOT;GOFLAGS`)},
			{Key: `Software\Policies\Microsoft\Windows\Control Panel\Desktop`, ValueName: `ScreenSaveActive`, Type: hive.RegSZ, Data: gpo.StringData(`1`)},
		}),
		"H/C/Windows/System32/GroupPolicy/Machine/Registry.pol": gpo.EncodePol([]gpo.PolRecord{
			{Key: `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, ValueName: `**del.Path`, Type: hive.RegSZ, Data: gpo.StringData(" ")},
			{Key: `Software\Policies\Contoso`, ValueName: `**DeleteKeys`, Type: hive.RegSZ, Data: gpo.StringData(`A;B`)},
			{Key: `Software\Policies\Contoso`, ValueName: `Level`, Type: hive.RegDWORD, Data: []byte{5, 0, 0, 0}},
		}),
		"H/C/Windows/System32/GroupPolicy/User/Scripts/scripts.ini": gpo.MarshalScripts([]gpo.Script{
			{Phase: gpo.Logon, Index: 0, CmdLine: "SetPath.cmd", Parameters: "/q"},
			{Phase: gpo.Logon, Index: 1, CmdLine: `\\corp.example\NETLOGON\map.cmd`},
		}),
		"H/C/Windows/System32/GroupPolicy/User/Scripts/Logon/setpath.cmd": []byte("@echo off\r\nsetx PATH \"C:\\Users\\Public\\tools;%PATH%\"\r\n"),
		"H/C/Users/alice/AppData/Local/Microsoft/Group Policy/History/" + testGPOGuid + "/User/Preferences/EnvironmentVariables/EnvironmentVariables.xml": []byte(`<?xml version="1.0" encoding="utf-8"?>
<EnvironmentVariables clsid="{BF141A63-327B-438a-B9BF-2C188F13B7AD}">
  <EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="GOPATH" changed="2025-06-10 07:58:12" uid="{3F1E2D4C-5B6A-4789-8A9B-0C1D2E3F4A5B}">
    <Properties action="R" name="GOPATH" value="C:\Users\Public\go" user="1" partial="0"/>
  </EnvironmentVariable>
  <EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="Path" uid="{3F1E2D4C-5B6A-4789-8A9B-0C1D2E3F4A5C}">
    <Properties action="U" name="Path" value="C:\Tools" user="0" partial="1"/>
  </EnvironmentVariable>
</EnvironmentVariables>
`),
		"H/C/ProgramData/Microsoft/Group Policy/History/" + testGPOGuid + "/Machine/Preferences/Registry/Registry.xml": []byte(`<RegistrySettings clsid="{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}">
  <Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="GOROOT" uid="{1}">
    <Properties action="U" hive="HKEY_LOCAL_MACHINE" key="SYSTEM\CurrentControlSet\Control\Session Manager\Environment" name="GOROOT" type="REG_SZ" value="C:\Users\Public\go"/>
  </Registry>
  <Registry clsid="{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}" name="Level" uid="{2}">
    <Properties action="C" hive="HKEY_LOCAL_MACHINE" key="Software\Contoso" name="Level" type="REG_DWORD" value="0000001a"/>
  </Registry>
</RegistrySettings>
`),
	}
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hosts, err := evidence.Discover(context.Background(), []string{root}, evidence.Options{})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("discover: %d hosts, %v", len(hosts), err)
	}
	return hosts[0].Files
}

func gpoEventsOf(t *testing.T, files []evidence.File, f Filter) []*event.Event {
	t.Helper()
	var evs []*event.Event
	opts := GPOOptions{Host: "H", Filter: f, UserOf: func(k string) (string, string) {
		if strings.EqualFold(k, "alice") {
			return testSID, `CORP\alice`
		}
		return "", ""
	}}
	if err := GPOEvents(context.Background(), files, opts, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func render(ev *event.Event, names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+ev.String(n))
	}
	return string(ev.Category) + " " + strings.Join(parts, " ")
}

func TestGPOEvents_EveryRecordItemAndScript(t *testing.T) {
	evs := gpoEventsOf(t, gpoTree(t), All)
	var got []string
	for _, ev := range evs {
		switch ev.Category {
		case event.GPORegistry:
			got = append(got, render(ev, "TargetObject", "Action", "Type", "Details", "Scope", "GPOGuid", "Format", "UserSid"))
		case event.GPOScript:
			got = append(got, render(ev, "Phase", "Index", "CmdLine", "Parameters", "PowerShell", "ScriptBody", "Scope"))
		case event.GPPEnvironment:
			got = append(got, render(ev, "Action", "Name", "Value", "UserVariable", "Partial", "TargetObject", "GPOGuid", "UserSid"))
		}
	}
	sort.Strings(got)
	userRoot := `HKU\` + testSID
	want := []string{
		`gpo_registry TargetObject=HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\Path Action=delete_value Type=REG_SZ Details=(Empty) Scope=Machine GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKLM\Software\Policies\Contoso\A Action=delete_keys Type=REG_SZ Details=(Empty) Scope=Machine GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKLM\Software\Policies\Contoso\B Action=delete_keys Type=REG_SZ Details=(Empty) Scope=Machine GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKLM\Software\Policies\Contoso\Level Action=set Type=REG_DWORD Details=DWORD (0x00000005) Scope=Machine GPOGuid= Format=Registry.pol UserSid=`,
		// The local User policy applies to every user: no SID is known.
		`gpo_registry TargetObject=HKCU\Environment\GOPATH Action=set Type=REG_EXPAND_SZ Details=C:\Users\Public\go Scope=User GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKCU\Environment\GOROOT Action=delete_value Type=REG_SZ Details=(Empty) Scope=User GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKCU\Environment\GOFLAGS Action=delete_value Type=REG_SZ Details=(Empty) Scope=User GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKCU\Software\Policies\Microsoft\Windows\Control Panel\Desktop\ScreenSaveActive Action=set Type=REG_SZ Details=1 Scope=User GPOGuid= Format=Registry.pol UserSid=`,
		`gpo_registry TargetObject=HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\GOROOT Action=update Type=REG_SZ Details=C:\Users\Public\go Scope=Machine GPOGuid=` + testGPOGuid + ` Format=GPP Registry.xml UserSid=`,
		`gpo_registry TargetObject=HKLM\Software\Contoso\Level Action=create Type=REG_DWORD Details=DWORD (0x0000001a) Scope=Machine GPOGuid=` + testGPOGuid + ` Format=GPP Registry.xml UserSid=`,
		"gpo_script Phase=Logon Index=0 CmdLine=SetPath.cmd Parameters=/q PowerShell=false ScriptBody=@echo off\r\nsetx PATH \"C:\\Users\\Public\\tools;%PATH%\"\r\n Scope=User",
		`gpo_script Phase=Logon Index=1 CmdLine=\\corp.example\NETLOGON\map.cmd Parameters= PowerShell=false ScriptBody= Scope=User`,
		`gpp_environment Action=replace Name=GOPATH Value=C:\Users\Public\go UserVariable=true Partial=false TargetObject=` + userRoot + `\Environment\GOPATH GPOGuid=` + testGPOGuid + ` UserSid=` + testSID,
		`gpp_environment Action=update Name=Path Value=C:\Tools UserVariable=false Partial=true TargetObject=HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\Path GPOGuid=` + testGPOGuid + ` UserSid=` + testSID,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\n\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ev := range evs {
		if ev.String("EvidenceFile") == "" || ev.String("PolicyFile") == "" || ev.String("Host") != "H" {
			t.Errorf("event without its file or host: %v", render(ev, "EvidenceFile", "PolicyFile", "Host"))
		}
		spec, _ := event.Lookup(ev.Category)
		declared := map[string]bool{}
		for _, f := range append(spec.Fields, event.CommonFields...) {
			declared[f.Name] = true
		}
		for _, n := range ev.Names() {
			if !declared[n] {
				t.Errorf("%s event carries undeclared field %s", ev.Category, n)
			}
		}
	}
}

type onlyCategory event.Category

func (c onlyCategory) WantCategory(x event.Category) bool   { return x == event.Category(c) }
func (c onlyCategory) Descend(string) bool                  { return true }
func (c onlyCategory) Want(x event.Category, _ string) bool { return x == event.Category(c) }

func TestGPOEvents_FilterSkipsUnwantedFiles(t *testing.T) {
	for _, ev := range gpoEventsOf(t, gpoTree(t), onlyCategory(event.GPOScript)) {
		if ev.Category != event.GPOScript {
			t.Fatalf("got a %s event with only gpo_script wanted", ev.Category)
		}
	}
}

func TestGPOEvents_BadFileIsReportedAndOthersStillRead(t *testing.T) {
	files := gpoTree(t)
	for _, f := range files {
		if strings.HasSuffix(f.Path, "Machine/Registry.pol") {
			os.WriteFile(f.Path, []byte("PReg\x01\x00\x00\x00[\x00K"), 0o644)
		}
	}
	n := 0
	err := GPOEvents(context.Background(), files, GPOOptions{}, func(*event.Event) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "Machine/Registry.pol") {
		t.Fatalf("want an error naming the damaged file, got %v", err)
	}
	if n < 8 {
		t.Errorf("only %d events from the readable files", n)
	}
}

// A script body longer than the bound is cut there and flagged.
func TestGPOEvents_LongScriptBodyIsTruncated(t *testing.T) {
	files := gpoTree(t)
	for _, f := range files {
		if strings.HasSuffix(f.Path, "setpath.cmd") {
			body := "setx PATH x\r\n" + strings.Repeat("rem padding\r\n", gpo.MaxScriptBody/12+10)
			if err := os.WriteFile(f.Path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ev := range gpoEventsOf(t, files, All) {
		if ev.Category != event.GPOScript || ev.String("CmdLine") != "SetPath.cmd" {
			continue
		}
		if ev.String("ScriptBodyTruncated") != "true" || len(ev.String("ScriptBody")) != gpo.MaxScriptBody {
			t.Errorf("truncated=%s, body of %d bytes", ev.String("ScriptBodyTruncated"), len(ev.String("ScriptBody")))
		}
		return
	}
	t.Fatal("no event for the logon script")
}

// Group Policy files and script bodies inside a ZIP collection are read in
// place.
func TestGPOEvents_ReadsZipCollectionsInPlace(t *testing.T) {
	dir := t.TempDir()
	zpath := filepath.Join(dir, "WS1.zip")
	zf, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for name, data := range map[string][]byte{
		"uploads/auto/C%3A/Users/alice/NTUSER.DAT": []byte("regf"),
		"uploads/auto/C%3A/Windows/System32/GroupPolicy/User/Registry.pol": gpo.EncodePol([]gpo.PolRecord{
			{Key: `Environment`, ValueName: `GOROOT`, Type: hive.RegSZ, Data: gpo.StringData(`C:\Users\Public\go`)},
		}),
		"uploads/auto/C%3A/Windows/System32/GroupPolicy/User/Scripts/scripts.ini":   gpo.MarshalScripts([]gpo.Script{{Phase: gpo.Logon, CmdLine: "env.cmd"}}),
		"uploads/auto/C%3A/Windows/System32/GroupPolicy/User/Scripts/Logon/env.cmd": []byte("setx GOROOT C:\\Users\\Public\\go\r\n"),
	} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	zf.Close()
	hosts, err := evidence.Discover(context.Background(), []string{zpath}, evidence.Options{})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("discover: %d hosts, %v", len(hosts), err)
	}
	got := map[string]string{}
	for _, ev := range gpoEventsOf(t, hosts[0].Files, All) {
		got[string(ev.Category)] = ev.String("TargetObject") + " | " + ev.String("Details") + " | " + ev.String("ScriptBody")
	}
	if want := `HKCU\Environment\GOROOT | C:\Users\Public\go | `; got["gpo_registry"] != want {
		t.Errorf("gpo_registry: %q, want %q", got["gpo_registry"], want)
	}
	if !strings.Contains(got["gpo_script"], "setx GOROOT") {
		t.Errorf("gpo_script: %q: the body in the archive was not read", got["gpo_script"])
	}
}

// A Registry.pol damaged after some records: the records before the damage
// become events, and the error names the file.
func TestGPOEvents_RecordsBeforeDamageAreKept(t *testing.T) {
	files := gpoTree(t)
	for _, f := range files {
		if strings.HasSuffix(f.Path, "User/Registry.pol") && strings.Contains(f.Path, "GroupPolicy") {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(f.Path, append(data, '[', 0, 'E', 0), 0o644)
		}
	}
	var targets []string
	err := GPOEvents(context.Background(), files, GPOOptions{Filter: onlyCategory(event.GPORegistry)}, func(ev *event.Event) error {
		targets = append(targets, ev.String("TargetObject"))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "User/Registry.pol") {
		t.Fatalf("want an error naming the damaged file, got %v", err)
	}
	if !strings.Contains(strings.Join(targets, "\n"), `HKCU\Environment\GOPATH`) {
		t.Errorf("the GOPATH record before the damage is missing: %v", targets)
	}
}
