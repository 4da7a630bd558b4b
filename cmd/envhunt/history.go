package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/report"
)

func init() {
	register(command{name: "history", summary: "every earlier state of the Environment keys: on disk, after each log entry, RegBack, Windows.old, free cells", run: runHistory})
}

// historyColumns are the JSONL and CSV columns: the group, then
// history.RowColumns.
var historyColumns = append([]string{"host", "hive"}, history.RowColumns...)

// historyTextColumns are the text table's columns: the group header above
// it names the files.
var historyTextColumns = []string{"source", "time", "key", "value", "type", "data", "changed", "note"}

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("history", "history [flags] HIVE|DIR...", stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "text", "text", "jsonl", "csv")
	key := fs.String("key", "", `key to follow, relative to the hive root (default: Environment, or CurrentControlSet\Control\Session Manager\Environment in SYSTEM)`)
	value := fs.String("value", "", "show only this value")
	noCarve := fs.Bool("no-carve", false, "leave out values carved from free cells and slack")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("history: give hive files (the live hive and any copies) or collection folders")
	}
	if err := hf.check(); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	groups, problems := history.Discover(ctx, fs.Args(), history.DiscoverOptions{Logs: hf.logs, NoLogs: hf.noLogs, AllHives: *key != ""})
	if len(groups) == 0 {
		problems = append(problems, errors.New("history: no SYSTEM or user hive found"))
		return inputError(errors.Join(problems...))
	}
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.Error())
	}
	written := 0
	var tw report.TableWriter
	for _, g := range groups {
		h, err := history.States(ctx, g, history.Options{Key: *key, Value: *value, NoCarve: *noCarve, HiveOptions: hf.limitOptions()})
		if err != nil {
			if ctx.Err() != nil {
				closeOut()
				return ctx.Err()
			}
			msgs = append(msgs, err.Error())
			continue
		}
		msgs = append(msgs, h.Problems...)
		if *key != "" && !historyKeyFound(h) {
			continue
		}
		rows := h.Rows()
		if len(rows) == 0 {
			continue // --value names a value this hive never had
		}
		if of.format == "text" {
			if tw != nil {
				if err := tw.Close(); err != nil {
					closeOut()
					return err
				}
				fmt.Fprintln(w)
			}
			for _, line := range historyTitle(g, h) {
				fmt.Fprintln(w, report.SafeTerminal(line))
			}
			if tw, err = report.NewTableWriter("text", w, historyTextColumns, report.TextOptions{}); err != nil {
				closeOut()
				return err
			}
		} else if tw == nil {
			if tw, err = report.NewTableWriter(of.format, w, historyColumns, report.TextOptions{}); err != nil {
				closeOut()
				return err
			}
		}
		for _, r := range rows {
			cells := historyCells(r)
			if of.format != "text" {
				cells = append([]any{g.Host, g.Name}, cells...)
			} else {
				cells = append(cells[:len(cells)-2], cells[len(cells)-1]) // the title names the files
			}
			if err := tw.WriteRow(cells...); err != nil {
				closeOut()
				return err
			}
			written++
		}
	}
	if tw == nil && of.format != "text" {
		tw, _ = report.NewTableWriter(of.format, w, historyColumns, report.TextOptions{})
	}
	if tw != nil {
		err = tw.Close()
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if written == 0 && *key != "" {
		msgs = append(msgs, fmt.Sprintf("history: key %q not found in any hive", *key))
		return inputError(errors.New(strings.Join(msgs, "\n")))
	}
	if len(msgs) > 0 {
		return partialError(errors.New(strings.Join(msgs, "\n")))
	}
	return nil
}

// historyCells are a row's cells in history.RowColumns order.
func historyCells(r history.Row) []any {
	var t any = "unknown"
	if !r.Time.IsZero() {
		t = r.Time
	}
	note := r.Note
	if r.ValueRaw != "" {
		note = strings.TrimPrefix(note+"; value name bytes "+r.ValueRaw, "; ")
	}
	return []any{r.Source, t, r.Key, r.Value, r.Type, r.Data, r.Changed, r.File, note}
}

// historyKeyFound reports whether any state holds the key.
func historyKeyFound(h *history.History) bool {
	for _, s := range h.States {
		if s.Present {
			return true
		}
	}
	return false
}

// historyTitle heads a group in the text output: the host, hive and key,
// then one line per file.
func historyTitle(g history.Group, h *history.History) []string {
	head := "== "
	if g.Host != "" {
		head += g.Host + " · "
	}
	name := g.Name
	if name == "" {
		name = "hive"
	}
	lines := []string{head + name + " · " + h.Key}
	for _, f := range g.Files {
		label := f.Snapshot
		if label == "" {
			label = "live"
		}
		lines = append(lines, "   "+label+": "+f.Path)
	}
	return lines
}
