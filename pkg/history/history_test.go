package history

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ht "github.com/envhunt/envhunt/pkg/hive/hivetest"
)

var (
	t0 = time.Date(2025, 3, 1, 8, 0, 0, 123456700, time.UTC)
	t1 = time.Date(2025, 4, 2, 9, 30, 0, 765432100, time.UTC)
	t2 = time.Date(2025, 5, 3, 10, 45, 0, 500, time.UTC)
)

// userHive is a small NTUSER-shaped hive whose Environment holds vals.
func userHive(when time.Time, vals ...ht.Value) *ht.Key {
	return &ht.Key{Name: "ROOT", LastWrite: when, Subkeys: []*ht.Key{
		{Name: "AppEvents", LastWrite: t0},
		{Name: "Environment", LastWrite: when, Values: vals},
		{Name: "Software", LastWrite: t0, Subkeys: []*ht.Key{{Name: "Microsoft", LastWrite: t0}}},
	}}
}

// valueOf returns the row of value name in s.
func valueOf(s State, name string) (Value, bool) {
	for _, v := range s.Values {
		if strings.EqualFold(v.Name, name) {
			return v, true
		}
	}
	return Value{}, false
}

func dated(h *History) []State {
	var out []State
	for _, s := range h.States {
		if !s.Carved() {
			out = append(out, s)
		}
	}
	return out
}

func TestStates_DirtyHiveGivesEachPathTheLogsRewrote(t *testing.T) {
	paths := []string{`%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`, `C:\tools;%PATH%`, `C:\Users\Public\evil;C:\tools`}
	times := []time.Time{t0, t1, t2}
	var states []*ht.Key
	for i, p := range paths {
		states = append(states, userHive(times[i], ht.ExpandSZ("Path", p), ht.SZ("GOPATH", `D:\go`)))
	}
	d, err := ht.BuildDirty(states[0], states[1:], ht.WithSequence(10, 10))
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.WriteFiles(t.TempDir(), "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Name: "NTUSER", Files: []File{{Path: file}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Problems) > 0 {
		t.Errorf("problems: %v", h.Problems)
	}
	got := dated(h)
	wantSources := []string{"primary", "log:NTUSER.DAT.LOG1#entry1 seq 10", "log:NTUSER.DAT.LOG1#entry2 seq 11"}
	wantChanged := []string{ChangeFirst, ChangeModified, ChangeModified}
	if len(got) != len(paths) {
		t.Fatalf("got %d dated states, want %d", len(got), len(paths))
	}
	for i, s := range got {
		if s.Source != wantSources[i] {
			t.Errorf("state %d: source %q, want %q", i, s.Source, wantSources[i])
		}
		if !s.Time.Equal(times[i]) {
			t.Errorf("state %d: time %v, want the key's last write %v", i, s.Time, times[i])
		}
		p, ok := valueOf(s, "Path")
		if !ok || p.Data.Text != paths[i] || p.Changed != wantChanged[i] {
			t.Errorf("state %d: Path = %q (%q), want %q (%q)", i, p.Data.Text, p.Changed, paths[i], wantChanged[i])
		}
		if g, _ := valueOf(s, "GOPATH"); i > 0 && g.Changed != ChangeSame {
			t.Errorf("state %d: unchanged GOPATH marked %q", i, g.Changed)
		}
	}
}

func TestStates_MarksAddedRemovedAndTypeChanges(t *testing.T) {
	before := userHive(t0, ht.SZ("Path", `C:\a`), ht.SZ("OLD", "x"))
	after := userHive(t1, ht.ExpandSZ("Path", `C:\a`), ht.SZ("NEW", "y"))
	d, err := ht.BuildDirty(before, []*ht.Key{after})
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.WriteFiles(t.TempDir(), "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{NoCarve: true})
	if err != nil {
		t.Fatal(err)
	}
	s := dated(h)[1]
	for name, want := range map[string]string{"Path": ChangeType, "NEW": ChangeAdded, "OLD": ChangeRemoved} {
		if v, ok := valueOf(s, name); !ok || v.Changed != want {
			t.Errorf("%s: changed %q (found %v), want %q", name, v.Changed, ok, want)
		}
	}
}

func TestStates_NoLogsGivesOnlyThePrimary(t *testing.T) {
	d, err := ht.BuildDirty(userHive(t0, ht.SZ("Path", "a")), []*ht.Key{userHive(t1, ht.SZ("Path", "b"))})
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.WriteFiles(t.TempDir(), "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file, NoLogs: true}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := dated(h); len(got) != 1 || got[0].Source != SourcePrimary {
		t.Errorf("got %d dated states, want the primary only", len(got))
	}
}

func TestStates_FreeCellsAndSlackOfTheEnvironmentKey(t *testing.T) {
	temp := ht.ExpandSZ("TEMP", `C:\T`)
	temp.Slack = ht.UTF16(`Local\Temp-old`)
	root := userHive(t1, ht.SZ("Path", `C:\new`), temp)
	env := root.Path("Environment")
	env.DeletedValues = []ht.Value{ht.ExpandSZ("Path", `C:\older;C:\longer\path`), ht.SZ("Unrelated", "zzz")}
	// A deleted Path in another key must be listed too (carving cannot
	// tell which key a free cell belonged to) but only once per data.
	root.Path("Software").DeletedValues = []ht.Value{ht.ExpandSZ("Path", `C:\older;C:\longer\path`)}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var free, slack []State
	for _, s := range h.States {
		switch s.Kind {
		case SourceFreeCell:
			free = append(free, s)
		case SourceSlack:
			slack = append(slack, s)
		}
	}
	if len(free) != 1 || free[0].Values[0].Data.Text != `C:\older;C:\longer\path` || !strings.HasPrefix(free[0].Source, "free cell @0x") {
		t.Errorf("free cells: %+v, want the one deleted Path", free)
	} else if !free[0].Time.IsZero() || free[0].Values[0].Changed != ChangeCarved {
		t.Errorf("free cell has time %v and marker %q, want no time and %q", free[0].Time, free[0].Values[0].Changed, ChangeCarved)
	}
	if len(slack) != 1 || slack[0].Values[0].Name != "TEMP" || slack[0].Values[0].Data.Text != `Local\Temp-old` {
		t.Errorf("slack: %+v, want TEMP's old tail", slack)
	}
	// Nothing is carved for another key.
	h, err = States(context.Background(), Group{Files: []File{{Path: file}}}, Options{Key: "Software"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range h.States {
		if s.Carved() {
			t.Errorf("carved %s for a key that is not an Environment key", s.Source)
		}
	}
}

func TestStates_ValueFilter(t *testing.T) {
	root := userHive(t1, ht.SZ("Path", `C:\new`), ht.SZ("GOROOT", `C:\Go`))
	root.Path("Environment").DeletedValues = []ht.Value{ht.SZ("Path", "old"), ht.SZ("GOROOT", "older")}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{Value: "goroot"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range h.States {
		for _, v := range s.Values {
			n++
			if v.Name != "GOROOT" {
				t.Errorf("%s: value %q listed with --value goroot", s.Source, v.Name)
			}
		}
	}
	if n != 2 {
		t.Errorf("got %d rows, want GOROOT live and carved", n)
	}
}

func TestStates_HiveWithoutEnvironmentNeedsAKey(t *testing.T) {
	root := &ht.Key{Name: "ROOT", Subkeys: []*ht.Key{{Name: "SAM", Subkeys: []*ht.Key{{Name: "Domains"}}}}}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "SAM")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{}); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Errorf("got %v, want an error asking for --key", err)
	}
}

func TestStates_ValueRemovedFromTheListIsListedOnce(t *testing.T) {
	root := userHive(t1, ht.SZ("Path", `C:\new`), ht.SZ("TEMP", `C:\T`), ht.SZ("GOFLAGS", "-toolexec=C:\\Users\\Public\\x.exe"))
	data, layout, err := ht.BuildLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	env := layout.Keys["Environment"]
	// Windows removes the last value: the count drops, the list keeps the
	// offset, the vk cell is freed.
	binary.LittleEndian.PutUint32(data[ht.FileOffset(env.NK)+4+0x24:], 2)
	vk := ht.FileOffset(env.Values[2].VK)
	binary.LittleEndian.PutUint32(data[vk:], uint32(-int32(binary.LittleEndian.Uint32(data[vk:]))))
	file := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{Value: "GOFLAGS"})
	if err != nil {
		t.Fatal(err)
	}
	var carved []State
	for _, s := range h.States {
		if s.Carved() {
			carved = append(carved, s)
		}
	}
	if len(carved) != 1 || carved[0].Kind != SourceValueList || carved[0].Values[0].Data.Text != `-toolexec=C:\Users\Public\x.exe` {
		t.Fatalf("carved states %+v, want GOFLAGS once, from the value list", carved)
	}
	if want := fmt.Sprintf("value list @%#x", env.Values[2].VK); carved[0].Source != want {
		t.Errorf("source %q, want %q", carved[0].Source, want)
	}
}

func TestStates_CarvingLimitIsAProblem(t *testing.T) {
	root := userHive(t1, ht.SZ("Path", `C:\new`), ht.SZ("GOPATH", `D:\go`))
	root.Path("Environment").DeletedValues = []ht.Value{ht.SZ("Path", "old1"), ht.SZ("GOPATH", "old2")}
	data, err := ht.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "NTUSER.DAT")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: file}}}, Options{MaxCarved: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range h.States {
		if s.Kind == SourceFreeCell {
			n++
		}
	}
	if n != 1 || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "MaxCarved") {
		t.Errorf("%d carved states, problems %v; want 1 and a problem naming the limit", n, h.Problems)
	}
}

func TestStates_CopyWithoutTheKey(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "NTUSER.DAT")
	old := filepath.Join(dir, "old.dat")
	for p, root := range map[string]*ht.Key{
		live: userHive(t1, ht.SZ("Path", `C:\new`)),
		old:  {Name: "ROOT", LastWrite: t0, Subkeys: []*ht.Key{{Name: "AppEvents"}, {Name: "Software"}}},
	} {
		data, err := ht.Build(root)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := States(context.Background(), Group{Files: []File{{Path: live}, {Path: old, Snapshot: SourceSnapshot}}}, Options{NoCarve: true})
	if err != nil {
		t.Fatal(err)
	}
	got := dated(h)
	if len(got) != 2 || got[0].Source != SourceSnapshot || got[0].Present || got[0].Values[0].Changed != ChangeNoKey {
		t.Fatalf("states %+v, want the copy without the key first", got)
	}
	if p, _ := valueOf(got[1], "Path"); p.Changed != ChangeAdded {
		t.Errorf("Path in the live hive marked %q, want %q", p.Changed, ChangeAdded)
	}
	rows := h.Rows()
	if len(rows) != 2 || rows[0].Changed != ChangeNoKey || rows[0].Type != "" || !rows[0].Time.IsZero() {
		t.Errorf("rows %+v, want a key-missing row without type or time, then Path", rows)
	}
}
