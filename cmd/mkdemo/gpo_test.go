package main

import (
	"strings"
	"testing"
)

// The Group Policy files of the demo give the findings README.md lists.
func TestDemoScan_GroupPolicyFiles(t *testing.T) {
	found := scanDemo(t, false)
	want := []struct {
		ruleID, key, data string
		user              string
	}{
		// Group Policy Sets or Deletes an Environment Variable (local User policy: no SID).
		{"bf9b5794-a2e3-4568-be3c-931ec8700a25", `HKCU\Environment\GOPATH`, demoPolGOPATH, ""},
		// Group Policy Script File That Rewrites the Environment.
		{"d665b622-4859-4eef-b220-c4f9dd674c21", `Windows\System32\GroupPolicy\User\Scripts\scripts.ini\Logon\0CmdLine`, "setpath.cmd", ""},
		// Group Policy Preferences Environment Variable Item (alice's history cache).
		{"87fdb84c-aaaf-4c4a-928f-50287cf500c8", `HKU\` + aliceSID + `\Environment\Path`, "", aliceSID},
		{"87fdb84c-aaaf-4c4a-928f-50287cf500c8", `HKU\` + aliceSID + `\Environment\GOPROXY`, "", aliceSID},
	}
	for _, w := range want {
		ok := false
		for _, f := range found {
			got := f.Key
			if f.Value != "" {
				got += `\` + f.Value
			}
			if f.RuleID == w.ruleID && strings.HasSuffix(got, w.key) && (w.data == "" || f.Data == w.data) && f.UserSID == w.user {
				ok = true
			}
		}
		if !ok {
			t.Errorf("no finding of rule %s for %s", w.ruleID, w.key)
		}
	}
	for _, f := range found {
		if f.Pattern == "gpo" && strings.Contains(f.Explain, "{{") {
			t.Errorf("unrendered explanation: %s", f.Explain)
		}
	}
}
