package casereport_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/casereport"
	"github.com/envhunt/envhunt/pkg/scan"
)

// A pipeline builds the case report of a collection and writes it as HTML
// (here discarded) after looking at what it holds.
func Example() {
	r, err := casereport.Build(context.Background(), []string{"../../testdata/demo/WS-DEV-07"}, casereport.Options{
		Scan:    scan.Options{Roaming: []string{"../../testdata/demo/profiles"}},
		Version: "example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range r.Hosts {
		fmt.Println(h.Name, "·", h.Identity.Product.Value, h.Identity.Build.Value, "·", h.Identity.TimeZone.KeyName)
		for _, u := range h.Users {
			fmt.Printf("%s (%s) %s\n", u.Name, u.NameSource, strings.Join(u.Status, ", "))
		}
		for _, g := range h.NotChecked {
			fmt.Println("not checked:", g.What)
		}
	}
	if err := r.WriteHTML(io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// WS-DEV-07 · Windows 10 Pro 19045.5854 · W. Europe Standard Time
	// alice (ProfileList (profile folder)) roaming
	// bob (ProfileList (profile folder)) local
	// carol (ProfileList (profile folder)) local
	// not checked: SAM hive absent
	// not checked: file system not (fully) in the collection
	// not checked: no config\RegBack or Windows.old copies
}
