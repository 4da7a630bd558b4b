package analyze_test

import (
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/evtx"
)

// A Security 4657 record (registry value modified) becomes a registry_set
// event with Sysmon's names, so registry rules written for Sysmon match it.
func ExampleEvtxEvent() {
	rec := &evtx.Record{}
	rec.System.ProviderName = "Microsoft-Windows-Security-Auditing"
	rec.System.EventID = 4657
	rec.System.Computer = "WS01"
	rec.System.TimeCreated = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, kv := range [][2]string{
		{"SubjectUserSid", "S-1-5-21-1-2-3-1001"}, {"SubjectUserName", "alice"}, {"SubjectDomainName", "CORP"},
		{"ObjectName", `\REGISTRY\USER\S-1-5-21-1-2-3-1001\Environment`}, {"ObjectValueName", "GOPATH"},
		{"OperationType", "%%1905"}, {"OldValueType", "%%1873"}, {"OldValue", `C:\Users\alice\go`},
		{"NewValueType", "%%1873"}, {"NewValue", `C:\Users\Public\go`},
		{"ProcessId", "0x1300"}, {"ProcessName", `C:\Windows\System32\setx.exe`},
	} {
		rec.Data = append(rec.Data, evtx.Field{Name: kv[0], Value: evtx.StringValue(kv[1])})
	}
	ev := analyze.EvtxEvent(rec, "Security.evtx")
	fmt.Println(ev.Category)
	for _, f := range []string{"TargetObject", "Details", "PreviousDetails", "Image", "ProcessId", "User"} {
		fmt.Printf("%s: %s\n", f, ev.String(f))
	}
	// Output:
	// registry_set
	// TargetObject: HKU\S-1-5-21-1-2-3-1001\Environment\GOPATH
	// Details: C:\Users\Public\go
	// PreviousDetails: C:\Users\alice\go
	// Image: C:\Windows\System32\setx.exe
	// ProcessId: 4864
	// User: CORP\alice
}
