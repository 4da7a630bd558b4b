package main

import (
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

func init() { register("hives/SOFTWARE", writeSoftware) }

// gpoID and friends describe the domain GPO that registers alice's logon
// script.
const (
	gpoGUID     = "{7C2A4E1B-3D5F-4A6B-9C8D-0E1F2A3B4C5D}"
	gpoDN       = "cn=" + gpoGUID + ",cn=policies,cn=system,DC=corp,DC=example,DC=com"
	gpoSOM      = "OU=Developers,DC=corp,DC=example,DC=com"
	gpoName     = "Developer Workstation Baseline"
	gpoSysvol   = `\\corp.example.com\SysVol\corp.example.com\Policies\` + gpoGUID + `\User`
	logonScript = `reg.exe`
	logonParams = `add HKCU\Environment /v PATH /t REG_EXPAND_SZ /d C:\Users\Public\tools;%PATH% /f`
)

// sidBytes is the binary form of a SID string (ProfileList's Sid value).
func sidBytes(s string) []byte {
	b, err := ht.SID(s)
	if err != nil {
		panic(err)
	}
	return b
}

// profileKey is a ProfileList\<SID> entry; a non-empty central path makes
// it a roaming profile.
func profileKey(u user, central string, loaded, unloaded time.Time) *ht.Key {
	lh, ll := filetimeHiLo(loaded)
	uh, ul := filetimeHiLo(unloaded)
	vals := []any{
		ht.ExpandSZ("ProfileImagePath", `C:\Users\`+u.name),
		ht.DWORD("Flags", 0),
		ht.DWORD("State", 0),
		ht.Binary("Sid", sidBytes(u.sid)),
		ht.DWORD("FullProfile", 1),
		ht.DWORD("LocalProfileLoadTimeHigh", lh), ht.DWORD("LocalProfileLoadTimeLow", ll),
		ht.DWORD("LocalProfileUnloadTimeHigh", uh), ht.DWORD("LocalProfileUnloadTimeLow", ul),
	}
	if central != "" {
		vals = append(vals, ht.SZ("CentralProfile", central))
	}
	return key(u.sid, unloaded, vals...)
}

// gpoScriptKeys are the values of a Scripts\Logon\N (GPO) key and its
// Scripts\Logon\N\M (script) subkey, as Windows records them both in the
// user's hive and in the machine's Group Policy state.
func gpoScriptKeys(t time.Time) *ht.Key {
	script := key("0", t,
		ht.SZ("Script", logonScript),
		ht.SZ("Parameters", logonParams),
		ht.DWORD("IsPowershell", 0),
		ht.QWORD("ExecTime", 0),
	)
	return key("0", t,
		ht.SZ("GPO-ID", gpoDN),
		ht.SZ("SOM-ID", gpoSOM),
		ht.SZ("FileSysPath", gpoSysvol),
		ht.SZ("DisplayName", gpoName),
		ht.SZ("GPOName", gpoGUID),
		ht.DWORD("PSScriptOrder", 1),
		script,
	)
}

// softwareHive is HKLM\SOFTWARE of WS-DEV-07.
func softwareHive() *ht.Key {
	install := uint32(tInstall.Unix())
	sh, sl := filetimeHiLo(tGPO)
	eh, el := filetimeHiLo(tGPOEnd)
	currentVersionNT := key("CurrentVersion", tInstall,
		ht.SZ("ProductName", "Windows 10 Pro"),
		ht.SZ("EditionID", "Professional"),
		ht.SZ("DisplayVersion", "22H2"),
		ht.SZ("CurrentBuild", "19045"),
		ht.SZ("CurrentBuildNumber", "19045"),
		ht.DWORD("UBR", 5854),
		ht.SZ("SystemRoot", `C:\Windows`),
		ht.SZ("RegisteredOwner", "alice"),
		ht.DWORD("InstallDate", install),
		key("ProfileList", tBobLogon,
			ht.ExpandSZ("ProfilesDirectory", `%SystemDrive%\Users`),
			ht.ExpandSZ("Default", `%SystemDrive%\Users\Default`),
			ht.ExpandSZ("Public", `%SystemDrive%\Users\Public`),
			key("S-1-5-18", tInstall, ht.ExpandSZ("ProfileImagePath", `%systemroot%\system32\config\systemprofile`), ht.DWORD("Flags", 12), ht.DWORD("State", 0)),
			key("S-1-5-19", tInstall, ht.ExpandSZ("ProfileImagePath", `%systemroot%\ServiceProfiles\LocalService`), ht.DWORD("Flags", 0), ht.DWORD("State", 0)),
			key("S-1-5-20", tInstall, ht.ExpandSZ("ProfileImagePath", `%systemroot%\ServiceProfiles\NetworkService`), ht.DWORD("Flags", 0), ht.DWORD("State", 0)),
			profileKey(alice, `\\FS01\profiles$\alice`, at("2025-06-10T07:58:03.0000000Z"), tAliceLogoff),
			profileKey(bob, "", tBobLogon, at("2025-06-12T18:40:12.0000000Z")),
			profileKey(carol, "", at("2025-06-11T09:01:30.0000000Z"), at("2025-06-11T17:12:55.0000000Z")),
		),
		key("Winlogon", tInstall,
			ht.SZ("Userinit", `C:\Windows\system32\userinit.exe,`),
			ht.SZ("Shell", "explorer.exe"),
		),
	)
	currentVersion := key("CurrentVersion", tGPO,
		ht.SZ("ProgramFilesDir", `C:\Program Files`),
		ht.SZ("ProgramFilesDir (x86)", `C:\Program Files (x86)`),
		ht.SZ("ProgramW6432Dir", `C:\Program Files`),
		ht.SZ("CommonFilesDir", `C:\Program Files\Common Files`),
		ht.SZ("ProgramFilesPath", `%ProgramFiles%`),
		key("Group Policy", tGPOEnd,
			key("State", tGPOEnd,
				key(aliceSID, tGPOEnd,
					key("Extension-List", tGPOEnd,
						key("{00000000-0000-0000-0000-000000000000}", tGPOEnd,
							ht.DWORD("startTimeHi", sh), ht.DWORD("startTimeLo", sl),
							ht.DWORD("endTimeHi", eh), ht.DWORD("endTimeLo", el),
							ht.DWORD("Status", 0),
						),
					),
					path(`Scripts\Logon`, tGPO, gpoScriptKeys(tGPO)),
				),
			),
		),
		key("Run", tInstall,
			ht.ExpandSZ("SecurityHealth", `%windir%\system32\SecurityHealthSystray.exe`),
		),
		key("RunOnce", tInstall),
	)
	root := key("ROOT", tSoftwareFlush,
		key("Classes", tInstall, key(".txt", tInstall, ht.SZ("", "txtfile"))),
		key("Microsoft", tGPO,
			key("Command Processor", tInstall, ht.DWORD("CompletionChar", 0x40), ht.DWORD("DefaultColor", 0), ht.DWORD("EnableExtensions", 1)),
			key("Windows", tGPO, currentVersion),
			key("Windows NT", tBobLogon, currentVersionNT),
		),
		key("Policies", tInstall, path(`Microsoft\Windows\System`, tInstall)),
	)
	root.Security = machineSD()
	return root
}

func writeSoftware(c *collection) error {
	b, err := ht.Build(softwareHive(), ht.WithFileName(`\SystemRoot\System32\Config\SOFTWARE`), ht.WithSequence(1207, 1207), ht.WithLastWritten(tSoftwareFlush))
	if err != nil {
		return err
	}
	return c.write(configDir+"/SOFTWARE", b)
}
