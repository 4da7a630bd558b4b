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
	ruleID  string // stable rule id; the title is in the comment
	key     string // suffix of the finding's key
	value   string
	logOnly bool // the evidence is only in bob's NTUSER.DAT.LOG1
}

// The planted items README.md promises and the built-in rules report.
var plantedFindings = []plantedFinding{
	{ruleID: "61e48f91-d72c-5e2d-b6c5-cd7f3d6d1fac", key: aliceSID + `\Environment`},                                             // Environment Key Writable by Another Principal
	{ruleID: "d956def4-42af-5ff5-966c-b65387264cc9", key: `\Services\wdfilter2`},                                                 // Kernel Driver Loaded From a User-Writable ... Location
	{ruleID: "d19d13b4-dfaf-5eea-b171-adacdcf00919", key: `\Control\CI\Callbacks`},                                               // Code Integrity Callbacks Key Present
	{ruleID: "97cf1f57-cecb-596a-b445-efe2c4f69dfd", key: aliceSID + `\Scripts\Logon\0\0`, value: "Parameters"},                  // Group Policy Script That Rewrites the Environment (SOFTWARE state)
	{ruleID: "97cf1f57-cecb-596a-b445-efe2c4f69dfd", key: `\Group Policy\Scripts\Logon\0\0`, value: "Parameters"},                // ... (alice's NTUSER)
	{ruleID: "b49ded7d-f0a0-5bfb-9fd4-35b16a6a6b5f", key: `\Session Manager\Environment\Path`},                                   // Writable Directory Ahead of System32 in the Machine Path
	{ruleID: "2388ee4f-682e-5711-a4fd-d90703cb5688", key: aliceSID + `\Environment\Path`},                                        // User Path Cut at 1024 Characters (setx Truncation)
	{ruleID: "d059af6f-3ac3-5343-ad88-177f828303a5", key: bobSID + `\Environment`, value: "UserInitMprLogonScript"},              // Logon Script Registered in the User Environment
	{ruleID: "d141d900-d58d-5fd9-be83-2e783cdfcbba", key: bobSID + `\Software\Microsoft\Command Processor`, value: "AutoRun"},    // Command Processor AutoRun Set
	{ruleID: "deb8ed00-2eba-534d-bead-4b1658a88031", key: bobSID + `\Environment`, value: "COR_ENABLE_PROFILING", logOnly: true}, // .NET Profiler or Startup Hook ...
	{ruleID: "deb8ed00-2eba-534d-bead-4b1658a88031", key: bobSID + `\Environment`, value: "COR_PROFILER", logOnly: true},
	{ruleID: "deb8ed00-2eba-534d-bead-4b1658a88031", key: bobSID + `\Environment`, value: "COR_PROFILER_PATH", logOnly: true},
	{ruleID: "8c10ab60-d15f-5031-a789-9d0c7e3c10eb", key: bobSID + `\Environment`, value: "GOROOT", logOnly: true}, // GOROOT, GOPATH or GOBIN in an Unusual Place
	{ruleID: "c2f80538-8316-57fe-926d-4ff71632949c", key: bobSID + `\Environment\Path`, logOnly: true},             // Public, Temporary or Network Directory in the Path
	{ruleID: "0770db14-6415-5c95-bcd7-8e25ed63db02", key: aliceSID + `\Environment`, value: "Path"},                // Roaming Profile Server Copy Overwrites the Local Environment at Logon
	{ruleID: "0770db14-6415-5c95-bcd7-8e25ed63db02", key: aliceSID + `\Environment`, value: "GOPATH"},
	{ruleID: "5ded5c10-4c34-5c05-be46-3ec821b86768", key: aliceSID + `\Environment`, value: "Path"}, // Logged Write of an Environment Value That the Hive Does Not Hold (EnvWatch.etl)
}

// has reports whether a finding of p's rule names p's key and value; the
// key\value path is compared as a whole, so a finding may name the value in
// Value or as the last element of Key.
func has(found []*report.Finding, p plantedFinding) bool {
	want := p.key
	if p.value != "" {
		want += `\` + p.value
	}
	for _, f := range found {
		got := f.Key
		if f.Value != "" {
			got += `\` + f.Value
		}
		if f.RuleID == p.ruleID && strings.HasSuffix(got, want) {
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
		if has(found, p) == p.logOnly {
			t.Errorf("--no-logs: finding of rule %s for %s\\%s present = %v", p.ruleID, p.key, p.value, !p.logOnly)
		}
	}
}
