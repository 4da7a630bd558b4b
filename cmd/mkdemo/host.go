package main

import (
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// The demo host and its users.
const (
	hostName   = "WS-DEV-07"
	hostDir    = hostName + "/C"
	domainSID  = "S-1-5-21-1111111111-2222222222-3333333333"
	aliceSID   = domainSID + "-1001"
	bobSID     = domainSID + "-1002"
	carolSID   = domainSID + "-1003"
	configDir  = hostDir + "/Windows/System32/config"
	roamingDir = "profiles"
	// profileHiveRoot is the root key name every profile copied from the
	// Default user's hive carries.
	profileHiveRoot = "CMI-CreateHive{D43B12B8-09B5-40DB-B4F6-F6DFEB78DAEC}"
)

// user is one profile on the host.
type user struct {
	name string
	sid  string
	// created is when the profile (and its default keys) was created.
	created time.Time
}

var (
	alice = user{"alice", aliceSID, at("2025-01-20T08:03:11.2233445Z")}
	bob   = user{"bob", bobSID, at("2025-02-03T10:15:42.1122334Z")}
	carol = user{"carol", carolSID, at("2025-02-17T13:44:05.9988776Z")}
)

// The demo's clock: every time written into the collection, in the order
// the story happened.
var (
	tInstall       = at("2025-01-14T09:12:33.4567891Z") // Windows installed
	tAliceSetx     = at("2025-05-21T16:22:09.3141592Z") // alice runs setx PATH/GOPATH (Path cut at 1024)
	tMachinePath   = at("2025-06-09T22:30:55.0000000Z") // machine Path gets C:\Users\Public\bin first
	tDriver        = at("2025-06-09T22:31:07.1234567Z") // wdfilter2 kernel service and CI\Callbacks
	tGPO           = at("2025-06-10T07:58:12.5000001Z") // logon script registered for alice
	tGPOEnd        = at("2025-06-10T07:58:14.0312500Z") // group policy processing ends
	tAliceLogoff   = at("2025-06-10T18:02:44.0000000Z") // alice's last local logoff
	tBobLogon      = at("2025-06-11T08:30:00.1000000Z") // bob's logon script and AutoRun planted
	tRoaming       = at("2025-06-11T17:45:19.8765432Z") // the server copy of alice's profile is written
	tBobGoroot     = at("2025-06-12T09:14:27.2718281Z") // bob's GOROOT/Path rewritten (only in the log)
	tBobProfiler   = at("2025-06-12T09:15:03.1415926Z") // bob's COR_PROFILER planted (only in the log)
	tSoftwareFlush = at("2025-06-12T09:20:00.0000000Z")
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// key builds a key from values and subkeys given in any order.
func key(name string, t time.Time, items ...any) *ht.Key {
	k := &ht.Key{Name: name, LastWrite: t}
	for _, it := range items {
		switch v := it.(type) {
		case ht.Value:
			k.Values = append(k.Values, v)
		case *ht.Key:
			k.Subkeys = append(k.Subkeys, v)
		case []*ht.Key:
			k.Subkeys = append(k.Subkeys, v...)
		default:
			panic("mkdemo: key item of unexpected type")
		}
	}
	return k
}

// path builds a chain of keys a\b\c with the last one holding items.
func path(p string, t time.Time, items ...any) *ht.Key {
	var names []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '\\' {
			names = append(names, p[start:i])
			start = i + 1
		}
	}
	k := key(names[len(names)-1], t, items...)
	for i := len(names) - 2; i >= 0; i-- {
		k = key(names[i], t, k)
	}
	return k
}

// secured sets k's security descriptor and returns k.
func secured(k *ht.Key, sd []byte) *ht.Key {
	k.Security = sd
	return k
}

// machineSD is the descriptor machine keys carry in real SYSTEM and
// SOFTWARE hives: Users read, Administrators and SYSTEM full, with the
// INHERIT_ONLY entries (CREATOR OWNER GENERIC_ALL among them), all
// inherited.
func machineSD() []byte {
	const inh = ht.Inherited
	const io = ht.InheritOnly | ht.ObjectInherit | ht.ContainerInherit | ht.Inherited
	return ht.MustSD(ht.SIDAdministrators, ht.SIDSystem,
		ht.Allow(ht.SIDUsers, ht.KeyRead, inh),
		ht.Allow(ht.SIDUsers, ht.GenericRead, io),
		ht.Allow(ht.SIDAdministrators, ht.KeyAllAccess, inh),
		ht.Allow(ht.SIDAdministrators, ht.GenericAll, io),
		ht.Allow(ht.SIDSystem, ht.KeyAllAccess, inh),
		ht.Allow(ht.SIDSystem, ht.GenericAll, io),
		ht.Allow(ht.SIDCreatorOwner, ht.GenericAll, io),
	)
}

// filetimeHiLo splits a time into the High/Low DWORD pair ProfileList and
// Group Policy state keys store.
func filetimeHiLo(t time.Time) (hi, lo uint32) {
	ft := uint64(t.UnixNano()/100) + 116444736000000000
	return uint32(ft >> 32), uint32(ft)
}

// filetime is a time as a FILETIME number (QWORD values such as ExecTime).
func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}
