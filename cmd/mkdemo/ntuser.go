package main

import (
	"fmt"
	"strings"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

func init() {
	register("hives/NTUSER alice", writeAlice)
	register("hives/NTUSER bob", writeBob)
	register("hives/NTUSER carol", writeCarol)
}

const (
	defaultUserPath  = `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`
	userTemp         = `%USERPROFILE%\AppData\Local\Temp`
	corProfilerCLSID = "{8A2F6C3E-51B7-4D09-9E24-7F3B1C6D0A58}"
)

// setxLimit is where setx cuts what it stores.
const setxLimit = 1024

// aliceSetxPath is the Path alice stored with setx: her tool directories,
// cut by setx at exactly 1024 characters in the middle of an entry.
func aliceSetxPath() (string, error) {
	dirs := []string{
		`C:\Users\alice\AppData\Local\Microsoft\WindowsApps`,
		`D:\work\go\bin`,
		`C:\Users\alice\AppData\Local\Programs\Python\Python312\Scripts\`,
		`C:\Users\alice\AppData\Local\Programs\Python\Python312\`,
		`C:\Users\alice\AppData\Local\Programs\Microsoft VS Code\bin`,
		`C:\Users\alice\.cargo\bin`,
		`C:\Users\alice\AppData\Roaming\npm`,
		`C:\Users\alice\scoop\shims`,
		`C:\Users\alice\.dotnet\tools`,
		`C:\Users\alice\AppData\Local\JetBrains\Toolbox\scripts`,
		`C:\Program Files\Docker\Docker\resources\bin`,
		`C:\Program Files\nodejs\`,
		`C:\Program Files\PowerShell\7\`,
		`C:\Program Files\Amazon\AWSCLIV2\`,
		`C:\Program Files\Microsoft SQL Server\150\Tools\Binn\`,
		`C:\Program Files\dotnet\`,
		`C:\Program Files (x86)\Windows Kits\10\Windows Performance Toolkit\`,
		`C:\Program Files\CMake\bin`,
		`C:\Program Files\LLVM\bin`,
		`C:\Program Files\Wireshark`,
		`C:\Program Files\Graphviz\bin`,
		`C:\tools\protoc\bin`,
		`C:\tools\terraform`,
		`C:\tools\kubectl`,
		`C:\tools\helm`,
		`C:\Users\alice\AppData\Local\Programs\Julia-1.10.4\bin`,
		`C:\Program Files\Microsoft SDKs\Azure\CLI2\wbin`,
		`C:\Users\alice\AppData\Local\Programs\Ollama`,
	}
	full := strings.Join(dirs, ";")
	if len(full) <= setxLimit {
		return "", fmt.Errorf("alice's Path is only %d characters before truncation", len(full))
	}
	cut := full[:setxLimit]
	if strings.HasSuffix(cut, ";") || full[setxLimit] == ';' {
		return "", fmt.Errorf("alice's Path is cut on an entry boundary")
	}
	return cut, nil
}

// userSD returns the Windows 10 descriptor of a user's root and
// Environment keys, with extra ACEs appended.
func userSD(u user, extra ...ht.ACE) []byte {
	sd, err := ht.UserKeySD(u.sid, extra...)
	if err != nil {
		panic(err)
	}
	return sd
}

// ntuserHive is a user's NTUSER.DAT with the keys every profile has;
// env holds the Environment key, extra are more keys under Software.
func ntuserHive(u user, env *ht.Key, software ...*ht.Key) *ht.Key {
	t := u.created
	if env.Security == nil {
		env.Security = userSD(u)
	}
	currentVersion := key("CurrentVersion", t,
		path(`Explorer\User Shell Folders`, t,
			ht.ExpandSZ("AppData", `%USERPROFILE%\AppData\Roaming`),
			ht.ExpandSZ("Local AppData", `%USERPROFILE%\AppData\Local`),
			ht.ExpandSZ("Desktop", `%USERPROFILE%\Desktop`),
			ht.ExpandSZ("Personal", `%USERPROFILE%\Documents`),
		),
		key("Run", t),
		key("RunOnce", t),
	)
	microsoft := key("Microsoft", t,
		key("Windows", t, currentVersion),
	)
	sw := key("Software", t, microsoft)
	for _, k := range software {
		merge(sw, &ht.Key{Subkeys: []*ht.Key{k}})
	}
	root := key(profileHiveRoot, t,
		key("AppEvents", t, key("Schemes", t, ht.SZ("", ".Default"))),
		key("Console", t, ht.DWORD("QuickEdit", 1)),
		key("Control Panel", t, key("Desktop", t,
			ht.SZ("Wallpaper", `C:\Windows\web\wallpaper\Windows\img0.jpg`),
			ht.SZ("ScreenSaveActive", "1"),
		)),
		env,
		key("Keyboard Layout", t, key("Preload", t, ht.SZ("1", "00000409"))),
		key("Network", t),
		key("Printers", t),
		sw,
		key("System", t),
	)
	root.Security = userSD(u)
	return root
}

// merge adds src's subtree into dst, descending into keys both have.
func merge(dst, src *ht.Key) {
	for _, s := range src.Subkeys {
		if d := dst.Path(s.Name); d != nil {
			merge(d, s)
			continue
		}
		dst.Subkeys = append(dst.Subkeys, s)
	}
	dst.Values = append(dst.Values, src.Values...)
	if src.LastWrite.After(dst.LastWrite) {
		dst.LastWrite = src.LastWrite
	}
}

func userFile(u user) string { return hostDir + "/Users/" + u.name + "/NTUSER.DAT" }

func userFileName(u user) ht.Option {
	return ht.WithFileName(`\??\C:\Users\` + u.name + `\ntuser.dat`)
}

// aliceLocal is alice's NTUSER.DAT on WS-DEV-07: Everyone may set values
// in her Environment, a GPO logon script rewrites her Path, and her own
// Path was cut at 1024 characters by setx.
func aliceLocal() (*ht.Key, error) {
	p, err := aliceSetxPath()
	if err != nil {
		return nil, err
	}
	env := key("Environment", tAliceSetx,
		ht.SZ("Path", p),
		ht.ExpandSZ("TEMP", userTemp),
		ht.ExpandSZ("TMP", userTemp),
		ht.ExpandSZ("OneDrive", `C:\Users\alice\OneDrive`),
		ht.SZ("GOPATH", `D:\work\go`),
	)
	// The values setx replaced are still in unallocated space.
	env.DeletedValues = []ht.Value{
		ht.ExpandSZ("Path", defaultUserPath),
		ht.ExpandSZ("GOPATH", `%USERPROFILE%\go`),
	}
	oc := uint8(ht.ObjectInherit | ht.ContainerInherit)
	env.Security = userSD(alice, ht.Allow(ht.SIDEveryone, ht.KeySetValue, oc))
	gp := path(`Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon`, tGPO, gpoScriptKeys(tGPO))
	return ntuserHive(alice, env, gp), nil
}

// aliceRoaming is the server-side copy of alice's profile: written later
// than her local hive (so it wins at the next logon) and holding the
// rewritten Path and an old GOPATH.
func aliceRoaming() (*ht.Key, error) {
	root, err := aliceLocal()
	if err != nil {
		return nil, err
	}
	root.LastWrite = tRoaming
	env := root.Path("Environment")
	env.LastWrite = tRoaming
	env.DeletedValues = nil
	env.SetValue(ht.ExpandSZ("Path", `C:\Users\Public\tools;`+defaultUserPath))
	env.SetValue(ht.ExpandSZ("GOPATH", `%USERPROFILE%\go`))
	return root, nil
}

func writeAlice(c *collection) error {
	local, err := aliceLocal()
	if err != nil {
		return err
	}
	b, err := ht.Build(local, userFileName(alice), ht.WithSequence(148, 148), ht.WithLastWritten(tAliceLogoff))
	if err != nil {
		return err
	}
	if err := c.write(userFile(alice), b); err != nil {
		return err
	}
	roaming, err := aliceRoaming()
	if err != nil {
		return err
	}
	b, err = ht.Build(roaming, userFileName(alice), ht.WithSequence(212, 212), ht.WithLastWritten(tRoaming))
	if err != nil {
		return err
	}
	return c.write(roamingDir+"/alice.V6/NTUSER.DAT", b)
}

// bobStates are bob's hive as on disk, after the GOROOT/Path rewrite and
// after the profiler was planted: the last two exist only in NTUSER.DAT.LOG1.
func bobStates() (onDisk, gorootWrite, profilerWrite *ht.Key) {
	env := key("Environment", tBobLogon,
		ht.ExpandSZ("Path", defaultUserPath),
		ht.ExpandSZ("TEMP", userTemp),
		ht.ExpandSZ("TMP", userTemp),
		ht.ExpandSZ("OneDrive", `C:\Users\bob\OneDrive`),
		ht.SZ("GOROOT", `C:\Program Files\Go`),
		ht.SZ("UserInitMprLogonScript", `C:\Users\Public\logon.bat`),
	)
	cmd := path(`Microsoft\Command Processor`, tBobLogon, ht.SZ("AutoRun", `C:\Users\Public\a.cmd`))
	onDisk = ntuserHive(bob, env, cmd)

	gorootWrite = onDisk.Clone()
	e := gorootWrite.Path("Environment")
	e.LastWrite = tBobGoroot
	e.SetValue(ht.SZ("GOROOT", `C:\Users\Public\go`))
	e.SetValue(ht.ExpandSZ("Path", `C:\Users\Public\go\bin;`+defaultUserPath))

	profilerWrite = gorootWrite.Clone()
	e = profilerWrite.Path("Environment")
	e.LastWrite = tBobProfiler
	e.SetValue(ht.SZ("COR_ENABLE_PROFILING", "1"))
	e.SetValue(ht.SZ("COR_PROFILER", corProfilerCLSID))
	e.SetValue(ht.SZ("COR_PROFILER_PATH", `C:\Users\Public\prof\clrhook.dll`))
	return onDisk, gorootWrite, profilerWrite
}

func writeBob(c *collection) error {
	onDisk, goroot, profiler := bobStates()
	d, err := ht.BuildDirty(onDisk, []*ht.Key{goroot, profiler}, userFileName(bob), ht.WithSequence(93, 93), ht.WithLastWritten(tBobLogon))
	if err != nil {
		return err
	}
	if err := c.write(userFile(bob), d.Primary); err != nil {
		return err
	}
	if err := c.write(userFile(bob)+".LOG1", d.Log1); err != nil {
		return err
	}
	// NTUSER.DAT.LOG2 is left from an earlier session (bob's first logons,
	// when OneDrive was set up): its sequence number is below the primary's,
	// so recovery must skip it.
	first, err := bobFirstLogons()
	if err != nil {
		return err
	}
	return c.write(userFile(bob)+".LOG2", first)
}

// bobFirstLogons is the stale LOG2: one entry from bob's first days that
// added OneDrive to his Environment, long since flushed to the primary.
func bobFirstLogons() ([]byte, error) {
	onDisk, _, _ := bobStates()
	early := onDisk.Clone()
	env := early.Path("Environment")
	env.LastWrite = bob.created
	env.Values = env.Values[:3] // Path, TEMP, TMP
	early.Path(`Software\Microsoft`).Subkeys = early.Path(`Software\Microsoft`).Subkeys[:1]
	withOneDrive := early.Clone()
	env = withOneDrive.Path("Environment")
	env.LastWrite = bob.created.Add(2 * time.Hour)
	env.SetValue(ht.ExpandSZ("OneDrive", `C:\Users\bob\OneDrive`))
	d, err := ht.BuildDirty(early, []*ht.Key{withOneDrive}, userFileName(bob), ht.WithSequence(61, 61), ht.WithLastWritten(bob.created))
	if err != nil {
		return nil, err
	}
	return d.Log1, nil
}

// carolHive is a clean profile: defaults only.
func carolHive() *ht.Key {
	env := key("Environment", carol.created,
		ht.ExpandSZ("Path", defaultUserPath),
		ht.ExpandSZ("TEMP", userTemp),
		ht.ExpandSZ("TMP", userTemp),
	)
	return ntuserHive(carol, env)
}

func writeCarol(c *collection) error {
	b, err := ht.Build(carolHive(), userFileName(carol), ht.WithSequence(57, 57), ht.WithLastWritten(at("2025-06-11T17:12:55.0000000Z")))
	if err != nil {
		return err
	}
	return c.write(userFile(carol), b)
}
