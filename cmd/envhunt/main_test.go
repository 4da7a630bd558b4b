package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs envhunt with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestRun_UnknownCommandIsUsageError(t *testing.T) {
	_, stderr, code := runCLI(t, "no-such-command")
	if code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}

func TestVisible_EscapesTerminalControls(t *testing.T) {
	got := visible("a\x1b[31mred\x07\u202eevil")
	if strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Fatalf("visible left control characters: %q", got)
	}
}
