package main

import (
	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

func init() { register("hives/SYSTEM", writeSystem) }

// machinePath is the machine Path: the planted C:\Users\Public\bin comes
// before %SystemRoot%\system32.
const machinePath = `C:\Users\Public\bin;%SystemRoot%\system32;%SystemRoot%;%SystemRoot%\System32\Wbem;%SYSTEMROOT%\System32\WindowsPowerShell\v1.0\;%SYSTEMROOT%\System32\OpenSSH\;C:\Program Files\Go\bin;C:\Program Files\Git\cmd`

// systemHive is HKLM\SYSTEM of WS-DEV-07.
func systemHive() *ht.Key {
	service := func(name string, typ, start uint32, image, display string) *ht.Key {
		vals := []any{
			ht.DWORD("Type", typ), ht.DWORD("Start", start), ht.DWORD("ErrorControl", 1),
			ht.ExpandSZ("ImagePath", image), ht.SZ("DisplayName", display),
		}
		if typ >= 0x10 {
			vals = append(vals, ht.SZ("ObjectName", "LocalSystem"))
		}
		return key(name, tInstall, vals...)
	}
	services := key("Services", tDriver,
		service("disk", 1, 0, `System32\drivers\disk.sys`, "Disk Driver"),
		service("Dnscache", 0x20, 2, `%SystemRoot%\system32\svchost.exe -k NetworkService -p`, "DNS Client"),
		service("Tcpip", 1, 0, `System32\drivers\tcpip.sys`, "TCP/IP Protocol Driver"),
		service("WdFilter", 1, 0, `system32\drivers\wd\WdFilter.sys`, "Microsoft antimalware file system filter driver"),
		// Planted: a kernel driver loaded from a user-writable directory.
		func() *ht.Key {
			k := service("wdfilter2", 1, 1, `\??\C:\Users\Public\drv\wdfilter2.sys`, "Windows Defender Filter Helper")
			k.LastWrite = tDriver
			return k
		}(),
		service("WinDefend", 0x10, 2, `"C:\ProgramData\Microsoft\Windows Defender\platform\4.18.25050.5-0\MsMpEng.exe"`, "Microsoft Defender Antivirus Service"),
	)
	environment := key("Environment", tMachinePath,
		ht.ExpandSZ("ComSpec", `%SystemRoot%\system32\cmd.exe`),
		ht.SZ("DriverData", `C:\Windows\System32\Drivers\DriverData`),
		ht.SZ("NUMBER_OF_PROCESSORS", "8"),
		ht.SZ("OS", "Windows_NT"),
		ht.ExpandSZ("Path", machinePath),
		ht.SZ("PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"),
		ht.SZ("PROCESSOR_ARCHITECTURE", "AMD64"),
		ht.SZ("PROCESSOR_IDENTIFIER", "Intel64 Family 6 Model 154 Stepping 3, GenuineIntel"),
		ht.SZ("PROCESSOR_LEVEL", "6"),
		ht.SZ("PROCESSOR_REVISION", "9a03"),
		ht.ExpandSZ("PSModulePath", `%ProgramFiles%\WindowsPowerShell\Modules;%SystemRoot%\system32\WindowsPowerShell\v1.0\Modules`),
		ht.ExpandSZ("TEMP", `%SystemRoot%\TEMP`),
		ht.ExpandSZ("TMP", `%SystemRoot%\TEMP`),
		ht.SZ("USERNAME", "SYSTEM"),
		ht.ExpandSZ("windir", `%SystemRoot%`),
	)
	control := key("Control", tDriver,
		// Planted: the CI\Callbacks indicator, next to a harmless CI\Config.
		key("CI", tDriver,
			key("Callbacks", tDriver),
			key("Config", tInstall, ht.DWORD("VulnerableDriverBlocklistEnable", 1)),
		),
		key("ComputerName", tInstall, key("ComputerName", tInstall, ht.SZ("ComputerName", hostName))),
		key("Session Manager", tMachinePath,
			ht.MultiSZ("BootExecute", "autocheck autochk *"),
			environment,
		),
		key("TimeZoneInformation", tInstall, ht.SZ("TimeZoneKeyName", "W. Europe Standard Time")),
	)
	root := key("ROOT", tDriver,
		key("ControlSet001", tDriver, control, services),
		key("MountedDevices", tInstall),
		key("Select", tInstall, ht.DWORD("Current", 1), ht.DWORD("Default", 1), ht.DWORD("Failed", 0), ht.DWORD("LastKnownGood", 1)),
		key("Setup", tInstall, ht.SZ("SystemPartition", `\Device\HarddiskVolume1`)),
	)
	root.Security = machineSD()
	return root
}

func writeSystem(c *collection) error {
	b, err := ht.Build(systemHive(), ht.WithFileName(`\SystemRoot\System32\Config\SYSTEM`), ht.WithSequence(311, 311), ht.WithLastWritten(tDriver))
	if err != nil {
		return err
	}
	return c.write(configDir+"/SYSTEM", b)
}
