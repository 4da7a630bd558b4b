package profile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

var (
	t1 = time.Date(2025, 6, 10, 18, 2, 44, 0, time.UTC)
	t2 = time.Date(2025, 6, 11, 17, 45, 19, 876543200, time.UTC)
)

func k(name string, lw time.Time, vals []hivetest.Value, subs ...*hivetest.Key) *hivetest.Key {
	return &hivetest.Key{Name: name, LastWrite: lw, Values: vals, Subkeys: subs}
}

func load(t *testing.T, root *hivetest.Key, written time.Time) *hive.Hive {
	t.Helper()
	b, err := hivetest.Build(root, hivetest.WithLastWritten(written))
	if err != nil {
		t.Fatal(err)
	}
	if written.IsZero() {
		// A base block without a last-written time (as in some real
		// hives): clear it and fix the checksum.
		clear(b[0x0C:0x14])
		binary.LittleEndian.PutUint32(b[0x1FC:], hivetest.Checksum(b))
	}
	h, err := hive.Load("fixture", b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func collect(t *testing.T, l, s *hive.Hive, opts Options) ([]Change, *Summary) {
	t.Helper()
	var got []Change
	sum, err := Diff(context.Background(), l, s, opts, func(c Change) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, sum
}

func TestDiff_RewrittenPathServerOnlyValueAndVerdict(t *testing.T) {
	local := load(t, k("ROOT", t1, nil,
		k("Environment", t1, []hivetest.Value{hivetest.ExpandSZ("Path", `%USERPROFILE%\bin`), hivetest.SZ("GOPATH", `D:\work\go`), hivetest.SZ("OnlyLocal", "x")}),
		k("Software", t1, nil, k("Gone", t1, []hivetest.Value{hivetest.DWORD("a", 1)}))), t1)
	server := load(t, k("ROOT", t1, nil,
		k("Environment", t2, []hivetest.Value{hivetest.ExpandSZ("Path", `C:\Users\Public\tools;%USERPROFILE%\bin`), hivetest.ExpandSZ("GOPATH", `%USERPROFILE%\go`), hivetest.SZ("Planted", `C:\Users\Public\x`)}),
		k("Software", t1, nil, k("New", t1, nil))), t2)
	got, sum := collect(t, local, server, Options{})
	var lines []string
	for _, c := range got {
		lines = append(lines, string(c.Kind)+" "+c.Key+" "+c.Value)
	}
	want := []string{
		`key_timestamp Environment `,
		`value_modified Environment GOPATH`,
		`value_removed Environment OnlyLocal`,
		`value_modified Environment Path`,
		`value_added Environment Planted`,
		`key_removed Software\Gone `,
		`value_removed Software\Gone a`,
		`key_added Software\New `,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if sum.Winner != WinnerServer || sum.DecidedBy != ByBaseBlock {
		t.Errorf("verdict = %s by %s, want server by the base block", sum.Winner, sum.DecidedBy)
	}
	if len(sum.Environment) != 5 {
		t.Errorf("environment changes = %d, want 5", len(sum.Environment))
	}
	// Counts add up to the two hives' totals.
	if sum.LocalKeys != 4 || sum.ServerKeys != 4 || sum.LocalValues != 4 || sum.ServerValues != 3 {
		t.Errorf("totals: %+v", sum)
	}
	gp := got[1]
	if gp.Local.Type != "REG_SZ" || gp.Server.Type != "REG_EXPAND_SZ" || gp.Server.Data != `%USERPROFILE%\go` {
		t.Errorf("GOPATH change = %+v / %+v", gp.Local, gp.Server)
	}
}

func TestDiff_VerdictClocks(t *testing.T) {
	a := load(t, k("ROOT", t1, nil, k("Environment", t2, nil)), t2)
	b := load(t, k("ROOT", t1, nil, k("Environment", t1, []hivetest.Value{hivetest.SZ("Path", "old")})), t1)
	// Swapped: the local copy is newer by its base block.
	_, sum := collect(t, a, b, Options{})
	if sum.Winner != WinnerLocal {
		t.Errorf("winner = %s, want local", sum.Winner)
	}
	// File times, when given, decide.
	_, sum = collect(t, a, b, Options{LocalFileTime: t1, ServerFileTime: t2})
	if sum.Winner != WinnerServer || sum.DecidedBy != ByFileTimes {
		t.Errorf("winner = %s by %s, want server by file times", sum.Winner, sum.DecidedBy)
	}
	// The server copy wins while its Environment is older: stale values
	// come back at logon.
	if !sum.StaleServerEnvironment {
		t.Error("stale server environment not flagged")
	}
	// No base-block time: the newest key decides.
	c := load(t, k("ROOT", t1, nil), time.Time{})
	d := load(t, k("ROOT", t2, nil), time.Time{})
	_, sum = collect(t, c, d, Options{})
	if sum.Winner != WinnerServer || sum.DecidedBy != ByNewestKey {
		t.Errorf("winner = %s by %s, want server by newest key", sum.Winner, sum.DecidedBy)
	}
}

func TestDiff_KeyOption(t *testing.T) {
	l := load(t, k("ROOT", t1, nil, k("Environment", t1, []hivetest.Value{hivetest.SZ("A", "1")}), k("Other", t1, []hivetest.Value{hivetest.SZ("B", "1")})), t1)
	s := load(t, k("ROOT", t1, nil, k("Environment", t1, []hivetest.Value{hivetest.SZ("A", "2")}), k("Other", t1, []hivetest.Value{hivetest.SZ("B", "2")})), t1)
	got, _ := collect(t, l, s, Options{Key: "environment"})
	if len(got) != 1 || got[0].Key != "environment" && got[0].Key != "Environment" {
		t.Fatalf("got %+v", got)
	}
}

// TestCorpus_NTUSERModified compares the corpus NTUSER.DAT with
// NTUSER_modified.DAT: the totals must be the independent parsers' (EXPECTED
// §1: 1812/4094 and 1808/4090), and, where reglookup is installed, every
// added or removed key and value and every changed value must be the
// difference of reglookup's two listings.
func TestCorpus_NTUSERModified(t *testing.T) {
	lp := testcorpus.Path(t, "hives", "regipy", "NTUSER.DAT")
	sp := testcorpus.Path(t, "hives", "regipy", "NTUSER_modified.DAT")
	l, err := hive.Open(lp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := hive.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	got, sum := collect(t, l, s, Options{IgnoreTimestamps: true})
	if sum.LocalKeys != 1812 || sum.LocalValues != 4094 || sum.ServerKeys != 1808 || sum.ServerValues != 4090 {
		t.Fatalf("totals %d/%d vs %d/%d", sum.LocalKeys, sum.LocalValues, sum.ServerKeys, sum.ServerValues)
	}
	if _, err := exec.LookPath("reglookup"); err != nil {
		t.Skip("reglookup not installed: the per-change check needs it")
	}
	want := reglookupDiff(t, lp, sp)
	var have []string
	for _, c := range got {
		switch c.Kind {
		case KeyAdded, KeyRemoved:
			have = append(have, string(c.Kind)+" "+strings.ToLower(c.Key))
		case ValueAdded, ValueRemoved, ValueModified:
			have = append(have, string(c.Kind)+" "+strings.ToLower(c.Key+`\`+c.Value))
		}
	}
	slicesSort(have)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes differ from reglookup's listings:\n got %q\nwant %q", have, want)
	}
	if len(want) == 0 {
		t.Error("the two hives differ; an empty difference means the check is broken")
	}
}

// reglookupDiff builds the expected changes from reglookup's listings of the
// two hives. Value identity is path + type + reglookup's rendering of the
// data; a value whose rendering changed is "modified".
func reglookupDiff(t *testing.T, a, b string) []string {
	t.Helper()
	list := func(p string) (keys map[string]bool, vals map[string]string) {
		out, err := exec.Command("reglookup", "-H", p).Output()
		if err != nil && len(out) == 0 {
			t.Fatalf("reglookup %s: %v", p, err)
		}
		keys, vals = map[string]bool{}, map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), ",", 4)
			if len(f) < 4 {
				continue
			}
			path := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(f[0], "/"), "/", `\`))
			if f[1] == "KEY" {
				if path != "" {
					keys[path] = true
				}
				continue
			}
			vals[path] = f[1] + "," + f[2]
		}
		return keys, vals
	}
	ak, av := list(a)
	bk, bv := list(b)
	var out []string
	for p := range ak {
		if !bk[p] {
			out = append(out, "key_removed "+p)
		}
	}
	for p := range bk {
		if !ak[p] {
			out = append(out, "key_added "+p)
		}
	}
	for p, v := range av {
		w, ok := bv[p]
		switch {
		case !ok:
			out = append(out, "value_removed "+p)
		case w != v:
			out = append(out, "value_modified "+p)
		}
	}
	for p := range bv {
		if _, ok := av[p]; !ok {
			out = append(out, "value_added "+p)
		}
	}
	slicesSort(out)
	return out
}

func slicesSort(s []string) { slices.Sort(s) }
