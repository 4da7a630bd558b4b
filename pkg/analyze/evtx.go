package analyze

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evtx"
	"github.com/envhunt/envhunt/pkg/wintime"
)

// Providers whose records become events.
const (
	providerSysmon     = "Microsoft-Windows-Sysmon"
	providerSecurity   = "Microsoft-Windows-Security-Auditing"
	providerPowerShell = "Microsoft-Windows-PowerShell"
)

// EvtxEvents reads every record of an event log and emits the events the
// records map to (see EvtxEvent). Anomalies of the log (damaged chunks or
// records) are returned joined after the walk, which goes on past them;
// cancellation and an error from emit stop it at once.
func EvtxEvents(ctx context.Context, f *evtx.File, file string, emit func(*event.Event) error) error {
	var anomalies []error
	for rec, err := range f.Records(ctx) {
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			anomalies = append(anomalies, err)
			continue
		}
		if ev := EvtxEvent(rec, file); ev != nil {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	return errors.Join(anomalies...)
}

// EvtxEvent maps one event-log record to an event, or returns nil for a
// record no category covers:
//
//   - Sysmon 12 → registry_key (EventType CreateKey) or registry_delete
//     (DeleteKey, DeleteValue); Sysmon 13 → registry_set; Sysmon 14 →
//     registry_rename; with Sysmon's own field names;
//   - Security 4657 → registry_set (registry_delete when the value was
//     deleted), the NT object name mapped to HKLM/HKU and the data to
//     Sysmon's Details form;
//   - Sysmon 1 and Security 4688 → process_creation;
//   - PowerShell 4104 → ps_script.
//
// file names the log in the event's source.
func EvtxEvent(rec *evtx.Record, file string) *event.Event {
	s := &rec.System
	var ev *event.Event
	switch {
	case s.ProviderName == providerSysmon && s.EventID >= 12 && s.EventID <= 14:
		ev = sysmonRegistry(rec)
	case s.ProviderName == providerSysmon && s.EventID == 1:
		ev = copyDeclared(event.New(event.ProcessCreation, s.TimeCreated), rec)
		ev.Set("EventType", "ProcessStart")
	case s.ProviderName == providerSecurity && s.EventID == 4657:
		ev = security4657(rec)
	case s.ProviderName == providerSecurity && s.EventID == 4688:
		ev = security4688(rec)
	case s.ProviderName == providerPowerShell && s.EventID == 4104:
		ev = copyDeclared(event.New(event.PSScript, s.TimeCreated), rec)
		ev.Set("UtcTime", wintime.Format(s.TimeCreated)).Set("ProcessId", int64(s.ProcessID)).Set("Computer", s.Computer)
	default:
		return nil
	}
	ev.Source = event.Source{Host: s.Computer, File: file, Offset: rec.Offset}
	ev.Set("Provider_Name", s.ProviderName).Set("EventID", int64(s.EventID))
	ev.Set("Host", s.Computer).Set("EvidenceFile", file)
	return ev
}

// copyDeclared copies the record's EventData values that the event's
// category declares, in the record's order, integers as integers.
func copyDeclared(ev *event.Event, rec *evtx.Record) *event.Event {
	spec, _ := event.Lookup(ev.Category)
	types := map[string]string{}
	for _, f := range spec.Fields {
		types[f.Name] = f.Type
	}
	for _, f := range event.CommonFields {
		types[f.Name] = f.Type
	}
	for _, d := range rec.Data {
		t, ok := types[d.Name]
		if !ok {
			continue
		}
		ev.Set(d.Name, typed(d.Value, t))
	}
	return ev
}

// typed converts a record value to the declared field type.
func typed(v evtx.Value, t string) any {
	if t == "int" {
		if n, ok := v.Int64(); ok {
			return n
		}
	}
	if v.Type&evtx.ArrayFlag != 0 {
		return v.Strings()
	}
	return v.String()
}

// hkuSID matches the SID of an HKU\<SID>\... name.
var hkuSID = regexp.MustCompile(`(?i)^HKU\\(S-1-[0-9-]+)`)

// setRegistryName sets TargetObject and, for value events, KeyPath and
// ValueName, and the owning user's SID when the name is under HKU.
func setRegistryName(ev *event.Event, target string, value bool) {
	ev.Set("TargetObject", target)
	if value {
		key, name := target, ""
		if i := strings.LastIndexByte(target, '\\'); i >= 0 {
			key, name = target[:i], target[i+1:]
		}
		if name == "(Default)" {
			name = ""
		}
		ev.Set("ValueName", name).Set("KeyPath", key)
	}
	if m := hkuSID.FindStringSubmatch(target); m != nil {
		ev.Set("UserSid", "S"+m[1][1:]) // HKU\<SID>_Classes gives the SID without the suffix
	}
}

func sysmonRegistry(rec *evtx.Record) *event.Event {
	s := &rec.System
	get := func(n string) string { v, _ := rec.Get(n); return v.String() }
	var ev *event.Event
	kind := get("EventType")
	switch {
	case s.EventID == 13:
		ev = event.New(event.RegistrySet, s.TimeCreated)
	case s.EventID == 14:
		ev = event.New(event.RegistryRename, s.TimeCreated)
	case strings.HasPrefix(kind, "Delete"):
		ev = event.New(event.RegistryDelete, s.TimeCreated)
	default:
		ev = event.New(event.RegistryKey, s.TimeCreated)
	}
	ev.Set("EventType", kind)
	setRegistryName(ev, get("TargetObject"), s.EventID == 13)
	if s.EventID == 13 {
		details := get("Details")
		ev.Set("Details", details)
		if t, data, ok := sysmonData(details); ok {
			ev.Set("ValueType", t).Set("Data", data)
		}
	}
	if s.EventID == 14 {
		ev.Set("NewName", get("NewName"))
	}
	for _, n := range []string{"Image", "ProcessId", "ProcessGuid", "UtcTime", "RuleName", "User"} {
		if v, ok := rec.Get(n); ok {
			if n == "ProcessId" {
				ev.Set(n, typed(v, "int"))
			} else {
				ev.Set(n, v.String())
			}
		}
	}
	ev.Set("Hive", s.Channel)
	return ev
}

var (
	sysmonDWORD = regexp.MustCompile(`^DWORD \(0x([0-9a-fA-F]{1,8})\)$`)
	sysmonQWORD = regexp.MustCompile(`^QWORD \(0x([0-9a-fA-F]{1,8})-0x([0-9a-fA-F]{1,8})\)$`)
)

// sysmonData recovers the registry type and typed data from Sysmon's
// Details where its form says them; strings stay without a type, since
// Sysmon does not say whether they were REG_SZ or REG_EXPAND_SZ.
func sysmonData(details string) (string, any, bool) {
	if m := sysmonDWORD.FindStringSubmatch(details); m != nil {
		n, _ := strconv.ParseUint(m[1], 16, 32)
		return "REG_DWORD", int64(n), true
	}
	if m := sysmonQWORD.FindStringSubmatch(details); m != nil {
		hi, _ := strconv.ParseUint(m[1], 16, 32)
		lo, _ := strconv.ParseUint(m[2], 16, 32)
		return "REG_QWORD", int64(hi<<32 | lo), true
	}
	if details == "Binary Data" {
		return "REG_BINARY", nil, false
	}
	return "", details, true
}

// ntRegistryName maps an NT registry name (\REGISTRY\MACHINE\...,
// \REGISTRY\USER\...) to the HKLM/HKU names rules use. ControlSet001 is
// shown as CurrentControlSet, as Sysmon shows it.
func ntRegistryName(name string) string {
	up := strings.ToUpper(name)
	switch {
	case strings.HasPrefix(up, `\REGISTRY\MACHINE`):
		name = "HKLM" + name[len(`\REGISTRY\MACHINE`):]
	case strings.HasPrefix(up, `\REGISTRY\USER`):
		name = "HKU" + name[len(`\REGISTRY\USER`):]
	default:
		return name
	}
	const cs = `HKLM\SYSTEM\CONTROLSET001`
	if u := strings.ToUpper(name); strings.HasPrefix(u, cs) && (len(u) == len(cs) || u[len(cs)] == '\\') {
		name = name[:len(`HKLM\SYSTEM\`)] + "CurrentControlSet" + name[len(cs):]
	}
	return name
}

// securityRegTypes are the message codes Security 4657 logs for value
// types.
var securityRegTypes = map[string]string{
	"%%1872": "REG_NONE", "%%1873": "REG_SZ", "%%1874": "REG_EXPAND_SZ", "%%1875": "REG_BINARY",
	"%%1876": "REG_DWORD", "%%1879": "REG_MULTI_SZ", "%%1883": "REG_QWORD",
}

// securityDetails renders 4657 value data as Sysmon's Details, so registry
// rules written for Sysmon match: DWORD (0x...), QWORD (0x...-0x...),
// Binary Data, (Empty).
func securityDetails(typ, data string) string {
	switch typ {
	case "REG_DWORD":
		if n, err := strconv.ParseUint(strings.TrimSpace(data), 0, 32); err == nil {
			return fmt.Sprintf("DWORD (0x%08x)", n)
		}
	case "REG_QWORD":
		if n, err := strconv.ParseUint(strings.TrimSpace(data), 0, 64); err == nil {
			return fmt.Sprintf("QWORD (0x%08x-0x%08x)", n>>32, n&0xffffffff)
		}
	case "REG_BINARY":
		return "Binary Data"
	}
	if data == "" {
		return "(Empty)"
	}
	return data
}

func security4657(rec *evtx.Record) *event.Event {
	s := &rec.System
	get := func(n string) string { v, _ := rec.Get(n); return v.String() }
	cat, kind := event.RegistrySet, "SetValue"
	if get("OperationType") == "%%1906" {
		cat, kind = event.RegistryDelete, "DeleteValue"
	}
	ev := event.New(cat, s.TimeCreated).Set("EventType", kind)
	name := get("ObjectValueName")
	if name == "" {
		name = "(Default)"
	}
	setRegistryName(ev, ntRegistryName(get("ObjectName"))+`\`+name, cat == event.RegistrySet)
	if cat == event.RegistrySet {
		newType := securityRegTypes[get("NewValueType")]
		ev.Set("Details", securityDetails(newType, get("NewValue")))
		if newType != "" {
			ev.Set("ValueType", newType)
		}
		ev.Set("Data", get("NewValue"))
		if _, ok := rec.Get("OldValue"); ok && get("OperationType") != "%%1904" {
			ev.Set("PreviousDetails", securityDetails(securityRegTypes[get("OldValueType")], get("OldValue")))
		}
	}
	ev.Set("Image", get("ProcessName"))
	if v, ok := rec.Get("ProcessId"); ok {
		ev.Set("ProcessId", typed(v, "int"))
	}
	ev.Set("UtcTime", wintime.Format(s.TimeCreated)).Set("Hive", s.Channel)
	setSubject(ev, rec, "Subject")
	if sid := get("SubjectUserSid"); sid != "" && !hasField(ev, "UserSid") {
		ev.Set("UserSid", sid)
	}
	return ev
}

func hasField(ev *event.Event, name string) bool {
	_, ok := ev.Get(name)
	return ok
}

// setSubject sets User (DOMAIN\name) from the record's <prefix>UserName
// and <prefix>DomainName.
func setSubject(ev *event.Event, rec *evtx.Record, prefix string) bool {
	u, _ := rec.Get(prefix + "UserName")
	d, _ := rec.Get(prefix + "DomainName")
	if u.String() == "" || u.String() == "-" {
		return false
	}
	user := u.String()
	if d.String() != "" && d.String() != "-" {
		user = d.String() + `\` + user
	}
	ev.Set("User", user)
	return true
}

// integrityLevels names the mandatory-label SIDs of 4688's MandatoryLabel.
var integrityLevels = map[string]string{
	"S-1-16-0": "Untrusted", "S-1-16-4096": "Low", "S-1-16-8192": "Medium", "S-1-16-8448": "MediumPlus",
	"S-1-16-12288": "High", "S-1-16-16384": "System", "S-1-16-20480": "Protected",
}

func security4688(rec *evtx.Record) *event.Event {
	s := &rec.System
	get := func(n string) (evtx.Value, bool) { return rec.Get(n) }
	ev := event.New(event.ProcessCreation, s.TimeCreated).Set("EventType", "ProcessStart")
	ev.Set("UtcTime", wintime.Format(s.TimeCreated))
	if v, ok := get("NewProcessId"); ok {
		ev.Set("ProcessId", typed(v, "int"))
	}
	if v, ok := get("NewProcessName"); ok {
		ev.Set("Image", v.String())
	}
	if v, ok := get("CommandLine"); ok {
		ev.Set("CommandLine", v.String())
	}
	if v, ok := get("TargetLogonId"); ok && v.String() != "0x0" {
		ev.Set("LogonId", v.String())
	} else if v, ok := get("SubjectLogonId"); ok {
		ev.Set("LogonId", v.String())
	}
	if v, ok := get("MandatoryLabel"); ok {
		if n, known := integrityLevels[strings.ToUpper(v.String())]; known {
			ev.Set("IntegrityLevel", n)
		} else {
			ev.Set("IntegrityLevel", v.String())
		}
	}
	if v, ok := get("ProcessId"); ok {
		ev.Set("ParentProcessId", typed(v, "int"))
	}
	if v, ok := get("ParentProcessName"); ok {
		ev.Set("ParentImage", v.String())
	}
	if v, ok := get("TokenElevationType"); ok {
		ev.Set("TokenElevationType", v.String())
	}
	// The new process runs as the target user when 4688 names one (version
	// 2), else as the subject that created it.
	if setSubject(ev, rec, "Target") {
		if v, ok := get("TargetUserSid"); ok && v.String() != "S-1-0-0" {
			ev.Set("UserSid", v.String())
		}
	} else {
		setSubject(ev, rec, "Subject")
		if v, ok := get("SubjectUserSid"); ok {
			ev.Set("UserSid", v.String())
		}
	}
	return ev
}
