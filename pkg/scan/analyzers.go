package scan

import (
	"context"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/event"
)

// analyzer is one source of events. Each runs only when the filter wants one
// of its categories.
type analyzer struct {
	name       string
	categories []event.Category
	run        func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error
}

func (a analyzer) wanted(f analyze.Filter) bool {
	for _, c := range a.categories {
		if f.WantCategory(c) {
			return true
		}
	}
	return false
}

// analyzers are run in this order for every host.
var analyzers = []analyzer{
	{
		name:       "registry",
		categories: []event.Category{event.RegistrySet, event.RegistryKey},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.RegistryEvents(ctx, hc.machine, hc.files, f, emit)
		},
	},
	{
		name:       "services",
		categories: []event.Category{event.WindowsService},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.ServiceEvents(ctx, hc.machine, hc.files[hc.machine.System], f, emit)
		},
	},
	{
		name:       "environment",
		categories: []event.Category{event.EnvPath, event.EnvVar},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.EnvEvents(ctx, hc.machine, hc.environment(), f, emit)
		},
	},
	{
		name:       "profiles",
		categories: []event.Category{event.UserProfile},
		run: func(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
			return analyze.ProfileEvents(ctx, hc.machine, hc.files[hc.machine.Software], emit)
		},
	},
}

// categoryFilter wants every event of the given categories.
type categoryFilter []event.Category

func (cf categoryFilter) WantCategory(c event.Category) bool {
	for _, x := range cf {
		if x == c {
			return true
		}
	}
	return false
}
func (cf categoryFilter) Descend(string) bool { return true }
func (cf categoryFilter) Want(c event.Category, _ string) bool {
	return cf.WantCategory(c)
}
