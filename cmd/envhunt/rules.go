package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/rules"
	"github.com/envhunt/envhunt/pkg/scan"
	builtinrules "github.com/envhunt/envhunt/rules"
)

func init() {
	register(command{name: "rules", summary: "list, validate and self-test detection rules (built-in or a directory)", run: runRules})
}

const rulesUsage = `rules list [DIR|FILE] [--format text|jsonl] [--output FILE]
       envhunt rules validate [DIR|FILE] [--strict]
       envhunt rules test [DIR|FILE] [--verbose] [--format text|jsonl]

Without DIR the built-in rules are used.
  list      id, level, pattern, ATT&CK techniques and title of each rule
  validate  load every *.yml/*.yaml; one "file:line:col: message" line per problem on stderr;
            exit 2 when any file failed to load (or, with --strict, any rule has a warning)
  test      run every rule's envhunt tests; failing cases are printed (every case with
            --format jsonl); exit 1 when a case failed, 2 when a file failed to load`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules", rulesUsage, stdout)
	var of outputFlags
	of.add(fs, "text", "text", "jsonl")
	verbose := fs.BoolP("verbose", "v", false, "rules test: also list the cases that passed or were skipped")
	strict := fs.Bool("strict", false, "rules validate: warnings fail too (exit 2), as they do for the built-in rules")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := of.check(); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return usageErrorf("rules: want a subcommand: list, validate or test")
	}
	sub, rest := rest[0], rest[1:]
	if len(rest) > 1 {
		return usageErrorf("rules %s: at most one DIR or FILE, got %d", sub, len(rest))
	}
	switch sub {
	case "list", "validate", "test":
	default:
		return usageErrorf("rules: unknown subcommand %q: want list, validate or test", sub)
	}
	src := "built-in rules"
	var rs *rules.RuleSet
	var err error
	if len(rest) == 1 {
		src = rest[0]
		rs, err = rules.LoadDir(rest[0]) // a directory, or one file (which may hold a Sigma collection)
	} else {
		rs, err = builtinrules.Load()
	}
	var loadErrs rules.LoadErrors
	var fileErr *rules.FileError
	switch {
	case err == nil:
	case errors.As(err, &loadErrs):
	case errors.As(err, &fileErr):
		loadErrs = rules.LoadErrors{fileErr}
	default:
		return inputError(fmt.Errorf("rules: %v", err))
	}
	if rs == nil {
		rs = rules.NewRuleSet()
	}
	rulesPrintLoadErrors(stderr, loadErrs)

	switch sub {
	case "validate":
		warned := 0
		for _, r := range rs.Rules() {
			for _, w := range r.Warnings {
				fmt.Fprintln(stderr, visible(w.Error()))
			}
			if len(r.Warnings) > 0 {
				warned++
			}
		}
		fmt.Fprintf(stdout, "%s: %d rules loaded, %d files failed, %d rules with warnings\n", visible(src), rs.Len(), len(loadErrs), warned)
		if len(loadErrs) > 0 || (*strict && warned > 0) {
			return &exitError{Code: exitUsage}
		}
		return nil
	case "list":
		w, closeOut, err := of.open(stdout)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(w)
		if of.format == "jsonl" {
			err = rulesListJSONL(bw, rs)
		} else {
			err = rulesListText(bw, rs)
		}
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		if err != nil {
			return inputError(fmt.Errorf("rules list: %v", err))
		}
		if len(loadErrs) > 0 {
			if rs.Len() == 0 {
				return &exitError{Code: exitUsage}
			}
			return &exitError{Code: exitPartial}
		}
		return nil
	default: // test
		w, closeOut, err := of.open(stdout)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		failed, passed, skipped, cases := 0, 0, 0, 0
		load, cleanup := rulesFixtureLoader(ctx, len(rest) == 0)
		defer cleanup()
		for _, r := range rs.Rules() {
			for _, res := range r.RunTestsWith(load) {
				cases++
				switch {
				case res.Skipped:
					skipped++
				case res.Passed:
					passed++
				default:
					failed++
				}
				if of.format == "jsonl" {
					err = enc.Encode(rulesTestEntryOf(res))
				} else if *verbose || (!res.Passed && !res.Skipped) {
					_, err = fmt.Fprintln(bw, visible(res.String()))
				}
				if err != nil {
					break
				}
			}
			if pos, neg := r.TestCounts(); of.format == "text" && *verbose && (pos == 0 || neg == 0) {
				fmt.Fprintf(bw, "%s: %s: has %d match and %d nomatch cases (built-in rules need at least one of each)\n", visible(r.File), r.ID, pos, neg)
			}
		}
		if of.format == "text" {
			fmt.Fprintf(bw, "%s: %d rules, %d cases: %d passed, %d failed, %d skipped\n", visible(src), rs.Len(), cases, passed, failed, skipped)
		}
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		switch {
		case err != nil:
			return inputError(fmt.Errorf("rules test: %v", err))
		case len(loadErrs) > 0:
			return &exitError{Code: exitUsage}
		case failed > 0:
			return &exitError{Code: exitFindings}
		}
		return nil
	}
}

// rulesTestEntry is the JSON shape of one case in "rules test --format
// jsonl".
type rulesTestEntry struct {
	RuleID  string `json:"rule_id"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Case    string `json:"case"`
	Expect  string `json:"expect"`
	Status  string `json:"status"` // pass, fail or skip
	Message string `json:"message,omitempty"`
}

func rulesTestEntryOf(res rules.TestResult) rulesTestEntry {
	e := rulesTestEntry{RuleID: res.Rule.ID, File: res.Rule.File, Line: res.Case.Line, Col: res.Case.Col,
		Case: res.Case.Name, Expect: "nomatch", Status: "fail", Message: res.Message}
	if res.Case.ExpectMatch {
		e.Expect = "match"
	}
	switch {
	case res.Skipped:
		e.Status = "skip"
	case res.Passed:
		e.Status = "pass"
	}
	return e
}

// rulesPrintLoadErrors prints one "file:line:col: message" line per problem,
// without a prefix so that editors and CI link to the place.
func rulesPrintLoadErrors(w io.Writer, errs rules.LoadErrors) {
	for _, fe := range errs {
		for _, e := range fe.Errs {
			fmt.Fprintln(w, visible(e.Error()))
		}
	}
}

func rulesListText(w io.Writer, rs *rules.RuleSet) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tPATTERN\tATTACK\tTITLE")
	for _, r := range rs.Rules() {
		pattern := string(r.Pattern)
		if pattern == "" {
			pattern = "-"
		}
		attack := strings.Join(r.Attack(), ",")
		if attack == "" {
			attack = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", visible(r.ID), r.Level, visible(pattern), visible(attack), visible(r.Title))
	}
	return tw.Flush()
}

// rulesListEntry is the JSON shape of one rule in "rules list --format jsonl".
type rulesListEntry struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Level      string   `json:"level"`
	Status     string   `json:"status"`
	Pattern    string   `json:"pattern"`
	Attack     []string `json:"attack"`
	Tags       []string `json:"tags"`
	Logsource  string   `json:"logsource"`
	Categories []string `json:"categories"`
	Tests      int      `json:"tests"`
	File       string   `json:"file"`
}

func rulesListJSONL(w io.Writer, rs *rules.RuleSet) error {
	enc := json.NewEncoder(w)
	for _, r := range rs.Rules() {
		e := rulesListEntry{ID: r.ID, Title: r.Title, Level: r.Level.String(), Status: r.Status, Pattern: string(r.Pattern),
			Attack: r.Attack(), Tags: r.Tags, Logsource: r.Logsource.Category, Tests: len(r.Tests), File: r.File}
		if e.Attack == nil {
			e.Attack = []string{}
		}
		if e.Tags == nil {
			e.Tags = []string{}
		}
		for _, c := range r.Categories() {
			e.Categories = append(e.Categories, string(c))
		}
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

// rulesFixtureLoader reads a test case's fixture (a hive, trace, event log
// or host folder, relative to the rule file) with the scanner and returns
// its events. Built-in fixtures are copied out of the binary to a temporary
// folder that cleanup removes.
func rulesFixtureLoader(ctx context.Context, builtin bool) (rules.FixtureLoader, func()) {
	tmp := ""
	cleanup := func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	load := func(r *rules.Rule, fixture string) ([]*event.Event, error) {
		p := filepath.Join(filepath.Dir(r.File), filepath.FromSlash(fixture))
		if builtin {
			data, err := fs.ReadFile(builtinrules.FS(), path.Join(path.Dir(r.File), fixture))
			if err != nil {
				return nil, err
			}
			if tmp == "" {
				if tmp, err = os.MkdirTemp("", "envhunt-fixture-"); err != nil {
					return nil, err
				}
			}
			dir, err := os.MkdirTemp(tmp, "case-")
			if err != nil {
				return nil, err
			}
			p = filepath.Join(dir, path.Base(fixture))
			if err := os.WriteFile(p, data, 0o600); err != nil {
				return nil, err
			}
		}
		var evs []*event.Event
		sum, err := scan.Events(ctx, []string{p}, scan.Options{Jobs: 1}, func(ev *event.Event) error {
			evs = append(evs, ev)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if sum.Partial() {
			return evs, fmt.Errorf("read only in part: %s", strings.Join(sum.Problems(), "; "))
		}
		return evs, nil
	}
	return load, cleanup
}
