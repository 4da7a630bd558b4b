package etl_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// rec lays out a record: a header of hdrSize bytes filled by fill, then the
// payload; the size field is set by size.
func rec(hdrSize int, payload []byte, fill func(r []byte)) []byte {
	r := make([]byte, hdrSize+len(payload))
	copy(r[hdrSize:], payload)
	fill(r)
	return r
}

func TestEvents_EveryHeaderType(t *testing.T) {
	le := binary.LittleEndian
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	at := start.Add(1500 * time.Millisecond)
	ts := uint64(etltest.RawTimestamp(start, at))
	prov := etl.MustParseGUID("11112222-3333-4444-5555-666677778888")
	payload := []byte{1, 2, 3, 4, 5}

	compact := rec(0x18, payload, func(r []byte) {
		le.PutUint16(r[0:], 2)
		r[2], r[3] = 0x04, 0xC0
		le.PutUint16(r[4:], uint16(len(r)))
		le.PutUint16(r[6:], 0x0914) // Registry group, opcode 0x14
		le.PutUint32(r[8:], 11)
		le.PutUint32(r[0xC:], 22)
		le.PutUint64(r[0x10:], ts)
	})
	// SYSTEM32 with a PEBS index and two PMC counters after the header.
	pmc := rec(0x20+8+16, payload, func(r []byte) {
		le.PutUint16(r[0:], 0x8000|0x0200|3)
		r[2], r[3] = 0x01, 0xC0
		le.PutUint16(r[4:], uint16(len(r)))
		le.PutUint16(r[6:], 0x0301)
		le.PutUint32(r[8:], 33)
		le.PutUint32(r[0xC:], 44)
		le.PutUint64(r[0x10:], ts)
	})
	full := rec(0x30, payload, func(r []byte) {
		le.PutUint16(r[0:], uint16(len(r)))
		r[2], r[3] = 0x14, 0xC0
		r[4], r[5] = 7, 4 // type (opcode), level
		le.PutUint16(r[6:], 3)
		le.PutUint32(r[8:], 55)
		le.PutUint32(r[0xC:], 66)
		le.PutUint64(r[0x10:], ts)
		copy(r[0x18:], prov[:])
	})
	parent := etl.MustParseGUID("aaaabbbb-cccc-dddd-eeee-ffff00001111")
	instance := rec(0x48, payload, func(r []byte) {
		le.PutUint16(r[0:], uint16(len(r)))
		r[2], r[3] = 0x0B, 0xC0
		r[4] = 9
		le.PutUint32(r[8:], 77)
		le.PutUint32(r[0xC:], 88)
		le.PutUint64(r[0x10:], ts)
		copy(r[0x18:], prov[:])
		le.PutUint32(r[0x30:], 5)
		le.PutUint32(r[0x34:], 6)
		copy(r[0x38:], parent[:])
	})
	// WPP message with sequence, GUID, timestamp and system info.
	msgHdr := 8 + 4 + 16 + 8 + 8
	message := rec(msgHdr, payload, func(r []byte) {
		le.PutUint16(r[0:], uint16(len(r)))
		r[3] = 0x90
		le.PutUint16(r[4:], 42)
		le.PutUint16(r[6:], etl.MessageSequence|etl.MessageGUID|etl.MessageTimestamp|etl.MessageSystemInfo)
		le.PutUint32(r[8:], 1234)
		copy(r[12:], prov[:])
		le.PutUint64(r[28:], ts)
		le.PutUint32(r[36:], 99)
		le.PutUint32(r[40:], 100)
	})
	// EVENT_HEADER32 with two extended items: a SID (linked) and a
	// terminal-session id.
	sid := etltest.SIDBytes("S-1-5-18")
	item1 := make([]byte, 8+16)
	le.PutUint16(item1[0:], uint16(len(item1)))
	le.PutUint16(item1[2:], etl.ExtSID)
	le.PutUint16(item1[4:], 1)
	le.PutUint16(item1[6:], uint16(len(sid)))
	copy(item1[8:], sid)
	item2 := make([]byte, 16)
	le.PutUint16(item2[0:], 16)
	le.PutUint16(item2[2:], etl.ExtTSID)
	le.PutUint16(item2[6:], 4)
	le.PutUint32(item2[8:], 3)
	withExt := rec(0x50, append(append(append([]byte{}, item1...), item2...), payload...), func(r []byte) {
		le.PutUint16(r[0:], uint16(len(r)))
		r[2], r[3] = 0x12, 0xC0
		le.PutUint16(r[4:], etl.EventHeaderFlagExtendedInfo)
		le.PutUint32(r[8:], 12)
		le.PutUint32(r[0xC:], 13)
		le.PutUint64(r[0x10:], ts)
		copy(r[0x18:], prov[:])
		le.PutUint16(r[0x28:], 300)
		r[0x2A], r[0x2C], r[0x2D] = 2, 3, 4
		le.PutUint64(r[0x30:], 0x8000000000000010)
	})
	perfinfo := etltest.Event{Header: etltest.PerfInfo, Time: at, Group: 3, Opcode: 3, Version: 4, Payload: payload}

	var evs []etltest.Event
	for _, r := range [][]byte{compact, pmc, full, instance, message, withExt} {
		evs = append(evs, etltest.Event{Header: etltest.Raw, Time: at, CPU: 1, Payload: r})
	}
	evs = append(evs, perfinfo)
	b := etltest.Build(etltest.Trace{StartTime: start, Events: evs})
	f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var got []*etl.Event
	for e, err := range f.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Clone())
	}
	if len(got) != 8 {
		t.Fatalf("%d events, want 8", len(got))
	}
	got = got[1:] // the logfile header
	check := func(i int, name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %+v", name, *got[i])
		}
	}
	for i, e := range got {
		if !e.Time.Equal(at) {
			t.Errorf("event %d (%s): time %v, want %v", i, e.HeaderType, e.Time, at)
		}
		if !bytes.Equal(e.Payload, payload) {
			t.Errorf("event %d (%s): payload % x", i, e.HeaderType, e.Payload)
		}
	}
	e := got[0]
	check(0, "COMPACT64", e.HeaderType == etl.HeaderCompact64 && e.Provider == etl.RegistryClassGUID && e.Opcode == 0x14 &&
		e.Version == 2 && e.TID == 11 && e.PID == 22 && e.PointerSize == 8)
	e = got[1]
	check(1, "SYSTEM32 with PEBS and PMC", e.HeaderType == etl.HeaderSystem32 && e.Provider == etl.ProcessClassGUID && e.Opcode == 1 &&
		e.Version == 3 && e.TID == 33 && e.PID == 44 && e.PointerSize == 4)
	e = got[2]
	check(2, "FULL_HEADER64", e.HeaderType == etl.HeaderFull64 && e.Provider == prov && e.Opcode == 7 && e.Level == 4 &&
		e.Version == 3 && e.TID == 55 && e.PID == 66)
	e = got[3]
	check(3, "INSTANCE32", e.HeaderType == etl.HeaderInstance32 && e.Provider == prov && e.Opcode == 9 && e.InstanceID == 5 &&
		e.ParentInstanceID == 6 && e.ParentGUID == parent && e.TID == 77 && e.PID == 88)
	e = got[4]
	check(4, "MESSAGE", e.HeaderType == etl.HeaderMessage && e.Provider == prov && e.MessageNumber == 42 && e.Sequence == 1234 &&
		e.TID == 99 && e.PID == 100 && e.HasPID)
	e = got[5]
	check(5, "EVENT_HEADER32", e.HeaderType == etl.HeaderEvent32 && e.Provider == prov && e.ID == 300 && e.Version == 2 &&
		e.Level == 3 && e.Opcode == 4 && e.Keywords == 0x8000000000000010 && e.PointerSize == 4 && len(e.ExtendedData) == 2)
	if d, ok := got[5].Extended(etl.ExtSID); !ok || etl.FormatSID(d) != "S-1-5-18" {
		t.Errorf("SID item: % x", d)
	}
	if d, ok := got[5].Extended(etl.ExtTSID); !ok || binary.LittleEndian.Uint32(d) != 3 {
		t.Errorf("TS_ID item: % x", d)
	}
	e = got[6]
	check(6, "PERFINFO64", e.HeaderType == etl.HeaderPerfInfo64 && e.Provider == etl.ProcessClassGUID && e.Opcode == 3 && !e.HasPID)
}

func TestEvents_BadRecordEndsOnlyItsBuffer(t *testing.T) {
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	bad := make([]byte, 16)
	binary.LittleEndian.PutUint32(bad, 0x00770000) // no header flags: not a record
	good := etltest.Event{Header: etltest.System, Time: start.Add(time.Second), CPU: 0, Group: 9, Opcode: 27, Version: 2,
		Payload: etltest.RegistryV2(8, 0, 0, 0, 1, "")}
	b := etltest.Build(etltest.Trace{StartTime: start, Events: []etltest.Event{
		{Header: etltest.Raw, Time: start.Add(time.Second), CPU: 1, Payload: bad}, good,
	}})
	f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	it := f.Events(context.Background())
	n := 0
	for it.Next() {
		n++
	}
	var fe *etl.FormatError
	if n != 2 || !errors.As(it.Err(), &fe) || fe.Offset == 0 {
		t.Errorf("%d events (want the header and the good one), error %v", n, it.Err())
	}
}

func TestEvents_StopsOnCancelledContext(t *testing.T) {
	b := etltest.WriteTrace(etltest.Write{Key: `\REGISTRY\MACHINE\SOFTWARE\X`, Value: "V", PID: 1})
	f, _ := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	it := f.Events(ctx)
	if it.Next() {
		t.Error("an event after cancellation")
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("error %v, want context.Canceled", it.Err())
	}
}

func TestTime_EveryClockType(t *testing.T) {
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	at := start.Add(2*time.Second + 123456700*time.Nanosecond)
	for _, clock := range []uint32{etl.ClockQPC, etl.ClockSystemTime, etl.ClockCPUCycle} {
		b := etltest.Build(etltest.Trace{StartTime: start, ClockType: clock, CPUSpeedMHz: 2400, Events: []etltest.Event{
			{Header: etltest.System, Time: at, Group: 9, Opcode: 27, Version: 2, Payload: etltest.RegistryV2(8, 0, 0, 0, 1, "")},
		}})
		f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if f.Header.ClockType() != clock {
			t.Fatalf("clock %d written as %d", clock, f.Header.ClockType())
		}
		var got []time.Time
		for e, err := range f.All(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Time)
		}
		if len(got) != 2 || !got[0].Equal(start) || !got[1].Equal(at) {
			t.Errorf("clock %d: times %v, want %v and %v", clock, got, start, at)
		}
	}
}

// lz77Bomb returns MS-XCA LZ77 data that expands to n bytes: one literal
// and one long match.
func lz77Bomb(n int) []byte {
	in := []byte{0, 0, 0, 0x40, 'a'} // flag bits: literal, then match
	in = binary.LittleEndian.AppendUint16(in, 7)
	in = append(in, 0x0f, 255)
	in = binary.LittleEndian.AppendUint16(in, 0)
	return binary.LittleEndian.AppendUint32(in, uint32(n-1-3-7-15+22))
}

func TestEvents_CompressionBombIsBounded(t *testing.T) {
	b := etltest.Build(etltest.Trace{})
	fill := etl.MaxBufferSize
	for i := 0; i < 50; i++ {
		buf := make([]byte, etl.BufferHeaderSize)
		buf = append(buf, lz77Bomb(fill-etl.BufferHeaderSize)...)
		for len(buf)%8 != 0 {
			buf = append(buf, 0)
		}
		binary.LittleEndian.PutUint32(buf[0:], uint32(len(buf)))
		binary.LittleEndian.PutUint32(buf[0x30:], uint32(fill))
		binary.LittleEndian.PutUint16(buf[0x34:], etl.BufferFlagCompressed)
		b = append(b, buf...)
	}
	f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	it := f.Events(context.Background())
	for it.Next() {
	}
	st := it.Stats()
	if st.Buffers != 51 || st.Bytes > 2*int64(etl.MaxBufferSize) {
		t.Errorf("walked %d buffers, decoded %d bytes", st.Buffers, st.Bytes)
	}
	if err := it.Err(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("times the file size")) {
		t.Errorf("error %v, want the expansion bound named", err)
	}
}

func TestEvents_CompressedTracesReadLikeUncompressed(t *testing.T) {
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var evs []etltest.Event
	for i := 0; i < 3000; i++ {
		name := "Path"
		if i%7 == 0 {
			name = "GOROOT" + string(rune('A'+i%26))
		}
		evs = append(evs, etltest.Event{Header: etltest.System, Time: start.Add(time.Duration(i) * time.Millisecond), CPU: uint16(i % 3),
			PID: uint32(100 + i%5), Group: 9, Opcode: 14, Version: 2, Payload: etltest.RegistryV2(8, int64(i), 0, 0, uint64(i%64), name)})
	}
	read := func(compress bool) ([]string, etl.Stats, int) {
		b := etltest.Build(etltest.Trace{StartTime: start, Events: evs, Compress: compress, BufferSize: 0x1000})
		f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		it := f.Events(context.Background())
		for it.Next() {
			e := it.Event()
			d := etl.Decode(e)
			out = append(out, e.Time.String()+d.Name+d.Str("KeyName"))
		}
		if err := it.Err(); err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		return out, it.Stats(), len(b)
	}
	plain, ps, plainSize := read(false)
	comp, cs, compSize := read(true)
	if cs.CompressedBuffers != cs.Buffers-1 || ps.CompressedBuffers != 0 || cs.Buffers != ps.Buffers {
		t.Errorf("buffers: plain %+v, compressed %+v", ps, cs)
	}
	if compSize >= plainSize {
		t.Errorf("compressed file of %d bytes, plain %d", compSize, plainSize)
	}
	if len(plain) != 3001 || len(comp) != len(plain) {
		t.Fatalf("%d plain events, %d compressed", len(plain), len(comp))
	}
	for i := range plain {
		if plain[i] != comp[i] {
			t.Fatalf("event %d differs: %q vs %q", i, plain[i], comp[i])
		}
	}
}

func TestLZ77_RoundTripsTheTestCompressor(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 300; i++ {
		n := rng.Intn(70000)
		b := make([]byte, n)
		for j := range b {
			switch {
			case i%3 == 0 && j%5000 < 4000:
				b[j] = 0xFF // long runs: long matches, 16- and 32-bit lengths
			case rng.Intn(3) == 0:
				b[j] = byte(rng.Intn(256))
			case j > 10:
				b[j] = b[j-1-rng.Intn(10)]
			}
		}
		out, err := etl.DecompressLZ77ForTest(etltest.CompressLZ77(b), n)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("case %d (%d bytes): round trip failed (%v, %d bytes back)", i, n, err, len(out))
		}
	}
}

func TestTimeline_CompressedTraceInTimeOrder(t *testing.T) {
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var evs []etltest.Event
	for i := 0; i < 2000; i++ {
		evs = append(evs, etltest.Event{Header: etltest.System, Time: start.Add(time.Duration(i) * time.Millisecond), CPU: uint16(i % 4),
			Group: 9, Opcode: 27, Version: 2, Payload: etltest.RegistryV2(8, 0, 0, 0, uint64(i), "")})
	}
	b := etltest.Build(etltest.Trace{StartTime: start, Events: evs, Compress: true, BufferSize: 0x800})
	f, _ := etl.NewReader(bytes.NewReader(b), int64(len(b)))
	n := 0
	var last time.Time
	for e, err := range f.Timeline(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Time.Before(last) {
			t.Fatalf("event %d out of order", n)
		}
		last = e.Time
		n++
	}
	if n != 2001 {
		t.Errorf("%d events, want 2001", n)
	}
}

func TestEvents_ZeroTailIsTheEndNotDamage(t *testing.T) {
	b := etltest.WriteTrace(etltest.Write{Key: `\REGISTRY\MACHINE\SOFTWARE\X`, Value: "V", PID: 1})
	count := func(b []byte) (int, error) {
		f, err := etl.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		it := f.Events(context.Background())
		n := 0
		for it.Next() {
			n++
		}
		return n, it.Err()
	}
	want, _ := count(b)
	padded := append(append([]byte(nil), b...), make([]byte, 0x3000)...)
	if n, err := count(padded); n != want || err != nil {
		t.Errorf("zero-padded file: %d events (want %d), error %v", n, want, err)
	}
	padded[len(padded)-5] = 1
	if n, err := count(padded); n != want || err == nil {
		t.Errorf("padding with data in it: %d events, error %v; want the damage reported", n, err)
	}
}
