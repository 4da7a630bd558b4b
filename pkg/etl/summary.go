package etl

import (
	"context"
	"sort"
	"time"
)

// Summary describes a whole file: what `envhunt etl --summary` prints.
type Summary struct {
	File              string          `json:"file"`
	Size              int64           `json:"size"`
	Buffers           int             `json:"buffers"`
	CompressedBuffers int             `json:"compressed_buffers"`
	Events            int             `json:"events"`
	ByHeaderType      map[string]int  `json:"by_header_type"`
	Providers         []ProviderCount `json:"providers"`
	StartTime         time.Time       `json:"start_time"`
	EndTime           time.Time       `json:"end_time"`
	FirstEvent        time.Time       `json:"first_event"`
	LastEvent         time.Time       `json:"last_event"`
	PointerSize       uint32          `json:"pointer_size"`
	CPUs              uint32          `json:"cpus"`
	EventsLost        uint32          `json:"events_lost"`
	BuffersLost       uint32          `json:"buffers_lost"`
	// The fields below add context a responder needs; the ones above are
	// the stable summary contract.
	LoggerName  string `json:"logger_name"`
	LogFileName string `json:"log_file_name"`
	LogFileMode uint32 `json:"log_file_mode"`
	ClockType   uint32 `json:"clock_type"`
	Build       uint32 `json:"build"`
	Version     string `json:"version"`
	// LostBufferFlags counts buffers flagged EVENTS_LOST or BUFFER_LOST.
	LostBufferFlags int `json:"lost_buffer_flags"`
}

// ProviderCount is one provider and its number of events.
type ProviderCount struct {
	GUID   string `json:"guid"`
	Name   string `json:"name"`
	Events int    `json:"events"`
}

// Summarize walks every event of f and counts them. The summary is valid
// even when the error is not nil: it then covers what could be read.
func Summarize(ctx context.Context, f *File) (*Summary, error) {
	h := &f.Header
	s := &Summary{
		File: f.name, Size: f.size, ByHeaderType: map[string]int{},
		StartTime: h.StartTime, EndTime: h.EndTime,
		PointerSize: h.PointerSize, CPUs: h.NumberOfProcessors,
		EventsLost: h.EventsLost, BuffersLost: h.BuffersLost,
		LoggerName: h.LoggerName, LogFileName: h.LogFileName, LogFileMode: h.LogFileMode,
		ClockType: h.ReservedFlags, Build: h.ProviderVersion, Version: h.VersionString(),
	}
	type pc struct {
		name string
		n    int
	}
	prov := map[GUID]*pc{}
	it := f.Events(ctx)
	for it.Next() {
		e := it.Event()
		s.ByHeaderType[e.HeaderType.String()]++
		p := prov[e.Provider]
		if p == nil {
			p = &pc{}
			prov[e.Provider] = p
		}
		p.n++
		if p.name == "" {
			p.name = e.ProviderName()
		}
		if !e.Time.IsZero() {
			if s.FirstEvent.IsZero() || e.Time.Before(s.FirstEvent) {
				s.FirstEvent = e.Time
			}
			if e.Time.After(s.LastEvent) {
				s.LastEvent = e.Time
			}
		}
	}
	st := it.Stats()
	s.Buffers, s.CompressedBuffers, s.Events, s.LostBufferFlags = st.Buffers, st.CompressedBuffers, st.Events, st.LostBufferFlags
	for g, p := range prov {
		s.Providers = append(s.Providers, ProviderCount{GUID: g.String(), Name: p.name, Events: p.n})
	}
	sort.Slice(s.Providers, func(i, j int) bool {
		a, b := s.Providers[i], s.Providers[j]
		if a.Events != b.Events {
			return a.Events > b.Events
		}
		return a.GUID < b.GUID
	})
	return s, it.Err()
}
