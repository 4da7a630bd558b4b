package scan

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/report"
)

const hostsDemo = "../../testdata/demo"

// hostsResult is what the test's work function saw of a host.
type hostsResult struct {
	users, traces, findings int
	roaming                 string
	etlOnly                 bool
}

func TestHosts_OpensEachHostWithItsViewEventsAndFindings(t *testing.T) {
	var done []*HostSummary
	sum, err := Hosts(context.Background(), []string{filepath.Join(hostsDemo, "WS-DEV-07")}, Options{Roaming: []string{filepath.Join(hostsDemo, "profiles")}, Jobs: 2},
		func(ctx context.Context, h *Host) (any, error) {
			r := hostsResult{users: len(h.Machine.Users), etlOnly: true}
			if err := h.TraceEvents(ctx, func(e *event.Event) error {
				r.traces++
				if !strings.HasSuffix(e.Source.File, ".etl") && !strings.HasSuffix(e.Source.File, ".evtx") {
					r.etlOnly = false
				}
				return nil
			}); err != nil {
				return nil, err
			}
			if err := h.Findings(ctx, func(*report.Finding) error { r.findings++; return nil }); err != nil {
				return nil, err
			}
			for _, u := range h.Machine.Users {
				if u.Folder == "alice" {
					r.roaming, _ = h.RoamingCopy(u)
				}
			}
			return r, nil
		},
		func(hs *HostSummary, out any) error {
			done = append(done, hs)
			r := out.(hostsResult)
			if hs.Name != "WS-DEV-07" || r.users != 3 {
				t.Errorf("host %q with %d users, want WS-DEV-07 with alice, bob and carol", hs.Name, r.users)
			}
			if r.traces == 0 || !r.etlOnly {
				t.Errorf("%d trace events (only from traces and logs: %v), want the demo's EnvWatch.etl events", r.traces, r.etlOnly)
			}
			if r.findings == 0 {
				t.Errorf("no findings on the demo host")
			}
			if !strings.HasSuffix(filepath.ToSlash(r.roaming), "profiles/alice.V6/NTUSER.DAT") {
				t.Errorf("alice's roaming copy = %q, want profiles/alice.V6/NTUSER.DAT", r.roaming)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || len(sum.Hosts) != 1 {
		t.Errorf("done called %d times, %d hosts in the summary; want 1", len(done), len(sum.Hosts))
	}
}

func TestHosts_WorkErrorIsAHostProblemAndDoneErrorStops(t *testing.T) {
	boom := errors.New("boom")
	sum, err := Hosts(context.Background(), []string{filepath.Join(hostsDemo, "WS-DEV-07")}, Options{},
		func(context.Context, *Host) (any, error) { return nil, boom },
		func(*HostSummary, any) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(sum.Problems(), "\n"); !strings.Contains(p, "boom") {
		t.Errorf("problems %q, want the work error", p)
	}
	stop := errors.New("stop")
	if _, err := Hosts(context.Background(), []string{filepath.Join(hostsDemo, "WS-DEV-07")}, Options{},
		func(context.Context, *Host) (any, error) { return nil, nil },
		func(*HostSummary, any) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("done error: got %v, want it returned", err)
	}
}
