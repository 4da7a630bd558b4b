package gpo_test

import (
	"fmt"

	"github.com/envhunt/envhunt/pkg/gpo"
	"github.com/envhunt/envhunt/pkg/hive"
)

// A pipeline reads a User policy's Registry.pol and lists what it does to
// the user's Environment key.
func ExampleLoadPol() {
	data := gpo.EncodePol([]gpo.PolRecord{
		{Key: `Environment`, ValueName: `GOPATH`, Type: hive.RegExpandSZ, Data: gpo.StringData(`C:\Users\Public\go`)},
		{Key: `Environment`, ValueName: `**del.GOROOT`, Type: hive.RegSZ, Data: gpo.StringData(" ")},
	})
	pol, err := gpo.LoadPol("User/Registry.pol", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range pol.Records {
		fmt.Println(r.Action(), `HKCU\`+r.Key, r.Targets(), r.DataValue().Text)
	}
	// Output:
	// set HKCU\Environment [GOPATH] C:\Users\Public\go
	// delete_value HKCU\Environment [GOROOT]
}

// Scripts of a GPO's scripts.ini, as the Group Policy editor writes it.
func ExampleLoadScripts() {
	data := gpo.MarshalScripts([]gpo.Script{{Phase: gpo.Logon, CmdLine: "setpath.cmd", Parameters: "/quiet"}})
	s, err := gpo.LoadScripts("User/Scripts/scripts.ini", data, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range s.Scripts {
		fmt.Printf("%s #%d: %s %s\n", e.Phase, e.Index, e.CmdLine, e.Parameters)
	}
	// Output:
	// Logon #0: setpath.cmd /quiet
}

// Environment variables set by Group Policy Preferences.
func ExampleLoadEnvironment() {
	xml := `<EnvironmentVariables clsid="{BF141A63-327B-438a-B9BF-2C188F13B7AD}">
  <EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="GOPATH" uid="{1}">
    <Properties action="U" name="GOPATH" value="C:\Users\Public\go" user="1" partial="0"/>
  </EnvironmentVariable>
</EnvironmentVariables>`
	items, err := gpo.LoadEnvironment("EnvironmentVariables.xml", []byte(xml))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		fmt.Printf("%s %s=%s user=%v\n", it.Action.Name(), it.VarName, it.Value, it.User)
	}
	// Output:
	// update GOPATH=C:\Users\Public\go user=true
}
