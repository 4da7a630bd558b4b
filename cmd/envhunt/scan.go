package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/scan"
	builtinrules "github.com/envhunt/envhunt/rules"
)

func init() {
	register(command{name: "scan", summary: "find environment hijacking and persistence in collected evidence", run: runScan})
}

// ruleFlags are the flags that choose the rule set (scan, events --matched).
type ruleFlags struct {
	extra []string
	only  []string
}

func (r *ruleFlags) add(fs interface {
	StringArrayVar(*[]string, string, []string, string)
}) {
	fs.StringArrayVar(&r.extra, "rules", nil, "also load the rules in DIR or FILE (repeatable; added to the built-in rules)")
	fs.StringArrayVar(&r.only, "rules-only", nil, "load only the rules in DIR or FILE (repeatable; replaces the built-in rules)")
}

// load returns the rule set. Files that fail to load are reported on stderr
// and skipped; it is an error when nothing loads.
func (r *ruleFlags) load(stderr io.Writer) (*rules.RuleSet, error) {
	if len(r.extra) > 0 && len(r.only) > 0 {
		return nil, usageErrorf("--rules and --rules-only cannot be used together")
	}
	rs := rules.NewRuleSet()
	if len(r.only) == 0 {
		b, err := builtinrules.Load()
		if err != nil {
			return nil, err
		}
		rs = b
	}
	var bad error
	for _, p := range append(append([]string(nil), r.extra...), r.only...) {
		more, err := loadRulePath(p)
		if err != nil {
			var le rules.LoadErrors
			var re *rules.Error
			if !errors.As(err, &le) && !errors.As(err, &re) {
				return nil, usageErrorf("rules: %v", err)
			}
			printErr(stderr, err)
			bad = err
		}
		if more != nil {
			rs = rs.With(more)
		}
	}
	if rs.Len() == 0 {
		if bad != nil {
			return nil, usageErrorf("no rule could be loaded")
		}
		return nil, usageErrorf("no rules found")
	}
	return rs, nil
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", "scan [flags] PATH...", stdout)
	var hf hiveFlags
	var of outputFlags
	var rf ruleFlags
	hf.add(fs)
	rf.add(fs)
	of.add(fs, "text", "text", "jsonl", "csv")
	minLevel := fs.String("min-level", "informational", "report only findings at or above this level")
	failLevel := fs.String("fail-level", "", "exit 1 when a finding is at or above this level")
	roaming := fs.StringArray("roaming", nil, "folder holding server-side copies of roaming profiles (repeatable)")
	jobs := fs.Int("jobs", 0, "hosts read at once (default: number of CPUs)")
	remediate := fs.String("remediate", "", "write a reviewed remediation script to FILE (.ps1 PowerShell, or .reg); envhunt never runs it")
	reportFile := fs.String("report", "", "also write a case report to FILE (Markdown for *.md, else self-contained HTML)")
	quiet := fs.BoolP("quiet", "q", false, "no progress on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("scan: give at least one PATH (a collection folder, a mounted volume or hive files)")
	}
	if err := hf.check(); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	min, err := report.ParseLevel(*minLevel)
	if err != nil {
		return usageErrorf("--min-level: %v", err)
	}
	var fail report.Level
	if *failLevel != "" {
		if fail, err = report.ParseLevel(*failLevel); err != nil {
			return usageErrorf("--fail-level: %v", err)
		}
	}
	rs, err := rf.load(stderr)
	if err != nil {
		return err
	}
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	fw, err := report.NewFindingWriter(of.format, w, report.TextOptions{Color: of.output == "" && isTerminal(stdout)})
	if err != nil {
		closeOut()
		return usageErrorf("%v", err)
	}
	var collected []*report.Finding
	bar := newScanProgress(stderr, !*quiet && isTerminal(stderr))
	if bar != nil {
		if n, err := scan.HostCount(ctx, fs.Args()); err == nil {
			bar.setTotal(n)
		}
	}
	opts := scan.Options{
		Rules: rs, MinLevel: min, NoLogs: hf.noLogs, Logs: hf.logs, Roaming: *roaming, Jobs: *jobs, HiveOptions: hf.limitOptions(),
		OnHost: func(h *scan.HostSummary) {
			fw.Flush()
			bar.hostDone(h)
		},
	}
	sum, err := scan.Scan(ctx, fs.Args(), opts, func(f *report.Finding) error {
		if *remediate != "" {
			collected = append(collected, f)
		}
		return fw.WriteFinding(f)
	})
	bar.finish()
	if cerr := fw.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if sum != nil && len(sum.Hosts) > 1 && !*quiet {
		writeHostSummary(stderr, sum)
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return scanFailure(sum, err)
	}
	if *remediate != "" {
		if err := writeRemediation(*remediate, collected, fs.Args()); err != nil {
			return err
		}
	}
	if *reportFile != "" {
		if err := writeCaseReport(ctx, *reportFile, fs.Args(), opts, &rf, "envhunt scan "+reportQuote(args)); err != nil {
			return err
		}
	}
	return scanExit(sum, fail, stderr)
}

// writeHostSummary prints one line per host of a batch: users, hives, logs
// applied, findings by level and problems.
func writeHostSummary(w io.Writer, sum *scan.Summary) {
	fmt.Fprintf(w, "%d hosts:\n", len(sum.Hosts))
	for _, h := range sum.Hosts {
		logs := 0
		for _, hv := range h.Hives {
			logs += len(hv.Logs)
		}
		status := "ok"
		if len(h.Problems) > 0 {
			status = fmt.Sprintf("%d problems", len(h.Problems))
		}
		fmt.Fprintf(w, "  %s (%s): users %d, hives %d, logs applied %d; %s; %s\n",
			visible(h.Name), visible(h.Root), len(h.Users), len(h.Hives), logs, h.Findings.String(), status)
	}
}

// scanFailure maps an error that stopped a scan: an interruption is a
// partial result (exit 3), nothing usable found is exit 2.
func scanFailure(sum *scan.Summary, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return partialError(errors.New("interrupted"))
	}
	if sum == nil || len(sum.Hosts) == 0 {
		return inputError(err)
	}
	return err
}

// scanExit maps what the scan read and found to the exit code: 3 when some
// input was unreadable (named on stderr), else 1 when a finding reached
// --fail-level, else 0.
func scanExit(sum *scan.Summary, fail report.Level, stderr io.Writer) error {
	if problems := sum.Problems(); len(problems) > 0 {
		return partialError(errors.New(strings.Join(problems, "\n")))
	}
	if fail != 0 && sum.Findings.Max() >= fail && sum.Findings.Total() > 0 {
		return findingsExit()
	}
	return nil
}

func writeRemediation(path string, fs []*report.Finding, evidence []string) error {
	f, err := os.Create(path)
	if err != nil {
		return usageErrorf("--remediate: %v", err)
	}
	rw, err := report.NewRemediationWriter(report.RemediationFormatFor(path), f, report.RemediationOptions{Evidence: evidence, Generator: "envhunt " + Version})
	if err != nil {
		f.Close()
		return err
	}
	var werr error
	for _, finding := range fs {
		if werr = rw.WriteFinding(finding); werr != nil {
			break
		}
	}
	if cerr := rw.Close(); werr == nil {
		werr = cerr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// loadRulePath loads a rule directory, a rule file or a Sigma rule
// collection.
func loadRulePath(p string) (*rules.RuleSet, error) {
	return rules.LoadDir(p)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
