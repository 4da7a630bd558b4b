package report

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
	"github.com/envhunt/envhunt/pkg/event"
)

func TestJSONLWriter_RawBytesOfLoneSurrogateName(t *testing.T) {
	// A UTF-16 decoder that follows Go's rules turns a lone surrogate into
	// U+FFFD; the finding carries the original UTF-16LE bytes in Raw.
	units := []uint16{'P', 'a', 't', 'h', 0xD800}
	raw := make([]byte, 0, 2*len(units))
	for _, u := range units {
		raw = append(raw, byte(u), byte(u>>8))
	}
	f := &Finding{Level: LevelLow, Value: string(utf16.Decode(units)), Raw: map[string][]byte{"value": raw}}
	b, _ := f.MarshalJSON()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["value"] != "Path\uFFFD" || m["value_raw"] != "500061007400680000d8" {
		t.Errorf("value %q value_raw %q", m["value"], m["value_raw"])
	}
	if _, ok := m["data_raw"]; ok {
		t.Error("data_raw written for valid data")
	}
}

func TestFindingFromEvent_TakesEvidenceFields(t *testing.T) {
	lw := time.Date(2024, 3, 5, 10, 11, 12, 0, time.UTC)
	at := lw.Add(time.Hour)
	e := event.New(event.RegistrySet, at).
		Set("TargetObject", `HKU\S-1-5-21-1\Environment\Path`).
		Set("KeyPath", `HKU\S-1-5-21-1\Environment`).
		Set("ValueName", "Path").
		Set("Details", "ignored when Data is set").
		Set("Data", []string{"a", "b"}).
		Set("LastWrite", lw).
		Set("Recovered", true).
		Set("UserSid", "S-1-5-21-1").
		Set("User", `CORP\alice`)
	e.Source = event.Source{Host: "WS01", File: "/x/NTUSER.DAT", Offset: 10}
	f := FindingFromEvent(e)
	if f.Host != "WS01" || f.Source != "/x/NTUSER.DAT" || f.Key != `HKU\S-1-5-21-1\Environment` || f.Value != "Path" ||
		f.Data != "a\nb" || !f.LastWrite.Equal(lw) || !f.Time.Equal(at) || !f.Recovered || f.UserSID != "S-1-5-21-1" ||
		f.User != `CORP\alice` || f.Event != e.Fields {
		t.Errorf("finding %+v", f)
	}
	// Without an event time, the key's last write is the finding's time.
	e.Time = time.Time{}
	if f := FindingFromEvent(e); !f.Time.Equal(lw) {
		t.Errorf("time %v, want the last write", f.Time)
	}
}

func TestMarshalValue_BoundsNesting(t *testing.T) {
	var v any = "leaf"
	for range MaxDepth + 10 {
		v = []any{v}
	}
	if !json.Valid(MarshalValue(v)) {
		t.Error("deeply nested value gives invalid JSON")
	}
	if !bytes.Contains(MarshalValue(v), []byte("nested too deep")) {
		t.Error("nesting not bounded")
	}
}

func BenchmarkJSONLWriter(b *testing.B) {
	fs := sampleFindings()
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.WriteFinding(fs[i%len(fs)])
		if buf.Len() > 1<<20 {
			w.Flush()
			buf.Reset()
		}
	}
}

func BenchmarkTextWriter(b *testing.B) {
	fs := sampleFindings()
	var buf bytes.Buffer
	w := NewTextWriter(&buf, TextOptions{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.WriteFinding(fs[i%len(fs)])
		if buf.Len() > 1<<20 {
			w.Flush()
			buf.Reset()
		}
	}
}

func BenchmarkSafeTerminal_PlainASCII(b *testing.B) {
	s := `HKU\S-1-5-21-1-2-3-1001\Environment\Path`
	for b.Loop() {
		SafeTerminal(s)
	}
}

func BenchmarkEventJSONL(b *testing.B) {
	evs := sampleEvents()
	var buf bytes.Buffer
	w, _ := NewEventWriter(FormatJSONL, &buf, EventOptions{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.WriteEvent(evs[i%len(evs)])
		if buf.Len() > 1<<20 {
			w.Flush()
			buf.Reset()
		}
	}
}

func TestTextWriter_ShowsTheWritingProcess(t *testing.T) {
	f := sampleFindings()[0]
	f.Event = f.Event.Copy().Set("Image", `C:\Windows\System32\reg.exe`).Set("ProcessId", int64(4242)).
		Set("CommandLine", "reg add HKCU\\Environment /v GOROOT\x1b[8m")
	var buf bytes.Buffer
	w := NewTextWriter(&buf, TextOptions{NoSummary: true})
	w.WriteFinding(f)
	w.Close()
	want := `          by     C:\Windows\System32\reg.exe (pid 4242): reg add HKCU\Environment /v GOROOT\x1b[8m` + "\n"
	if !bytes.Contains(buf.Bytes(), []byte(want)) {
		t.Errorf("no process line in\n%s", buf.String())
	}
}

func TestLevel_ZeroRoundTrips(t *testing.T) {
	var f Finding
	b, _ := f.MarshalJSON()
	var g Finding
	if err := json.Unmarshal(b, &g); err != nil || g.Level != 0 {
		t.Errorf("zero level: %v %v", g.Level, err)
	}
}

func TestEventRowAndFindingRow(t *testing.T) {
	at := time.Date(2024, 3, 5, 10, 11, 12, 0, time.UTC)
	e := event.New(event.RegistrySet, at).Set("EventType", "SetValue").Set("TargetObject", `HKU\S-1\Environment\Path`).
		Set("Details", `C:\evil`).Set("Image", `C:\Windows\System32\reg.exe`).Set("ProcessId", int64(7)).Set("UserSid", "S-1")
	e.Source = event.Source{Host: "WS01", File: "t.etl", Offset: -1}
	r := EventRow(e, "etw")
	want := TimelineRow{Time: at, Source: "etw", Kind: "SetValue", Host: "WS01", User: "S-1", Key: `HKU\S-1\Environment\Path`,
		Description: `C:\evil by C:\Windows\System32\reg.exe (pid 7)`, File: "t.etl"}
	if r != want {
		t.Errorf("EventRow = %+v, want %+v", r, want)
	}
	f := sampleFindings()[0]
	var got []TimelineRow
	FindingsTimeline([]*Finding{f}).Rows(context.Background(), func(r TimelineRow) error { got = append(got, r); return nil })
	if len(got) != 1 || got[0].Source != "finding" || got[0].Kind != "high" || got[0].Key != f.Key+`\GOROOT` || got[0].User != `CORP\alice` {
		t.Errorf("FindingRow = %+v", got)
	}
}

type namedString string

func TestJSON_NamedStringKeepsRawBytes(t *testing.T) {
	b := MarshalValue(map[string]any{"c": namedString("bad\xff")})
	if string(b) != "{\"c\":\"bad\ufffd\",\"c_raw\":\"626164ff\"}" {
		t.Errorf("got %s", b)
	}
}

func TestRecordWriter_NestedRecordsAndGivenRaw(t *testing.T) {
	var buf bytes.Buffer
	w := NewRecordWriter(&buf)
	key := ordereddict.NewDict().Set("path", "Environment").Set("last_write", time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)).
		Set("values", []any{
			ordereddict.NewDict().Set("name", "Path\uFFFD").Set("name_raw", []byte{'P', 0, 0x00, 0xD8}).Set("type", "REG_EXPAND_SZ").Set("data", "x"),
			ordereddict.NewDict().Set("name", "bad\xff").Set("type", "REG_MULTI_SZ").Set("data", []string{"ok", "\xfe"}),
		})
	w.WriteRecord(key)
	w.WriteRecord(nil)
	w.Close()
	want := `{"path":"Environment","last_write":"2024-01-02T03:04:05.0000006Z","values":[` +
		`{"name":"Path` + "\uFFFD" + `","name_raw":"500000d8","type":"REG_EXPAND_SZ","data":"x"},` +
		`{"name":"bad` + "\uFFFD" + `","name_raw":"626164ff","type":"REG_MULTI_SZ","data":["ok","` + "\uFFFD" + `"],"data_raw":["","fe"]}]}` + "\n{}\n"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestContainsHidden(t *testing.T) {
	for s, want := range map[string]bool{
		"Path": false, "Größe": false, "😀": false, "Path\x00": true, "Pa\u202eth": true,
		"Path\u200b": true, "\xff": true, "\xed\xa0\x80": true, "a\tb": true,
	} {
		if got := ContainsHidden(s); got != want {
			t.Errorf("ContainsHidden(%q) = %v", s, got)
		}
	}
}

func TestParseTimeBound(t *testing.T) {
	for _, tc := range []struct {
		in   string
		end  bool
		want string
	}{
		{"2024-03-05T10:11:12.1234567Z", false, "2024-03-05T10:11:12.1234567Z"},
		{"2024-03-05T12:11:12+02:00", false, "2024-03-05T10:11:12.0000000Z"},
		{"2024-03-05T10:11:12", false, "2024-03-05T10:11:12.0000000Z"},
		{"2024-03-05", false, "2024-03-05T00:00:00.0000000Z"},
		{"2024-03-05", true, "2024-03-05T23:59:59.9999999Z"},
	} {
		got, err := ParseTimeBound(tc.in, tc.end)
		if err != nil || got.UTC().Format("2006-01-02T15:04:05.0000000Z") != tc.want {
			t.Errorf("ParseTimeBound(%q, %v) = %v, %v; want %s", tc.in, tc.end, got, err, tc.want)
		}
	}
	if _, err := ParseTimeBound("yesterday", false); err == nil {
		t.Error("accepted yesterday")
	}
}

func TestTextWriter_ClipsLongDataAndSaysSo(t *testing.T) {
	f := &Finding{Level: LevelLow, Title: "long", Value: "Path", Data: strings.Repeat("é", 3000)}
	var buf bytes.Buffer
	w := NewTextWriter(&buf, TextOptions{NoSummary: true, MaxData: 101})
	w.WriteFinding(f)
	w.Close()
	out := buf.String()
	if !utf8.ValidString(out) || !strings.Contains(out, " … (5900 more bytes; the JSONL and CSV output carry all of it)") {
		t.Errorf("clipped output:\n%s", out)
	}
	buf.Reset()
	w = NewTextWriter(&buf, TextOptions{NoSummary: true, MaxData: -1})
	w.WriteFinding(f)
	w.Close()
	if strings.Contains(buf.String(), "more bytes") {
		t.Error("MaxData -1 clipped the data")
	}
}

func TestMarshalValue_MapWithGivenRawHasNoDuplicateKey(t *testing.T) {
	b := MarshalValue(map[string]any{"name": "x\xff", "name_raw": []byte{0x78, 0, 0x00, 0xd8}})
	if string(b) != `{"name":"x`+"\uFFFD"+`","name_raw":"780000d8"}` {
		t.Errorf("got %s", b)
	}
}

func TestMarshalValue_BoundsSharedSubtrees(t *testing.T) {
	// Each level references the one below twice: 2^30 paths.
	d := ordereddict.NewDict().Set("leaf", "x")
	for range 30 {
		d = ordereddict.NewDict().Set("a", d).Set("b", d)
	}
	b := MarshalValue(d)
	if !json.Valid(b) || !bytes.Contains(b, []byte("too many values")) {
		t.Errorf("shared subtrees not bounded (%d bytes)", len(b))
	}
}
