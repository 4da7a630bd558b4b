package analyze_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/gpo"
	"github.com/envhunt/envhunt/pkg/hive"
)

// Group Policy files of a collection become gpo_registry, gpo_script and
// gpp_environment events, ready for the rule engine.
func ExampleGPOEvents() {
	dir, err := os.MkdirTemp("", "host")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	pol := filepath.Join(dir, "C", "Windows", "System32", "GroupPolicy", "Machine", "Registry.pol")
	os.MkdirAll(filepath.Dir(pol), 0o755)
	os.WriteFile(pol, gpo.EncodePol([]gpo.PolRecord{{
		Key:       `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`,
		ValueName: "Path", Type: hive.RegExpandSZ, Data: gpo.StringData(`C:\Users\Public\bin;%SystemRoot%\system32`),
	}}), 0o644)
	hosts, err := evidence.Discover(context.Background(), []string{pol}, evidence.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A loose file carries no Machine/User folder of its own: say which
	// half of the policy it is.
	files := hosts[0].Files
	files[0].Scope = "Machine"
	err = analyze.GPOEvents(context.Background(), files, analyze.GPOOptions{Host: "WS1"}, func(ev *event.Event) error {
		fmt.Println(ev.Category, ev.String("Action"), ev.String("TargetObject"))
		fmt.Println("  data:", ev.String("Details"))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// gpo_registry set HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\Path
	//   data: C:\Users\Public\bin;%SystemRoot%\system32
}
