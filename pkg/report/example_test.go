package report_test

import (
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
