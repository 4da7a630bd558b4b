package evtx_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/evtx/evtxtest"
)

// A pipeline reads a log record by record: the System header is typed, the
// EventData values are typed and named, and anomalies of a damaged log
// arrive as errors between the records without ending the walk.
func Example() {
	// A small Sysmon log; a pipeline would call evtx.Open(path).
	data := evtxtest.File([]evtxtest.Record{{
		Provider: "Microsoft-Windows-Sysmon", EventID: 13, RecordID: 42,
		Time:    time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC),
		Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "WS01",
		Data: []evtxtest.Data{
			{Name: "TargetObject", Value: `HKU\S-1-5-21-1-2-3-1001\Environment\GOPATH`},
			{Name: "Details", Value: `C:\Users\Public\go`},
			{Name: "ProcessId", Value: uint32(4242)},
		},
	}}, 0)
	f, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), "Sysmon.evtx")
	if err != nil {
		fmt.Println(err)
		return
	}
	for rec, err := range f.Records(context.Background()) {
		if err != nil {
			fmt.Println("anomaly:", err)
			continue
		}
		fmt.Println(rec.System.ProviderName, rec.System.EventID, rec.System.EventRecordID, rec.System.TimeCreated.Format(time.RFC3339Nano))
		for _, d := range rec.Data {
			fmt.Printf("  %s = %s (%v)\n", d.Name, d.Value, d.Value.Type)
		}
	}
	// Output:
	// Microsoft-Windows-Sysmon 13 42 2024-05-06T07:08:09.1234567Z
	//   TargetObject = HKU\S-1-5-21-1-2-3-1001\Environment\GOPATH (String)
	//   Details = C:\Users\Public\go (String)
	//   ProcessId = 4242 (UInt32)
}
