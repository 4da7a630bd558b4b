package etl_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// More payload vectors from the TracingTools/libtrace kernel payload decoder
// tests (BSD-3): the logfile header (64- and 32-bit) and Process Defunct v5
// and DCStart v4, with the values that project's tests expect.
var (
	ltEventTraceHeaderV2 = mustHex(
		"0000010006010105b11d0000040000003b2ecd14582ccf01616102000000000001000100b60100000100000008000000" +
			"1f000000a0060000000000000000000000000000000000002c010000400074007a007200650073002e0064006c006c00" +
			"2c002d003100310032000000000000000000000000000000000000000000000000000000000000000000000000000b00" +
			"00000100020000000000000000000000400074007a007200650073002e0064006c006c002c002d003100310031000000" +
			"000000000000000000000000000000000000000000000000000000000000000000000300000002000200000000000000" +
			"c4ffffff00000000594325a2c02bcf017d461900000000002d649904582ccf010100000000000000520065006c006f00" +
			"6700670065007200000043003a005c006b00650072006e0065006c002e00650074006c000000")
	ltEventTraceHeader32V2 = mustHex(
		"0000010006010105b01d000010000000112cd561c808cc01616102006400000001000000030000000100000004000000" +
			"000000005a09000005000000060000002c010000400074007a007200650073002e0064006c006c002c002d0031003100" +
			"32000000000000000000000000000000000000000000000000000000000000000000000000000b000000010002000000" +
			"0000000000000000400074007a007200650073002e0064006c006c002c002d0031003100310000000000000000000000" +
			"00000000000000000000000000000000000000000000000000000300000002000200000000000000c4ffffff00000000" +
			"7f439bdfaf05cc019dac2300000000002c34a360c808cc0101000000000000004d0061006b0065002000540065007300" +
			"7400200044006100740061002000530065007300730069006f006e00000063003a005c007300720063005c0073006100" +
			"77006200750063006b005c007400720075006e006b005c007300720063005c007300610077006200750063006b005c00" +
			"6c006f0067005f006c00690062005c0074006500730074005f0064006100740061005c0069006d006100670065005f00" +
			"64006100740061005f00330032005f00760030002e00650074006c000000")
	ltProcessDefunctV5 = mustHex(
		"c0c5f20600e0ffff481900001008000001000000000000000060cb4f0000000000000000f0e53b0300c0ffff00000000" +
			"00000c00010500000000000515000000c0c1c2c3c4c5c6c7d0d1d2d3d40300006368726f6d652e657865000000000000" +
			"008d49a2f9ecface01")
	ltProcessDCStartV4 = mustHex(
		"c053bb7400f8ffff0000000000000000ffffffff0000000000801a000000000000000000c0bbe72d00c0ffff00000000" +
			"0000000001010000000000051000000049646c6500000000000000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecode_LogfileHeaderVectors(t *testing.T) {
	tests := []struct {
		name    string
		ptr     int
		payload []byte
		want    map[string]any
	}{
		{"64-bit relogger header", 8, ltEventTraceHeaderV2, map[string]any{
			"BufferSize": uint64(65536), "Version": "6.1.1.5", "ProviderVersion": uint64(7601), "NumberOfProcessors": uint64(4),
			"EndTime": wintime.FromFiletime(130371671034768955), "LogFileMode": uint64(0x10001), "BuffersWritten": uint64(438),
			"PointerSize": uint64(8), "EventsLost": uint64(31), "CPUSpeed": uint64(1696),
			"BootTime": wintime.FromFiletime(130371020571099993), "PerfFreq": uint64(1656445),
			"StartTime": wintime.FromFiletime(130371670762939437), "ReservedFlags": uint64(1), "BuffersLost": uint64(0),
			"SessionNameString": "Relogger", "LogFileNameString": `C:\kernel.etl`,
		}},
		{"32-bit header", 4, ltEventTraceHeader32V2, map[string]any{
			"BufferSize": uint64(65536), "ProviderVersion": uint64(7600), "NumberOfProcessors": uint64(16),
			"EndTime": wintime.FromFiletime(129488146014743569), "LogFileMode": uint64(1), "BuffersWritten": uint64(3),
			"PointerSize": uint64(4), "EventsLost": uint64(0), "CPUSpeed": uint64(2394),
			"BootTime": wintime.FromFiletime(129484742215811967), "PerfFreq": uint64(2337949),
			"StartTime": wintime.FromFiletime(129488145994691628), "ReservedFlags": uint64(1),
			"SessionNameString": "Make Test Data Session",
			"LogFileNameString": `c:\src\sawbuck\trunk\src\sawbuck\log_lib\test_data\image_data_32_v0.etl`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ht := etl.HeaderSystem64
			if tt.ptr == 4 {
				ht = etl.HeaderSystem32
			}
			e := &etl.Event{HeaderType: ht, Provider: etl.EventTraceGUID, Opcode: 0, Version: 2, PointerSize: tt.ptr, Payload: tt.payload}
			d := etl.Decode(e)
			if d.Err != nil || d.Name != "Header" {
				t.Fatalf("decoded %q, error %v", d.Name, d.Err)
			}
			for k, v := range tt.want {
				got, ok := d.Get(k)
				if tv, isTime := v.(time.Time); isTime {
					if gt, _ := got.(time.Time); !gt.Equal(tv) {
						t.Errorf("%s = %v, want %v", k, got, v)
					}
					continue
				}
				if !ok || got != v {
					t.Errorf("%s = %#v, want %#v", k, got, v)
				}
			}
		})
	}
}

func TestDecode_ProcessRundownAndDefunctVectors(t *testing.T) {
	d := etl.Decode(kernelEvent(3, 39, 5, 8, ltProcessDefunctV5))
	if d.Err != nil || d.Name != "Defunct" {
		t.Fatalf("decoded %q, error %v", d.Name, d.Err)
	}
	for k, v := range map[string]any{
		"UniqueProcessKey": etl.Pointer(0xffffe00006f2c5c0), "ProcessId": uint64(6472), "ParentId": uint64(2064),
		"SessionId": uint64(1), "ExitStatus": int64(0), "DirectoryTableBase": etl.Pointer(0x4fcb6000), "Flags": uint64(0),
		"UserSID": "S-1-5-21-3284320704-3351692740-3553808848-980", "ImageFileName": "chrome.exe", "CommandLine": "",
		"ExitTime": wintime.FromFiletime(0x01cefaecf9a2498d),
	} {
		if got, _ := d.Get(k); got != v {
			t.Errorf("Defunct v5 %s = %#v, want %#v", k, got, v)
		}
	}
	d = etl.Decode(kernelEvent(3, 3, 4, 8, ltProcessDCStartV4))
	if d.Err != nil || d.Name != "DCStart" {
		t.Fatalf("decoded %q, error %v", d.Name, d.Err)
	}
	for k, v := range map[string]any{
		"ProcessId": uint64(0), "ParentId": uint64(0), "SessionId": uint64(0xffffffff), "UserSID": "S-1-5-16", "ImageFileName": "Idle",
	} {
		if got, _ := d.Get(k); got != v {
			t.Errorf("DCStart v4 %s = %#v, want %#v", k, got, v)
		}
	}
}
