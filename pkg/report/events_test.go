package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
)

func sampleEvents() []*event.Event {
	t0 := time.Date(2024, 3, 5, 10, 11, 12, 123456700, time.UTC)
	e1 := event.New(event.RegistrySet, t0).
		Set("EventType", "SetValue").
		Set("TargetObject", `HKU\S-1-5-21-1-2-3-1001\Environment\Path`).
		Set("Details", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`).
		Set("ValueType", "REG_EXPAND_SZ").
		Set("LastWrite", t0).
		Set("Host", "WS01")
	e1.Source = event.Source{Host: "WS01", File: "/cases/ws01/C/Users/alice/NTUSER.DAT", Offset: 0x1a20}
	e2 := event.New(event.RegistryKey, time.Time{}).
		Set("EventType", "CreateKey").
		Set("TargetObject", `HKLM\SOFTWARE\Microsoft`).
		Set("SubkeyCount", int64(3))
	out := []*event.Event{e1, e2}
	for _, h := range hostile {
		e := event.New(event.RegistrySet, t0).Set(h, h).Set("Data", []string{h, "x"}).Set("Bytes", []byte(h))
		e.Source = event.Source{Host: h, File: h, Offset: -1}
		out = append(out, e)
	}
	return out
}

func writeEvents(t *testing.T, format string, opts EventOptions, evs []*event.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewEventWriter(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := w.WriteEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEventWriters_MatchGoldenFiles(t *testing.T) {
	for _, format := range []string{FormatJSONL, FormatText, FormatCSV} {
		t.Run(format, func(t *testing.T) {
			golden(t, "events."+format, writeEvents(t, format, EventOptions{}, sampleEvents()))
		})
	}
}

func TestEventJSONL_ShapeAndValidity(t *testing.T) {
	evs := sampleEvents()
	out := writeEvents(t, FormatJSONL, EventOptions{}, evs)
	assertTerminalSafe(t, "events jsonl", string(out))
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(evs) {
		t.Fatalf("%d lines for %d events", len(lines), len(evs))
	}
	var first struct {
		Category string `json:"category"`
		Time     string `json:"time"`
		Source   struct {
			Host   string `json:"host"`
			File   string `json:"file"`
			Offset *int64 `json:"offset"`
		} `json:"source"`
		Fields map[string]any `json:"fields"`
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d invalid: %s", i, l)
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Category != "registry_set" || first.Time != "2024-03-05T10:11:12.1234567Z" || first.Source.Offset == nil ||
		*first.Source.Offset != 0x1a20 || first.Fields["ValueType"] != "REG_EXPAND_SZ" {
		t.Errorf("first event decoded as %+v", first)
	}
	if !strings.Contains(lines[1], `"offset":null`) || !strings.Contains(lines[1], `"time":""`) {
		t.Errorf("event without offset and time: %s", lines[1])
	}
}

func TestEventCSV_UnionColumnsInFirstSeenOrder(t *testing.T) {
	out := writeEvents(t, FormatCSV, EventOptions{}, sampleEvents()[:2])
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "category,time,host,file,offset,EventType,TargetObject,Details,ValueType,LastWrite,Host,SubkeyCount,extra"
	if got := strings.Join(recs[0], ","); got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	if len(recs) != 3 || recs[2][11] != "3" {
		t.Errorf("records %q", recs)
	}
}

func TestEventCSV_FixedColumnsPutOthersInExtra(t *testing.T) {
	out := writeEvents(t, FormatCSV, EventOptions{Columns: []string{"TargetObject"}}, sampleEvents()[:1])
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "category,time,host,file,offset,TargetObject,extra" {
		t.Errorf("header %q", recs[0])
	}
	var extra map[string]any
	if err := json.Unmarshal([]byte(recs[1][6]), &extra); err != nil || extra["ValueType"] != "REG_EXPAND_SZ" || len(extra) != 5 {
		t.Errorf("extra %q (%v)", recs[1][6], err)
	}
}

func TestEventText_HostileIsTerminalSafe(t *testing.T) {
	assertTerminalSafe(t, "events text", string(writeEvents(t, FormatText, EventOptions{}, sampleEvents())))
}

func TestEventColumns_FromDeclarations(t *testing.T) {
	cols := EventColumns(event.RegistrySet)
	if cols[0] != "Host" || !strings.Contains(strings.Join(cols, ","), "TargetObject,Details") {
		t.Errorf("columns %v", cols)
	}
}

func TestTableWriters(t *testing.T) {
	cols := []string{"path", "name", "type", "data"}
	rows := [][]any{
		{`Environment`, "Path", "REG_EXPAND_SZ", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`},
		{`Environment`, "Count", "REG_DWORD", uint32(7)},
		{`Environment`, "Multi", "REG_MULTI_SZ", []string{"a", "b"}},
		{`Environment`, "Bin", "REG_BINARY", []byte{0xde, 0xad}},
		{`Environment`, ""},
	}
	for _, h := range hostile {
		rows = append(rows, []any{h, h, "REG_SZ", h})
	}
	for _, format := range []string{FormatText, FormatCSV, FormatJSONL} {
		var buf bytes.Buffer
		w, err := NewTableWriter(format, &buf, cols, TextOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.WriteRow(r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteRow(1, 2, 3, 4, 5); err == nil {
			t.Errorf("%s: row with too many values accepted", format)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		golden(t, "table."+format, buf.Bytes())
		switch format {
		case FormatText:
			assertTerminalSafe(t, "table text", buf.String())
			if n := strings.Count(buf.String(), "\n"); n != len(rows)+1 {
				t.Errorf("text table has %d lines, want %d", n, len(rows)+1)
			}
		case FormatCSV:
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) != len(rows)+1 {
				t.Errorf("csv table: %d records, %v", len(recs), err)
			}
		case FormatJSONL:
			for i, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if !json.Valid([]byte(l)) {
					t.Errorf("jsonl table line %d invalid", i)
				}
			}
		}
	}
}
