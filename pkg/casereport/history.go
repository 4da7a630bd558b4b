package casereport

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// HistoryVars are the variables whose history the report charts.
var HistoryVars = []string{"Path", "GOROOT", "GOPATH"}

// Series is the history of one Environment key (a user's or the machine's).
type Series struct {
	Name string
	File string
	// States are the dated states in time order, then the carved ones.
	States []HState
	Chart  Chart
}

// HState is what the charted variables held in one state.
type HState struct {
	// Source is the state's label ("primary", "log:NTUSER.DAT.LOG1#entry1
	// seq 93", "roaming copy", "trace: C:\...\reg.exe").
	Source string
	Kind   string
	File   string
	// Time is the key's last-write time in that state (the event time for
	// a trace); zero for carved values.
	Time   time.Time
	Values []HValue
}

// HValue is one variable in one state.
type HValue struct {
	Name    string
	Type    string
	Data    string
	Changed string
	Removed bool
}

// Chart is the geometry of a series' time chart, drawn as inline SVG.
type Chart struct {
	Width, Height int
	Rows          []ChartRow
	Ticks         []ChartTick
	Marks         []ChartMark
	AxisY         int
	// Top is the y of the first row's line, for the marks.
	Top int
}

// ChartRow is one variable's line of the chart.
type ChartRow struct {
	Name   string
	Y      int
	Points []ChartPoint
	// Legend lists the row's distinct data, one colour each, in order of
	// first appearance.
	Legend []ChartLegend
}

// ChartLegend is one colour of a row and the data it stands for.
type ChartLegend struct {
	Color string
	Text  string
}

// ChartPoint is one state of one variable; states with the same data share a
// colour.
type ChartPoint struct {
	X     int
	Color string
	Title string
}

// ChartMark is a moment drawn across the chart as a dashed line: the
// profile's last load (logon) and unload (logoff) from ProfileList, so a
// change can be seen against the logons that load or overwrite the hive.
type ChartMark struct {
	Time  time.Time
	Label string
	X     int
	Title string
}

// ChartTick is a time label on the chart's axis.
type ChartTick struct {
	X     int
	Label string
	// Anchor is the SVG text-anchor: start, middle or end.
	Anchor string
}

// discoverHistory finds the hive groups of the inputs once for all hosts.
func discoverHistory(ctx context.Context, inputs []string, opts Options) []history.Group {
	groups, _ := history.Discover(ctx, inputs, history.DiscoverOptions{Logs: opts.Scan.Logs, NoLogs: opts.Scan.NoLogs, HiveOptions: opts.Scan.HiveOptions})
	return groups
}

// addHistory builds the series of each user and of the machine: every
// state pkg/history finds (the file on disk, each log entry, RegBack and
// Windows.old copies, free cells and slack), the roaming copy, and the
// writes traces and event logs record.
//
// It returns the files the history read again (each group's hives and logs).
func addHistory(ctx context.Context, h *Host, he *scan.HostEvidence, groups []history.Group) map[string]bool {
	reread := map[string]bool{}
	h.HistorySource = "primary hive file, each transaction-log entry, config\\RegBack and Windows.old copies, free cells and value slack (pkg/history); roaming copies; registry writes in traces and event logs"
	type target struct {
		name, file, sid string
		machine         bool
	}
	var targets []target
	if he.Machine.System != nil {
		targets = append(targets, target{name: "machine (SYSTEM Session Manager\\Environment)", file: he.HiveFiles[he.Machine.System], machine: true})
	}
	labels := map[string]string{}
	for _, u := range h.Users {
		labels[strings.ToUpper(u.SID)] = u.Label()
	}
	for _, u := range he.Machine.Users {
		if u.Template || u.Hive == nil {
			continue
		}
		name := labels[strings.ToUpper(u.SID)]
		if name == "" {
			name = userLabel(u.Name, u.SID)
		}
		targets = append(targets, target{name: name, file: he.HiveFiles[u.Hive], sid: u.SID})
	}
	for _, t := range targets {
		s := Series{Name: t.name, File: t.file}
		if g, ok := groupOf(groups, t.file); ok {
			for _, f := range g.Files {
				reread[filepath.Clean(f.Path)] = true
				for _, l := range f.Logs {
					reread[filepath.Clean(l)] = true
				}
			}
			hist, err := history.States(ctx, g, history.Options{})
			if err != nil {
				h.historyGaps = append(h.historyGaps, Gap{What: "history of " + t.name + " not read", Why: err.Error()})
			} else {
				for _, p := range hist.Problems {
					h.historyGaps = append(h.historyGaps, Gap{What: "history of " + t.name + " incomplete", Why: p})
				}
				for _, st := range hist.States {
					if hs, ok := stateOf(st); ok {
						s.States = append(s.States, hs)
					}
				}
			}
		}
		for _, rc := range he.Roaming {
			if t.machine || !strings.EqualFold(rc.User.SID, t.sid) || rc.Hive == nil {
				continue
			}
			if hs, ok := roamingState(rc); ok {
				s.States = append(s.States, hs)
			}
		}
		for _, ev := range he.Writes {
			if hs, ok := writeState(ev.String("TargetObject"), ev.String("ValueName"), ev.String("Details"), ev.String("Image"), ev.Time, t.sid, t.machine); ok {
				hs.File = ev.Source.File
				s.States = append(s.States, hs)
			}
		}
		sortStates(s.States)
		var marks []ChartMark
		for _, u := range h.Users {
			if t.sid != "" && strings.EqualFold(u.SID, t.sid) {
				if !u.LoadTime.IsZero() {
					marks = append(marks, ChartMark{Time: u.LoadTime, Label: "last profile load"})
				}
				if !u.UnloadTime.IsZero() {
					marks = append(marks, ChartMark{Time: u.UnloadTime, Label: "last profile unload"})
				}
			}
		}
		s.Chart = chartOf(s.States, marks)
		if len(s.States) > 0 {
			h.History = append(h.History, s)
		}
	}
	return reread
}

func groupOf(groups []history.Group, file string) (history.Group, bool) {
	for _, g := range groups {
		for _, f := range g.Files {
			if f.Snapshot == "" && filepath.Clean(f.Path) == filepath.Clean(file) {
				return g, true
			}
		}
	}
	return history.Group{}, false
}

func isHistoryVar(name string) (string, bool) {
	for _, v := range HistoryVars {
		if strings.EqualFold(v, name) {
			return v, true
		}
	}
	return "", false
}

func stateOf(st history.State) (HState, bool) {
	hs := HState{Source: st.Source, Kind: st.Kind, File: st.File, Time: st.Time}
	for _, v := range st.Values {
		name, ok := isHistoryVar(v.Name)
		if !ok {
			continue
		}
		hv := HValue{Name: name, Changed: v.Changed, Removed: v.Removed}
		if !v.Removed {
			hv.Type = v.Type.String()
			hv.Data = profile.DataText(v.Data)
		}
		hs.Values = append(hs.Values, hv)
	}
	if !st.Present {
		hs.Values = append(hs.Values, HValue{Name: "(key)", Changed: history.ChangeNoKey, Removed: true})
	}
	return hs, len(hs.Values) > 0
}

func roamingState(rc scan.RoamingCopy) (HState, bool) {
	k, err := rc.Hive.OpenKey(history.UserEnvironment)
	if err != nil {
		return HState{}, false
	}
	hs := HState{Source: "roaming copy (server)", Kind: "roaming", File: rc.File, Time: k.LastWrite()}
	vals, _ := k.Values()
	for _, v := range vals {
		name, ok := isHistoryVar(v.Name())
		if !ok {
			continue
		}
		d, err := v.Decode()
		if err != nil {
			continue
		}
		hs.Values = append(hs.Values, HValue{Name: name, Type: v.Type().String(), Data: profile.DataText(d)})
	}
	return hs, len(hs.Values) > 0
}

// writeState turns a registry write from a trace or event log into a state
// of the user's (sid) or the machine's Environment.
func writeState(target, value, details, image string, t time.Time, sid string, machine bool) (HState, bool) {
	name, ok := isHistoryVar(value)
	if !ok {
		return HState{}, false
	}
	lt := strings.ToLower(target)
	switch {
	case machine:
		if !strings.HasPrefix(lt, `hklm\system\`) || !strings.Contains(lt, `\control\session manager\environment`) {
			return HState{}, false
		}
	case sid == "" || !strings.HasPrefix(lt, strings.ToLower(`hku\`+sid+`\environment`)):
		return HState{}, false
	}
	return HState{Source: "write by " + image, Kind: "trace", Time: t, Values: []HValue{{Name: name, Data: details, Changed: "written"}}}, true
}

func sortStates(ss []HState) {
	sort.SliceStable(ss, func(i, j int) bool {
		ti, tj := ss[i].Time, ss[j].Time
		if ti.IsZero() != tj.IsZero() {
			return !ti.IsZero()
		}
		return ti.Before(tj)
	})
}

var chartColors = []string{"#1f5fa8", "#c0392b", "#27865a", "#b9770e", "#7d3c98", "#117a8b", "#6e2c00", "#566573"}

// chartOf lays out the dated states on a time axis, one row per variable.
func chartOf(ss []HState, marks []ChartMark) Chart {
	const left, right, top, rowH = 90, 30, 16, 30
	c := Chart{Width: 760, Top: top - 10}
	var lo, hi time.Time
	widen := func(t time.Time) {
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	for _, s := range ss {
		if !s.Time.IsZero() {
			widen(s.Time)
		}
	}
	if lo.IsZero() {
		return c
	}
	for _, m := range marks {
		widen(m.Time)
	}
	span := hi.Sub(lo)
	x := func(t time.Time) int {
		if span <= 0 {
			return left + (c.Width-left-right)/2
		}
		return left + int(float64(c.Width-left-right)*float64(t.Sub(lo))/float64(span))
	}
	for i, name := range HistoryVars {
		row := ChartRow{Name: name, Y: top + i*rowH}
		seen := map[string]int{}
		for _, s := range ss {
			if s.Time.IsZero() {
				continue
			}
			for _, v := range s.Values {
				if v.Name != name {
					continue
				}
				key := v.Data
				if v.Removed {
					key = "\x01removed"
				}
				idx, ok := seen[key]
				if !ok {
					idx = len(seen)
					seen[key] = idx
				}
				color := chartColors[idx%len(chartColors)]
				data := v.Data
				if v.Removed {
					color, data = "#ffffff", "(absent)"
				}
				if !ok {
					row.Legend = append(row.Legend, ChartLegend{Color: color, Text: clip(data, 120)})
				}
				row.Points = append(row.Points, ChartPoint{X: x(s.Time), Color: color, Title: wintime.Format(s.Time) + " " + s.Source + ": " + name + " = " + clip(data, 300)})
			}
		}
		c.Rows = append(c.Rows, row)
	}
	for _, m := range marks {
		m.X = x(m.Time)
		m.Title = m.Label + " " + wintime.Format(m.Time)
		c.Marks = append(c.Marks, m)
	}
	c.AxisY = top + len(HistoryVars)*rowH - 6
	c.Height = c.AxisY + 24
	if !lo.IsZero() {
		if span > 0 {
			c.Ticks = append(c.Ticks, ChartTick{X: x(lo), Label: lo.Format("2006-01-02 15:04 UTC"), Anchor: "start"}, ChartTick{X: x(hi), Label: hi.Format("2006-01-02 15:04 UTC"), Anchor: "end"})
		} else {
			c.Ticks = append(c.Ticks, ChartTick{X: x(lo), Label: lo.Format("2006-01-02 15:04 UTC"), Anchor: "middle"})
		}
	}
	return c
}

// clip cuts s to n runes, saying so.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + fmt.Sprintf("… (%d more characters)", len(r)-n)
}
