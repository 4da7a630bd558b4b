package etl_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// Payload byte vectors from the TracingTools/libtrace kernel payload decoder
// tests (BSD-3), with the values that project's tests expect.
var (
	ltRegistrySetValueV2 = []byte{
		0x4A, 0xAE, 0x94, 0x49, 0x0D, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x20, 0x18, 0x16, 0x09, 0x00, 0xC0, 0xFF, 0xFF,
		0x41, 0x00, 0x6E, 0x00, 0x6F, 0x00, 0x6E, 0x00,
		0x79, 0x00, 0x6D, 0x00, 0x69, 0x00, 0x7A, 0x00,
		0x65, 0x00, 0x64, 0x00, 0x20, 0x00, 0x73, 0x00,
		0x74, 0x00, 0x72, 0x00, 0x69, 0x00, 0x6E, 0x00,
		0x67, 0x00, 0x2E, 0x00, 0x20, 0x00, 0x44, 0x00,
		0x75, 0x00, 0x6D, 0x00, 0x6D, 0x00, 0x79, 0x00,
		0x20, 0x00, 0x63, 0x00, 0x6F, 0x00, 0x6E, 0x00,
		0x74, 0x00, 0x65, 0x00, 0x6E, 0x00, 0x74, 0x00,
		0x2E, 0x00, 0x20, 0x00, 0x46, 0x00, 0x61, 0x00,
		0x6C, 0x00, 0x73, 0x00, 0x65, 0x00, 0x20, 0x00,
		0x76, 0x00, 0x61, 0x00, 0x6C, 0x00, 0x75, 0x00,
		0x65, 0x00, 0x2E, 0x00, 0x00, 0x00}
	ltRegistryKCBRundownEndV2 = []byte{
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x60, 0x02, 0x00, 0x00, 0xC0, 0xFF, 0xFF,
		0x41, 0x00, 0x6E, 0x00, 0x6F, 0x00, 0x6E, 0x00,
		0x79, 0x00, 0x6D, 0x00, 0x69, 0x00, 0x7A, 0x00,
		0x65, 0x00, 0x00, 0x00}
	ltRegistryQuerySecurityV2 = []byte{
		0x27, 0xAF, 0x41, 0x4B, 0x0D, 0x01, 0x00, 0x00,
		0x23, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00,
		0xF8, 0xC6, 0xE1, 0x11, 0x00, 0xC0, 0xFF, 0xFF,
		0x00, 0x00}
	ltProcessStartV4 = []byte{
		0x80, 0x40, 0xFC, 0x1A, 0x00, 0xE0, 0xFF, 0xFF,
		0x8C, 0x0A, 0x00, 0x00, 0x08, 0x17, 0x00, 0x00,
		0x05, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00,
		0x00, 0xB0, 0xA2, 0xA3, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x90, 0xF0, 0x57, 0x04,
		0x00, 0xC0, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0A, 0x0B, 0x06, 0xE9, 0x03, 0x00, 0x00,
		0x78, 0x70, 0x65, 0x72, 0x66, 0x2E, 0x65, 0x78,
		0x65, 0x00, 0x78, 0x00, 0x70, 0x00, 0x65, 0x00,
		0x72, 0x00, 0x66, 0x00, 0x20, 0x00, 0x20, 0x00,
		0x2D, 0x00, 0x73, 0x00, 0x74, 0x00, 0x6F, 0x00,
		0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	ltProcessStartV3 = []byte{
		0x60, 0x80, 0x62, 0x0F, 0x80, 0xFA, 0xFF, 0xFF,
		0x00, 0x1A, 0x00, 0x00, 0xA0, 0x1C, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00,
		0x00, 0xF0, 0x43, 0x1D, 0x01, 0x00, 0x00, 0x00,
		0x30, 0x56, 0x53, 0x15, 0xA0, 0xF8, 0xFF, 0xFF,
		0x00, 0x00, 0x00, 0x00, 0xA0, 0xF8, 0xFF, 0xFF,
		0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
		0x15, 0x00, 0x00, 0x00, 0x02, 0x03, 0x01, 0x02,
		0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
		0x0B, 0x0C, 0x00, 0x00, 0x78, 0x70, 0x65, 0x72,
		0x66, 0x2E, 0x65, 0x78, 0x65, 0x00, 0x78, 0x00,
		0x70, 0x00, 0x65, 0x00, 0x72, 0x00, 0x66, 0x00,
		0x20, 0x00, 0x20, 0x00, 0x2D, 0x00, 0x64, 0x00,
		0x20, 0x00, 0x6F, 0x00, 0x75, 0x00, 0x74, 0x00,
		0x2E, 0x00, 0x65, 0x00, 0x74, 0x00, 0x6C, 0x00,
		0x00, 0x00}
)

func kernelEvent(group, opcode, version uint8, ptr int, payload []byte) *etl.Event {
	g := map[uint8]etl.GUID{3: etl.ProcessClassGUID, 9: etl.RegistryClassGUID}[group]
	ht := etl.HeaderSystem64
	if ptr == 4 {
		ht = etl.HeaderSystem32
	}
	return &etl.Event{HeaderType: ht, Provider: g, Group: group, Opcode: opcode, Version: version, PointerSize: ptr, Payload: payload, HasPID: true}
}

func TestDecode_KernelPayloadVectors(t *testing.T) {
	tests := []struct {
		name   string
		ev     *etl.Event
		source string
		event  string
		want   map[string]any
	}{
		{"registry SetValue v2 64-bit", kernelEvent(9, 14, 2, 8, ltRegistrySetValueV2), "Registry", "SetValue", map[string]any{
			"InitialTime": int64(1156580683338), "Status": uint64(0), "Index": uint64(0),
			"KeyHandle": etl.Pointer(0xffffc00009161820), "KeyName": "Anonymized string. Dummy content. False value.",
		}},
		{"registry KCBRundownEnd v2 64-bit", kernelEvent(9, 25, 2, 8, ltRegistryKCBRundownEndV2), "Registry", "KCBRundownEnd", map[string]any{
			"InitialTime": int64(0), "Status": uint64(0), "KeyHandle": etl.Pointer(0xffffc00000026008), "KeyName": "Anonymize",
		}},
		{"registry QuerySecurity v2 failed status", kernelEvent(9, 29, 2, 8, ltRegistryQuerySecurityV2), "Registry", "QuerySecurity", map[string]any{
			"Status": uint64(0xC0000023), "KeyHandle": etl.Pointer(0xffffc00011e1c6f8), "KeyName": "",
		}},
		{"process Start v4 64-bit", kernelEvent(3, 1, 4, 8, ltProcessStartV4), "Process", "Start", map[string]any{
			"UniqueProcessKey": etl.Pointer(0xffffe0001afc4080), "ProcessId": uint64(2700), "ParentId": uint64(5896),
			"SessionId": uint64(5), "ExitStatus": int64(259), "DirectoryTableBase": etl.Pointer(0xa3a2b000), "Flags": uint64(0),
			"UserSID": "S-1-5-21-67305985-134678021-101386761-1001", "ImageFileName": "xperf.exe",
			"CommandLine": "xperf  -stop", "PackageFullName": "", "ApplicationId": "",
		}},
		{"process Start v3 64-bit", kernelEvent(3, 1, 3, 8, ltProcessStartV3), "Process", "Start", map[string]any{
			"UniqueProcessKey": etl.Pointer(0xfffffa800f628060), "ProcessId": uint64(0x1a00), "ParentId": uint64(0x1ca0),
			"SessionId": uint64(1), "ExitStatus": int64(259), "DirectoryTableBase": etl.Pointer(0x11d43f000),
			"UserSID": "S-1-5-21-33620738-100992003-168364039-3083", "ImageFileName": "xperf.exe",
			"CommandLine": "xperf  -d out.etl",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := etl.Decode(tt.ev)
			if d.Err != nil {
				t.Fatalf("decode error: %v", d.Err)
			}
			if d.Source != tt.source || d.Name != tt.event {
				t.Errorf("decoded as %s/%s, want %s/%s", d.Source, d.Name, tt.source, tt.event)
			}
			for k, v := range tt.want {
				got, ok := d.Get(k)
				if !ok || got != v {
					t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, v)
				}
			}
		})
	}
}

func TestDecode_ShortPayloadKeepsLeadingFieldsOnly(t *testing.T) {
	d := etl.Decode(kernelEvent(3, 1, 4, 8, ltProcessStartV4[:22]))
	if d.Err == nil {
		t.Fatal("no error for a truncated payload")
	}
	if _, ok := d.Get("ProcessId"); !ok {
		t.Error("ProcessId before the cut is missing")
	}
	for _, f := range []string{"UserSID", "ImageFileName", "CommandLine", "ExitStatus"} {
		if d.Has(f) {
			t.Errorf("field %s after the cut is present", f)
		}
	}
}

func TestDecode_MandatoryLabelAndCapturedData(t *testing.T) {
	create := time.Date(2024, 5, 6, 7, 8, 9, 100, time.UTC)
	ev := &etl.Event{HeaderType: etl.HeaderEvent64, Provider: etl.KernelProcessGUID, ID: 1, Version: 3, PointerSize: 8,
		Payload: etltest.KernelProcessStartV3(4242, 77, create, 600, 66, 1, 0, 3, 1, "S-1-16-12288", `\Device\HarddiskVolume3\Windows\System32\setx.exe`)}
	d := etl.Decode(ev)
	if d.Err != nil {
		t.Fatal(d.Err)
	}
	for k, v := range map[string]any{"ProcessID": uint64(4242), "ProcessSequenceNumber": uint64(77), "CreateTime": create,
		"ParentProcessID": uint64(600), "MandatoryLabel": "S-1-16-12288", "ImageName": `\Device\HarddiskVolume3\Windows\System32\setx.exe`} {
		if got, _ := d.Get(k); got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	for _, absent := range []string{"CommandLine", "UserSID"} {
		if d.Has(absent) {
			t.Errorf("Kernel-Process carries no %s, but the decode has one", absent)
		}
	}

	for _, ptr := range []int{4, 8} {
		data := etltest.UTF16Data(`C:\Users\Public;%PATH%`)
		ht := etl.HeaderEvent64
		if ptr == 4 {
			ht = etl.HeaderEvent32
		}
		ev := &etl.Event{HeaderType: ht, Provider: etl.KernelRegistryGUID, ID: 5, PointerSize: ptr,
			Payload: etltest.KernelRegistrySetValue(ptr, 0xc0de, 0xC0000022, 2, uint32(len(data)), "", "Path", data)}
		d := etl.Decode(ev)
		if d.Err != nil {
			t.Fatalf("%d-bit: %v", ptr*8, d.Err)
		}
		if d.Name != "SetValueKey" || d.Uint("KeyObject") != 0xc0de || d.Uint("Status") != 0xC0000022 || d.Uint("Type") != 2 ||
			d.Str("ValueName") != "Path" || !bytes.Equal(d.Bytes("CapturedData"), data) || d.Uint("DataSize") != uint64(len(data)) {
			t.Errorf("%d-bit SetValueKey decoded as %+v", ptr*8, d.Fields)
		}
	}
}

func TestLogfileHeader_32And64BitLayouts(t *testing.T) {
	start := time.Date(2023, 3, 4, 5, 6, 7, 1234500, time.UTC)
	for _, ptr := range []int{4, 8} {
		b := etltest.Build(etltest.Trace{PointerSize: ptr, StartTime: start, CPUs: 3, Build: 22631, LoggerName: "Reg Trace", LogFileName: `C:\t.etl`, EventsLost: 7, BuffersLost: 2})
		f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%d-bit: %v", ptr*8, err)
		}
		h := f.Header
		if int(h.PointerSize) != ptr || h.NumberOfProcessors != 3 || h.ProviderVersion != 22631 || h.LoggerName != "Reg Trace" ||
			h.LogFileName != `C:\t.etl` || h.EventsLost != 7 || h.BuffersLost != 2 || !h.StartTime.Equal(start) || h.ClockType() != etl.ClockQPC {
			t.Errorf("%d-bit header = %+v", ptr*8, h)
		}
	}
}

func TestNewReader_RejectsNonETL(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty": nil,
		"zeros": make([]byte, 0x2000),
		"regf":  append([]byte("regf"), make([]byte, 0x2000)...),
		"tiny":  make([]byte, 0x50),
	} {
		_, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		var fe *etl.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a *FormatError", name, err)
		}
	}
}

func TestState_ResolvesWritesFromWriterTraces(t *testing.T) {
	const sid = "S-1-5-21-1111111111-2222222222-3333333333-1001"
	key := `\REGISTRY\USER\` + sid + `\Environment`
	at := time.Date(2024, 2, 3, 4, 5, 6, 7000, time.UTC)
	data := etltest.UTF16Data(`C:\Users\Public;C:\Windows\system32`)
	for _, ptr := range []int{4, 8} {
		for _, kl := range []bool{false, true} {
			w := etltest.Write{PointerSize: ptr, KernelLogger: kl, Time: at, PID: 4321, PPID: 1000, UserSID: sid,
				Image: "x.exe", CommandLine: `C:\Users\Public\x.exe --set`, Key: key, Value: "Path", Type: 2, Data: data}
			f, err := etl.NewReader(bytes.NewReader(etltest.WriteTrace(w)), int64(len(etltest.WriteTrace(w))))
			if err != nil {
				t.Fatal(err)
			}
			st := etl.NewState()
			if err := st.Prescan(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			var set *etl.RegistryOp
			var setEv *etl.Event
			for e, err := range f.All(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				if op := st.Observe(e, etl.Decode(e)); op != nil && op.Kind == "SetValue" {
					cp := *op
					set, setEv = &cp, e.Clone()
				}
			}
			name := map[bool]string{false: "Kernel-Registry", true: "kernel logger"}[kl]
			if set == nil {
				t.Fatalf("%d-bit %s: no SetValue", ptr*8, name)
			}
			if set.Key != key || set.Value != "Path" || set.How != "handle" {
				t.Errorf("%d-bit %s: key %q value %q how %q", ptr*8, name, set.Key, set.Value, set.How)
			}
			if !setEv.Time.Equal(at) {
				t.Errorf("%d-bit %s: time %v, want %v", ptr*8, name, setEv.Time, at)
			}
			if kl && (set.HasData || set.HasType) {
				t.Errorf("kernel-logger SetValue must not claim data or type")
			}
			if !kl && (!bytes.Equal(set.Data, data) || set.Type != 2) {
				t.Errorf("%d-bit Kernel-Registry: data %q type %d", ptr*8, set.Data, set.Type)
			}
			pid, _ := st.PID(setEv)
			p := st.Process(pid, setEv.Time)
			if p == nil || p.Image != "x.exe" || p.CommandLine != w.CommandLine || p.UserSID != sid || p.ParentPID != 1000 {
				t.Errorf("%d-bit %s: process %+v", ptr*8, name, p)
			}
		}
	}
}

func TestState_ProcessLookupHonoursPIDReuse(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 10, 0, time.UTC)
	ev := func(op uint8, at time.Time, image string) etltest.Event {
		return etltest.Event{Header: etltest.System, Time: at, Group: etltest.GroupProcess, Opcode: op, Version: 4,
			Payload: etltest.ProcessV4(8, uint64(len(image)), 500, 4, 1, 0, 0, 0, "S-1-5-18", image, image)}
	}
	b := etltest.Build(etltest.Trace{StartTime: t0.Add(-time.Second), Events: []etltest.Event{
		ev(1, t0, "first.exe"), ev(2, t0.Add(time.Second), "first.exe"),
		ev(1, t0.Add(2*time.Second), "second.exe!"),
	}})
	f, _ := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	st := etl.NewState()
	if err := st.Prescan(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{t0.Add(500 * time.Millisecond), "first.exe"},
		{t0.Add(3 * time.Second), "second.exe!"},
		{t0.Add(1500 * time.Millisecond), ""},
		{t0.Add(-time.Second), ""},
	} {
		p := st.Process(500, c.at)
		got := ""
		if p != nil {
			got = p.Image
		}
		if got != c.want {
			t.Errorf("at %v: %q, want %q", c.at, got, c.want)
		}
	}
}

func TestTimeline_MergesCPUsInTimeOrder(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []etltest.Event
	for i := 0; i < 600; i++ {
		evs = append(evs, etltest.Event{Header: etltest.System, Time: t0.Add(time.Duration(i) * time.Millisecond), CPU: uint16(i % 3),
			Group: etltest.GroupRegistry, Opcode: 27, Version: 2, Payload: etltest.RegistryV2(8, 0, 0, 0, uint64(i), "")})
	}
	b := etltest.Build(etltest.Trace{StartTime: t0, Events: evs, BufferSize: 0x400})
	f, _ := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	var last time.Time
	n := 0
	for e, err := range f.Timeline(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Time.Before(last) {
			t.Fatalf("event %d at %v before %v", n, e.Time, last)
		}
		last = e.Time
		n++
	}
	if n != 601 {
		t.Errorf("%d events, want 601", n)
	}
}

func TestEvents_TruncatedAndCorruptFilesGivePartialResults(t *testing.T) {
	w := etltest.Write{Time: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), PID: 10, PPID: 4, UserSID: "S-1-5-18",
		Image: "x.exe", CommandLine: "x.exe", Key: `\REGISTRY\MACHINE\SOFTWARE\X`, Value: "V", Type: 1, Data: etltest.UTF16Data("v")}
	full := etltest.WriteTrace(w)
	count := func(b []byte) (int, error) {
		f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return 0, err
		}
		it := f.Events(context.Background())
		n := 0
		for it.Next() {
			n++
		}
		return n, it.Err()
	}
	all, err := count(full)
	if err != nil || all == 0 {
		t.Fatalf("full file: %d events, %v", all, err)
	}
	// Cut inside the last buffer's events: the earlier buffers' events
	// remain and the truncation is reported.
	lastBuf := len(full) - 0x2000
	n, err := count(full[:lastBuf+etl.BufferHeaderSize+0x10])
	var fe *etl.FormatError
	if !errors.As(err, &fe) || n == 0 || n >= all {
		t.Errorf("truncated in the events: %d of %d events, error %v", n, all, err)
	}
	// Cut in the last buffer's padding: every event is whole and still
	// read, and the truncation is reported.
	n, err = count(full[:len(full)-100])
	if !errors.As(err, &fe) || n != all {
		t.Errorf("truncated in the padding: %d of %d events, error %v", n, all, err)
	}
	// Corrupt a record size in the last buffer.
	bad := append([]byte(nil), full...)
	last := len(bad) - 0x2000
	bad[last+etl.BufferHeaderSize] = 0x01
	bad[last+etl.BufferHeaderSize+1] = 0x00
	if _, err := count(bad); !errors.As(err, &fe) {
		t.Errorf("corrupt record: error %v, want a *FormatError", err)
	}
	// Every truncation and many byte flips: never a panic or a hang.
	for cut := 0; cut < len(full); cut += 97 {
		count(full[:cut])
	}
	for i := 0; i < len(full); i += 13 {
		b := append([]byte(nil), full...)
		b[i] ^= 0xA5
		count(b)
	}
}

func TestLZ77_DecodesAndBoundsOutput(t *testing.T) {
	// Literals "abc" then a match of length 6 at distance 3.
	in := []byte{0x00, 0x00, 0x00, 0x10, 'a', 'b', 'c', 0x13, 0x00}
	out, err := etl.DecompressLZ77ForTest(in, 9)
	if err != nil || string(out) != "abcabcabc" {
		t.Errorf("got %q, %v", out, err)
	}
	if _, err := etl.DecompressLZ77ForTest(in, 5); err == nil {
		t.Error("output larger than announced was not rejected")
	}
	// A match reaching before the start of the output.
	if _, err := etl.DecompressLZ77ForTest([]byte{0, 0, 0, 0x80, 0xff, 0x00}, 64); err == nil {
		t.Error("back reference before the output start was not rejected")
	}
}

func TestDecode_RegistryClassOlderVersions(t *testing.T) {
	// Registry_V0_TypeGroup1 / Registry_V1_TypeGroup1 (MS docs), 32-bit.
	v1 := (&etltest.Payload{Ptr: 4}).Pointer(0xC0000034).Pointer(0x8a001234).U64(5000).U32(2).WString("Path").B
	v0 := (&etltest.Payload{Ptr: 4}).Pointer(0).Pointer(0x8a005678).U64(7000).WString(`\REGISTRY\MACHINE\SOFTWARE`).B
	d := etl.Decode(kernelEvent(9, 14, 1, 4, v1))
	if d.Err != nil || d.Uint("Status") != 0xC0000034 || d.Uint("KeyHandle") != 0x8a001234 || d.Uint("Index") != 2 || d.Str("KeyName") != "Path" {
		t.Errorf("v1: %+v %v", d.Fields, d.Err)
	}
	if v, _ := d.Get("ElapsedTime"); v != int64(5000) {
		t.Errorf("v1 ElapsedTime %v", v)
	}
	d = etl.Decode(kernelEvent(9, 11, 0, 4, v0))
	if d.Err != nil || d.Name != "Open" || d.Uint("KeyHandle") != 0x8a005678 || d.Str("KeyName") != `\REGISTRY\MACHINE\SOFTWARE` || d.Has("Index") {
		t.Errorf("v0: %+v %v", d.Fields, d.Err)
	}
}
