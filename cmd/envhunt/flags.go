package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

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
}

func (h *hiveFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVar(&h.logs, "log", nil, "transaction log to apply (repeatable; logs beside the hive are found by name)")
	fs.BoolVar(&h.noLogs, "no-logs", false, "read the hive as it is on disk, without applying transaction logs")
}

func (h *hiveFlags) check() error {
	if h.noLogs && len(h.logs) > 0 {
		return usageErrorf("--log and --no-logs cannot be used together")
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
