package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// FuzzStates checks that reading the history of any hive file, with its
// carving, never panics and that every state names its source.
func FuzzStates(f *testing.F) {
	temp := ht.ExpandSZ("TEMP", `C:\T`)
	temp.Slack = ht.UTF16(`Local\Temp-old`)
	root := userHive(t1, ht.SZ("Path", `C:\new`), temp)
	root.Path("Environment").DeletedValues = []ht.Value{ht.ExpandSZ("Path", `C:\older`), ht.SZ("GOPATH", "x")}
	clean, err := ht.Build(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(clean)
	d, err := ht.BuildDirty(userHive(t0, ht.SZ("Path", "a")), []*ht.Key{userHive(t1, ht.SZ("Path", "b"))})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d.Primary)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "NTUSER.DAT")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := States(context.Background(), Group{Files: []File{{Path: p, NoLogs: true}}}, Options{Key: "Environment", MaxCarved: 100})
		if err != nil {
			return
		}
		for _, s := range h.States {
			if s.Source == "" || s.File != p {
				t.Fatalf("state without a source or file: %+v", s)
			}
		}
		_ = h.Rows()
	})
}
