package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

// scanDemo generates the collection and scans the host the way `make demo`
// does.
func scanDemo(t *testing.T, noLogs bool) []*report.Finding {
	t.Helper()
	dir := t.TempDir()
	if _, err := generate(dir); err != nil {
		t.Fatal(err)
	}
	var found []*report.Finding
	opts := scan.Options{NoLogs: noLogs, Roaming: []string{filepath.Join(dir, roamingDir)}, Jobs: 1}
	_, err := scan.Scan(context.Background(), []string{filepath.Join(dir, hostName)}, opts, func(f *report.Finding) error {
		found = append(found, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// plantedFinding is one row of README.md that a built-in rule reports.
type plantedFinding struct {
	ruleID string // stable rule id; the title is in the comment
	key    string // suffix of the finding's key
	value  string
}

// The planted items README.md promises and today's built-in rules report.
// Analyses that are not rules yet (ACL, roaming comparison, PATH order,
// setx truncation) add their rows here when they land.
var plantedFindings = []plantedFinding{
	{"d956def4-42af-5ff5-966c-b65387264cc9", `\Services\wdfilter2`, ""},                                   // Kernel Driver Loaded From a User-Writable ... Location
	{"d19d13b4-dfaf-5eea-b171-adacdcf00919", `\Control\CI\Callbacks`, ""},                                 // Code Integrity Callbacks Key Present
	{"97cf1f57-cecb-596a-b445-efe2c4f69dfd", aliceSID + `\Scripts\Logon\0\0`, "Parameters"},               // Group Policy Script That Rewrites the Environment (SOFTWARE state)
	{"97cf1f57-cecb-596a-b445-efe2c4f69dfd", `\Group Policy\Scripts\Logon\0\0`, "Parameters"},             // ... (alice's NTUSER)
	{"d059af6f-3ac3-5343-ad88-177f828303a5", bobSID + `\Environment`, "UserInitMprLogonScript"},           // Logon Script Registered in the User Environment
	{"d141d900-d58d-5fd9-be83-2e783cdfcbba", bobSID + `\Software\Microsoft\Command Processor`, "AutoRun"}, // Command Processor AutoRun Set
	{"deb8ed00-2eba-534d-bead-4b1658a88031", bobSID + `\Environment`, "COR_ENABLE_PROFILING"},             // .NET Profiler or Startup Hook ...
	{"deb8ed00-2eba-534d-bead-4b1658a88031", bobSID + `\Environment`, "COR_PROFILER"},
	{"deb8ed00-2eba-534d-bead-4b1658a88031", bobSID + `\Environment`, "COR_PROFILER_PATH"},
	{"8c10ab60-d15f-5031-a789-9d0c7e3c10eb", bobSID + `\Environment`, "GOROOT"}, // GOROOT, GOPATH or GOBIN in an Unusual Place
}

func has(found []*report.Finding, p plantedFinding) bool {
	for _, f := range found {
		if f.RuleID == p.ruleID && strings.HasSuffix(f.Key, p.key) && f.Value == p.value {
			return true
		}
	}
	return false
}

func TestDemoScan_ReportsThePlantedItemsAndNothingForCarol(t *testing.T) {
	found := scanDemo(t, false)
	for _, p := range plantedFindings {
		if !has(found, p) {
			t.Errorf("no finding of rule %s for %s\\%s", p.ruleID, p.key, p.value)
		}
	}
	for _, f := range found {
		if f.UserSID == carolSID || strings.Contains(f.Source, "/carol/") || strings.Contains(f.Key, carolSID) {
			t.Errorf("carol must be clean, got %q on %s\\%s", f.Title, f.Key, f.Value)
		}
	}
}

func TestDemoScan_ProfilerAndGorootNeedTheLog(t *testing.T) {
	found := scanDemo(t, true)
	for _, p := range plantedFindings {
		logOnly := strings.HasPrefix(p.value, "COR_") || p.value == "GOROOT"
		if has(found, p) == logOnly {
			t.Errorf("--no-logs: finding of rule %s for %s\\%s present = %v", p.ruleID, p.key, p.value, !logOnly)
		}
	}
}
