package gpo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
)

// polBytes assembles a Registry.pol file byte by byte, following the
// layout of [MS-GPREG] 2.2.1 directly (not through EncodePol), so the
// parser is checked against the format rather than against our writer.
type polBytes struct{ b []byte }

func newPolBytes() *polBytes {
	return &polBytes{b: []byte{'P', 'R', 'e', 'g', 1, 0, 0, 0}}
}
func (p *polBytes) ch(c byte) *polBytes { p.b = append(p.b, c, 0); return p }
func (p *polBytes) wstr(s string) *polBytes {
	for _, r := range s { // test strings are BMP-only
		p.b = append(p.b, byte(r), byte(r>>8))
	}
	p.b = append(p.b, 0, 0)
	return p
}
func (p *polBytes) dword(v uint32) *polBytes {
	p.b = binary.LittleEndian.AppendUint32(p.b, v)
	return p
}
func (p *polBytes) record(key, value string, typ uint32, data []byte) *polBytes {
	p.ch('[').wstr(key).ch(';').wstr(value).ch(';').dword(typ).ch(';').dword(uint32(len(data))).ch(';')
	p.b = append(p.b, data...)
	return p.ch(']')
}

func wdata(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return append(b, 0, 0)
}

func TestLoadPol_RecordsAndActions(t *testing.T) {
	data := newPolBytes().
		record(`Environment`, `GOPATH`, 2, wdata(`C:\Users\Public\go`)).
		record(`SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, `**del.Path`, 1, wdata(" ")).
		record(`Software\Policies\Microsoft\Windows\System`, `**delvals.`, 1, wdata(" ")).
		record(`Environment`, `**DeleteValues`, 1, wdata(`GOROOT;GOFLAGS`)).
		record(`Software\Policies\Contoso`, `**DeleteKeys`, 1, wdata(`A;B`)).
		record(`Software\Policies\Contoso`, `**SecureKey`, 4, []byte{1, 0, 0, 0}).
		record(`Software\Policies\Contoso`, `**soft.Mode`, 4, []byte{7, 0, 0, 0}).
		record(`Software\Policies\Empty`, ``, 0, nil).b
	p, err := LoadPol("Registry.pol", data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Signature != 0x67655250 || p.Header.Version != 1 {
		t.Errorf("header %+v", p.Header)
	}
	want := []struct {
		key, name string
		typ       hive.ValueType
		action    PolAction
		targets   string
	}{
		{`Environment`, `GOPATH`, hive.RegExpandSZ, ActionSet, "GOPATH"},
		{`SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, `**del.Path`, hive.RegSZ, ActionDeleteValue, "Path"},
		{`Software\Policies\Microsoft\Windows\System`, `**delvals.`, hive.RegSZ, ActionDeleteAllValues, ""},
		{`Environment`, `**DeleteValues`, hive.RegSZ, ActionDeleteValue, "GOROOT|GOFLAGS"},
		{`Software\Policies\Contoso`, `**DeleteKeys`, hive.RegSZ, ActionDeleteKeys, "A|B"},
		{`Software\Policies\Contoso`, `**SecureKey`, hive.RegDWORD, ActionSecureKey, ""},
		{`Software\Policies\Contoso`, `**soft.Mode`, hive.RegDWORD, ActionSoftSet, "Mode"},
		{`Software\Policies\Empty`, ``, hive.RegNone, ActionCreateKey, ""},
	}
	if len(p.Records) != len(want) {
		t.Fatalf("got %d records, want %d", len(p.Records), len(want))
	}
	for i, w := range want {
		r := &p.Records[i]
		if r.Key != w.key || r.ValueName != w.name || r.Type != w.typ || r.Action() != w.action || strings.Join(r.Targets(), "|") != w.targets {
			t.Errorf("record %d: got %q %q %v %v %q", i, r.Key, r.ValueName, r.Type, r.Action(), r.Targets())
		}
	}
	if got := p.Records[0].DataValue().Text; got != `C:\Users\Public\go` {
		t.Errorf("data %q", got)
	}
	if got := p.Records[5].DataValue(); !got.IntValid || got.Int != 1 {
		t.Errorf("SecureKey data %+v", got)
	}
	if p.Records[0].Offset != 8 {
		t.Errorf("first record at %d, want 8", p.Records[0].Offset)
	}
}

func TestLoadPol_HeaderOnlyHasNoRecords(t *testing.T) {
	p, err := LoadPol("empty.pol", newPolBytes().b)
	if err != nil || len(p.Records) != 0 {
		t.Fatalf("got %v, %v", p, err)
	}
}

func TestEncodePol_RoundTrips(t *testing.T) {
	recs := []PolRecord{
		{Key: `Environment`, ValueName: `Path`, Type: hive.RegExpandSZ, Data: StringData(`C:\tools;%PATH%`)},
		{Key: `Software\Policies\X`, ValueName: `**del.Y`, Type: hive.RegSZ, Data: StringData(" ")},
	}
	hand := newPolBytes().record(`Environment`, `Path`, 2, wdata(`C:\tools;%PATH%`)).record(`Software\Policies\X`, `**del.Y`, 1, wdata(" ")).b
	enc := EncodePol(recs)
	if string(enc) != string(hand) {
		t.Fatalf("EncodePol differs from the format's layout:\n got % x\nwant % x", enc, hand)
	}
}

func TestLoadPol_MalformedFilesNameTheProblem(t *testing.T) {
	good := newPolBytes().record(`Environment`, `Path`, 1, wdata("x")).b
	truncatedData := newPolBytes().b
	truncatedData = append(truncatedData, newPolBytes().ch('[').wstr("K").ch(';').wstr("V").ch(';').dword(1).ch(';').dword(1000).ch(';').b[8:]...)
	cases := []struct {
		name string
		data []byte
		off  int64
		msg  string
	}{
		{"short", []byte("PReg"), 0, "shorter than the 8-byte PReg header"},
		{"bad signature", []byte("GeRP\x01\x00\x00\x00"), 0, "signature"},
		{"bad version", []byte("PReg\x02\x00\x00\x00"), 4, "version 2"},
		{"no opening bracket", append(newPolBytes().b, '(', 0), 8, "want '['"},
		{"missing closing bracket", good[:len(good)-2], int64(len(good) - 2), "truncated: want ']'"},
		{"data size past the end", truncatedData, -1, "declares 1000 bytes of data"},
		{"empty key", newPolBytes().record("", "V", 1, wdata("x")).b, 8, "empty key name"},
		{"unterminated key", append(newPolBytes().ch('[').b, 'K', 0, 'E', 0), 10, "truncated in the key name"},
		{"garbage after a record", append(append([]byte{}, good...), 'x'), int64(len(good)), "truncated: want '['"},
		{"wrong separator", newPolBytes().ch('[').wstr("K").ch(',').b, 14, "want ';' after the key name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadPol("Registry.pol", c.data)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FormatError, got %v", err)
			}
			if !strings.Contains(fe.Error(), c.msg) || !strings.Contains(fe.Error(), "Registry.pol") {
				t.Errorf("error %q does not say %q", fe, c.msg)
			}
			if c.off >= 0 && fe.Offset != c.off {
				t.Errorf("offset 0x%x, want 0x%x (%v)", fe.Offset, c.off, fe)
			}
		})
	}
}

func TestLoadPol_KeyNameLongerThanTheBoundIsRefused(t *testing.T) {
	data := newPolBytes().record(strings.Repeat("k", MaxKeyLength+1), "V", 1, wdata("x")).b
	if _, err := LoadPol("big.pol", data); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadPol_RecordsBeforeDamageAreReturnedWithTheError(t *testing.T) {
	good := newPolBytes().record(`Environment`, `GOPATH`, 1, wdata(`C:\go`)).record(`Environment`, `GOROOT`, 1, wdata(`C:\Go`)).b
	damaged := append(append([]byte(nil), good...), '[', 0, 'E', 0, 'n', 0)
	p, err := LoadPol("Registry.pol", damaged)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != int64(len(good))+2 || !strings.Contains(fe.Msg, fmt.Sprintf("record at 0x%x", len(good))) {
		t.Fatalf("want a FormatError in the key of the record at 0x%x, got %v", len(good), err)
	}
	if p == nil || len(p.Records) != 2 || p.Records[1].ValueName != "GOROOT" {
		t.Fatalf("records before the damage: %+v", p)
	}
	if p, err := LoadPol("Registry.pol", []byte("PReg\x02\x00\x00\x00")); p != nil || err == nil {
		t.Fatalf("a bad header gives no Pol: %v %v", p, err)
	}
}
