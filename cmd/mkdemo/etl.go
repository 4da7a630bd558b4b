package main

import (
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// The trace: an EDR-style ETW session (Microsoft-Windows-Kernel-Registry
// with captured data) recorded reg.exe, started by alice's Group Policy
// logon script, writing her Path at logon on 2025-06-10. The local hive does
// not hold that value (its Environment was last written on 2025-05-21 by
// setx): the write was undone locally, and only the roaming server copy
// kept it.
const tracePath = hostDir + "/Windows/System32/LogFiles/WMI/EnvWatch.etl"

var tGPOWrite = at("2025-06-10T07:58:13.2500000Z") // reg.exe writes alice's Path

func init() {
	register("trace", func(c *collection) error {
		data := etltest.WriteTrace(etltest.Write{
			Time:        tGPOWrite,
			PID:         5832,
			PPID:        4120,
			TID:         5836,
			UserSID:     aliceSID,
			Image:       `C:\Windows\System32\reg.exe`,
			CommandLine: `reg.exe add HKCU\Environment /v PATH /t REG_EXPAND_SZ /d C:\Users\Public\tools;%PATH% /f`,
			Key:         `\REGISTRY\USER\` + aliceSID + `\Environment`,
			Value:       "Path",
			Type:        etltest.RegExpandSZ,
			Data:        etltest.UTF16z(`C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
		})
		return c.write(tracePath, data)
	})
}
