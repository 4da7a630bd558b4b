package timeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

// Options configures Run.
type Options struct {
	// Scan opens the hosts: logs, roaming folders (Roaming), jobs, rules
	// and the minimum level of findings.
	Scan scan.Options
	// Keys keeps only the key last-write rows of keys under these prefixes
	// (every key when empty).
	Keys Prefixes
	// Filter keeps the rows between its bounds.
	Filter report.TimelineFilter
	// NoKeys, NoHistory, NoTraces and NoFindings leave those rows out.
	NoKeys, NoHistory, NoTraces, NoFindings bool
	// Extra adds sources for each host (a reader not built in): they are
	// called in the host's worker and their rows filtered and sorted with
	// the others.
	Extra func(*scan.Host) []report.TimelineSource
}

// HostSources returns the timeline sources of one opened host: the key
// last-write times of every hive, ProfileList load and unload times, the
// rollback history of the Environment keys, the roaming comparison of each
// user with a server copy, trace and event-log events, and the findings.
func HostSources(ctx context.Context, h *scan.Host, opts Options) []report.TimelineSource {
	host := h.Machine.Host
	var srcs []report.TimelineSource
	hives := make([]*hive.Hive, 0, len(h.Files))
	for hv := range h.Files {
		hives = append(hives, hv)
	}
	sort.Slice(hives, func(i, j int) bool { return h.Files[hives[i]] < h.Files[hives[j]] })
	byFile := map[string]*hive.Hive{}
	for _, hv := range hives {
		byFile[filepath.Clean(h.Files[hv])] = hv
		if !opts.NoKeys {
			srcs = append(srcs, Keys{Hive: hv, Machine: h.Machine, Prefixes: opts.Keys, Host: host, User: userOf(h, hv), File: h.Files[hv]})
		}
	}
	srcs = append(srcs, Profiles{Machine: h.Machine, Host: host, File: h.Files[h.Machine.Software]})
	if !opts.NoHistory {
		srcs = append(srcs, historySource(h, opts, byFile))
		srcs = append(srcs, roamingSource(h, opts))
	}
	if !opts.NoTraces {
		srcs = append(srcs, report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
			return h.TraceEvents(ctx, func(e *event.Event) error {
				if e.Time.IsZero() {
					return nil
				}
				r := report.EventRow(e, EventSource(e))
				if name := e.String("Host"); name != "" {
					r.Host = name // the record's own computer name, as findings give it
				}
				return emit(r)
			})
		}))
	}
	if !opts.NoFindings {
		srcs = append(srcs, report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
			return h.Findings(ctx, func(f *report.Finding) error {
				return emit(report.FindingRow(f))
			})
		}))
	}
	if opts.Extra != nil {
		srcs = append(srcs, opts.Extra(h)...)
	}
	return srcs
}

// userOf names the user a hive belongs to (DOMAIN\name, else the SID).
func userOf(h *scan.Host, hv *hive.Hive) string {
	if u := h.Machine.UserOf(hv); u != nil {
		if u.Name != "" {
			return u.Name
		}
		return u.SID
	}
	return ""
}

// historySource reads the rollback history of each Environment key of the
// host (without carving: carved values have no time).
func historySource(h *scan.Host, opts Options, byFile map[string]*hive.Hive) report.TimelineSource {
	return report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
		var errs []error
		for _, g := range history.HostGroups(h.Evidence, history.DiscoverOptions{NoLogs: opts.Scan.NoLogs, HiveOptions: opts.Scan.HiveOptions}) {
			hist, err := history.States(ctx, g, history.Options{NoCarve: true, HiveOptions: opts.Scan.HiveOptions})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, err)
				continue
			}
			src := History{History: hist, Host: h.Machine.Host, Root: groupRoot(g)}
			for _, f := range g.Files {
				if f.Snapshot != "" {
					continue
				}
				if hv := byFile[filepath.Clean(f.Path)]; hv != nil {
					src.Name = func(rel string) string { return h.Machine.KeyName(hv, rel) }
					src.User = userOf(h, hv)
				}
			}
			if err := src.Rows(ctx, emit); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	})
}

// groupRoot names the root of a group's hive when the registry view does
// not know it.
func groupRoot(g history.Group) string {
	switch {
	case g.Name == "SYSTEM":
		return `HKLM\SYSTEM`
	case g.Name == "DEFAULT":
		return `HKU\.DEFAULT`
	case strings.HasPrefix(g.Name, "NTUSER"):
		return `HKCU`
	}
	return ""
}

// roamingSource compares each user's hive with its server copy, when the
// scan options name roaming folders.
func roamingSource(h *scan.Host, opts Options) report.TimelineSource {
	return report.TimelineFunc(func(ctx context.Context, emit func(report.TimelineRow) error) error {
		var errs []error
		for _, u := range h.Machine.Users {
			if u.Template || u.Hive == nil {
				continue
			}
			path, ok := h.RoamingCopy(u)
			if !ok {
				continue
			}
			hopts := append([]hive.Option(nil), opts.Scan.HiveOptions...)
			if opts.Scan.NoLogs {
				hopts = append(hopts, hive.WithoutLogs())
			}
			server, err := hive.Open(path, hopts...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			d := Diff{Root: h.Machine.RootName(u.Hive), Host: h.Machine.Host, User: userOf(h, u.Hive), LocalFile: h.Files[u.Hive], ServerFile: path}
			if _, err := profile.Diff(ctx, u.Hive, server, profile.Options{IgnoreTimestamps: true}, func(c profile.Change) error {
				if c.Kind == profile.ValueAdded || c.Kind == profile.ValueModified || c.Kind == profile.ValueRemoved {
					d.Changes = append(d.Changes, c)
				}
				return nil
			}); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, fmt.Errorf("%s vs %s: %w", d.LocalFile, path, err))
				continue
			}
			if err := d.Rows(ctx, emit); err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	})
}

// Run reads the hosts under inputs and emits one time-ordered timeline of
// every source (HostSources). Hosts are read in parallel and each host's
// rows are filtered as they are produced; the rows kept are then sorted
// together, so memory grows with the rows kept (narrow it with Keys and
// Filter on large collections). Problems of a host (a source that failed)
// are in the summary; the error is non-nil when nothing could be read, ctx
// was cancelled or emit failed.
func Run(ctx context.Context, inputs []string, opts Options, emit func(report.TimelineRow) error) (*scan.Summary, error) {
	var all []report.TimelineRow
	sum, err := scan.Hosts(ctx, inputs, opts.Scan, func(ctx context.Context, h *scan.Host) (any, error) {
		return Collect(ctx, HostSources(ctx, h, opts), opts.Filter)
	}, func(_ *scan.HostSummary, out any) error {
		all = append(all, out.([]report.TimelineRow)...)
		return nil
	})
	if err != nil {
		return sum, err
	}
	return sum, report.SortTimeline(ctx, []report.TimelineSource{Slice(all)}, opts.Filter, emit)
}
