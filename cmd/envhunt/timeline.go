package main

import (
	"context"
	"io"

	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/timeline"
)

func init() {
	register(command{name: "timeline", summary: "one time-ordered list of key last writes, value changes, profile times, trace events and findings", run: runTimeline})
}

func runTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("timeline", "timeline [flags] PATH...", stdout)
	var hf hiveFlags
	var of outputFlags
	var rf ruleFlags
	hf.add(fs)
	of.add(fs, report.FormatCSV, report.FormatCSV, report.FormatJSONL, report.FormatBodyfile, report.FormatTLN)
	keys := fs.StringArray("key", nil, `list the last-write times of keys under this prefix only (repeatable; hive-relative like Environment, HKCU\Environment for every user, or full like HKLM\SYSTEM\CurrentControlSet\Services)`)
	from := fs.String("from", "", "keep rows at or after this time (RFC 3339, or a date: 2025-06-10)")
	to := fs.String("to", "", "keep rows at or before this time (a date includes the whole day)")
	roaming := fs.StringArray("roaming", nil, "folder holding server-side copies of roaming profiles (repeatable): adds their value changes")
	rf.add(fs)
	minLevel := fs.String("min-level", "informational", "list only findings at or above this level")
	jobs := fs.Int("jobs", 0, "hosts read at once (default: number of CPUs)")
	noKeys := fs.Bool("no-keys", false, "leave out key last-write times")
	noHistory := fs.Bool("no-history", false, "leave out value changes from the rollback history and the roaming comparison")
	noTraces := fs.Bool("no-traces", false, "leave out ETW and event-log events")
	noFindings := fs.Bool("no-findings", false, "leave out findings")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("timeline: give at least one PATH (a collection folder, a mounted volume or hive files)")
	}
	if err := hf.check(); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	var filter report.TimelineFilter
	var err error
	if *from != "" {
		if filter.From, err = report.ParseTimeBound(*from, false); err != nil {
			return usageErrorf("--from: %v", err)
		}
	}
	if *to != "" {
		if filter.To, err = report.ParseTimeBound(*to, true); err != nil {
			return usageErrorf("--to: %v", err)
		}
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && filter.To.Before(filter.From) {
		return usageErrorf("--to %s is before --from %s", *to, *from)
	}
	min, err := report.ParseLevel(*minLevel)
	if err != nil {
		return usageErrorf("--min-level: %v", err)
	}
	opts := timeline.Options{
		Scan:   scan.Options{MinLevel: min, NoLogs: hf.noLogs, Logs: hf.logs, Roaming: *roaming, Jobs: *jobs, HiveOptions: hf.limitOptions()},
		Keys:   timeline.Prefixes(*keys),
		Filter: filter,
		NoKeys: *noKeys, NoHistory: *noHistory, NoTraces: *noTraces, NoFindings: *noFindings,
	}
	if !*noFindings {
		if opts.Scan.Rules, err = rf.load(stderr); err != nil {
			return err
		}
	}
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	tw, err := report.NewTimelineWriter(of.format, w)
	if err != nil {
		closeOut()
		return usageErrorf("%v", err)
	}
	sum, err := timeline.Run(ctx, fs.Args(), opts, tw.WriteRow)
	if cerr := tw.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if sum == nil || len(sum.Hosts) == 0 {
			return inputError(err)
		}
		return err
	}
	return scanExit(sum, 0, stderr)
}
