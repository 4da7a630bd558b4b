package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/spf13/pflag"
)

// errHelp is returned after --help was printed: exit 0.
var errHelp = errors.New("help requested")

// newFlagSet returns a flag set for one subcommand whose --help prints the
// usage line and flags to stdout.
func newFlagSet(name, usageLine string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: envhunt %s\n\nFlags:\n", usageLine)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args; --help prints usage and returns errHelp; any other
// problem is a usage error (exit 2).
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelp // pflag has printed the usage already
		}
		return usageErrorf("%s: %v", fs.Name(), err)
	}
	return nil
}

// parseChecked parses args and checks the shared hive and output flags
// (either may be nil): the usual start of a command.
func parseChecked(fs *pflag.FlagSet, args []string, hf *hiveFlags, of *outputFlags) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if hf != nil {
		if err := hf.check(); err != nil {
			return err
		}
	}
	if of != nil {
		return of.check()
	}
	return nil
}

// hiveFlags are the flags every command that reads hives shares.
type hiveFlags struct {
	logs   []string
	noLogs bool
	limits hive.Limits
}

func (h *hiveFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVar(&h.logs, "log", nil, "transaction log to apply (repeatable; logs beside the hive are found by name)")
	fs.BoolVar(&h.noLogs, "no-logs", false, "read the hive as it is on disk, without applying transaction logs")
	fs.Int64Var(&h.limits.MaxHiveSize, "max-hive-size", hive.DefaultMaxHiveSize, "largest hive file read, in bytes")
	fs.Int64Var(&h.limits.MaxLogSize, "max-log-size", hive.DefaultMaxLogSize, "largest transaction log read, in bytes")
	fs.IntVar(&h.limits.MaxValueSize, "max-value-size", hive.DefaultMaxValueSize, "largest value data read, in bytes")
	fs.IntVar(&h.limits.MaxDepth, "max-depth", hive.DefaultMaxDepth, "deepest key level walked")
}

// limitOptions returns the hive limits the flags ask for (commands that
// discover logs themselves add the log options).
func (h *hiveFlags) limitOptions() []hive.Option {
	return []hive.Option{hive.WithLimits(h.limits)}
}

// options returns the hive options the flags ask for: limits, and the
// logs to apply or none.
func (h *hiveFlags) options() []hive.Option {
	opts := []hive.Option{hive.WithLimits(h.limits)}
	switch {
	case h.noLogs:
		opts = append(opts, hive.WithoutLogs())
	case len(h.logs) > 0:
		opts = append(opts, hive.WithLogs(h.logs...))
	}
	return opts
}

func (h *hiveFlags) check() error {
	if h.noLogs && len(h.logs) > 0 {
		return usageErrorf("--log and --no-logs cannot be used together")
	}
	if h.limits.MaxHiveSize <= 0 || h.limits.MaxLogSize <= 0 || h.limits.MaxValueSize <= 0 || h.limits.MaxDepth <= 0 {
		return usageErrorf("--max-hive-size, --max-log-size, --max-value-size and --max-depth must be positive")
	}
	return nil
}

// outputFlags are --format and --output.
type outputFlags struct {
	format  string
	output  string
	allowed []string
}

func (o *outputFlags) add(fs *pflag.FlagSet, def string, allowed ...string) {
	o.allowed = allowed
	fs.StringVar(&o.format, "format", def, "output format: "+strings.Join(allowed, "|"))
	fs.StringVarP(&o.output, "output", "o", "", "write to FILE instead of standard output")
}

func (o *outputFlags) check() error {
	if !slices.Contains(o.allowed, o.format) {
		return usageErrorf("--format %q: want one of %s", o.format, strings.Join(o.allowed, ", "))
	}
	return nil
}

// writeDocument writes one document to stdout or --output: v as indented
// JSON when --format is json, else through text.
func (o *outputFlags) writeDocument(stdout io.Writer, v any, text func(io.Writer) error) error {
	out, closeOut, err := o.open(stdout)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(invisibleEscaper{out})
		enc.SetIndent("", "  ")
		err = enc.Encode(v)
	} else {
		err = text(out)
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}

// open returns where to write: stdout, or the --output file. The returned
// close function must be called; it reports the file's close error.
func (o *outputFlags) open(stdout io.Writer) (io.Writer, func() error, error) {
	if o.output == "" || o.output == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(o.output)
	if err != nil {
		return nil, nil, usageErrorf("--output: %v", err)
	}
	return f, f.Close, nil
}
