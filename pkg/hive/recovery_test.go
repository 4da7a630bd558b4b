package hive

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// listing renders the whole tree: one line per key (path, raw FILETIME) and
// one per value (name, type, data in hex).
func listing(t *testing.T, h *Hive) string {
	t.Helper()
	var b strings.Builder
	err := h.Walk(t.Context(), func(k *Key) error {
		fmt.Fprintf(&b, "K %q %d\n", k.Path(), k.LastWriteRaw())
		vs, _ := k.Values()
		for _, v := range vs {
			d, err := v.Data()
			if err != nil {
				t.Errorf("%s %q: %v", k.Path(), v.Name(), err)
			}
			fmt.Fprintf(&b, "V %q %q %s %s\n", k.Path(), v.Name(), v.Type(), hex.EncodeToString(d))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  got  %s\n  want %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(la), len(lb))
}

// EXPECTED.md §2: logs beside the hive are found and applied by default.
func TestOpen_DirtyHivesRecoveredAsExpected(t *testing.T) {
	tests := []struct {
		file         string
		keys, values int
		rootWrite    string // yarp's microseconds
	}{
		{"regipy/SYSTEM_B", 35595, 78901, "2018-03-27T21:45:39.557160Z"},
		{"regipy/transactions_NTUSER.DAT", 3105, 4695, "2019-02-13T21:01:24.116364Z"},
		{"yarp/BadBaseBlockHive/BadBaseBlockHive", 5003, 1, "2017-03-04T14:50:13.083388Z"},
		{"yarp/NewDirtyHive1/NewDirtyHive", 5, 1, "2017-03-04T20:54:05.112338Z"},
		{"yarp/OldDirtyHive/OldDirtyHive", 5003, 1, "2017-03-04T14:50:13.083388Z"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...))
			if err != nil {
				t.Fatal(err)
			}
			if !h.Dirty() || !h.Recovered() || h.Partial() {
				t.Errorf("Dirty %v Recovered %v Partial %v, want true true false; logs %+v anomalies %v", h.Dirty(), h.Recovered(), h.Partial(), h.Logs(), h.Anomalies())
			}
			keys, values := walkCount(t, h)
			if keys != tc.keys || values != tc.values {
				t.Errorf("keys/values = %d/%d, want %d/%d", keys, values, tc.keys, tc.values)
			}
			root, _ := h.Root()
			// yarp converts FILETIMEs through a float: compare at 1 µs.
			want, err := time.Parse(time.RFC3339Nano, tc.rootWrite)
			if err != nil {
				t.Fatal(err)
			}
			if d := root.LastWrite().Sub(want); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("root last write = %s, want %s (±1 µs)", wintime.Format(root.LastWrite()), tc.rootWrite)
			}
		})
	}
}

func TestOpen_RecoveredTreesEqualWindowsRecovery(t *testing.T) {
	tests := []struct{ dirty, windows string }{
		{"yarp/NewDirtyHive1/NewDirtyHive", "yarp/NewDirtyHive1/RecoveredHive_Windows10"},
		{"yarp/OldDirtyHive/OldDirtyHive", "yarp/OldDirtyHive/RecoveredHive_Windows7"},
	}
	for _, tc := range tests {
		t.Run(tc.dirty, func(t *testing.T) {
			got, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.dirty, "/")...)...))
			if err != nil {
				t.Fatal(err)
			}
			want := openCorpus(t, tc.windows)
			if g, w := listing(t, got), listing(t, want); g != w {
				t.Errorf("recovered tree differs from Windows': %s", firstDiff(g, w))
			}
		})
	}
}

func TestLoad_ExplicitLogsAndObserver(t *testing.T) {
	dir := testcorpus.Path(t, "hives", "yarp", "NewDirtyHive1")
	primary, err := os.ReadFile(filepath.Join(dir, "NewDirtyHive"))
	if err != nil {
		t.Fatal(err)
	}
	before := append([]byte(nil), primary...)
	var opts []Option
	for _, n := range []string{"NewDirtyHive.LOG1", "NewDirtyHive.LOG2"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, WithLogData(n, b))
	}
	var steps []ReplayStep
	var counts []int
	opts = append(opts, WithReplayObserver(func(s ReplayStep, h *Hive) error {
		steps = append(steps, s)
		n := 0
		h.Walk(t.Context(), func(*Key) error { n++; return nil })
		counts = append(counts, n)
		return nil
	}))
	h, err := Load("NewDirtyHive", primary, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(primary) {
		t.Fatal("Load modified the primary image")
	}
	if !h.Recovered() {
		t.Fatalf("not recovered: %+v", h.Logs())
	}
	// EXPECTED §2: 4 log entries for NewDirtyHive.
	if len(steps) != 4 {
		t.Errorf("observer saw %d entries, want 4: %+v", len(steps), steps)
	}
	for i, n := range counts {
		if n == 0 {
			t.Errorf("step %d: the view had no keys", i)
		}
	}
	// The same files through WithLogs.
	h2, err := Open(filepath.Join(dir, "NewDirtyHive"), WithLogs(filepath.Join(dir, "NewDirtyHive.LOG1"), filepath.Join(dir, "NewDirtyHive.LOG2")))
	if err != nil {
		t.Fatal(err)
	}
	if listing(t, h) != listing(t, h2) {
		t.Error("WithLogs and WithLogData give different trees")
	}
	// Without logs, the dirty hive is partial.
	h3, err := Load("NewDirtyHive", primary)
	if err != nil {
		t.Fatal(err)
	}
	if h3.Recovered() || !h3.Partial() {
		t.Errorf("no logs: Recovered %v Partial %v, want false true", h3.Recovered(), h3.Partial())
	}
}

// EXPECTED.md §3/§4: after log recovery the Environment keys keep their
// values and last-write times.
func TestOpen_EnvironmentUnchangedByRecovery(t *testing.T) {
	for _, tc := range expectedEnvironment {
		if tc.file != "regipy/SYSTEM_B" && tc.file != "regipy/transactions_NTUSER.DAT" {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			h, err := Open(testcorpus.Path(t, append([]string{"hives"}, strings.Split(tc.file, "/")...)...))
			if err != nil {
				t.Fatal(err)
			}
			if !h.Recovered() {
				t.Fatalf("not recovered: %+v", h.Logs())
			}
			k, err := h.OpenKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := wintime.Format(k.LastWrite()); got != tc.lastWrite {
				t.Errorf("last write %s, want %s", got, tc.lastWrite)
			}
			vs, _ := k.Values()
			if len(vs) != len(tc.values) {
				t.Fatalf("%d values, want %d", len(vs), len(tc.values))
			}
			for i, want := range tc.values {
				d, _ := vs[i].Decode()
				if vs[i].Name() != want.name || vs[i].Type().String() != want.typ || d.Text != want.data {
					t.Errorf("value %d = %q %s %q, want %q %s %q", i, vs[i].Name(), vs[i].Type(), d.Text, want.name, want.typ, want.data)
				}
			}
		})
	}
}

// EXPECTED §2: SYSTEM_B recovers with 24 log entries; the observer sees each
// one, with a readable view of the hive at that point.
func TestOpen_ObserverSeesEveryEntry(t *testing.T) {
	p := testcorpus.Path(t, "hives", "regipy", "SYSTEM_B")
	var steps []ReplayStep
	h, err := Open(p, WithReplayObserver(func(s ReplayStep, v *Hive) error {
		steps = append(steps, s)
		k, err := v.OpenKey(`ControlSet001\Control\Session Manager\Environment`)
		if err != nil {
			return err
		}
		val, err := k.Value("Path")
		if err != nil {
			return err
		}
		if d, _ := val.Decode(); !strings.HasPrefix(d.Text, `%SystemRoot%\system32`) {
			t.Errorf("step %+v: Path %q", s, d.Text)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Recovered() || len(steps) != 24 {
		t.Errorf("recovered %v after %d observed entries, want 24", h.Recovered(), len(steps))
	}
	for i := 1; i < len(steps); i++ {
		if steps[i].Sequence != steps[i-1].Sequence+1 {
			t.Errorf("entry %d has sequence %d after %d", i, steps[i].Sequence, steps[i-1].Sequence)
		}
	}
}
