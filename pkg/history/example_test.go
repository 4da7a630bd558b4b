package history_test

import (
	"context"
	"fmt"

	"github.com/envhunt/envhunt/pkg/history"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Every state of bob's GOROOT in the demo collection: the hive on disk, then
// the state after each entry of NTUSER.DAT.LOG1.
func ExampleStates() {
	g := history.Group{Name: "bob", Files: []history.File{{Path: "../../testdata/demo/WS-DEV-07/C/Users/bob/NTUSER.DAT"}}}
	h, err := history.States(context.Background(), g, history.Options{Value: "GOROOT", NoCarve: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range h.Rows() {
		fmt.Printf("%-34s %s %s=%s %s\n", r.Source, wintime.Format(r.Time), r.Value, r.Data, r.Changed)
	}
	// Output:
	// primary                            2025-06-11T08:30:00.1000000Z GOROOT=C:\Program Files\Go first
	// log:NTUSER.DAT.LOG1#entry1 seq 93  2025-06-12T09:14:27.2718281Z GOROOT=C:\Users\Public\go modified
	// log:NTUSER.DAT.LOG1#entry2 seq 94  2025-06-12T09:15:03.1415926Z GOROOT=C:\Users\Public\go
}
