package report

import (
	"context"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
)

// EventRow turns an event into a timeline row: source as given ("registry",
// "etw", "evtx", ...), kind from the event's EventType field (else its
// category), key from TargetObject, description from Details (with the
// writing process's Image when the event has one), host, user (User, else
// UserSid) and file from the event.
func EventRow(e *event.Event, source string) TimelineRow {
	r := TimelineRow{Time: e.Time, Source: source, Host: e.Source.Host, File: e.Source.File}
	r.Kind = e.String("EventType")
	if r.Kind == "" {
		r.Kind = string(e.Category)
	}
	if h := e.String("Host"); h != "" && r.Host == "" {
		r.Host = h
	}
	if r.File == "" {
		r.File = e.String("EvidenceFile")
	}
	r.User = e.String("User")
	if r.User == "" {
		r.User = e.String("UserSid")
	}
	r.Key = e.String("TargetObject")
	var desc []string
	if d := e.String("Details"); d != "" {
		desc = append(desc, d)
	}
	if img := e.String("Image"); img != "" {
		by := "by " + img
		if pid := e.String("ProcessId"); pid != "" {
			by += " (pid " + pid + ")"
		}
		desc = append(desc, by)
	}
	r.Description = strings.Join(desc, " ")
	return r
}

// FindingRow turns a finding into a timeline row: source "finding", kind
// the level, key the key and value name, description the title and
// explanation.
func FindingRow(f *Finding) TimelineRow {
	key := f.Key
	if f.Value != "" {
		key += `\` + f.Value
	}
	desc := f.Title
	if f.Explain != "" {
		desc += ": " + f.Explain
	}
	user := f.User
	if user == "" {
		user = f.UserSID
	}
	return TimelineRow{Time: f.Time, Source: "finding", Kind: f.Level.String(), Host: f.Host, User: user,
		Key: key, Description: desc, File: f.Source}
}

// FindingsTimeline is a TimelineSource over collected findings.
func FindingsTimeline(fs []*Finding) TimelineSource {
	return TimelineFunc(func(ctx context.Context, emit func(TimelineRow) error) error {
		for _, f := range fs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := emit(FindingRow(f)); err != nil {
				return err
			}
		}
		return nil
	})
}
