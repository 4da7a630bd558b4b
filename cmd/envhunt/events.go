package main

import (
	"context"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

func init() {
	register(command{name: "events", summary: "print the events rules see (for rule authors)", run: runEvents})
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events", "events [flags] PATH...", stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "jsonl", "jsonl", "csv", "text")
	cats := fs.StringSlice("category", nil, "only events of these categories (repeatable or comma-separated; see docs/fields.md)")
	jobs := fs.Int("jobs", 0, "hosts read at once (default: number of CPUs)")
	roaming := fs.StringArray("roaming", nil, "folder holding server-side copies of roaming profiles (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("events: give at least one PATH")
	}
	if err := hf.check(); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	var categories []event.Category
	for _, c := range *cats {
		c = strings.TrimSpace(c)
		if _, ok := event.Lookup(event.Category(c)); !ok {
			var known []string
			for _, s := range event.Categories() {
				known = append(known, string(s.Category))
			}
			return usageErrorf("--category %q: unknown; known categories: %s", c, strings.Join(known, ", "))
		}
		categories = append(categories, event.Category(c))
	}
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	eopts := report.EventOptions{TextOptions: report.TextOptions{Color: of.output == "" && isTerminal(stdout)}}
	if len(categories) > 0 {
		// The declared fields of the chosen categories: CSV columns are known
		// up front and rows stream.
		eopts.Columns = report.EventColumns(categories...)
	}
	ew, err := report.NewEventWriter(of.format, w, eopts)
	if err != nil {
		closeOut()
		return usageErrorf("%v", err)
	}
	sum, err := scan.Events(ctx, fs.Args(), scan.Options{NoLogs: hf.noLogs, Logs: hf.logs, Jobs: *jobs, Categories: categories, Roaming: *roaming, HiveOptions: hf.limitOptions()}, ew.WriteEvent)
	if cerr := ew.Close(); err == nil {
		err = cerr
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return scanFailure(sum, err)
	}
	return scanExit(sum, 0, stderr)
}
