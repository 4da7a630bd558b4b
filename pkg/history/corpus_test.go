package history

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// The corpus figures come from EXPECTED.md (agreed by libregfi, hivex,
// libregf and yarp; log entries as yarp and regipy apply them).
func TestStates_CorpusOneStatePerAppliedLogEntry(t *testing.T) {
	tests := []struct {
		hive    string
		entries int
		values  int
		first   string // the key's last write on disk
	}{
		// transactions_ntuser.dat.log1: 23 entries; log2 is stale.
		{"transactions_NTUSER.DAT", 23, 4, "2017-07-12T07:23:23.4410462Z"},
		// SYSTEM_B.LOG1 + LOG2: 24 entries.
		{"SYSTEM_B", 24, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.hive, func(t *testing.T) {
			p := testcorpus.Path(t, "hives", "regipy", tc.hive)
			h, err := States(context.Background(), Group{Files: []File{{Path: p}}}, Options{NoCarve: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Problems) > 0 {
				t.Errorf("problems: %v", h.Problems)
			}
			got := dated(h)
			if len(got) != 1+tc.entries {
				t.Fatalf("%d states, want the primary and %d log entries", len(got), tc.entries)
			}
			logs := 0
			for _, s := range got[1:] {
				if strings.HasPrefix(s.Source, "log:") {
					logs++
				}
			}
			if logs != tc.entries {
				t.Errorf("%d log states, want %d", logs, tc.entries)
			}
			if tc.values >= 0 && len(got[0].Values) != tc.values {
				t.Errorf("primary: %d values, want %d", len(got[0].Values), tc.values)
			}
			if tc.first != "" {
				want, _ := time.Parse(time.RFC3339Nano, tc.first)
				if !got[0].Time.Equal(want) {
					t.Errorf("primary time %v, want %s", got[0].Time, tc.first)
				}
				// yarp: after recovery the values are unchanged.
				for _, s := range got[1:] {
					for _, v := range s.Values {
						if v.Changed != ChangeSame {
							t.Errorf("%s: %s marked %q, want unchanged", s.Source, v.Name, v.Changed)
						}
					}
				}
			}
		})
	}
}

func TestStates_CorpusSystemEnvironmentOfTheCurrentControlSet(t *testing.T) {
	p := testcorpus.Path(t, "hives", "regipy", "SYSTEM")
	h, err := States(context.Background(), Group{Files: []File{{Path: p}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := dated(h)[0]
	want, _ := time.Parse(time.RFC3339Nano, "2011-09-16T20:48:46.7010798Z")
	if s.Key != `ControlSet001\Control\Session Manager\Environment` || len(s.Values) != 17 || !s.Time.Equal(want) {
		t.Errorf("got %s with %d values at %v; want ControlSet001's Environment, 17 values, %v", s.Key, len(s.Values), s.Time, want)
	}
}
