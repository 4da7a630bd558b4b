package analyze

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

func evtxFileEvents(t *testing.T, name string) []*event.Event {
	t.Helper()
	path := testcorpus.Path(t, "evtx", name)
	f, err := evtx.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*event.Event
	if err := EvtxEvents(context.Background(), f, path, func(ev *event.Event) error { out = append(out, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Expected values below are transcribed from the corpus's EXPECTED.md,
// section 7 (the per-file registry, 4688 and 4104 tables).
func TestEvtxEvents_SysmonRegistryCategoriesAndFields(t *testing.T) {
	evs := evtxFileEvents(t, "sysmon_uacbypass_CDSSync_schtask_hijack_byeintegrity5.evtx")
	var got []string
	for _, ev := range evs {
		if ev.Category == event.ProcessCreation {
			continue
		}
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", ev.Category, ev.String("EventType"), ev.String("TargetObject"),
			ev.String("Details"), ev.String("Image"), ev.String("ProcessId"), ev.String("UserSid")))
	}
	const sid = `S-1-5-21-1586556212-2165235939-1437495523-1001`
	const img = `C:\Users\Public\tools\privesc\uac\byeintegrity5-uac.exe`
	want := []string{
		`registry_key|CreateKey|HKU\` + sid + `\Environment||` + img + `|11644|` + sid,
		`registry_set|SetValue|HKU\` + sid + `\Environment\systemroot|C:\Users\Public\tools\privesc\uac|` + img + `|11644|` + sid,
		`registry_delete|DeleteValue|HKU\` + sid + `\Environment\systemroot||` + img + `|11644|` + sid,
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("registry events:\n got %q\nwant %q", got, want)
	}
	for _, ev := range evs {
		if ev.Category == event.RegistrySet {
			if ev.String("ValueName") != "systemroot" || ev.String("KeyPath") != `HKU\`+sid+`\Environment` {
				t.Errorf("ValueName %q KeyPath %q", ev.String("ValueName"), ev.String("KeyPath"))
			}
		}
	}
}

func TestEvtxEvents_SysmonDWORDDetailsGiveTypedData(t *testing.T) {
	evs := evtxFileEvents(t, "persistence_SilentProcessExit_ImageHijack_sysmon_13_1.evtx")
	for _, ev := range evs {
		if ev.Category != event.RegistrySet || ev.String("ValueName") != "GlobalFlag" {
			continue
		}
		if ev.String("Details") != "DWORD (0x00000200)" || ev.String("ValueType") != "REG_DWORD" || ev.String("Data") != "512" {
			t.Errorf("GlobalFlag: Details %q ValueType %q Data %q", ev.String("Details"), ev.String("ValueType"), ev.String("Data"))
		}
		return
	}
	t.Error("no GlobalFlag registry_set event")
}

func TestEvtxEvents_Security4688BecomesProcessCreation(t *testing.T) {
	evs := evtxFileEvents(t, "security_4624_4673_token_manip.evtx")
	var procs []*event.Event
	for _, ev := range evs {
		if ev.Category == event.ProcessCreation {
			procs = append(procs, ev)
		}
	}
	if len(procs) != 8 {
		t.Fatalf("%d process_creation events, want 8 (the file's 4688 records)", len(procs))
	}
	p := procs[0] // record 2: NewProcessId 0x000004f0, creator 0x0000012c
	got := fmt.Sprintf("%s|%s|%s|%s|%s", p.String("Image"), p.String("ProcessId"), p.String("ParentProcessId"), p.String("User"), p.String("UtcTime"))
	want := `C:\Python27\python.exe|1264|300|IEWIN7\IEUser|2019-05-11T17:10:10.3424456Z`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestEvtxEvents_PowerShell4104BecomesPSScript(t *testing.T) {
	evs := evtxFileEvents(t, "exec_emotet_ps_4104.evtx")
	if len(evs) != 1 || evs[0].Category != event.PSScript {
		t.Fatalf("want one ps_script event, got %d", len(evs))
	}
	ev := evs[0]
	if ev.String("ScriptBlockId") != "fdd51159-9602-40cb-839d-c31039ebbc3a" || ev.String("MessageNumber") != "1" ||
		ev.String("MessageTotal") != "1" || len([]rune(ev.String("ScriptBlockText"))) != 1609 {
		t.Errorf("fields: %v", ev.Fields)
	}
}

// security4657Record builds a Security 4657 record as Windows logs it.
func security4657Record(op, objectName, valueName, oldType, oldValue, newType, newValue string) *evtx.Record {
	r := &evtx.Record{Offset: 0x1200}
	r.System.ProviderName = providerSecurity
	r.System.EventID = 4657
	r.System.Channel = "Security"
	r.System.Computer = "WS01"
	r.System.TimeCreated = time.Date(2024, 3, 1, 8, 0, 0, 123456700, time.UTC)
	for _, kv := range [][2]string{
		{"SubjectUserSid", "S-1-5-21-1-2-3-1001"}, {"SubjectUserName", "alice"}, {"SubjectDomainName", "CORP"},
		{"SubjectLogonId", "0x3e7"}, {"ObjectName", objectName}, {"ObjectValueName", valueName}, {"HandleId", "0x2bc"},
		{"OperationType", op}, {"OldValueType", oldType}, {"OldValue", oldValue}, {"NewValueType", newType},
		{"NewValue", newValue}, {"ProcessId", "0x1300"}, {"ProcessName", `C:\Windows\System32\reg.exe`},
	} {
		r.Data = append(r.Data, evtx.Field{Name: kv[0], Value: evtx.StringValue(kv[1])})
	}
	return r
}

func TestEvtxEvent_Security4657MapsToSysmonNames(t *testing.T) {
	tests := []struct {
		name string
		rec  *evtx.Record
		want string // category|EventType|TargetObject|Details|PreviousDetails|Image|ProcessId|UserSid|User
	}{
		{"modified user value",
			security4657Record("%%1905", `\REGISTRY\USER\S-1-5-21-1-2-3-1001\Environment`, "Path", "%%1874", `%USERPROFILE%\bin`, "%%1874", `C:\Users\Public\x`),
			`registry_set|SetValue|HKU\S-1-5-21-1-2-3-1001\Environment\Path|C:\Users\Public\x|%USERPROFILE%\bin|C:\Windows\System32\reg.exe|4864|S-1-5-21-1-2-3-1001|CORP\alice`},
		{"new DWORD under ControlSet001",
			security4657Record("%%1904", `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\X`, "Start", "", "", "%%1876", "2"),
			`registry_set|SetValue|HKLM\SYSTEM\CurrentControlSet\Services\X\Start|DWORD (0x00000002)||C:\Windows\System32\reg.exe|4864|S-1-5-21-1-2-3-1001|CORP\alice`},
		{"deleted default value",
			security4657Record("%%1906", `\REGISTRY\MACHINE\SOFTWARE\Classes\CLSID\{X}\InprocServer32`, "", "%%1873", "a.dll", "", ""),
			`registry_delete|DeleteValue|HKLM\SOFTWARE\Classes\CLSID\{X}\InprocServer32\(Default)|||C:\Windows\System32\reg.exe|4864|S-1-5-21-1-2-3-1001|CORP\alice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := EvtxEvent(tt.rec, "Security.evtx")
			got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s", ev.Category, ev.String("EventType"), ev.String("TargetObject"), ev.String("Details"),
				ev.String("PreviousDetails"), ev.String("Image"), ev.String("ProcessId"), ev.String("UserSid"), ev.String("User"))
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			for _, n := range ev.Names() {
				if !event.HasField(ev.Category, n) {
					t.Errorf("field %s is not declared for %s", n, ev.Category)
				}
			}
		})
	}
}

func TestEvtxEvents_OnlyDeclaredFields(t *testing.T) {
	dir := testcorpus.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "evtx", "*.evtx"))
	for _, p := range files {
		for _, ev := range evtxFileEvents(t, filepath.Base(p)) {
			for _, n := range ev.Names() {
				if !event.HasField(ev.Category, n) {
					t.Errorf("%s: field %s is not declared for %s", filepath.Base(p), n, ev.Category)
				}
			}
		}
	}
}

func recordOf(provider string, id uint32, kv ...string) *evtx.Record {
	r := &evtx.Record{}
	r.System.ProviderName = provider
	r.System.EventID = id
	r.System.Channel = "Test"
	r.System.TimeCreated = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Data = append(r.Data, evtx.Field{Name: kv[i], Value: evtx.StringValue(kv[i+1])})
	}
	return r
}

func TestEvtxEvent_CategoriesByRecord(t *testing.T) {
	tests := []struct {
		name string
		rec  *evtx.Record
		want string // category|EventType|TargetObject|NewName|Image|ProcessId|ParentImage|User|UserSid
	}{
		{"Sysmon 14 rename",
			recordOf(providerSysmon, 14, "EventType", "RenameKey", "TargetObject", `HKLM\SOFTWARE\A`, "NewName", `HKLM\SOFTWARE\B`, "Image", `C:\x.exe`, "ProcessId", "42"),
			`registry_rename|RenameKey|HKLM\SOFTWARE\A|HKLM\SOFTWARE\B|C:\x.exe|42|||`},
		{"Sysmon 12 key deletion",
			recordOf(providerSysmon, 12, "EventType", "DeleteKey", "TargetObject", `HKU\S-1-5-21-9-1001\Environment`, "Image", `C:\x.exe`, "ProcessId", "42", "User", `CORP\bob`),
			`registry_delete|DeleteKey|HKU\S-1-5-21-9-1001\Environment||C:\x.exe|42||CORP\bob|S-1-5-21-9-1001`},
		{"Security 4688 version 2 runs as the target user",
			recordOf(providerSecurity, 4688, "SubjectUserSid", "S-1-5-18", "SubjectUserName", "WS01$", "SubjectDomainName", "CORP",
				"NewProcessId", "0x1a2c", "NewProcessName", `C:\Windows\System32\setx.exe`, "ProcessId", "0xe88",
				"CommandLine", `setx PATH C:\Users\Public`, "TargetUserSid", "S-1-5-21-9-1001", "TargetUserName", "bob",
				"TargetDomainName", "CORP", "ParentProcessName", `C:\Windows\System32\cmd.exe`, "MandatoryLabel", "S-1-16-8192"),
			`process_creation|ProcessStart|||C:\Windows\System32\setx.exe|6700|C:\Windows\System32\cmd.exe|CORP\bob|S-1-5-21-9-1001`},
		{"other records give no event", recordOf(providerSecurity, 4624), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := EvtxEvent(tt.rec, "x.evtx")
			got := ""
			if ev != nil {
				got = fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s", ev.Category, ev.String("EventType"), ev.String("TargetObject"), ev.String("NewName"),
					ev.String("Image"), ev.String("ProcessId"), ev.String("ParentImage"), ev.String("User"), ev.String("UserSid"))
				for _, n := range ev.Names() {
					if !event.HasField(ev.Category, n) {
						t.Errorf("field %s is not declared for %s", n, ev.Category)
					}
				}
			}
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
