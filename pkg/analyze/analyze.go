// Package analyze turns parsed evidence into events: one file per source
// (registry values and keys, security descriptors, the effective
// environment, profile differences, traces, event logs, Group Policy files).
// The parsers below it stay free of the event model, so pipelines can use
// them alone; the rule engine above it sees only events.
package analyze

import (
	"github.com/envhunt/envhunt/pkg/event"
)

// Filter lets the caller say which events it can use, so analyzers skip the
// work (and the allocation) of events no loaded rule could match. Names are
// full registry names as rules see them (HKLM\SYSTEM\CurrentControlSet\...,
// HKU\<SID>\...).
type Filter interface {
	// WantCategory reports whether any event of category c may be wanted;
	// analyzers that only produce other categories are not run.
	WantCategory(c event.Category) bool
	// Descend reports whether any wanted event can come from the key named
	// keyName or below it.
	Descend(keyName string) bool
	// Want reports whether an event of category c whose TargetObject is
	// target may be wanted.
	Want(c event.Category, target string) bool
}

// All is the Filter that wants everything (for `envhunt events` and the
// timeline).
var All Filter = allFilter{}

type allFilter struct{}

func (allFilter) WantCategory(event.Category) bool { return true }
func (allFilter) Descend(string) bool              { return true }
func (allFilter) Want(event.Category, string) bool { return true }

// Emit receives events; returning an error stops the analyzer.
type Emit func(*event.Event) error
