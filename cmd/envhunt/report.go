package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	_ "time/tzdata" // host local times for any Windows time zone, whatever the responder's system has

	"github.com/envhunt/envhunt/pkg/casereport"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

func init() {
	register(command{name: "report", summary: "write a case report per host (HTML or Markdown): identity, evidence digests, findings, PATH history, gaps", run: runReport})
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report [flags] PATH...", stdout)
	var hf hiveFlags
	var of outputFlags
	var rf ruleFlags
	hf.add(fs)
	rf.add(fs)
	of.add(fs, "", "html", "md")
	roaming := fs.StringArray("roaming", nil, "folder holding server-side copies of roaming profiles (repeatable)")
	noHistory := fs.Bool("no-history", false, "leave out the history of Path, GOROOT and GOPATH")
	split := fs.String("split", "", "write one report per host into DIR (named after the host) instead of one document")
	minLevel := fs.String("min-level", "informational", "report only findings at or above this level")
	jobs := fs.Int("jobs", 0, "hosts read at once (default: number of CPUs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("report: give at least one PATH (a collection folder, a mounted volume or hive files)")
	}
	if *split != "" && of.output != "" {
		return usageErrorf("--split and --output cannot be used together")
	}
	if of.format == "" {
		of.format = reportFormatFor(of.output)
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
	rs, err := rf.load(stderr)
	if err != nil {
		return err
	}
	opts := scan.Options{Rules: rs, MinLevel: min, NoLogs: hf.noLogs, Logs: hf.logs, Roaming: *roaming, Jobs: *jobs, HiveOptions: hf.limitOptions()}
	problems, err := reportWrite(ctx, reportTarget{format: of.format, output: of.output, split: *split, stdout: stdout}, fs.Args(), opts, &rf, *noHistory, "envhunt report "+reportQuote(args))
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return partialError(errors.New(strings.Join(problems, "\n")))
	}
	return nil
}

// reportTarget is where the report goes: one file (or stdout), or one file
// per host in a folder.
type reportTarget struct {
	format, output, split string
	stdout                io.Writer
}

// writeCaseReport writes the case report of a scan to path (Markdown for
// *.md, else HTML): what scan --report calls with its own options and
// arguments.
//
// Evidence that could not be read is named in the report and left to the
// caller's own exit code (scan has already reported it); the error is
// about the report itself.
func writeCaseReport(ctx context.Context, path string, inputs []string, opts scan.Options, rf *ruleFlags, commandLine string) error {
	opts.OnHost = nil // the scan's progress callback belongs to the scan
	_, err := reportWrite(ctx, reportTarget{format: reportFormatFor(path), output: path}, inputs, opts, rf, false, commandLine)
	return err
}

// reportFormatFor picks the format from an output file name: md for *.md
// and *.markdown, else html.
func reportFormatFor(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown":
		return "md"
	}
	return "html"
}

// reportWrite builds and writes the report; it returns the evidence
// problems (one line each, naming the host) for the caller's exit code.
func reportWrite(ctx context.Context, to reportTarget, inputs []string, opts scan.Options, rf *ruleFlags, noHistory bool, commandLine string) ([]string, error) {
	copts := casereport.Options{
		Scan: opts, Version: Version, CommandLine: commandLine,
		Builtin: len(rf.only) == 0, RulePaths: append(append([]string(nil), rf.extra...), rf.only...),
		NoHistory: noHistory,
	}
	r, err := casereport.Build(ctx, inputs, copts)
	if err != nil {
		if r == nil {
			return nil, inputError(err)
		}
		return nil, err
	}
	if to.split != "" {
		if err := os.MkdirAll(to.split, 0o755); err != nil {
			return nil, usageErrorf("--split: %v", err)
		}
		ext := ".html"
		if to.format == "md" {
			ext = ".md"
		}
		used := map[string]bool{}
		for _, one := range r.Split() {
			name := reportFileName(one.Hosts[0].Name)
			for n := 2; used[strings.ToLower(name)]; n++ {
				name = fmt.Sprintf("%s-%d", reportFileName(one.Hosts[0].Name), n)
			}
			used[strings.ToLower(name)] = true
			if err := reportWriteFile(one, to.format, filepath.Join(to.split, name+ext), nil); err != nil {
				return nil, err
			}
		}
	} else if err := reportWriteFile(r, to.format, to.output, to.stdout); err != nil {
		return nil, err
	}
	var problems []string
	for _, h := range r.Hosts {
		for _, p := range h.Problems {
			problems = append(problems, h.Name+": "+p)
		}
	}
	return problems, nil
}

// reportWriteFile writes r to path, or to stdout when path is "" or "-".
func reportWriteFile(r *casereport.Report, format, path string, stdout io.Writer) error {
	w := stdout
	var f *os.File
	if path != "" && path != "-" {
		var err error
		if f, err = os.Create(path); err != nil {
			return usageErrorf("--output: %v", err)
		}
		w = f
	}
	var err error
	if format == "md" {
		err = r.WriteMarkdown(w)
	} else {
		err = r.WriteHTML(w)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// reportFileName makes a host name safe as a file name: letters, digits,
// '.', '-' and '_' are kept, anything else becomes '_'; never empty, never
// starting with a dot.
func reportFileName(host string) string {
	var b strings.Builder
	for _, r := range host {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	if name == "" {
		name = "host"
	}
	return name
}

// reportQuote renders arguments as a shell would need them typed.
func reportQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		safe := a != ""
		for _, r := range a {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
				safe = false
				break
			}
		}
		if safe {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
