package scan

import (
	"context"
	"errors"
	"fmt"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/winreg"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// Host is one host opened by Hosts: its evidence, its registry view and the
// file each hive was read from. It is valid during the work call only.
type Host struct {
	// Evidence is what discovery found for the host (every file, including
	// the RegBack and Windows.old copies the registry view leaves out).
	Evidence *evidence.Host
	// Machine is the registry view of the live hives.
	Machine *winreg.Machine
	// Files maps each opened hive to its evidence file.
	Files map[*hive.Hive]string
	// Summary is what was read of the host so far; work may add Problems.
	Summary *HostSummary

	hc *hostContext
}

// Events runs the analyzers over the host, as Events does, keeping the
// events of cats (all when cats is empty).
func (h *Host) Events(ctx context.Context, cats []event.Category, emit func(*event.Event) error) error {
	var f analyze.Filter = analyze.All
	if len(cats) > 0 {
		f = categoryFilter(cats)
	}
	return h.hc.events(ctx, f, emit)
}

// TraceEvents emits the events of the host's ETW traces (.etl) and event
// logs (.evtx) only, each with the host filled in.
func (h *Host) TraceEvents(ctx context.Context, emit func(*event.Event) error) error {
	var errs []error
	for _, a := range analyzers {
		if a.name != "traces" && a.name != "event logs" {
			continue
		}
		if err := a.run(ctx, h.hc, analyze.All, emit); err != nil {
			if isCancel(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	return errors.Join(errs...)
}

// Findings runs the rules (Options.Rules, or the built-in rules when nil)
// over the host's events and emits the findings at or above
// Options.MinLevel, sorted as the scan report groups them.
func (h *Host) Findings(ctx context.Context, emit func(*report.Finding) error) error {
	rs := h.hc.opts.Rules
	if rs == nil {
		var err error
		if rs, err = builtinrules.Load(); err != nil {
			return err
		}
	}
	found, err := hostFindings(ctx, h.hc, rs, h.hc.opts.MinLevel)
	for _, f := range found {
		if eerr := emit(f); eerr != nil {
			return eerr
		}
	}
	return err
}

func hostFindings(ctx context.Context, hc *hostContext, rs *rules.RuleSet, minLevel report.Level) ([]*report.Finding, error) {
	var found []*report.Finding
	err := hc.events(ctx, newRuleFilter(rs), func(ev *event.Event) error {
		for _, m := range rs.Match(ev) {
			f := findingOf(m.Rule, ev)
			if minLevel != 0 && f.Level < minLevel {
				continue
			}
			found = append(found, f)
		}
		return nil
	})
	report.SortFindings(found)
	return found, err
}

// RoamingCopy returns the path of the server-side copy of u's profile hive
// under Options.Roaming (by profile folder name, CentralProfile tail or SID,
// with or without a .V2–.V6 suffix; the highest version wins).
func (h *Host) RoamingCopy(u *winreg.User) (string, bool) {
	if len(h.hc.opts.Roaming) == 0 || u == nil {
		return "", false
	}
	sc, ok := findServerCopy(h.hc.opts.Roaming, h.Machine, u)
	return sc.path, ok
}

// Hosts discovers the hosts under inputs and opens each as Scan does (hives
// with their logs, the registry view), then calls work with it. Hosts are
// worked on in parallel (Options.Jobs), so work must be safe to call from
// several goroutines; done is called in the caller's goroutine, one host at
// a time in discovery order, with the host's summary and work's result.
// An error from work is recorded as a problem of that host; an error from
// done, or a cancelled ctx, stops everything.
func Hosts(ctx context.Context, inputs []string, opts Options, work func(context.Context, *Host) (any, error), done func(*HostSummary, any) error) (*Summary, error) {
	sum := &Summary{}
	err := run(ctx, inputs, opts, func(ctx context.Context, hc *hostContext) (any, error) {
		return work(ctx, &Host{Evidence: hc.ev, Machine: hc.machine, Files: hc.files, Summary: hc.sum, hc: hc})
	}, func(hs *HostSummary, out any) error {
		sum.Hosts = append(sum.Hosts, hs)
		return done(hs, out)
	})
	return sum, err
}
