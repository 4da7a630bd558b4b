package etl

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Bounds of State's maps: a hostile trace cannot make them grow without
// limit. Beyond them new entries are dropped (lookups then fail, which
// reports keys as unresolved rather than guessing).
const (
	maxKeyNames  = 1 << 20
	maxProcesses = 1 << 18
	maxThreads   = 1 << 20
)

// Process is what a trace says about one process. Fields the trace did not
// record are zero.
type Process struct {
	PID       uint32
	ParentPID uint32
	// Image is the executable as recorded: a file name (kernel-logger
	// Process class) or an NT path such as \Device\HarddiskVolume3\...
	// (Kernel-Process).
	Image       string
	CommandLine string
	// UserSID is the token user (kernel-logger Process class only).
	UserSID string
	// MandatoryLabel is the integrity-level SID (Kernel-Process v3+).
	MandatoryLabel string
	SessionID      uint32
	HasSessionID   bool
	// Start is when the process started; zero when it was already
	// running when the trace began (it was seen in a rundown only).
	Start time.Time
	// End is when it exited; zero when it was still running at the end.
	End              time.Time
	UniqueProcessKey uint64
	SequenceNumber   uint64
	// Source names the provider that described it: "Process" (kernel
	// logger) or "Kernel-Process".
	Source string
	// Rundown is true when the process is known only from rundown events.
	Rundown bool
}

// RegistryOp is a registry operation recorded by a trace, with its key
// resolved as far as the trace allows.
type RegistryOp struct {
	// Operation is the provider's name for it: SetValueKey, DeleteValueKey,
	// CreateKey, ... (Kernel-Registry) or SetValue, DeleteValue, Create, ...
	// (kernel-logger Registry class).
	Operation string
	// Kind is the provider-independent kind: "SetValue", "DeleteValue",
	// "CreateKey", "OpenKey", "DeleteKey", or "" for the others.
	Kind      string
	Status    uint32
	HasStatus bool
	// Key is the NT path of the key (\REGISTRY\USER\S-1-5-...\Environment),
	// "" when the trace does not say which key it was.
	Key string
	// How says how Key was found: "event" (the event names it), "handle"
	// (an earlier create/open or KCB event in the file named the handle),
	// "rundown" (a KCB rundown elsewhere in the file named the handle; the
	// handle could have been reused in between), or "" when unresolved.
	How string
	// Value is the value name of value operations ("" is the default
	// value); HasValue tells whether the operation has one.
	Value    string
	HasValue bool
	// Handle is the key object / KCB address the event refers to.
	Handle uint64
	// Type, DataSize and Data are the written value's type, size and
	// captured data (Kernel-Registry SetValueKey only; Data only when the
	// session captured it).
	Type, DataSize  uint32
	HasType         bool
	Data            []byte
	HasData         bool
	PreviousType    uint32
	PreviousSize    uint32
	PreviousData    []byte
	HasPrevious     bool
	HasPreviousData bool
}

// State follows a trace: it maps key handles to key names and process ids to
// processes (by time, since ids are reused), and thread ids to process ids.
// Feed it every event in file order with Observe; Prescan first lets
// lookups use process and KCB rundown events that come later in the file.
type State struct {
	processes map[uint32][]*Process
	nproc     int
	threads   map[uint32]uint32
	kcb       map[uint64]string // kernel-logger KCB → key name, as of now
	rundown   map[uint64]string // kernel-logger KCB → key name from rundowns anywhere
	objects   map[uint64]string // Kernel-Registry key object → key name, as of now
	ccs       uint32
	op        RegistryOp // returned by Observe, reused
}

// NewState returns an empty State.
func NewState() *State {
	return &State{
		processes: map[uint32][]*Process{},
		threads:   map[uint32]uint32{},
		kcb:       map[uint64]string{},
		rundown:   map[uint64]string{},
		objects:   map[uint64]string{},
	}
}

// Prescan reads the whole file once for process, thread and KCB rundown
// events, so that later lookups know processes and keys that a trace only
// describes at its end. Its error is the reader's (the state is still
// usable).
func (s *State) Prescan(ctx context.Context, f *File) error {
	it := f.Events(ctx)
	for it.Next() {
		e := it.Event()
		switch e.Provider {
		case ProcessClassGUID, KernelProcessGUID, ThreadClassGUID:
			s.observeProcess(e, Decode(e))
		case RegistryClassGUID:
			if e.Opcode == 24 || e.Opcode == 25 {
				d := Decode(e)
				if name := d.Str("KeyName"); name != "" && len(s.rundown) < maxKeyNames {
					s.rundown[d.Uint("KeyHandle")] = name
				}
			}
		}
	}
	return it.Err()
}

// CurrentControlSet returns the control set number a kernel-logger Registry
// Config event reported, or 0.
func (s *State) CurrentControlSet() uint32 { return s.ccs }

// Observe updates the state with e (decoded as d) and, for a registry
// operation, returns it with its key resolved from the state as it was
// before e. It returns nil for other events. The returned operation is
// reused by the next call: copy it to keep it.
func (s *State) Observe(e *Event, d *Decoded) *RegistryOp {
	switch d.Source {
	case "Process", "Kernel-Process", "Thread":
		s.observeProcess(e, d)
	case "Registry":
		return s.observeRegistryClass(e, d)
	case "Kernel-Registry":
		return s.observeKernelRegistry(e, d)
	}
	return nil
}

// PID returns the process id of e: the header's, or, when the header has
// none (PERFINFO, or 0xFFFFFFFF for events logged outside a process
// context), the one the thread map gives for its thread.
func (s *State) PID(e *Event) (uint32, bool) {
	if e.HasPID && e.PID != 0xFFFFFFFF {
		return e.PID, true
	}
	if e.HasPID && e.TID != 0xFFFFFFFF {
		if pid, ok := s.threads[e.TID]; ok {
			return pid, true
		}
	}
	return 0, false
}

// Process returns the process with id pid that was running at t: the latest
// one started at or before t (or already running when the trace began) and
// not ended before t. Nil when the trace does not say.
func (s *State) Process(pid uint32, t time.Time) *Process {
	var best *Process
	for _, p := range s.processes[pid] {
		if !p.Start.IsZero() && !t.IsZero() && p.Start.After(t) {
			continue
		}
		if !p.End.IsZero() && !t.IsZero() && p.End.Before(t) {
			continue
		}
		if best == nil || p.Start.After(best.Start) {
			best = p
		}
	}
	return best
}

// Processes returns every process seen, ordered by start time then id.
func (s *State) Processes() []*Process {
	var out []*Process
	for _, l := range s.processes {
		out = append(out, l...)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].PID < out[j].PID
	})
	return out
}

func (s *State) observeProcess(e *Event, d *Decoded) {
	if d.Source == "Thread" {
		if d.Has("ProcessId") && len(s.threads) < maxThreads {
			s.threads[uint32(d.Uint("TThreadId"))] = uint32(d.Uint("ProcessId"))
		}
		return
	}
	if d.Source == "Kernel-Process" && (e.ID == 3 || e.ID == 4) {
		if d.Has("ThreadID") && len(s.threads) < maxThreads {
			s.threads[uint32(d.Uint("ThreadID"))] = uint32(d.Uint("ProcessID"))
		}
		return
	}
	var p Process
	start, end, rundown := false, false, false
	switch d.Source {
	case "Process":
		switch e.Opcode {
		case 1:
			start = true
		case 2, 11, 39:
			end = true
		case 3, 4:
			rundown = true
		default:
			return
		}
		if !d.Has("ProcessId") {
			return
		}
		p = Process{
			PID: uint32(d.Uint("ProcessId")), ParentPID: uint32(d.Uint("ParentId")),
			Image: d.Str("ImageFileName"), CommandLine: d.Str("CommandLine"), UserSID: d.Str("UserSID"),
			UniqueProcessKey: d.Uint("UniqueProcessKey"), Source: "Process",
		}
		if d.Has("SessionId") {
			p.SessionID, p.HasSessionID = uint32(d.Uint("SessionId")), true
		}
	case "Kernel-Process":
		switch e.ID {
		case 1:
			start = true
		case 2:
			end = true
		case 15:
			rundown = true
		default:
			return
		}
		if !d.Has("ProcessID") {
			return
		}
		p = Process{
			PID: uint32(d.Uint("ProcessID")), ParentPID: uint32(d.Uint("ParentProcessID")),
			Image: d.Str("ImageName"), MandatoryLabel: d.Str("MandatoryLabel"),
			SequenceNumber: d.Uint("ProcessSequenceNumber"), Source: "Kernel-Process",
		}
		if d.Has("SessionID") {
			p.SessionID, p.HasSessionID = uint32(d.Uint("SessionID")), true
		}
		if v, ok := d.Get("CreateTime"); ok && (start || rundown) {
			if t, ok := v.(time.Time); ok {
				p.Start = t
			}
		}
	}
	if start && p.Start.IsZero() {
		p.Start = e.Time
	}
	if end {
		p.End = e.Time
		if v, ok := d.Get("ExitTime"); ok {
			if t, ok := v.(time.Time); ok && !t.IsZero() {
				p.End = t
			}
		}
	}
	p.Rundown = rundown && p.Start.IsZero()
	s.merge(&p, end)
}

// merge adds p to the map or completes the entry it describes.
func (s *State) merge(p *Process, end bool) {
	list := s.processes[p.PID]
	for _, q := range list {
		same := false
		switch {
		case p.UniqueProcessKey != 0 && q.UniqueProcessKey != 0:
			same = p.UniqueProcessKey == q.UniqueProcessKey
		case p.SequenceNumber != 0 && q.SequenceNumber != 0:
			same = p.SequenceNumber == q.SequenceNumber
		case !p.Start.IsZero() && !q.Start.IsZero():
			same = p.Start.Equal(q.Start)
		default:
			// A stop or rundown without identity: the latest process
			// with this id that has not ended.
			same = q.End.IsZero() && (end || p.Rundown || q.Rundown) && (p.Image == "" || q.Image == "" || sameImage(p.Image, q.Image))
		}
		if !same {
			continue
		}
		fill(&q.Image, p.Image)
		fill(&q.CommandLine, p.CommandLine)
		fill(&q.UserSID, p.UserSID)
		fill(&q.MandatoryLabel, p.MandatoryLabel)
		if q.ParentPID == 0 {
			q.ParentPID = p.ParentPID
		}
		if !q.HasSessionID && p.HasSessionID {
			q.SessionID, q.HasSessionID = p.SessionID, true
		}
		if q.Start.IsZero() && !p.Start.IsZero() {
			q.Start = p.Start
			q.Rundown = false
		}
		if q.End.IsZero() && !p.End.IsZero() {
			q.End = p.End
		}
		if q.UniqueProcessKey == 0 {
			q.UniqueProcessKey = p.UniqueProcessKey
		}
		if q.SequenceNumber == 0 {
			q.SequenceNumber = p.SequenceNumber
		}
		return
	}
	if s.nproc >= maxProcesses {
		return
	}
	s.nproc++
	s.processes[p.PID] = append(list, p)
}

func fill(dst *string, src string) {
	if *dst == "" {
		*dst = src
	}
}

func sameImage(a, b string) bool {
	base := func(s string) string {
		if i := strings.LastIndexAny(s, `\/`); i >= 0 {
			s = s[i+1:]
		}
		return strings.ToLower(s)
	}
	return base(a) == base(b)
}

// joinKey joins a base key name and a relative name; an absolute relative
// name (\REGISTRY\...) stands on its own.
func joinKey(base, rel string) string {
	if isAbsKey(rel) {
		return rel
	}
	if base == "" {
		return ""
	}
	if rel == "" {
		return base
	}
	return strings.TrimSuffix(base, `\`) + `\` + strings.TrimPrefix(rel, `\`)
}

func isAbsKey(s string) bool {
	return len(s) >= 9 && strings.EqualFold(s[:9], `\REGISTRY`)
}

// registryNameIsValue reports the kernel-logger Registry opcodes whose
// KeyName field is a value name (Query, SetValue, DeleteValue, QueryValue,
// EnumerateValueKey, QueryMultipleValue); the others carry a key name.
func registryNameIsValue(op uint8) bool {
	switch op {
	case 13, 14, 15, 16, 18, 19:
		return true
	}
	return false
}

func (s *State) observeRegistryClass(e *Event, d *Decoded) *RegistryOp {
	handle := d.Uint("KeyHandle")
	name := d.Str("KeyName")
	switch e.Opcode {
	case 22, 24, 25:
		if name != "" && len(s.kcb) < maxKeyNames {
			s.kcb[handle] = name
		}
		return nil
	case 23:
		delete(s.kcb, handle)
		return nil
	case 35:
		s.ccs = uint32(d.Uint("CurrentControlSet"))
		return nil
	}
	if e.Opcode < 10 || e.Opcode > 29 {
		return nil
	}
	op := &s.op
	*op = RegistryOp{Operation: d.Name, Handle: handle}
	if d.Has("Status") {
		op.Status, op.HasStatus = uint32(d.Uint("Status")), true
	}
	switch e.Opcode {
	case 10:
		op.Kind = "CreateKey"
	case 11:
		op.Kind = "OpenKey"
	case 12:
		op.Kind = "DeleteKey"
	case 14:
		op.Kind = "SetValue"
	case 15:
		op.Kind = "DeleteValue"
	}
	resolveHandle := func() (string, string) {
		if n, ok := s.kcb[handle]; ok && handle != 0 {
			return n, "handle"
		}
		if n, ok := s.rundown[handle]; ok && handle != 0 {
			return n, "rundown"
		}
		return "", ""
	}
	if registryNameIsValue(e.Opcode) {
		op.Value, op.HasValue = name, true
		op.Key, op.How = resolveHandle()
		return op
	}
	switch e.Opcode {
	case 10, 11:
		// The name is relative to the handle's key (or absolute).
		if isAbsKey(name) {
			op.Key, op.How = name, "event"
		} else if base, how := resolveHandle(); base != "" {
			op.Key, op.How = joinKey(base, name), how
		}
	default:
		if isAbsKey(name) {
			op.Key, op.How = name, "event"
		} else {
			op.Key, op.How = resolveHandle()
		}
	}
	return op
}

func (s *State) observeKernelRegistry(e *Event, d *Decoded) *RegistryOp {
	obj := d.Uint("KeyObject")
	op := &s.op
	*op = RegistryOp{Operation: d.Name, Handle: obj}
	if d.Has("Status") {
		op.Status, op.HasStatus = uint32(d.Uint("Status")), true
	}
	resolve := func() {
		if n := d.Str("KeyName"); isAbsKey(n) {
			op.Key, op.How = n, "event"
		} else if n, ok := s.objects[obj]; ok && obj != 0 {
			op.Key, op.How = n, "handle"
		}
	}
	switch e.ID {
	case 1, 2:
		op.Kind = "CreateKey"
		if e.ID == 2 {
			op.Kind = "OpenKey"
		}
		base := d.Str("BaseName")
		how := "event"
		if base == "" {
			if n, ok := s.objects[d.Uint("BaseObject")]; ok && d.Uint("BaseObject") != 0 {
				base, how = n, "handle"
			}
		}
		rel := d.Str("RelativeName")
		if isAbsKey(rel) {
			how = "event"
		}
		if k := joinKey(base, rel); k != "" {
			op.Key, op.How = k, how
			if op.Status == 0 && obj != 0 && len(s.objects) < maxKeyNames {
				s.objects[obj] = k
			}
		}
		return op
	case 5:
		op.Kind = "SetValue"
		resolve()
		op.Value, op.HasValue = d.Str("ValueName"), d.Has("ValueName")
		if d.Has("Type") {
			op.Type, op.DataSize, op.HasType = uint32(d.Uint("Type")), uint32(d.Uint("DataSize")), true
		}
		if d.Uint("CapturedDataSize") > 0 {
			op.Data, op.HasData = d.Bytes("CapturedData"), true
		}
		if d.Has("PreviousDataType") {
			op.PreviousType, op.PreviousSize, op.HasPrevious = uint32(d.Uint("PreviousDataType")), uint32(d.Uint("PreviousDataSize")), true
			if d.Uint("PreviousDataSize") > 0 && d.Uint("PreviousDataCapturedSize") > 0 {
				op.PreviousData, op.HasPreviousData = d.Bytes("PreviousData"), true
			}
		}
	case 6:
		op.Kind = "DeleteValue"
		resolve()
		op.Value, op.HasValue = d.Str("ValueName"), d.Has("ValueName")
	case 3:
		op.Kind = "DeleteKey"
		resolve()
	case 7:
		resolve()
		op.Value, op.HasValue = d.Str("ValueName"), d.Has("ValueName")
	default:
		resolve()
	}
	if n := d.Str("KeyName"); isAbsKey(n) && obj != 0 && len(s.objects) < maxKeyNames && e.ID != 13 {
		s.objects[obj] = n
	}
	if e.ID == 13 { // CloseKey: the object is gone after this event
		delete(s.objects, obj)
	}
	return op
}
