package main

import (
	"github.com/envhunt/envhunt/pkg/gpo"
	"github.com/envhunt/envhunt/pkg/hive"
)

func init() { register("gpo/files", writeGPO) }

// Group Policy files of WS-DEV-07: the local policy's User half (a
// Registry.pol that forces GOPATH back to the default, a logon script whose
// body runs setx PATH) and alice's history cache of the domain GPO's
// Preferences (environment variables).
const (
	localGPODir   = hostDir + "/Windows/System32/GroupPolicy"
	demoPolGOPATH = `%USERPROFILE%\go`
	demoSetpath   = "@echo off\r\nrem Developer tools first on every logon.\r\nsetx PATH \"C:\\Users\\Public\\tools;%PATH%\"\r\n"
	aliceGPPDir   = hostDir + "/Users/alice/AppData/Local/Microsoft/Group Policy/History/" + gpoGUID + "/User/Preferences/EnvironmentVariables"
)

// demoEnvironmentXML is the Preferences file as the Group Policy Management
// Editor saves it: one item that adds C:\Users\Public\tools to the user's
// Path (partial), one that replaces GOPROXY.
const demoEnvironmentXML = `<?xml version="1.0" encoding="utf-8"?>
<EnvironmentVariables clsid="{BF141A63-327B-438a-B9BF-2C188F13B7AD}">
	<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="Path" status="Path = C:\Users\Public\tools" image="2" changed="2025-06-10 09:58:12" uid="{5A0C6E2B-1D3F-4B7A-8E9C-2F4A6B8D0E1C}">
		<Properties action="U" name="Path" value="C:\Users\Public\tools" user="1" partial="1"/>
	</EnvironmentVariable>
	<EnvironmentVariable clsid="{78570023-8373-4a19-BA80-2F150738EA19}" name="GOPROXY" status="GOPROXY = https://goproxy.corp.example.com" image="2" changed="2025-06-10 09:58:12" uid="{6B1D7F3C-2E4A-4C8B-9FAD-3A5B7C9E1F2D}">
		<Properties action="R" name="GOPROXY" value="https://goproxy.corp.example.com" user="1" partial="0"/>
	</EnvironmentVariable>
</EnvironmentVariables>
`

func writeGPO(c *collection) error {
	files := map[string][]byte{
		localGPODir + "/gpt.ini": []byte("[General]\r\ngPCUserExtensionNames=[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F73-3407-48AE-BA88-E8213C6761F1}][{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B66650-4972-11D1-A7CA-0000F87571E3}]\r\nVersion=196608\r\n"),
		localGPODir + "/User/Registry.pol": gpo.EncodePol([]gpo.PolRecord{
			{Key: `Environment`, ValueName: `GOPATH`, Type: hive.RegExpandSZ, Data: gpo.StringData(demoPolGOPATH)},
		}),
		localGPODir + "/User/Scripts/scripts.ini":       gpo.MarshalScripts([]gpo.Script{{Phase: gpo.Logon, Index: 0, CmdLine: "setpath.cmd"}}),
		localGPODir + "/User/Scripts/Logon/setpath.cmd": []byte(demoSetpath),
		aliceGPPDir + "/EnvironmentVariables.xml":       []byte(demoEnvironmentXML),
	}
	for _, rel := range []string{
		localGPODir + "/gpt.ini", localGPODir + "/User/Registry.pol", localGPODir + "/User/Scripts/scripts.ini",
		localGPODir + "/User/Scripts/Logon/setpath.cmd", aliceGPPDir + "/EnvironmentVariables.xml",
	} {
		if err := c.write(rel, files[rel]); err != nil {
			return err
		}
	}
	return nil
}
