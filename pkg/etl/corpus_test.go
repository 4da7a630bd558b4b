package etl

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// expectedETL is one row of EXPECTED.md §6.
type expectedETL struct {
	file                string
	size                int64
	buffers, compressed int
	events              int
	byHeader            map[string]int
	providers           map[string]int
	pointer, cpus       int
	start, first, last  string
	eventsLost          int
}

// loadExpectedETL parses the ETL table of EXPECTED.md, so the test follows
// the reference figures rather than copies of them.
func loadExpectedETL(t *testing.T, dir string) []expectedETL {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, "EXPECTED.md"))
	if err != nil {
		t.Skipf("EXPECTED.md: %v", err)
	}
	defer fh.Close()
	var rows []expectedETL
	in := false
	num := regexp.MustCompile(`^(\d+) \((\d+)\)$`)
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## 6.")
			continue
		}
		if !in || !strings.HasPrefix(line, "| etl/") {
			continue
		}
		c := strings.Split(strings.Trim(line, "|"), "|")
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		if len(c) < 11 {
			t.Fatalf("EXPECTED.md §6 row with %d cells: %s", len(c), line)
		}
		var r expectedETL
		r.file = c[0]
		r.size, _ = strconv.ParseInt(c[1], 10, 64)
		m := num.FindStringSubmatch(c[2])
		if m == nil {
			t.Fatalf("buffers cell %q", c[2])
		}
		r.buffers, _ = strconv.Atoi(m[1])
		r.compressed, _ = strconv.Atoi(m[2])
		r.events, _ = strconv.Atoi(c[3])
		r.byHeader = pairs(t, c[4], ",")
		r.providers = pairs(t, c[5], ";")
		r.pointer, _ = strconv.Atoi(c[6])
		r.cpus, _ = strconv.Atoi(c[7])
		r.start = c[8]
		fl := strings.Split(c[9], "→")
		r.first, r.last = strings.TrimSpace(fl[0]), strings.TrimSpace(fl[1])
		r.eventsLost, _ = strconv.Atoi(c[10])
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal("no ETL rows found in EXPECTED.md §6")
	}
	return rows
}

func pairs(t *testing.T, cell, sep string) map[string]int {
	out := map[string]int{}
	for _, p := range strings.Split(cell, sep) {
		p = strings.TrimSpace(p)
		i := strings.LastIndexByte(p, ' ')
		n, err := strconv.Atoi(p[i+1:])
		if i < 0 || err != nil {
			t.Fatalf("cannot parse %q in %q", p, cell)
		}
		out[p[:i]] = n
	}
	return out
}

// microZ renders a time as EXPECTED.md does: microseconds, truncated.
func microZ(s string) string {
	// s is the 7-digit layout: keep 6 fractional digits.
	if i := strings.IndexByte(s, '.'); i > 0 && len(s) >= i+8 {
		return s[:i+7] + "Z"
	}
	return s
}

func TestSummary_MatchesExpectedFigures(t *testing.T) {
	dir := testcorpus.Dir(t)
	for _, want := range loadExpectedETL(t, dir) {
		t.Run(filepath.Base(want.file), func(t *testing.T) {
			f, err := Open(filepath.Join(dir, want.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := Summarize(context.Background(), f)
			if err != nil {
				t.Fatalf("Summarize: %v", err)
			}
			if s.Size != want.size || s.Buffers != want.buffers || s.CompressedBuffers != want.compressed || s.Events != want.events {
				t.Errorf("size/buffers/compressed/events = %d/%d/%d/%d, want %d/%d/%d/%d",
					s.Size, s.Buffers, s.CompressedBuffers, s.Events, want.size, want.buffers, want.compressed, want.events)
			}
			if !equalMaps(s.ByHeaderType, want.byHeader) {
				t.Errorf("by header type = %v, want %v", s.ByHeaderType, want.byHeader)
			}
			got := map[string]int{}
			for _, p := range s.Providers {
				got[p.GUID] = p.Events
			}
			for g, n := range want.providers {
				if got[g] != n {
					t.Errorf("provider %s: %d events, want %d", g, got[g], n)
				}
			}
			// The table lists the top providers: ours must start with them.
			var top []string
			for _, p := range s.Providers[:len(want.providers)] {
				top = append(top, p.GUID)
			}
			var wantTop []string
			for g := range want.providers {
				wantTop = append(wantTop, g)
			}
			sort.Strings(top)
			sort.Strings(wantTop)
			if strings.Join(top, ",") != strings.Join(wantTop, ",") {
				t.Errorf("top providers %v, want %v", top, wantTop)
			}
			if int(s.PointerSize) != want.pointer || int(s.CPUs) != want.cpus || int(s.EventsLost) != want.eventsLost {
				t.Errorf("pointer/cpus/lost = %d/%d/%d, want %d/%d/%d", s.PointerSize, s.CPUs, s.EventsLost, want.pointer, want.cpus, want.eventsLost)
			}
			for _, c := range []struct{ name, got, want string }{
				{"start", microZ(s.StartTime.Format("2006-01-02T15:04:05.0000000Z")), want.start},
				{"first event", microZ(s.FirstEvent.Format("2006-01-02T15:04:05.0000000Z")), want.first},
				{"last event", microZ(s.LastEvent.Format("2006-01-02T15:04:05.0000000Z")), want.last},
			} {
				if c.got != c.want {
					t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
				}
			}
		})
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
