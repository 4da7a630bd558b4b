package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDiscoverZip: any bytes named .zip, given directly or found in a tree,
// give hosts or an error, never a panic, and members are read only within
// the bound.
func FuzzDiscoverZip(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"C/Windows/System32/config/SYSTEM", "C/Windows/System32/config/SYSTEM.LOG1", "C/Users/a/NTUSER.DAT", "../x", "/abs/SYSTEM"} {
		w, _ := zw.Create(n)
		w.Write([]byte("regf"))
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "c.zip")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		hosts, _ := Discover(context.Background(), []string{p}, Options{MaxFiles: 1000})
		for _, h := range hosts {
			for _, f := range h.Files {
				if !strings.HasPrefix(f.Path, p+"/") {
					t.Fatalf("member path %q outside the archive", f.Path)
				}
				if data, err := ReadFile(f.Path, 1<<16); err == nil && len(data) > 1<<16 {
					t.Fatalf("read %d bytes past the bound", len(data))
				}
			}
		}
	})
}

// FuzzClassify: any path below a volume classifies without panicking, and
// a Group Policy GUID is always a braced GUID.
func FuzzClassify(f *testing.F) {
	f.Add("windows/system32/grouppolicy/user/scripts/logon/a.cmd")
	f.Add("programdata/microsoft/group policy/history/{31b2f340-016d-11d2-945f-00c04fb984f9}/s-1-5-21-1/preferences/registry/registry.xml")
	f.Add("windows.old/users/a/ntuser.dat")
	f.Add("windows.old/windows.old/users")
	f.Fuzz(func(t *testing.T, rel string) {
		parts := strings.Split(strings.ToLower(rel), "/")
		if len(parts) == 0 || len(parts) > 64 {
			return
		}
		f, ok := classify("/x/"+rel, parts)
		if ok && f.GPO != "" && !isGUIDName(strings.ToLower(f.GPO)) {
			t.Fatalf("GPO %q is not a GUID", f.GPO)
		}
	})
}
