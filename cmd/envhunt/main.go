// Command envhunt reads Windows evidence (registry hives with their
// transaction logs, ETW traces, event logs, Group Policy files) on any OS and
// hunts the hijacking of environment variables and the persistence next to
// it. Run "envhunt help" for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/envhunt/envhunt/pkg/report"
)

// command is one subcommand. Each lives in its own file and registers itself
// from init, so main only dispatches.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("envhunt: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and maps its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exitCode(c.run(ctx, []string{"--help"}, stdout, stderr), stderr)
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "envhunt", Version)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "envhunt: unknown command %q (run 'envhunt help')\n", args[0])
		return 2
	}
	return exitCode(c.run(ctx, args[1:], stdout, stderr), stderr)
}

// Version is the envhunt version, set at build time with -ldflags.
var Version = "0.1.0-dev"

func usage(w io.Writer) {
	fmt.Fprintln(w, "envhunt: hunt environment-variable hijacking and the persistence next to it in Windows evidence")
	fmt.Fprintln(w, "\nUsage: envhunt COMMAND [flags] ARGS...\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'envhunt COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 findings at or above --fail-level, 2 usage error or no usable input, 3 partial input.")
}

// Exit codes of BRIEF §4.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
	exitPartial  = 3
)

// exitError carries an exit code with an optional message. A nil Err prints
// nothing (the command has already said what it had to).
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// usageErrorf reports bad flags or arguments, or no usable input: exit 2.
func usageErrorf(format string, a ...any) error {
	return &exitError{Code: exitUsage, Err: fmt.Errorf(format, a...)}
}

// inputError reports input that could not be read at all: exit 2.
func inputError(err error) error { return &exitError{Code: exitUsage, Err: err} }

// partialError reports that some input was read only in part: exit 3. The
// messages name what could not be read.
func partialError(err error) error { return &exitError{Code: exitPartial, Err: err} }

// findingsExit signals findings at or above --fail-level: exit 1, no message.
func findingsExit() error { return &exitError{Code: exitFindings} }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			printErr(stderr, ee.Err)
		}
		return ee.Code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "envhunt: interrupted")
		return exitPartial
	}
	printErr(stderr, err)
	return exitUsage
}

// printErr prints one line per error (errors.Join gives several), prefixed and
// with control characters made visible: error text may quote evidence.
func printErr(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line == "" {
			continue
		}
		fmt.Fprintln(w, "envhunt: "+visible(line))
	}
}

// visible makes control, format and bidirectional characters visible, so
// nothing read from evidence can drive the terminal through an error message.
func visible(s string) string { return report.SafeTerminal(s) }
