package report_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/report"
)

// A pipeline turns a matched event into a finding and streams it as JSON
// Lines. Text output for a terminal uses report.NewTextWriter instead, with
// Color set from isatty.
func Example() {
	lastWrite := time.Date(2024, 3, 5, 10, 11, 12, 123456700, time.UTC)
	ev := event.New(event.RegistrySet, lastWrite).
		Set("TargetObject", `HKU\S-1-5-21-1-2-3-1001\Environment\GOROOT`).
		Set("ValueName", "GOROOT").
		Set("Data", "C:\\Users\\Public\\go\x1b[2J").
		Set("KeyPath", `HKU\S-1-5-21-1-2-3-1001\Environment`).
		Set("LastWrite", lastWrite).
		Set("Host", "WS01").
		Set("UserSid", "S-1-5-21-1-2-3-1001")

	f := report.FindingFromEvent(ev)
	f.RuleID = "0b7f2a64-1c55-4c1e-9a3b-0d7c5a0e2f11"
	f.Title = "GOROOT points to a public directory"
	f.Level = report.LevelHigh
	f.Pattern = "path"
	f.Attack = report.AttackFromTags([]string{"attack.persistence", "attack.t1574.007"})

	w := report.NewJSONLWriter(os.Stdout)
	w.WriteFinding(f)
	w.Close()
	// Output:
	// {"rule_id":"0b7f2a64-1c55-4c1e-9a3b-0d7c5a0e2f11","title":"GOROOT points to a public directory","level":"high","pattern":"path","attack":["T1574.007"],"host":"WS01","user_sid":"S-1-5-21-1-2-3-1001","user":"","source":"","key":"HKU\\S-1-5-21-1-2-3-1001\\Environment","value":"GOROOT","data":"C:\\Users\\Public\\go\u001b[2J","last_write":"2024-03-05T10:11:12.1234567Z","time":"2024-03-05T10:11:12.1234567Z","explain":"","remediation":"","recovered":false,"event":{"TargetObject":"HKU\\S-1-5-21-1-2-3-1001\\Environment\\GOROOT","ValueName":"GOROOT","Data":"C:\\Users\\Public\\go\u001b[2J","KeyPath":"HKU\\S-1-5-21-1-2-3-1001\\Environment","LastWrite":"2024-03-05T10:11:12.1234567Z","Host":"WS01","UserSid":"S-1-5-21-1-2-3-1001"}}
}

// The text report for a terminal: sanitized, grouped by host and user.
func ExampleTextWriter() {
	w := report.NewTextWriter(os.Stdout, report.TextOptions{Color: false})
	w.WriteFinding(&report.Finding{
		Title: "Logon script in the user's Environment", Level: report.LevelHigh, Pattern: "persistence",
		Attack: []string{"T1037.001"}, Host: "WS01", UserSID: "S-1-5-21-1-2-3-1001",
		Key: `HKU\S-1-5-21-1-2-3-1001\Environment`, Value: "UserInitMprLogonScript",
		Data: "C:\\Users\\Public\\x.bat\u202e",
	})
	w.Close()
	// Output:
	// == host WS01 · user S-1-5-21-1-2-3-1001 ==
	//
	// HIGH      Logon script in the user's Environment
	//           pattern persistence · T1037.001
	//           key    HKU\S-1-5-21-1-2-3-1001\Environment
	//           value  UserInitMprLogonScript = C:\Users\Public\x.bat\u202e
	//
	// 1 finding: 1 high
}

// A timeline from two sources, merged in time order and written as a Sleuth
// Kit bodyfile for mactime. A source only has to implement Rows.
func ExampleSortTimeline() {
	t0 := time.Date(2024, 3, 5, 10, 11, 12, 123456700, time.UTC)
	registry := report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
		return emit(report.TimelineRow{Time: t0, Source: "registry", Kind: "key_last_write", Host: "WS01",
			Key: `HKU\S-1-5-21-1-2-3-1001\Environment`, Description: "key last written"})
	})
	trace := report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
		return emit(report.TimelineRow{Time: t0.Add(-time.Second), Source: "etw", Kind: "SetValue", Host: "WS01",
			Key: `HKU\S-1-5-21-1-2-3-1001\Environment\Path`, Description: "reg.exe wrote Path|with a pipe"})
	})
	w, _ := report.NewTimelineWriter(report.FormatBodyfile, os.Stdout)
	report.SortTimeline(context.Background(), []report.TimelineSource{registry, trace}, report.TimelineFilter{}, w.WriteRow)
	w.Close()
	// Output:
	// 0|2024-03-05T10:11:11.1234567Z [etw:SetValue] HKU\S-1-5-21-1-2-3-1001\Environment\Path: reg.exe wrote Path\x7cwith a pipe (host WS01)|0|0|0|0|0|1709633471|1709633471|1709633471|1709633471
	// 0|2024-03-05T10:11:12.1234567Z [registry:key_last_write] HKU\S-1-5-21-1-2-3-1001\Environment: key last written (host WS01)|0|0|0|0|0|1709633472|1709633472|1709633472|1709633472
}

// A remediation step for a value planted by an attacker: the name and data
// from the evidence are quoted so they stay data.
func ExamplePowerShellWriter() {
	f := &report.Finding{
		Title: "Logon script in the user's Environment", Level: report.LevelHigh, Pattern: "persistence",
		UserSID: "S-1-5-21-1-2-3-1001", Key: `HKU\S-1-5-21-1-2-3-1001\Environment`,
		Value: "UserInitMprLogonScript", Data: "x.bat'; Remove-Item C:\\ -Recurse #",
	}
	fmt.Println(report.DefaultActions(f)[0].Kind)
	q, _ := report.PowerShellString(f.Data)
	fmt.Println(q)
	// Output:
	// delete_value
	// 'x.bat''; Remove-Item C:\ -Recurse #'
}
