package analyze

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/etl"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// ETLOptions say how to name what a trace records.
type ETLOptions struct {
	// Host is the host name of the evidence.
	Host string
	// File is the trace's path as the events' EvidenceFile.
	File string
	// CurrentControlSet is N of the host's current ControlSet00N
	// (SYSTEM\Select\Current). When 0, the trace's own Registry Config
	// event is used if it has one; otherwise ControlSet00N names are kept
	// as they are.
	CurrentControlSet int
	// Filter limits the events built (nil: all).
	Filter Filter
}

// Key resolution labels (the KeyResolution field of trace registry events).
const (
	// ETLKeyFromEvent: the event itself names the key.
	ETLKeyFromEvent = "event"
	// ETLKeyFromHandle: an earlier create/open or KCB event named the
	// handle the write used.
	ETLKeyFromHandle = "handle"
	// ETLKeyFromRundown: a KCB rundown elsewhere in the trace named the
	// handle (it could have been reused in between).
	ETLKeyFromRundown = "rundown"
	// ETLKeyAmbiguous: the trace does not say which key was written; only
	// the value name is known.
	ETLKeyAmbiguous = "ambiguous"
)

// ETLEvents reads a trace and emits the events its registry and process
// records map to:
//
//   - SetValue (Kernel-Registry SetValueKey, kernel-logger Registry
//     SetValue) → registry_set; DeleteValue and DeleteKey → registry_delete;
//     CreateKey → registry_key; each with the writing process (Image,
//     ProcessId, CommandLine where the trace has them), Status, UtcTime and
//     the key's name when the trace resolves it (KeyResolution says how;
//     "ambiguous" writes carry only ValueName);
//   - process starts (kernel-logger Process Start, Kernel-Process
//     ProcessStart) → process_creation (EventType ProcessStart), and
//     processes found running by rundown events → process_creation
//     (EventType ProcessRundown).
//
// The file is read twice: once for processes and KCB rundowns, once in
// order. Problems reading the trace are returned after the walk (events
// before and after a damaged buffer are still emitted); cancellation and an
// error from emit stop it at once.
func ETLEvents(ctx context.Context, f *etl.File, opt ETLOptions, emit Emit) error {
	filter := opt.Filter
	if filter == nil {
		filter = All
	}
	wantReg := filter.WantCategory(event.RegistrySet) || filter.WantCategory(event.RegistryKey) || filter.WantCategory(event.RegistryDelete)
	wantProc := filter.WantCategory(event.ProcessCreation)
	if !wantReg && !wantProc {
		return nil
	}
	st := etl.NewState()
	var readErrs []error
	if err := st.Prescan(ctx, f); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		readErrs = append(readErrs, err)
	}
	c := &etlConverter{f: f, st: st, opt: opt, filter: filter, hiveName: f.Header.LoggerName}
	it := f.Events(ctx)
	for it.Next() {
		e := it.Event()
		switch e.Provider {
		case etl.KernelRegistryGUID, etl.RegistryClassGUID, etl.ProcessClassGUID, etl.KernelProcessGUID, etl.ThreadClassGUID:
		default:
			continue
		}
		d := etl.Decode(e)
		op := st.Observe(e, d)
		var ev *event.Event
		switch {
		case op != nil && wantReg:
			ev = c.registry(e, d, op)
		case wantProc && (d.Source == "Process" || d.Source == "Kernel-Process"):
			ev = c.process(e, d)
		}
		if ev == nil {
			continue
		}
		if err := emit(ev); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(readErrs) == 0 { // the prescan met the same problems
			readErrs = append(readErrs, err)
		}
	}
	return errors.Join(readErrs...)
}

type etlConverter struct {
	f        *etl.File
	st       *etl.State
	opt      ETLOptions
	filter   Filter
	hiveName string
}

func (c *etlConverter) controlSet() int {
	if c.opt.CurrentControlSet > 0 {
		return c.opt.CurrentControlSet
	}
	return int(c.st.CurrentControlSet())
}

// ETLRegistryName maps an NT registry name to the names rules use:
// \REGISTRY\USER\<SID>\... → HKU\<SID>\..., \REGISTRY\MACHINE\X\... →
// HKLM\X\..., and HKLM\SYSTEM\ControlSet00N → HKLM\SYSTEM\CurrentControlSet
// when N is currentControlSet (other sets keep their names; so do all of
// them when currentControlSet is 0). Other names are returned unchanged.
func ETLRegistryName(name string, currentControlSet int) string {
	up := strings.ToUpper(name)
	switch {
	case strings.HasPrefix(up, `\REGISTRY\MACHINE`) && (len(up) == 17 || up[17] == '\\'):
		name = "HKLM" + name[17:]
	case strings.HasPrefix(up, `\REGISTRY\USER`) && (len(up) == 14 || up[14] == '\\'):
		name = "HKU" + name[14:]
	default:
		return name
	}
	if currentControlSet > 0 {
		cs := fmt.Sprintf(`HKLM\SYSTEM\CONTROLSET%03d`, currentControlSet)
		if u := strings.ToUpper(name); strings.HasPrefix(u, cs) && (len(u) == len(cs) || u[len(cs)] == '\\') {
			name = `HKLM\SYSTEM\CurrentControlSet` + name[len(cs):]
		}
	}
	return name
}

// etlStatus renders an NTSTATUS as rules match it: 0xC0000022.
func etlStatus(s uint32) string { return fmt.Sprintf("0x%08X", s) }

var etlIntegrityLevels = map[string]string{
	"S-1-16-0": "Untrusted", "S-1-16-4096": "Low", "S-1-16-8192": "Medium", "S-1-16-8448": "MediumPlus",
	"S-1-16-12288": "High", "S-1-16-16384": "System", "S-1-16-20480": "Protected",
}

// etlImage returns the best path the trace gives for a process's image: the
// first token of its command line when that names the same file as the
// recorded image (the kernel logger records only the file name), else the
// image as recorded.
func etlImage(p *etl.Process) string {
	if p == nil {
		return ""
	}
	img := p.Image
	if p.CommandLine == "" || strings.ContainsAny(img, `\/`) {
		return img
	}
	cl := strings.TrimLeft(p.CommandLine, " \t")
	var first string
	if strings.HasPrefix(cl, `"`) {
		if i := strings.IndexByte(cl[1:], '"'); i >= 0 {
			first = cl[1 : 1+i]
		}
	} else if i := strings.IndexAny(cl, " \t"); i >= 0 {
		first = cl[:i]
	} else {
		first = cl
	}
	base := first
	if i := strings.LastIndexAny(first, `\/`); i >= 0 {
		base = first[i+1:]
	}
	if img == "" || strings.EqualFold(base, img) || strings.EqualFold(base, img+".exe") {
		if strings.ContainsAny(first, `\/`) {
			return first
		}
	}
	return img
}

func (c *etlConverter) common(ev *event.Event, e *etl.Event, providerName string, id int64) {
	ev.Source = event.Source{Host: c.opt.Host, File: c.opt.File, Offset: e.BufferOffset}
	if c.opt.Host != "" {
		ev.Set("Host", c.opt.Host)
	}
	if c.opt.File != "" {
		ev.Set("EvidenceFile", c.opt.File)
	}
	ev.Set("UtcTime", wintime.Format(e.Time))
	ev.Set("Provider_Name", providerName)
	ev.Set("EventID", id)
}

func providerAndID(e *etl.Event) (string, int64) {
	if e.IsKernel() {
		name := etl.ProviderName(e.Provider)
		if name == "" {
			name = e.Provider.String()
		}
		return "MSNT_SystemTrace/" + name, int64(e.Opcode)
	}
	name := etl.ProviderName(e.Provider)
	if name == "" {
		name = e.Provider.String()
	}
	return name, int64(e.ID)
}

// processContext adds the writing process's fields.
func (c *etlConverter) processContext(ev *event.Event, e *etl.Event) *etl.Process {
	pid, ok := c.st.PID(e)
	if !ok {
		return nil
	}
	ev.Set("ProcessId", int64(pid))
	p := c.st.Process(pid, e.Time)
	if p == nil {
		return nil
	}
	if img := etlImage(p); img != "" {
		ev.Set("Image", img)
	}
	if p.CommandLine != "" {
		ev.Set("CommandLine", p.CommandLine)
	}
	return p
}

func (c *etlConverter) registry(e *etl.Event, d *etl.Decoded, op *etl.RegistryOp) *event.Event {
	var cat event.Category
	eventType := op.Kind
	switch op.Kind {
	case "SetValue":
		cat = event.RegistrySet
	case "DeleteValue", "DeleteKey":
		cat = event.RegistryDelete
	case "CreateKey":
		cat = event.RegistryKey
	default:
		return nil
	}
	if !c.filter.WantCategory(cat) {
		return nil
	}
	key := ""
	if op.Key != "" {
		key = ETLRegistryName(op.Key, c.controlSet())
	}
	target := key
	value := op.HasValue
	if value && key != "" {
		name := op.Value
		if name == "" {
			name = "(Default)"
		}
		target = key + `\` + name
	}
	if target != "" && !c.filter.Want(cat, target) {
		return nil
	}
	ev := event.New(cat, e.Time)
	ev.Set("EventType", eventType)
	if target != "" {
		ev.Set("TargetObject", target)
	}
	resolution := op.How
	if key == "" {
		resolution = ETLKeyAmbiguous
	}
	if value {
		ev.Set("ValueName", op.Value)
		if key != "" {
			ev.Set("KeyPath", key)
		}
	}
	ev.Set("KeyResolution", resolution)
	if cat == event.RegistrySet {
		if op.HasType {
			ev.Set("ValueType", hive.ValueType(op.Type).String())
			ev.Set("DataSize", int64(op.DataSize))
		}
		if op.HasData {
			data := hive.DecodeData(hive.ValueType(op.Type), op.Data)
			ev.Set("Details", Details(data))
			ev.Set("Data", TypedData(data))
		}
		if op.HasPreviousData {
			ev.Set("PreviousDetails", Details(hive.DecodeData(hive.ValueType(op.PreviousType), op.PreviousData)))
		}
	}
	ev.Set("Hive", c.hiveName)
	prov, id := providerAndID(e)
	c.common(ev, e, prov, id)
	if op.HasStatus {
		ev.Set("Status", etlStatus(op.Status))
	}
	p := c.processContext(ev, e)
	if strings.HasPrefix(strings.ToUpper(key), `HKU\S-`) {
		sid := key[4:]
		if i := strings.IndexByte(sid, '\\'); i >= 0 {
			sid = sid[:i]
		}
		ev.Set("UserSid", strings.TrimSuffix(sid, "_Classes"))
	} else if p != nil && p.UserSID != "" {
		ev.Set("UserSid", p.UserSID)
	}
	return ev
}

func (c *etlConverter) process(e *etl.Event, d *etl.Decoded) *event.Event {
	eventType := ""
	switch {
	case d.Source == "Process" && e.Opcode == 1, d.Source == "Kernel-Process" && e.ID == 1:
		eventType = "ProcessStart"
	case d.Source == "Process" && e.Opcode == 3, d.Source == "Kernel-Process" && e.ID == 15:
		eventType = "ProcessRundown"
	default:
		return nil
	}
	var pid uint32
	var start time.Time
	if d.Source == "Process" {
		if !d.Has("ProcessId") {
			return nil
		}
		pid = uint32(d.Uint("ProcessId"))
	} else {
		if !d.Has("ProcessID") {
			return nil
		}
		pid = uint32(d.Uint("ProcessID"))
		if v, ok := d.Get("CreateTime"); ok {
			start, _ = v.(time.Time)
		}
	}
	at := e.Time
	if eventType == "ProcessStart" && !start.IsZero() {
		at = start
	}
	p := c.st.Process(pid, at)
	if p == nil {
		return nil
	}
	img := etlImage(p)
	ev := event.New(event.ProcessCreation, e.Time)
	ev.Set("EventType", eventType)
	prov, id := providerAndID(e)
	c.common(ev, e, prov, id)
	if !start.IsZero() {
		ev.Set("UtcTime", wintime.Format(start))
	}
	ev.Set("ProcessId", int64(pid))
	if img != "" {
		ev.Set("Image", img)
	}
	if p.CommandLine != "" {
		ev.Set("CommandLine", p.CommandLine)
	}
	if p.HasSessionID {
		ev.Set("TerminalSessionId", int64(p.SessionID))
	}
	if p.MandatoryLabel != "" {
		if n, ok := etlIntegrityLevels[p.MandatoryLabel]; ok {
			ev.Set("IntegrityLevel", n)
		} else {
			ev.Set("IntegrityLevel", p.MandatoryLabel)
		}
	}
	if d.Has("ProcessTokenElevationType") {
		ev.Set("TokenElevationType", strconv.FormatUint(d.Uint("ProcessTokenElevationType"), 10))
	}
	ev.Set("ParentProcessId", int64(p.ParentPID))
	if pp := c.st.Process(p.ParentPID, at); pp != nil && pp != p {
		if pimg := etlImage(pp); pimg != "" {
			ev.Set("ParentImage", pimg)
		}
		if pp.CommandLine != "" {
			ev.Set("ParentCommandLine", pp.CommandLine)
		}
	}
	if p.UserSID != "" {
		ev.Set("UserSid", p.UserSID)
	}
	return ev
}
