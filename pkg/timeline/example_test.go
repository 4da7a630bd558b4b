package timeline_test

import (
	"context"
	"fmt"
	"os"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/timeline"
)

// The last-write times of bob's Environment key, as a bodyfile for Sleuth
// Kit's mactime. Any TimelineSource can be added to the list.
func ExampleKeys() {
	h, err := hive.Open("../../testdata/demo/WS-DEV-07/C/Users/bob/NTUSER.DAT")
	if err != nil {
		fmt.Println(err)
		return
	}
	sources := []report.TimelineSource{
		timeline.Keys{Hive: h, Root: `HKU\S-1-5-21-1111111111-2222222222-3333333333-1002`, Prefixes: timeline.Prefixes{"Environment"}, Host: "WS-DEV-07", User: "bob"},
	}
	w, _ := report.NewTimelineWriter(report.FormatTLN, os.Stdout)
	defer w.Close()
	if err := report.SortTimeline(context.Background(), sources, report.TimelineFilter{}, w.WriteRow); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1749719703|registry:key_last_write|WS-DEV-07|bob|2025-06-12T09:15:03.1415926Z [registry:key_last_write] HKU\S-1-5-21-1111111111-2222222222-3333333333-1002\Environment: key last written (9 values, 0 subkeys)
}
