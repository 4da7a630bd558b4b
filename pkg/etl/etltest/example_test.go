package etltest_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// Write a trace in which reg.exe sets a user's Path, then read it back.
func ExampleWriteTrace() {
	const sid = "S-1-5-21-1-2-3-1001"
	data := etltest.WriteTrace(etltest.Write{
		Time: time.Date(2025, 6, 10, 7, 58, 13, 0, time.UTC), PID: 5832, PPID: 4120, UserSID: sid,
		Image: `C:\Windows\System32\reg.exe`, CommandLine: `reg.exe add HKCU\Environment /v PATH /d C:\Users\Public /f`,
		Key: `\REGISTRY\USER\` + sid + `\Environment`, Value: "Path", Type: etltest.RegExpandSZ, Data: etltest.UTF16Data(`C:\Users\Public`),
	})
	f, err := etl.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := etl.Summarize(context.Background(), f)
	fmt.Println(s.Buffers, "buffers,", s.Events, "events,", s.ByHeaderType)
	// Output:
	// 3 buffers, 6 events, map[EVENT_HEADER64:3 SYSTEM64:3]
}
