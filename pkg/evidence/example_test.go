package evidence_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/envhunt/envhunt/pkg/evidence"
)

// A pipeline points Discover at a triage share and gets one Host per
// collected machine, with its files classified; here a Velociraptor
// collection with escaped names.
func ExampleDiscover() {
	share, err := os.MkdirTemp("", "share")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(share)
	for _, rel := range []string{
		"C.1a2b/uploads/auto/C%3A/Windows/System32/config/SYSTEM",
		"C.1a2b/uploads/auto/C%3A/Windows/System32/config/SYSTEM.LOG1",
		"C.1a2b/uploads/auto/C%3A/Users/alice/NTUSER.DAT",
		"C.1a2b/uploads/auto/C%3A/Windows/System32/GroupPolicy/User/Registry.pol",
	} {
		p := filepath.Join(share, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("data"), 0o644)
	}
	hosts, err := evidence.Discover(context.Background(), []string{share}, evidence.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hosts {
		fmt.Println("host", h.Name)
		for _, f := range h.Files {
			fmt.Printf("  %-8s %s logs=%d scope=%s\n", f.Kind, f.WinPath, len(f.Logs), f.Scope)
		}
	}
	// Output:
	// host C.1a2b
	//   NTUSER   Users\alice\NTUSER.DAT logs=0 scope=
	//   gpo      Windows\System32\GroupPolicy\User\Registry.pol logs=0 scope=User
	//   SYSTEM   Windows\System32\config\SYSTEM logs=1 scope=
}
