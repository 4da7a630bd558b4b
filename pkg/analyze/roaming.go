package analyze

import (
	"context"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// RoamingEvents compares user u's local hive with the server copy of the
// roaming profile and emits one profile_diff event per difference (key
// time stamps only within Environment, where they date a rewrite) and one
// verdict event.
func RoamingEvents(ctx context.Context, m *winreg.Machine, u *winreg.User, localFile string, server *hive.Hive, serverFile string, f Filter, emit Emit) (*profile.Summary, error) {
	if f == nil {
		f = All
	}
	root := m.KeyName(u.Hive, "")
	var changes []profile.Change
	sum, err := profile.Diff(ctx, u.Hive, server, profile.Options{}, func(c profile.Change) error {
		if c.Kind == profile.KeyTimestamp && !c.InEnvironment() {
			return nil
		}
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return sum, err
	}
	base := func(t string) *event.Event {
		ev := event.New(event.ProfileDiff, sum.ServerTime)
		ev.Source = event.Source{Host: m.Host, File: serverFile, Offset: -1}
		ev.Set("Change", t)
		return ev
	}
	finish := func(ev *event.Event) error {
		ev.Set("Winner", sum.Winner).
			Set("DecidedBy", sum.DecidedBy).
			Set("LocalTime", sum.LocalTime).
			Set("ServerTime", sum.ServerTime).
			Set("StaleServerEnvironment", sum.StaleServerEnvironment).
			Set("LocalFile", localFile).
			Set("ServerFile", serverFile).
			Set("Host", m.Host).
			Set("EvidenceFile", serverFile)
		if u.SID != "" {
			ev.Set("UserSid", u.SID)
		}
		if u.Name != "" {
			ev.Set("User", u.Name)
		}
		return emit(ev)
	}
	for _, c := range changes {
		key := root
		if c.Key != "" {
			key += `\` + c.Key
		}
		target := key
		if c.Kind == profile.ValueAdded || c.Kind == profile.ValueRemoved || c.Kind == profile.ValueModified {
			name := c.Value
			if name == "" {
				name = "(Default)"
			}
			target += `\` + name
		}
		if !f.Want(event.ProfileDiff, target) {
			continue
		}
		ev := base(string(c.Kind))
		ev.Set("TargetObject", target).Set("KeyPath", key).Set("ValueName", c.Value)
		winnerSide := c.Local
		if sum.Winner == profile.WinnerServer {
			winnerSide = c.Server
		}
		if winnerSide != nil {
			ev.Set("Details", winnerSide.Data)
		}
		if c.Local != nil {
			ev.Set("LocalType", c.Local.Type).Set("LocalData", c.Local.Data).Set("LocalLastWrite", c.Local.LastWrite)
			ev.Time = c.Local.LastWrite
		}
		if c.Server != nil {
			ev.Set("ServerType", c.Server.Type).Set("ServerData", c.Server.Data).Set("ServerLastWrite", c.Server.LastWrite)
			ev.Time = c.Server.LastWrite
		}
		ev.Set("InEnvironment", c.InEnvironment())
		if err := finish(ev); err != nil {
			return sum, err
		}
	}
	envChanges := 0
	for _, c := range sum.Environment {
		if c.Kind != profile.KeyTimestamp {
			envChanges++
		}
	}
	ev := base("verdict")
	ev.Set("TargetObject", root+`\Environment`).Set("KeyPath", root+`\Environment`).Set("EnvironmentChanges", int64(envChanges))
	return sum, finish(ev)
}
