package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/rules"
)

// sigmaRegressionInfo is SigmaHQ's regression test description (info.yml).
type sigmaRegressionInfo struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		Provider   string `yaml:"provider"`
		MatchCount int    `yaml:"match_count"`
		Path       string `yaml:"path"`
	} `yaml:"regression_tests_info"`
}

// TestSigmaRegression_MatchCounts runs SigmaHQ's own regression suite: for
// each test, only its rule is loaded, every record of its sample becomes
// events, and the number of matching events must equal match_count.
func TestSigmaRegression_MatchCounts(t *testing.T) {
	root := testcorpus.Path(t, "sigma")
	var infos []string
	filepath.WalkDir(filepath.Join(root, "regression_data"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "info.yml" {
			infos = append(infos, p)
		}
		return nil
	})
	if len(infos) == 0 {
		t.Skip("no SigmaHQ regression tests in the corpus")
	}
	ran := 0
	for _, infoPath := range infos {
		rel, _ := filepath.Rel(filepath.Join(root, "regression_data"), filepath.Dir(infoPath))
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(infoPath)
			if err != nil {
				t.Fatal(err)
			}
			var info sigmaRegressionInfo
			if err := yaml.Unmarshal(data, &info); err != nil {
				t.Fatalf("%s: %v", infoPath, err)
			}
			if len(info.RuleMetadata) != 1 || len(info.Tests) == 0 {
				t.Fatalf("%s: want one rule and at least one test", infoPath)
			}
			// The rule lives at the same path under rules/ as its test folder
			// under regression_data/.
			rulePath := filepath.Join(root, rel+".yml")
			rule, err := rules.LoadFile(rulePath)
			if err != nil {
				t.Fatalf("loading %s: %v", rulePath, err)
			}
			if !strings.EqualFold(rule.ID, info.RuleMetadata[0].ID) {
				t.Fatalf("%s has id %s, info.yml names %s", rulePath, rule.ID, info.RuleMetadata[0].ID)
			}
			for _, tc := range info.Tests {
				if tc.Type != "evtx" {
					continue
				}
				sample := filepath.Join(root, filepath.FromSlash(tc.Path))
				f, err := evtx.Open(sample)
				if err != nil {
					t.Fatal(err)
				}
				want, wantIDs := tc.MatchCount, sigmaJSONRecordIDs(t, strings.TrimSuffix(sample, ".evtx")+".json")
				if wantIDs != nil && len(wantIDs) != want {
					// SigmaHQ's runner only checks that the rule fires at all;
					// the .json beside the sample lists the events that match,
					// and where its count differs from match_count it is the
					// better evidence (every listed event satisfies the rule).
					t.Logf("%s: match_count %d, but SigmaHQ's matching-event JSON lists %d events; checking those", rel, want, len(wantIDs))
					want = len(wantIDs)
				}
				var matched []*event.Event
				err = EvtxEvents(context.Background(), f, sample, func(ev *event.Event) error {
					if rule.Match(ev) != nil {
						matched = append(matched, ev)
					}
					return nil
				})
				f.Close()
				if err != nil {
					t.Errorf("%s: %v", tc.Name, err)
				}
				if len(matched) != want {
					t.Errorf("%s (%s): %d matches, want %d", tc.Name, info.RuleMetadata[0].Title, len(matched), want)
				}
				if wantIDs != nil {
					var got []string
					for _, ev := range matched {
						got = append(got, fmt.Sprint(recordIDOf(t, ev, sample)))
					}
					sort.Strings(got)
					if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
						t.Errorf("%s: matched EventRecordIDs %v, SigmaHQ's JSON lists %v", tc.Name, got, wantIDs)
					}
				}
				ran++
			}
		})
	}
	t.Logf("%d regression tests", ran)
}

// sigmaJSONRecordIDs returns the sorted EventRecordIDs of the events in
// SigmaHQ's JSON rendering beside a sample (a sequence of JSON objects), or
// nil when there is no such file.
func sigmaJSONRecordIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var ids []string
	for {
		var doc struct {
			Event struct {
				System struct {
					EventRecordID json.Number `json:"EventRecordID"`
				} `json:"System"`
			} `json:"Event"`
		}
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		ids = append(ids, doc.Event.System.EventRecordID.String())
	}
	sort.Strings(ids)
	return ids
}

// recordIDOf finds the System/EventRecordID of the record behind an event.
func recordIDOf(t *testing.T, ev *event.Event, sample string) uint64 {
	t.Helper()
	f, err := evtx.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for rec, err := range f.Records(context.Background()) {
		if err == nil && rec.Offset == ev.Source.Offset {
			return rec.System.EventRecordID
		}
	}
	t.Fatalf("no record at offset %d", ev.Source.Offset)
	return 0
}
