package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

// fakeClock advances by step on every reading.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	t := start
	return func() time.Time {
		now := t
		t = t.Add(step)
		return now
	}
}

func TestScanProgress_DisabledIsNilAndSilent(t *testing.T) {
	var buf bytes.Buffer
	p := newScanProgress(&buf, false)
	if p != nil {
		t.Fatal("a disabled progress bar must be nil")
	}
	p.setTotal(3)
	p.hostDone(&scan.HostSummary{Name: "x"})
	p.finish()
	if buf.Len() != 0 {
		t.Fatalf("wrote %q", buf.String())
	}
}

func TestScanProgress_LineShowsDoneTotalFailuresAndETA(t *testing.T) {
	var buf bytes.Buffer
	p := newScanProgress(&buf, true)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return start }
	p.start = start
	p.setTotal(4)
	var tally report.Tally
	tally.Add(&report.Finding{Level: report.Level(3)})
	p.hostDone(&scan.HostSummary{Name: "WS-01", Findings: tally})
	p.hostDone(&scan.HostSummary{Name: "WS-02\x1b[31m", Problems: []string{"damaged"}})
	got := p.line(start.Add(20 * time.Second))
	for _, want := range []string{"[############............] 2/4 hosts", "1 with problems", "1 findings", "20s", "ETA 20s"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "\x1b[31m") {
		t.Errorf("a host name passed a terminal escape through: %q", got)
	}
	p.finish()
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Errorf("finish does not clear the line: %q", buf.String())
	}
}

func TestScanProgress_UnknownTotalHasNoETA(t *testing.T) {
	p := newScanProgress(&bytes.Buffer{}, true)
	p.hostDone(&scan.HostSummary{Name: "h"})
	got := p.line(p.start.Add(5 * time.Second))
	if !strings.HasPrefix(got, "1 hosts") || strings.Contains(got, "ETA") {
		t.Errorf("got %q", got)
	}
}

func TestScanProgress_RedrawsAreThrottled(t *testing.T) {
	var buf bytes.Buffer
	p := newScanProgress(&buf, true)
	p.now = fakeClock(p.start, time.Millisecond)
	p.setTotal(1000)
	for i := 0; i < 999; i++ {
		p.hostDone(&scan.HostSummary{Name: "h"})
	}
	if n := strings.Count(buf.String(), "\r"); n > 20 {
		t.Errorf("%d redraws for 999 hosts in about a second", n)
	}
	p.hostDone(&scan.HostSummary{Name: "last"})
	if !strings.Contains(buf.String(), "1000/1000 hosts") {
		t.Error("the last host must always be drawn")
	}
}

func TestProgressDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		42 * time.Second:                "42s",
		185 * time.Second:               "3m05s",
		72*time.Minute + 10*time.Second: "1h12m",
		1500 * time.Millisecond:         "2s",
	} {
		if got := progressDuration(d); got != want {
			t.Errorf("%v: got %s want %s", d, got, want)
		}
	}
}

// The hook flushes on every host, advances the bar, learns the total in
// the background and clears the line at the end; with the bar disabled it
// only flushes.
func TestScanProgressFor_FlushesAndCounts(t *testing.T) {
	dir := t.TempDir()
	for _, h := range []string{"A", "B"} {
		p := filepath.Join(dir, h, "C", "Windows", "System32", "config", "SYSTEM")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("regf"), 0o644)
	}
	for _, enabled := range []bool{false, true} {
		var buf syncBuffer
		flushes := 0
		onHost, finish := scanProgressFor(context.Background(), &buf, enabled, []string{dir}, func() { flushes++ })
		deadline := time.Now().Add(5 * time.Second)
		for enabled && !strings.Contains(buf.String(), "0/2 hosts") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		onHost(&scan.HostSummary{Name: "A"})
		onHost(&scan.HostSummary{Name: "B"})
		finish()
		if flushes != 2 {
			t.Errorf("enabled=%v: %d flushes, want 2", enabled, flushes)
		}
		out := buf.String()
		if !enabled && out != "" {
			t.Errorf("disabled bar wrote %q", out)
		}
		if enabled && (!strings.Contains(out, "2/2 hosts") || !strings.HasSuffix(out, "\r\x1b[K")) {
			t.Errorf("enabled bar wrote %q", out)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the background counter.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
