package evtx_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/evtx/evtxtest"
)

var fixtureTime = time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)

func fixtureRecords(n int) []evtxtest.Record {
	var out []evtxtest.Record
	for i := 0; i < n; i++ {
		out = append(out, evtxtest.Record{
			Provider: "Microsoft-Windows-Sysmon", EventID: 13, Time: fixtureTime.Add(time.Duration(i) * time.Second),
			RecordID: uint64(100 + i), ProcessID: 2044, Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "WS01",
			UserSID: evtxtest.SID(1, 5, 18),
			Data: []evtxtest.Data{
				{Name: "EventType", Value: "SetValue"},
				{Name: "TargetObject", Value: fmt.Sprintf(`HKU\S-1-5-21-1-2-3-1001\Environment\V%d`, i)},
				{Name: "Details", Value: `C:\Users\Public\<bin>&"x"`},
				{Name: "ProcessId", Value: uint32(4242)},
				{Name: "LogonId", Value: uint64(0x3e7)},
				{Name: "Initiated", Value: true},
				{Name: "ProcessGuid", Value: [16]byte{0x96, 0x3d, 0x7f, 0x74, 0x01, 0x02, 0x03, 0x04, 0xa1, 0xa2, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6}},
				{Name: "Hashes", Value: []string{"SHA1=AA", "MD5=BB"}},
				{Name: "Missing", Value: nil},
			},
		})
	}
	return out
}

func readBytes(t *testing.T, data []byte) ([]*evtx.Record, []error) {
	t.Helper()
	f, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "fixture.evtx")
	if err != nil {
		return nil, []error{err}
	}
	var recs []*evtx.Record
	var errs []error
	for r, err := range f.Records(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	return recs, errs
}

func TestReader_GeneratedLogRendersEveryValueType(t *testing.T) {
	recs, errs := readBytes(t, evtxtest.File(fixtureRecords(3), 0))
	if len(errs) != 0 || len(recs) != 3 {
		t.Fatalf("%d records, anomalies %v", len(recs), errs)
	}
	r := recs[1]
	s := r.System
	if s.ProviderName != "Microsoft-Windows-Sysmon" || s.EventID != 13 || s.EventRecordID != 101 || s.ProcessID != 2044 ||
		s.Channel != "Microsoft-Windows-Sysmon/Operational" || s.Computer != "WS01" || s.UserID != "S-1-5-18" ||
		!s.TimeCreated.Equal(fixtureTime.Add(time.Second)) || r.Identifier != 101 {
		t.Errorf("System = %+v", s)
	}
	want := map[string]string{
		"EventType":    "SetValue",
		"TargetObject": `HKU\S-1-5-21-1-2-3-1001\Environment\V1`,
		"Details":      `C:\Users\Public\<bin>&"x"`,
		"ProcessId":    "4242",
		"LogonId":      "0x3e7",
		"Initiated":    "true",
		"ProcessGuid":  "{747F3D96-0201-0403-A1A2-B1B2B3B4B5B6}",
		"Hashes":       "SHA1=AA, MD5=BB",
		"Missing":      "",
	}
	for _, f := range r.Data {
		if f.Value.String() != want[f.Name] {
			t.Errorf("%s = %q, want %q", f.Name, f.Value.String(), want[f.Name])
		}
		delete(want, f.Name)
	}
	if len(want) != 0 {
		t.Errorf("fields missing: %v", want)
	}
	xml := r.XML()
	for _, frag := range []string{
		`<TimeCreated SystemTime="2024-05-06T07:08:10.1234567Z"/>`,
		`<Data Name="Details">C:\Users\Public\&lt;bin&gt;&amp;"x"</Data>`,
		`<Data Name="Hashes">SHA1=AA</Data>`, `<Data Name="Hashes">MD5=BB</Data>`,
		`<Data Name="Missing"/>`,
		`<Security UserID="S-1-5-18"/>`,
	} {
		if !strings.Contains(xml, frag) {
			t.Errorf("XML lacks %s:\n%s", frag, xml)
		}
	}
}

func TestReader_NullOptionalAttributeIsOmitted(t *testing.T) {
	recs := fixtureRecords(1)
	recs[0].UserSID = nil
	got, errs := readBytes(t, evtxtest.File(recs, 0))
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("anomalies %v", errs)
	}
	if !strings.Contains(got[0].XML(), "<Security/>") || got[0].System.UserID != "" {
		t.Errorf("NULL UserID rendered:\n%s", got[0].XML())
	}
}

func TestReader_BadChunkChecksumIsReportedAndRecordsStillRead(t *testing.T) {
	data := evtxtest.File(fixtureRecords(2), 0)
	data[4096+124] ^= 0xff // chunk header checksum
	data[4096+52] ^= 0xff  // event records checksum
	recs, errs := readBytes(t, data)
	if len(recs) != 2 {
		t.Errorf("%d records, want 2", len(recs))
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "header checksum") || !strings.Contains(errs[1].Error(), "records checksum") {
		t.Errorf("anomalies %v", errs)
	}
	var fe *evtx.FormatError
	if !errors.As(errs[0], &fe) || fe.Offset != 4096+124 || fe.File != "fixture.evtx" {
		t.Errorf("anomaly does not point at the checksum: %#v", errs[0])
	}
}

func TestReader_BadFileHeaderChecksumIsReported(t *testing.T) {
	data := evtxtest.File(fixtureRecords(1), 0)
	data[42] = 9 // number of chunks, under the header checksum
	recs, errs := readBytes(t, data)
	if len(recs) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "file header checksum") {
		t.Errorf("%d records, anomalies %v", len(recs), errs)
	}
}

func TestReader_BrokenRecordIsSkippedToTheNextIntactOne(t *testing.T) {
	data := evtxtest.File(fixtureRecords(6), 3)
	// Break the second record of the first chunk: its size copy no longer
	// matches.
	first := 4096 + 512
	size := int(binary.LittleEndian.Uint32(data[first+4:]))
	binary.LittleEndian.PutUint32(data[first+size+4:], 0x7fff)
	recs, errs := readBytes(t, data)
	var ids []uint64
	for _, r := range recs {
		ids = append(ids, r.System.EventRecordID)
	}
	if fmt.Sprint(ids) != "[100 102 103 104 105]" {
		t.Errorf("records %v, want all but the broken one", ids)
	}
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Error(), "to the next intact record")
	}
	if !found {
		t.Errorf("no anomaly for the broken record: %v", errs)
	}
}

func TestReader_TruncatedFileGivesRecordsBeforeTheCut(t *testing.T) {
	data := evtxtest.File(fixtureRecords(6), 3)
	cut := data[:4096+65536+700]
	recs, errs := readBytes(t, cut)
	if len(recs) < 3 || len(errs) == 0 {
		t.Errorf("%d records, anomalies %v", len(recs), errs)
	}
}

func TestReader_NotEVTXIsAnError(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte("MZ"), 5000)} {
		_, errs := readBytes(t, data)
		var fe *evtx.FormatError
		if len(errs) != 1 || !errors.As(errs[0], &fe) {
			t.Errorf("%d bytes: %v", len(data), errs)
		}
	}
}

func TestReader_SelfReferencingTemplateEnds(t *testing.T) {
	data := evtxtest.File(fixtureRecords(1), 0)
	// Make the inline template's first element a template instance whose
	// definition is the template itself.
	chunk := data[4096:]
	rec := 512
	defOff := int(binary.LittleEndian.Uint32(chunk[rec+24+10:]))
	body := defOff + 24 + 4 // after the definition's fragment header
	copy(chunk[body:], []byte{0x0c, 0x01, 0, 0, 0, 0})
	binary.LittleEndian.PutUint32(chunk[body+6:], uint32(defOff))
	done := make(chan struct{})
	go func() {
		readBytes(t, data)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading a self-referencing template did not end")
	}
}

func TestReader_CancelledContextStops(t *testing.T) {
	data := evtxtest.File(fixtureRecords(4), 2)
	f, _ := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	n := 0
	for r, err := range f.Records(ctx) {
		if r != nil {
			n++
		}
		last = err
	}
	if !errors.Is(last, context.Canceled) || n != 0 {
		t.Errorf("%d records, last error %v", n, last)
	}
}

func TestReader_RandomDamageNeverPanics(t *testing.T) {
	base := evtxtest.File(fixtureRecords(5), 0)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		data := bytes.Clone(base)
		for j := 0; j < 1+rng.Intn(8); j++ {
			data[4096+rng.Intn(2048)] = byte(rng.Intn(256))
		}
		recs, _ := readBytes(t, data)
		for _, r := range recs {
			_ = r.XML()
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(evtxtest.File(fixtureRecords(2), 0)[:4096+4096])
	f.Add(evtxtest.File(fixtureRecords(1), 0))
	one := evtxtest.File(fixtureRecords(1), 0)
	f.Add(one[:len(one)-65536+1500])
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		fuzzDrain(file)
	})
}

// fuzzDrain reads every record and every slack record, rendering all.
func fuzzDrain(file *evtx.File) {
	for _, seq := range []func(func(*evtx.Record, error) bool){file.Records(context.Background()), file.Slack(context.Background())} {
		for r, err := range seq {
			if err != nil {
				continue
			}
			_ = r.XML()
			for _, d := range r.Data {
				_ = d.Value.String()
				_ = d.Value.Strings()
			}
		}
	}
}

// dirtyWithUncommittedTail writes three records, then moves the chunk's
// free-space offset back to the third one (as a log whose header was not
// updated yet) and sets the file's dirty flag, with every checksum valid.
func dirtyWithUncommittedTail(t *testing.T, thirdID uint64) []byte {
	t.Helper()
	recs := fixtureRecords(3)
	recs[2].RecordID = thirdID
	data := evtxtest.File(recs, 0)
	le := binary.LittleEndian
	chunk := data[4096:]
	pos := 512
	for i := 0; i < 2; i++ {
		pos += int(le.Uint32(chunk[pos+4:]))
	}
	le.PutUint32(chunk[48:], uint32(pos))
	le.PutUint32(chunk[52:], crc32.ChecksumIEEE(chunk[512:pos]))
	le.PutUint32(chunk[124:], crc32.Update(crc32.ChecksumIEEE(chunk[:120]), crc32.IEEETable, chunk[128:512]))
	le.PutUint32(data[120:], evtx.FlagDirty)
	le.PutUint32(data[124:], crc32.ChecksumIEEE(data[:120]))
	return data
}

func TestReader_DirtyLogReadsRecordsContinuingTheNumbering(t *testing.T) {
	recs, errs := readBytes(t, dirtyWithUncommittedTail(t, 102))
	if len(recs) != 3 || !recs[2].Uncommitted || recs[1].Uncommitted || recs[2].System.EventRecordID != 102 {
		t.Fatalf("%d records", len(recs))
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not committed") {
		t.Errorf("anomalies %v", errs)
	}
}

func TestReader_DirtyLogIgnoresStaleSlack(t *testing.T) {
	recs, errs := readBytes(t, dirtyWithUncommittedTail(t, 50))
	if len(recs) != 2 || len(errs) != 0 {
		t.Errorf("%d records, anomalies %v", len(recs), errs)
	}
}

// chunkWithEvent wraps Binary XML bytes in one record of a valid chunk (and
// a copy in its slack), so the fuzzer mutates the Binary XML itself rather
// than headers.
func chunkWithEvent(event []byte) []byte {
	base := evtxtest.File(nil, 0)
	data := base[:4096+512]
	le := binary.LittleEndian
	size := 24 + len(event) + 4
	rec := make([]byte, size)
	le.PutUint32(rec, 0x00002a2a)
	le.PutUint32(rec[4:], uint32(size))
	le.PutUint64(rec[8:], 1)
	copy(rec[24:], event)
	le.PutUint32(rec[size-4:], uint32(size))
	data = append(data, rec...)
	// A second copy lies in the slack, after the free-space offset, so
	// slack carving reads the same bytes.
	le.PutUint64(rec[8:], 0)
	data = append(data, rec...)
	chunk := data[4096:]
	le.PutUint32(chunk[48:], uint32(512+size))
	le.PutUint32(chunk[52:], crc32.ChecksumIEEE(chunk[512:512+size]))
	le.PutUint32(chunk[124:], crc32.Update(crc32.ChecksumIEEE(chunk[:120]), crc32.IEEETable, chunk[128:512]))
	return data
}

func FuzzBinXML(f *testing.F) {
	// Seed with the Binary XML of generated records.
	one := evtxtest.File(fixtureRecords(1), 0)
	chunk := one[4096:]
	size := int(binary.LittleEndian.Uint32(chunk[512+4:]))
	f.Add(bytes.Clone(chunk[512+24 : 512+size-4]))
	f.Add([]byte{0x0f, 0x01, 0x01, 0x00, 0x01, 0xff, 0xff, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0, 0, 1, 0, 'A', 0, 0, 0, 0x03, 0x00})
	f.Fuzz(func(t *testing.T, event []byte) {
		if len(event) > 60000 {
			return
		}
		data := chunkWithEvent(event)
		file, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		fuzzDrain(file)
	})
}

func TestReader_ChunkRenderingIsBounded(t *testing.T) {
	// One record defines a template of 800 Data elements; hundreds of tiny
	// records then instantiate it with no values.
	rec := fixtureRecords(1)[0]
	rec.Data = nil
	for i := 0; i < 800; i++ {
		rec.Data = append(rec.Data, evtxtest.Data{Name: "a", Value: uint32(i)})
	}
	data := evtxtest.File([]evtxtest.Record{rec}, 0)
	le := binary.LittleEndian
	chunk := data[4096:]
	free := int(le.Uint32(chunk[48:]))
	defOff := le.Uint32(chunk[512+24+10:])
	tiny := []byte{0x0f, 0x01, 0x01, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00}
	le.PutUint32(tiny[10:], defOff)
	n := 0
	for pos := free; pos+28+len(tiny) <= len(chunk); pos += 28 + len(tiny) {
		size := 28 + len(tiny)
		le.PutUint32(chunk[pos:], 0x00002a2a)
		le.PutUint32(chunk[pos+4:], uint32(size))
		le.PutUint64(chunk[pos+8:], uint64(2+n))
		copy(chunk[pos+24:], tiny)
		le.PutUint32(chunk[pos+size-4:], uint32(size))
		free = pos + size
		n++
	}
	le.PutUint32(chunk[48:], uint32(free))
	le.PutUint32(chunk[52:], crc32.ChecksumIEEE(chunk[512:free]))
	le.PutUint32(chunk[124:], crc32.Update(crc32.ChecksumIEEE(chunk[:120]), crc32.IEEETable, chunk[128:512]))
	start := time.Now()
	recs, errs := readBytes(t, data)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "render more than") {
		t.Errorf("anomalies %v", errs)
	}
	if len(recs) == 0 || len(recs) > n {
		t.Errorf("%d records of %d", len(recs), n+1)
	}
	t.Logf("%d tiny records, %d rendered before the bound, in %v", n, len(recs), time.Since(start))
}

func TestReadChunk_HeaderFields(t *testing.T) {
	data := evtxtest.File(fixtureRecords(3), 0)
	f, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header
	if h.MajorVersion != 3 || h.MinorVersion != 1 || h.NumberOfChunks != 1 || h.HeaderBlockSize != 4096 || !h.ChecksumValid || h.Dirty() || h.Full() {
		t.Errorf("file header %+v", h)
	}
	c, err := f.ReadChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Header
	if ch.FirstEventRecordNumber != 100 || ch.LastEventRecordNumber != 102 || ch.HeaderSize != 128 ||
		!ch.HeaderChecksumValid || !ch.RecordsChecksumValid || ch.FreeSpaceOffset <= ch.LastEventRecordDataOffset {
		t.Errorf("chunk header %+v", ch)
	}
	if _, err := f.ReadChunk(1); err == nil {
		t.Error("chunk beyond the file read without error")
	}
}

// binxmlBuilder writes Binary XML at a known chunk offset, so inline names
// can point at themselves.
type binxmlBuilder struct {
	base int
	b    []byte
}

func (w *binxmlBuilder) pos() int      { return w.base + len(w.b) }
func (w *binxmlBuilder) raw(b ...byte) { w.b = append(w.b, b...) }
func (w *binxmlBuilder) u16(v uint16)  { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *binxmlBuilder) u32(v uint32)  { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

// inlineName writes a name reference followed by the name itself.
func (w *binxmlBuilder) inlineName(s string) {
	w.u32(uint32(w.pos() + 4))
	w.u32(0)
	w.u16(0)
	w.u16(uint16(len(s)))
	for _, r := range s {
		w.u16(uint16(r))
	}
	w.u16(0)
}

func TestReader_NestedElementWithoutDependencyIdentifier(t *testing.T) {
	w := &binxmlBuilder{base: 512 + 24}
	w.raw(0x0f, 0x01, 0x01, 0x00)
	w.raw(0x0c, 0x01)
	w.u32(1)
	w.u32(uint32(w.pos() + 4)) // definition inline
	w.u32(0)
	w.raw(make([]byte, 16)...)
	sizeAt := len(w.b)
	w.u32(0)
	start := len(w.b)
	w.raw(0x0f, 0x01, 0x01, 0x00)
	w.raw(0x01, 0xff, 0xff)
	w.u32(0)
	w.inlineName("Event")
	w.raw(0x02, 0x0d, 0x00, 0x00, 0x21, 0x04, 0x00)
	binary.LittleEndian.PutUint32(w.b[sizeAt:], uint32(len(w.b)-start))
	// One Binary XML value: an element written without the dependency
	// identifier, as nested values may be.
	w.u32(1)
	descAt := len(w.b)
	w.raw(0, 0, 0x21, 0)
	valStart := len(w.b)
	w.raw(0x01)
	w.u32(0)
	w.inlineName("Data")
	w.raw(0x02, 0x05, 0x01)
	w.u16(2)
	w.u16('h')
	w.u16('i')
	w.raw(0x04, 0x00)
	binary.LittleEndian.PutUint16(w.b[descAt:], uint16(len(w.b)-valStart))
	w.raw(0x00)
	recs, errs := readBytes(t, chunkWithEvent(w.b))
	if len(errs) != 0 || len(recs) != 1 {
		t.Fatalf("anomalies %v", errs)
	}
	if got := recs[0].XML(); !strings.Contains(got, "<Data>hi</Data>") {
		t.Errorf("XML:\n%s", got)
	}
}

func TestReader_MisSizedValueIsKeptAsHex(t *testing.T) {
	w := &binxmlBuilder{base: 512 + 24}
	w.raw(0x0f, 0x01, 0x01, 0x00, 0x0c, 0x01)
	w.u32(1)
	w.u32(uint32(w.pos() + 4))
	w.u32(0)
	w.raw(make([]byte, 16)...)
	sizeAt := len(w.b)
	w.u32(0)
	start := len(w.b)
	w.raw(0x0f, 0x01, 0x01, 0x00, 0x01, 0xff, 0xff)
	w.u32(0)
	w.inlineName("Data")
	w.raw(0x02, 0x0e, 0x00, 0x00, 0x08, 0x0e, 0x01, 0x00, 0x08, 0x04, 0x00)
	binary.LittleEndian.PutUint32(w.b[sizeAt:], uint32(len(w.b)-start))
	w.u32(2)
	w.raw(3, 0, 0x08, 0) // a UInt32 of 3 bytes
	w.raw(0, 0, 0x08, 0) // a UInt32 of no bytes
	w.raw(0xaa, 0xbb, 0xcc)
	w.raw(0x00)
	recs, errs := readBytes(t, chunkWithEvent(w.b))
	if len(errs) != 0 || len(recs) != 1 {
		t.Fatalf("anomalies %v", errs)
	}
	if got := recs[0].XML(); !strings.Contains(got, "<Data>AABBCC</Data>") {
		t.Errorf("XML:\n%s", got)
	}
}
