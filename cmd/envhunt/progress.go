package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/envhunt/envhunt/pkg/scan"
)

// scanProgress is the progress bar of a scan over many hosts: hosts done of
// the total, failed hosts, findings, elapsed time and an ETA, redrawn in
// place on one stderr line. It exists only when stderr is a terminal and
// --quiet was not given (newScanProgress returns nil otherwise), and every
// method is a no-op on nil, so the scan command calls it unconditionally.
//
// Wiring in runScan (see scanProgressFor):
//
//	onHost, finish := scanProgressFor(ctx, stderr, !*quiet && isTerminal(stderr), fs.Args(), fw.Flush)
//	opts.OnHost = onHost
//	defer finish()
//
// Its methods may be called from several goroutines.
type scanProgress struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	start    time.Time
	last     time.Time
	total    int // 0 while unknown
	done     int
	failed   int
	findings int
	current  string
	width    int // bar cells
	drawn    bool
	finished bool
}

// progressRedraw is the shortest time between two redraws, so a batch of
// thousands of fast hosts does not flood the terminal.
const progressRedraw = 100 * time.Millisecond

// newScanProgress returns a progress bar writing to w, or nil when enabled
// is false (not a terminal, or --quiet).
func newScanProgress(w io.Writer, enabled bool) *scanProgress {
	if !enabled {
		return nil
	}
	p := &scanProgress{w: w, now: time.Now, width: 24}
	p.start = p.now()
	return p
}

// scanProgressFor returns the OnHost callback of a scan over inputs, which
// flushes the findings written so far and, when enabled, advances the
// progress bar, and the function that clears the bar at the end. The
// total is counted in the background (one more walk of the inputs, only
// when the bar is shown), so the scan does not wait for it; until it is
// known the bar shows hosts done without an ETA.
func scanProgressFor(ctx context.Context, w io.Writer, enabled bool, inputs []string, flush func()) (func(*scan.HostSummary), func()) {
	p := newScanProgress(w, enabled)
	if p != nil {
		go func() {
			if n, err := scan.HostCount(ctx, inputs); err == nil && n > 0 {
				p.setTotal(n)
			}
		}()
	}
	return func(h *scan.HostSummary) {
		if flush != nil {
			flush()
		}
		p.hostDone(h)
	}, p.finish
}

// setTotal gives the number of hosts the scan will read.
func (p *scanProgress) setTotal(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.total = n
	p.draw(true)
}

// hostDone counts one finished host.
func (p *scanProgress) hostDone(h *scan.HostSummary) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if h != nil {
		if h.Partial() {
			p.failed++
		}
		p.findings += h.Findings.Total()
		p.current = h.Name
	}
	p.draw(p.done == p.total)
}

// finish clears the bar's line so that what follows starts clean; the bar
// draws nothing after it.
func (p *scanProgress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// draw redraws the line, at most every progressRedraw unless force.
// The caller holds p.mu.
func (p *scanProgress) draw(force bool) {
	if p.finished {
		return
	}
	now := p.now()
	if !force && p.drawn && now.Sub(p.last) < progressRedraw {
		return
	}
	p.last = now
	p.drawn = true
	fmt.Fprint(p.w, "\r"+p.line(now)+"\x1b[K")
}

// line renders the progress line at time now.
func (p *scanProgress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	var b strings.Builder
	if p.total > 0 {
		filled := p.width * min(p.done, p.total) / p.total
		b.WriteString("[" + strings.Repeat("#", filled) + strings.Repeat(".", p.width-filled) + "] ")
		fmt.Fprintf(&b, "%d/%d hosts", p.done, p.total)
	} else {
		fmt.Fprintf(&b, "%d hosts", p.done)
	}
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %d with problems", p.failed)
	}
	fmt.Fprintf(&b, ", %d findings, %s", p.findings, progressDuration(elapsed))
	if p.total > 0 && p.done > 0 && p.done < p.total {
		eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
		fmt.Fprintf(&b, ", ETA %s", progressDuration(eta))
	}
	if p.current != "" {
		name := visible(p.current)
		if r := []rune(name); len(r) > 32 {
			name = string(r[:31]) + "…"
		}
		b.WriteString(" · " + name)
	}
	return b.String()
}

// progressDuration renders a duration the way a person reads an ETA:
// 42s, 3m05s, 1h12m.
func progressDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
