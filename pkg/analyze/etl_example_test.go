package analyze_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
	"github.com/envhunt/envhunt/pkg/event"
)

// Turn a trace into the events rules read: here a process in
// C:\Users\Public rewrites the user's Path.
func ExampleETLEvents() {
	const sid = "S-1-5-21-1-2-3-1001"
	data := etltest.WriteTrace(etltest.Write{
		Time: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), PID: 4321, PPID: 1000, UserSID: sid,
		Image: "x.exe", CommandLine: `C:\Users\Public\x.exe`,
		Key: `\REGISTRY\USER\` + sid + `\Environment`, Value: "Path", Type: 2, Data: etltest.UTF16Data(`C:\Users\Public`),
	})
	f, err := etl.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = analyze.ETLEvents(context.Background(), f, analyze.ETLOptions{Host: "WS1", File: "trace.etl", CurrentControlSet: 1},
		func(ev *event.Event) error {
			if ev.Category == event.RegistrySet {
				fmt.Println(ev.String("TargetObject"), "=", ev.String("Details"))
				fmt.Println("by", ev.String("Image"), "pid", ev.String("ProcessId"), "key found by", ev.String("KeyResolution"))
			}
			return nil
		})
	if err != nil {
		fmt.Println("partly read:", err)
	}
	// Output:
	// HKU\S-1-5-21-1-2-3-1001\Environment\Path = C:\Users\Public
	// by C:\Users\Public\x.exe pid 4321 key found by handle
}
