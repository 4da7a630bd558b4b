package etl_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/etl/etltest"
)

// Find who wrote a registry value: follow the trace with a State, which
// resolves key handles and process ids as the events go by.
func Example() {
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
	ctx := context.Background()
	st := etl.NewState()
	st.Prescan(ctx, f) // processes and KCB rundowns from the whole file
	for e, err := range f.All(ctx) {
		if err != nil {
			fmt.Println("partly read:", err)
			break
		}
		op := st.Observe(e, etl.Decode(e))
		if op == nil || op.Kind != "SetValue" {
			continue
		}
		pid, _ := st.PID(e)
		p := st.Process(pid, e.Time)
		fmt.Printf("%s %s\\%s by %s (pid %d, user %s)\n", e.Time.Format(time.RFC3339), op.Key, op.Value, p.CommandLine, pid, p.UserSID)
	}
	// Output:
	// 2024-02-03T04:05:06Z \REGISTRY\USER\S-1-5-21-1-2-3-1001\Environment\Path by C:\Users\Public\x.exe (pid 4321, user S-1-5-21-1-2-3-1001)
}
