package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/evtx"
)

// analyzer is one source of events. Each runs only when the filter wants one
// of its categories.
type analyzer struct {
	name       string
	categories []event.Category
	run        func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error
}

func (a analyzer) wanted(f analyze.Filter) bool {
	for _, c := range a.categories {
		if f.WantCategory(c) {
			return true
		}
	}
	return false
}

// analyzers are run in this order for every host.
var analyzers = []analyzer{
	{
		name:       "registry",
		categories: []event.Category{event.RegistrySet, event.RegistryKey},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.RegistryEventsWith(ctx, hc.machine, analyze.RegistryOptions{Files: hc.files, OnDisk: hc.onDisk}, f, emit)
		},
	},
	{
		name:       "services",
		categories: []event.Category{event.WindowsService},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.ServiceEvents(ctx, hc.machine, hc.files[hc.machine.System], f, emit)
		},
	},
	{
		name:       "acl",
		categories: []event.Category{event.RegistryACL},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.ACLEvents(ctx, hc.machine, hc.files, f, emit)
		},
	},
	{
		name:       "traces",
		categories: []event.Category{event.RegistrySet, event.RegistryKey, event.RegistryDelete, event.ProcessCreation},
		run:        traceEvents,
	},
	{
		name:       "event logs",
		categories: []event.Category{event.RegistrySet, event.RegistryKey, event.RegistryDelete, event.RegistryRename, event.ProcessCreation, event.PSScript},
		run:        evtxEvents,
	},
	{
		name:       "environment",
		categories: []event.Category{event.EnvPath, event.EnvVar},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.EnvEvents(ctx, hc.machine, hc.environment(), f, emit)
		},
	},
	{
		name:       "roaming",
		categories: []event.Category{event.ProfileDiff},
		run:        roamingEvents,
	},
	{
		name:       "profiles",
		categories: []event.Category{event.UserProfile},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.ProfileEvents(ctx, hc.machine, hc.files[hc.machine.Software], emit)
		},
	},
}

// traceEvents reads the host's ETW traces.
func traceEvents(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
	var errs []error
	for _, file := range hc.ev.ByKind(evidence.KindETL) {
		tf, err := openTrace(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = analyze.ETLEvents(ctx, tf, analyze.ETLOptions{Host: hc.machine.Host, File: file.Path, CurrentControlSet: hc.machine.CurrentControlSet, Filter: f}, withHost(hc, emit))
		tf.Close()
		if err != nil {
			if isCancel(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %w", file.Path, err))
		}
	}
	return errors.Join(errs...)
}

// evtxEvents reads the host's event logs.
func evtxEvents(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
	var errs []error
	for _, file := range hc.ev.ByKind(evidence.KindEVTX) {
		lf, err := openEventLog(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = analyze.EvtxEvents(ctx, lf, file.Path, func(ev *event.Event) error {
			if !f.WantCategory(ev.Category) {
				return nil
			}
			return withHost(hc, emit)(ev)
		})
		lf.Close()
		if err != nil {
			if isCancel(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %w", file.Path, err))
		}
	}
	return errors.Join(errs...)
}

// maxArchivedLog bounds a trace or event log read from a ZIP collection
// into memory.
const maxArchivedLog = 1 << 30

// openTrace opens a trace from disk, or from its bytes for a member of a ZIP
// collection.
func openTrace(f evidence.File) (*etl.File, error) {
	if f.Archive == "" {
		return etl.Open(f.Path)
	}
	data, err := evidence.ReadFile(f.Path, maxArchivedLog)
	if err != nil {
		return nil, err
	}
	return etl.NewReader(bytes.NewReader(data), int64(len(data)))
}

// openEventLog opens an event log from disk, or from its bytes for a member
// of a ZIP collection.
func openEventLog(f evidence.File) (*evtx.File, error) {
	if f.Archive == "" {
		return evtx.Open(f.Path)
	}
	data, err := evidence.ReadFile(f.Path, maxArchivedLog)
	if err != nil {
		return nil, err
	}
	return evtx.NewReader(bytes.NewReader(data), int64(len(data)), f.Path)
}

// withHost fills the host and, from the TargetObject's SID, the user of
// events from traces and logs, which name neither the way hives do.
func withHost(hc *hostContext, emit analyze.Emit) analyze.Emit {
	return func(ev *event.Event) error {
		if ev.String("Host") == "" {
			ev.Set("Host", hc.machine.Host)
		}
		ev.Source.Host = hc.machine.Host
		if ev.String("UserSid") == "" {
			if sid := sidOf(ev.String("TargetObject")); sid != "" {
				ev.Set("UserSid", sid)
			}
		}
		analyze.CorrelateWithHive(ev, hc.machine)
		if sid := ev.String("UserSid"); sid != "" && ev.String("User") == "" {
			for _, u := range hc.machine.Users {
				if strings.EqualFold(u.SID, sid) && u.Name != "" {
					ev.Set("User", u.Name)
				}
			}
		}
		return emit(ev)
	}
}

// sidOf returns the SID of an HKU\<SID>\... name.
func sidOf(target string) string {
	if len(target) < 5 || !strings.EqualFold(target[:4], `HKU\`) {
		return ""
	}
	rest := target[4:]
	if i := strings.IndexByte(rest, '\\'); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSuffix(rest, "_Classes")
	if !strings.HasPrefix(strings.ToUpper(rest), "S-1-") {
		return ""
	}
	return rest
}

// categoryFilter wants every event of the given categories.
type categoryFilter []event.Category

func (cf categoryFilter) WantCategory(c event.Category) bool {
	for _, x := range cf {
		if x == c {
			return true
		}
	}
	return false
}
func (cf categoryFilter) Descend(string) bool { return true }
func (cf categoryFilter) Want(c event.Category, _ string) bool {
	return cf.WantCategory(c)
}
