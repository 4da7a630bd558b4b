package hivetest_test

import (
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// A test builds an NTUSER.DAT whose newest Environment write is only in the
// transaction log, and reads it back with and without recovery.
func ExampleBuildDirty() {
	t0 := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	sd, _ := ht.UserKeySD("S-1-5-21-1-2-3-1001")
	before := &ht.Key{Name: "ROOT", LastWrite: t0, Security: sd, Subkeys: []*ht.Key{{
		Name: "Environment", LastWrite: t0,
		Values: []ht.Value{ht.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`)},
	}}}
	after := before.Clone()
	env := after.Path("Environment")
	env.LastWrite = t0.Add(time.Hour)
	env.SetValue(ht.ExpandSZ("Path", `C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`))

	d, err := ht.BuildDirty(before, []*ht.Key{after}, ht.WithFileName(`\??\C:\Users\alice\ntuser.dat`))
	if err != nil {
		panic(err)
	}
	for _, opts := range [][]hive.Option{{hive.WithoutLogs()}, {hive.WithLogData("NTUSER.DAT.LOG1", d.Log1)}} {
		h, err := hive.Load("NTUSER.DAT", d.Primary, opts...)
		if err != nil {
			panic(err)
		}
		k, _ := h.OpenKey("Environment")
		v, _ := k.Value("Path")
		data, _ := v.Decode()
		fmt.Printf("recovered=%v %s Path=%s\n", h.Recovered(), k.LastWrite().Format(time.RFC3339), data.Text)
	}
	// Output:
	// recovered=false 2025-06-01T08:00:00Z Path=%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;
	// recovered=true 2025-06-01T09:00:00Z Path=C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;
}

// Keys with byte-identical security descriptors share one sk cell; names
// that do not fit Latin-1 are stored as UTF-16.
func ExampleBuild() {
	open := ht.MustSD(ht.SIDAdministrators, ht.SIDSystem, ht.Allow(ht.SIDEveryone, ht.KeySetValue, 0))
	root := &ht.Key{Name: "ROOT", Subkeys: []*ht.Key{
		{Name: "Environment", Security: open, Values: []ht.Value{ht.SZ("GOROOT", `C:\Users\Public\go`)}},
		{Name: "Ключ", Security: open, Values: []ht.Value{ht.DWORD("n", 7), ht.MultiSZ("list", "a", "b")}},
	}}
	data, err := ht.Build(root)
	if err != nil {
		panic(err)
	}
	h, _ := hive.Load("example", data)
	for _, p := range []string{"Environment", "Ключ"} {
		k, _ := h.OpenKey(p)
		sec, _ := k.Security()
		fmt.Printf("%s: %d values, sk refs %d\n", k.Name(), k.ValueCount(), sec.RefCount)
	}
	// Output:
	// Environment: 1 values, sk refs 2
	// Ключ: 2 values, sk refs 2
}
