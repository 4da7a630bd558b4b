package scan

import (
	"context"
	"strings"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/event"
)

// The Group Policy analyzer reads the policy files of each host
// (Registry.pol, scripts.ini/psscripts.ini with the script bodies, GPP
// EnvironmentVariables.xml and Registry.xml).
func init() {
	analyzers = append(analyzers, analyzer{
		name:       "group policy",
		categories: []event.Category{event.GPORegistry, event.GPOScript, event.GPPEnvironment},
		run:        gpoEvents,
	})
}

func gpoEvents(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
	opts := analyze.GPOOptions{Host: hc.machine.Host, Filter: f, UserOf: hc.gpoUser}
	return analyze.GPOEvents(ctx, hc.ev.Files, opts, emit)
}

// gpoUser maps a SID or a profile folder name to the host's user.
func (hc *hostContext) gpoUser(sidOrFolder string) (string, string) {
	for _, u := range hc.machine.Users {
		if u.SID != "" && (strings.EqualFold(u.SID, sidOrFolder) || strings.EqualFold(u.Folder, sidOrFolder)) {
			// Copies: names read from a hive share the hive's memory, and
			// an event that outlives the host must not keep it alive.
			return strings.Clone(u.SID), strings.Clone(u.Name)
		}
	}
	if strings.HasPrefix(strings.ToUpper(sidOrFolder), "S-1-") {
		return strings.ToUpper(sidOrFolder), ""
	}
	return "", ""
}
