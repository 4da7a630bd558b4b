package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/secdesc"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "diff", summary: "compare a local hive with its roaming/snapshot copy, value by value, and say which wins", run: runDiff})
}

func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", "diff [flags] LOCAL SERVER", stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "text", "text", "jsonl")
	key := fs.String("key", "", "compare only this subtree (e.g. Environment)")
	noTimes := fs.Bool("no-timestamps", false, "leave out key_timestamp changes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("diff: give LOCAL and SERVER hive files (the second is \"server\" or \"after\")")
	}
	if err := hf.check(); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	if len(hf.logs) > 0 {
		return usageErrorf("diff: --log is ambiguous with two hives; put logs beside each hive under its name")
	}
	opts := hf.options()
	local, err := hive.Open(fs.Arg(0), opts...)
	if err != nil {
		return inputError(err)
	}
	server, err := hive.Open(fs.Arg(1), opts...)
	if err != nil {
		return inputError(err)
	}
	var changes []profile.Change
	sum, err := profile.Diff(ctx, local, server, profile.Options{Key: *key, IgnoreTimestamps: *noTimes}, func(c profile.Change) error {
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return inputError(err)
	}
	// Environment first, then key order.
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].InEnvironment() && !changes[j].InEnvironment() })
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	if of.format == "jsonl" {
		err = writeDiffJSONL(w, changes, sum)
	} else {
		err = writeDiffText(w, changes, sum)
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	var problems []string
	for _, h := range []*hive.Hive{local, server} {
		if h.Partial() {
			problems = append(problems, fmt.Sprintf("%s: hive read in part (%d anomalies)", h.Name(), len(h.Anomalies())))
		} else if h.Dirty() && !h.Recovered() && !hf.noLogs {
			problems = append(problems, fmt.Sprintf("%s: hive is dirty and no usable transaction log was found", h.Name()))
		}
	}
	if len(problems) > 0 {
		return partialError(fmt.Errorf("%s", strings.Join(problems, "\n")))
	}
	return nil
}

// invisibleEscaper passes JSON through report.EscapeInvisibleJSON, so DEL,
// C1 controls and bidirectional or zero-width characters from the evidence
// are \u escapes as in every other JSON output.
type invisibleEscaper struct{ w io.Writer }

func (e invisibleEscaper) Write(p []byte) (int, error) {
	if _, err := e.w.Write(report.EscapeInvisibleJSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

type diffSide struct {
	Type      string `json:"type,omitempty"`
	Data      string `json:"data,omitempty"`
	DataRaw   string `json:"data_raw,omitempty"`
	LastWrite string `json:"last_write"`
	SDDL      string `json:"sddl,omitempty"`
}

func diffSideOf(s *profile.Side) *diffSide {
	if s == nil {
		return nil
	}
	d := &diffSide{Type: s.Type, Data: s.Data, LastWrite: wintime.Format(s.LastWrite)}
	if text, raw := report.RawText(s.Data); raw != "" {
		d.Data, d.DataRaw = text, raw
	}
	if s.Descriptor != nil {
		if sd, err := secdesc.Parse(s.Descriptor); err == nil {
			d.SDDL = sd.SDDL()
		} else {
			d.SDDL = "raw:" + hex.EncodeToString(s.Descriptor)
		}
	}
	return d
}

func writeDiffJSONL(w io.Writer, changes []profile.Change, sum *profile.Summary) error {
	enc := json.NewEncoder(invisibleEscaper{w})
	for _, c := range changes {
		if err := enc.Encode(struct {
			Change string    `json:"change"`
			Key    string    `json:"key"`
			Value  string    `json:"value"`
			Local  *diffSide `json:"local"`
			Server *diffSide `json:"server"`
		}{string(c.Kind), c.Key, c.Value, diffSideOf(c.Local), diffSideOf(c.Server)}); err != nil {
			return err
		}
	}
	counts := map[string]int{}
	for _, k := range profile.Kinds {
		counts[string(k)] = sum.Counts[k]
	}
	return enc.Encode(map[string]any{"summary": map[string]any{
		"counts":                   counts,
		"local_keys":               sum.LocalKeys,
		"local_values":             sum.LocalValues,
		"server_keys":              sum.ServerKeys,
		"server_values":            sum.ServerValues,
		"winner":                   sum.Winner,
		"decided_by":               sum.DecidedBy,
		"local_time":               wintime.Format(sum.LocalTime),
		"server_time":              wintime.Format(sum.ServerTime),
		"local_last_written":       wintime.Format(sum.Local.LastWritten),
		"server_last_written":      wintime.Format(sum.Server.LastWritten),
		"local_dirty":              sum.Local.Dirty,
		"server_dirty":             sum.Server.Dirty,
		"environment_changes":      len(sum.Environment),
		"stale_server_environment": sum.StaleServerEnvironment,
	}})
}

func writeDiffText(w io.Writer, changes []profile.Change, sum *profile.Summary) error {
	t := report.SafeTerminal
	fmt.Fprintf(w, "local  %s: %d keys, %d values, last written %s\n", t(sum.Local.File), sum.LocalKeys, sum.LocalValues, wintime.Format(sum.Local.LastWritten))
	fmt.Fprintf(w, "server %s: %d keys, %d values, last written %s\n", t(sum.Server.File), sum.ServerKeys, sum.ServerValues, wintime.Format(sum.Server.LastWritten))
	var parts []string
	for _, k := range profile.Kinds {
		if n := sum.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no differences"}
	}
	fmt.Fprintf(w, "changes: %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "verdict: %s\n", sum.Describe())
	if sum.StaleServerEnvironment {
		fmt.Fprintln(w, "         the winning server copy holds an older Environment: its values roll back at logon")
	}
	if len(sum.Environment) > 0 {
		fmt.Fprintf(w, "Environment: %d changes; the winner (%s) decides what HKCU\\Environment holds after logon\n", len(sum.Environment), sum.Winner)
	}
	fmt.Fprintln(w)
	for _, c := range changes {
		name := c.Key
		if c.Kind == profile.ValueAdded || c.Kind == profile.ValueRemoved || c.Kind == profile.ValueModified {
			v := c.Value
			if v == "" {
				v = "(Default)"
			}
			name += ` \ ` + v
		}
		fmt.Fprintf(w, "%-15s %s\n", c.Kind, t(name))
		for _, s := range []struct {
			label string
			side  *profile.Side
		}{{"local ", c.Local}, {"server", c.Server}} {
			if s.side == nil {
				continue
			}
			d := diffSideOf(s.side)
			line := "last write " + d.LastWrite
			switch {
			case d.SDDL != "":
				line = d.SDDL
			case c.Kind != profile.KeyTimestamp && c.Kind != profile.KeyAdded && c.Kind != profile.KeyRemoved:
				line = d.Type + " " + d.Data
			}
			fmt.Fprintf(w, "    %s %s\n", s.label, t(line))
		}
	}
	return nil
}
