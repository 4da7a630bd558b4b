// Package scan is envhunt's front door for pipelines: Scan finds the evidence
// under the given paths, reads each host (hives with their transaction logs,
// traces, event logs, Group Policy files), turns it into events, runs the
// rules over them and streams findings to the caller as each host finishes.
// The envhunt CLI's scan and events commands are thin wrappers over it.
//
// Hosts are read in parallel (Options.Jobs), each by one worker that holds
// only that host's hives, so memory is bounded by the hosts in flight, not by
// the size of the batch. The callbacks are always called from the caller's
// goroutine, one at a time.
package scan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/winreg"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// Options configures a scan. The zero value scans with the built-in rules,
// applies transaction logs found beside hives and uses every CPU.
type Options struct {
	// Rules are the rules to run; nil means the built-in rules.
	Rules *rules.RuleSet
	// MinLevel drops findings below it (zero keeps all).
	MinLevel report.Level
	// NoLogs reads hives as they are on disk, without their logs.
	NoLogs bool
	// Logs are transaction logs given explicitly (triage tools rename
	// files); each is attached to the loose hive whose name it starts with,
	// or to the only loose hive.
	Logs []string
	// Roaming lists folders holding server-side copies of roaming profiles.
	Roaming []string
	// Jobs is how many hosts are read at once (default: the number of CPUs).
	Jobs int
	// Categories restricts Events to these categories (nil: all).
	Categories []event.Category
	// OnHost is called after each host with its summary (for progress).
	OnHost func(*HostSummary)
	// HiveOptions are passed to every hive.Open (limits, for example).
	HiveOptions []hive.Option
	// Roots map Windows drives to complete file systems (a mounted image),
	// so PATH checks can say "missing"; a collection's own volume folder is
	// used as a partial one (present or unknown) without this.
	Roots []envmodel.Volume
}

// Summary is what a scan read and found.
type Summary struct {
	Hosts    []*HostSummary
	Findings report.Tally
}

// Partial reports whether some input could not be read, or only in part.
func (s *Summary) Partial() bool {
	for _, h := range s.Hosts {
		if h.Partial() {
			return true
		}
	}
	return false
}

// Problems lists, one line each, what could not be read.
func (s *Summary) Problems() []string {
	var out []string
	for _, h := range s.Hosts {
		for _, p := range h.Problems {
			out = append(out, h.Name+": "+p)
		}
	}
	return out
}

// HostSummary is what was read of one host.
type HostSummary struct {
	Name  string
	Root  string
	Users []UserSummary
	Hives []HiveSummary
	// Files counts the other evidence files read, by kind.
	Files    map[string]int
	Findings report.Tally
	// Problems are the things that could not be read, or only in part,
	// one line each; a non-empty list makes the scan partial.
	Problems []string
}

// Partial reports whether some of this host's evidence was unreadable.
func (h *HostSummary) Partial() bool { return len(h.Problems) > 0 }

// UserSummary identifies one user profile of a host.
type UserSummary struct {
	SID, Name, Folder, SIDSource, File string
}

// HiveSummary says how one hive was read.
type HiveSummary struct {
	File      string
	Type      string
	Dirty     bool
	Recovered bool
	// Logs names the logs applied.
	Logs      []string
	Anomalies int
	Partial   bool
}

// Scan reads the evidence under inputs, runs the rules and calls emit with
// each finding, host by host as hosts finish. It returns the summary; the
// error is non-nil only when nothing usable was found or the scan was
// cancelled (unreadable files are reported in the summary instead).
func Scan(ctx context.Context, inputs []string, opts Options, emit func(*report.Finding) error) (*Summary, error) {
	rs := opts.Rules
	if rs == nil {
		var err error
		if rs, err = builtinrules.Load(); err != nil {
			return nil, err
		}
	}
	filter := newRuleFilter(rs)
	sum := &Summary{}
	err := run(ctx, inputs, opts, func(ctx context.Context, hc *hostContext) (any, error) {
		var found []*report.Finding
		err := hc.events(ctx, filter, func(ev *event.Event) error {
			for _, m := range rs.Match(ev) {
				f := findingOf(m.Rule, ev)
				if opts.MinLevel != 0 && f.Level < opts.MinLevel {
					continue
				}
				found = append(found, f)
			}
			return nil
		})
		report.SortFindings(found)
		return found, err
	}, func(hs *HostSummary, out any) error {
		for _, f := range out.([]*report.Finding) {
			hs.Findings.Add(f)
			sum.Findings.Add(f)
			if err := emit(f); err != nil {
				return err
			}
		}
		sum.Hosts = append(sum.Hosts, hs)
		return nil
	})
	return sum, err
}

// Events reads the evidence under inputs and calls emit with every event
// the analyzers produce (of Options.Categories when set), host by host.
func Events(ctx context.Context, inputs []string, opts Options, emit func(*event.Event) error) (*Summary, error) {
	var f analyze.Filter = analyze.All
	if len(opts.Categories) > 0 {
		f = categoryFilter(opts.Categories)
	}
	sum := &Summary{}
	err := run(ctx, inputs, opts, func(ctx context.Context, hc *hostContext) (any, error) {
		var evs []*event.Event
		err := hc.events(ctx, f, func(ev *event.Event) error {
			evs = append(evs, ev)
			return nil
		})
		return evs, err
	}, func(hs *HostSummary, out any) error {
		sum.Hosts = append(sum.Hosts, hs)
		for _, ev := range out.([]*event.Event) {
			if err := emit(ev); err != nil {
				return err
			}
		}
		return nil
	})
	return sum, err
}

// findingOf builds the finding of rule r matching ev.
func findingOf(r *rules.Rule, ev *event.Event) *report.Finding {
	detachStrings(ev)
	f := report.FindingFromEvent(ev)
	f.RuleID = r.ID
	f.Title = r.Title
	f.Level = report.Level(r.Level)
	f.Pattern = string(r.Pattern)
	f.Attack = r.Attack()
	f.Explain = r.Explain(ev)
	f.Remediation = r.Remediation(ev)
	return f
}

// detachStrings replaces the event's text fields with copies. Names read
// from a hive share its in-memory image, and a finding outlives its host
// (--remediate and reports keep them): without copies, each kept finding
// would pin a whole hive.
func detachStrings(ev *event.Event) {
	for _, k := range ev.Fields.Keys() {
		v, _ := ev.Fields.Get(k)
		switch x := v.(type) {
		case string:
			ev.Fields.Update(k, strings.Clone(x))
		case []string:
			c := make([]string, len(x))
			for i, s := range x {
				c[i] = strings.Clone(s)
			}
			ev.Fields.Update(k, c)
		}
	}
	ev.Source.File = strings.Clone(ev.Source.File)
	ev.Source.Host = strings.Clone(ev.Source.Host)
}

// discover finds the hosts under inputs and attaches explicit logs. Paths
// or archive members that could not be read while others could are named
// as problems of the first host: the scan goes on and says so (exit 3).
func discover(ctx context.Context, inputs []string, opts Options) ([]*evidence.Host, error) {
	hosts, err := evidence.Discover(ctx, inputs, evidence.Options{})
	if len(hosts) == 0 {
		if err == nil {
			err = errors.New("no evidence found")
		}
		return nil, err
	}
	if err != nil {
		if isCancel(err) {
			return nil, err
		}
		hosts[0].Problems = append(hosts[0].Problems, err)
	}
	attachExplicitLogs(hosts, opts.Logs)
	return hosts, nil
}

// eachHost reads hosts with up to jobs workers and hands each result to
// emit in discovery order, from the caller's goroutine. With holdSlot, a
// worker's slot is given back only once its result has been emitted, so at
// most jobs results exist at once (for results that hold a host's hives);
// without, the slot is free as soon as the host is read (for small results).
// An error from read (only cancellation) or emit stops the others.
func eachHost[T any](ctx context.Context, hosts []*evidence.Host, jobs int, holdSlot bool, read func(context.Context, *evidence.Host) (T, error), emit func(T) error) error {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		out T
		err error
	}
	results := make([]chan result, len(hosts))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	go func() {
		for i, h := range hosts {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				results[i] <- result{err: ctx.Err()}
				continue
			}
			wg.Add(1)
			go func(i int, h *evidence.Host) {
				defer wg.Done()
				out, err := read(ctx, h)
				if !holdSlot || err != nil {
					<-slots
				}
				results[i] <- result{out, err}
			}(i, h)
		}
	}()
	var firstErr error
	for i := range hosts {
		r := <-results[i]
		if r.err == nil && firstErr == nil {
			if err := emit(r.out); err != nil {
				firstErr = err
				cancel()
			}
		} else if r.err != nil && firstErr == nil {
			firstErr = r.err
			cancel()
		}
		if holdSlot && r.err == nil {
			<-slots
		}
	}
	wg.Wait()
	return firstErr
}

// hostResult is what a worker of run returns for one host.
type hostResult struct {
	sum *HostSummary
	out any
}

// run discovers hosts and runs work on each with a pool of workers; done is
// called in the caller's goroutine, in discovery order, as results arrive.
func run(ctx context.Context, inputs []string, opts Options, work func(context.Context, *hostContext) (any, error), done func(*HostSummary, any) error) error {
	hosts, err := discover(ctx, inputs, opts)
	if err != nil {
		return err
	}
	return eachHost(ctx, hosts, opts.Jobs, false, func(ctx context.Context, h *evidence.Host) (hostResult, error) {
		hc := openHost(ctx, h, opts)
		out, err := work(ctx, hc)
		if err != nil {
			if isCancel(err) {
				return hostResult{}, err
			}
			hc.sum.Problems = append(hc.sum.Problems, err.Error())
		}
		hc.partialHives()
		hc.close()
		return hostResult{sum: hc.sum, out: out}, nil
	}, func(r hostResult) error {
		if err := done(r.sum, r.out); err != nil {
			return err
		}
		if opts.OnHost != nil {
			opts.OnHost(r.sum)
		}
		return nil
	})
}

func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// attachExplicitLogs gives --log files to the loose hives they belong to:
// the hive whose file name the log's name starts with, else the only loose
// hive.
func attachExplicitLogs(hosts []*evidence.Host, logs []string) {
	if len(logs) == 0 {
		return
	}
	var loose []*evidence.File
	for _, h := range hosts {
		for i := range h.Files {
			if h.Files[i].Kind.IsHive() {
				loose = append(loose, &h.Files[i])
			}
		}
	}
	for _, l := range logs {
		var target *evidence.File
		base := strings.ToLower(baseName(l))
		for _, f := range loose {
			if strings.HasPrefix(base, strings.ToLower(baseName(f.Path))+".") {
				target = f
			}
		}
		if target == nil && len(loose) == 1 {
			target = loose[0]
		}
		if target != nil {
			if !target.ExplicitLogs {
				target.Logs = nil
				target.ExplicitLogs = true
			}
			target.Logs = append(target.Logs, l)
		}
	}
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// hostContext is one host while it is read.
type hostContext struct {
	ev      *evidence.Host
	opts    *Options
	machine *winreg.Machine
	files   map[*hive.Hive]string
	onDisk  map[*hive.Hive]*hive.Hive // recovered hive -> the file without its logs
	sum     *HostSummary
	env     []*envmodel.User // built on first use
}

// maxGoEnvFile bounds how much of a go env file is read.
const maxGoEnvFile = 1 << 20

// environment returns the effective environment of the host's users,
// building it once.
func (hc *hostContext) environment() []*envmodel.User {
	if hc.env != nil {
		return hc.env
	}
	opts := envmodel.Options{HiveFiles: hc.files, GoEnv: map[string][]byte{}}
	var vols envmodel.Volumes
	vols = append(vols, hc.opts.Roots...)
	if hc.ev.Volume != "" {
		vols = append(vols, envmodel.Volume{Drive: "C:", Dir: hc.ev.Volume})
	}
	if len(vols) > 0 {
		opts.Files = vols
	}
	for _, f := range hc.ev.ByKind(evidence.KindGoEnv) {
		if data, err := evidence.ReadFile(f.Path, maxGoEnvFile); err == nil {
			opts.GoEnv[strings.ToLower(f.Profile)] = data
		} else {
			hc.sum.Problems = append(hc.sum.Problems, err.Error())
		}
	}
	hc.env = envmodel.Build(hc.machine, opts)
	return hc.env
}

func openHost(ctx context.Context, h *evidence.Host, opts Options) *hostContext {
	return assembleHost(h, opts, func(f evidence.File) (*hive.Hive, *hive.Hive, error) {
		hv, err := openEvidenceHive(f, opts.NoLogs, opts.HiveOptions)
		if err != nil || !hv.Recovered() {
			return hv, nil, err
		}
		disk, _ := openEvidenceHive(f, true, opts.HiveOptions)
		return hv, disk, nil
	}, nil)
}

// hiveLoader opens one live hive file of a host: the hive (recovered from
// its logs unless --no-logs) and, when the logs changed it, the same file as
// it is on disk (nil otherwise), to tell which values only the logs hold.
type hiveLoader func(f evidence.File) (hv, onDisk *hive.Hive, err error)

// assembleHost opens the live hives of h with load and builds the machine
// view. other, when not nil, is called with every file that is not a live
// hive (traces, logs, GPO files, RegBack and Windows.old copies).
func assembleHost(h *evidence.Host, opts Options, load hiveLoader, other func(f evidence.File)) *hostContext {
	hc := &hostContext{ev: h, opts: &opts, files: map[*hive.Hive]string{}, onDisk: map[*hive.Hive]*hive.Hive{}, sum: &HostSummary{Name: h.Name, Root: h.Root, Files: map[string]int{}}}
	for _, p := range h.Problems {
		hc.sum.Problems = append(hc.sum.Problems, p.Error())
	}
	var infos []winreg.HiveInfo
	for _, f := range h.Files {
		if !f.Kind.IsHive() || f.Snapshot != "" {
			// Earlier states (RegBack, Windows.old) are read by the history
			// and diff features, not scanned as the live machine.
			if f.Snapshot != "" {
				hc.sum.Files["snapshot hive"]++
			} else {
				hc.sum.Files[string(f.Kind)]++
			}
			if other != nil {
				other(f)
			}
			continue
		}
		hv, disk, err := load(f)
		if err != nil {
			hc.sum.Problems = append(hc.sum.Problems, err.Error())
			continue
		}
		hs := HiveSummary{File: f.Path, Type: hv.Type().String(), Dirty: hv.Dirty(), Recovered: hv.Recovered(), Anomalies: len(hv.Anomalies()), Partial: hv.Partial()}
		for _, l := range hv.Logs() {
			if l.Applied {
				hs.Logs = append(hs.Logs, l.File)
			}
		}
		hc.sum.Hives = append(hc.sum.Hives, hs)
		if hv.Dirty() && !hv.Recovered() && !opts.NoLogs {
			hc.sum.Problems = append(hc.sum.Problems, fmt.Sprintf("%s: hive is dirty and no usable transaction log was found: its newest writes may be missing", f.Path))
		}
		// Damage is reported after the analyzers ran (see partialHives):
		// values and subkeys are read lazily, so the anomalies they meet
		// appear only then.
		hc.files[hv] = f.Path
		if disk != nil {
			hc.onDisk[hv] = disk
		}
		infos = append(infos, winreg.HiveInfo{Hive: hv, Profile: f.Profile, Mandatory: f.Mandatory, Kind: string(f.Kind)})
	}
	hc.machine = winreg.New(h.Name, infos)
	// Names read from a hive share its in-memory image: the summary, which
	// outlives the host, keeps copies so a batch does not pin every hive.
	hc.sum.Name = strings.Clone(hc.machine.Host)
	for _, p := range hc.machine.Problems {
		hc.sum.Problems = append(hc.sum.Problems, p.Error())
	}
	for _, u := range hc.machine.Users {
		hc.sum.Users = append(hc.sum.Users, UserSummary{SID: strings.Clone(u.SID), Name: strings.Clone(u.Name), Folder: strings.Clone(u.Folder), SIDSource: u.SIDSource, File: hc.files[u.Hive]})
	}
	return hc
}

// partialHives adds a problem for each hive whose reading lost data (an
// unreadable value, list or key met while opening it or while the
// analyzers walked it), naming the first anomaly.
func (hc *hostContext) partialHives() {
	for hv, file := range hc.files {
		if !hv.Partial() {
			continue
		}
		an := hv.Anomalies()
		msg := fmt.Sprintf("%s: hive read in part (%d anomalies", file, len(an))
		if len(an) > 0 {
			first := an[0].Message
			if an[0].Key != "" {
				first = "key " + an[0].Key + ": " + first
			}
			msg += "; the first: " + first
		}
		hc.sum.Problems = append(hc.sum.Problems, msg+"; see envhunt info)")
		for i := range hc.sum.Hives {
			if hc.sum.Hives[i].File == file {
				hc.sum.Hives[i].Partial = true
				hc.sum.Hives[i].Anomalies = len(an)
			}
		}
	}
	sort.Strings(hc.sum.Problems)
}

func (hc *hostContext) close() {
	hc.machine = nil
	hc.files = nil
	hc.onDisk = nil
	hc.env = nil
}

// events runs every analyzer whose categories the filter can use.
func (hc *hostContext) events(ctx context.Context, f analyze.Filter, emit analyze.Emit) error {
	var errs []error
	for _, a := range analyzers {
		if !a.wanted(f) {
			continue
		}
		if err := a.run(ctx, hc, f, emit); err != nil {
			if isCancel(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// HostEnvironment is the effective environment of the users of one host.
type HostEnvironment struct {
	Host  string
	Users []*envmodel.User
}

// Environments reads the evidence under inputs and calls emit with each
// host's effective environment (see pkg/envmodel), host by host.
func Environments(ctx context.Context, inputs []string, opts Options, emit func(*HostEnvironment) error) (*Summary, error) {
	sum := &Summary{}
	err := run(ctx, inputs, opts, func(ctx context.Context, hc *hostContext) (any, error) {
		return &HostEnvironment{Host: hc.machine.Host, Users: hc.environment()}, nil
	}, func(hs *HostSummary, out any) error {
		sum.Hosts = append(sum.Hosts, hs)
		return emit(out.(*HostEnvironment))
	})
	return sum, err
}
