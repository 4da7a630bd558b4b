package etl

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/envhunt/envhunt/pkg/wintime"
)

// Field is one decoded payload field. Value is a string, uint64, int64,
// bool, []byte, GUID, time.Time or []any (TraceLogging arrays and
// structs as []Field).
type Field struct {
	Name  string
	Value any
}

// Decoded is an event's decoded payload.
type Decoded struct {
	// Source names the decoder: "Kernel-Registry", "Registry" (kernel
	// logger class), "Kernel-Process", "Process", "Thread", "EventTrace",
	// "TraceLogging", "String" or "" (raw).
	Source string
	// Name is the event's name ("SetValueKey", "SetValue", "ProcessStart",
	// "DCStart", a TraceLogging event name, ...), "" when unknown.
	Name string
	// Fields are the payload fields in payload order. Fields a payload
	// does not carry are absent.
	Fields []Field
	// Err says why decoding stopped early, when it did; the fields before
	// the problem are kept.
	Err error
}

// Get returns a field's value.
func (d *Decoded) Get(name string) (any, bool) {
	for i := range d.Fields {
		if d.Fields[i].Name == name {
			return d.Fields[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether the payload carries the field.
func (d *Decoded) Has(name string) bool {
	_, ok := d.Get(name)
	return ok
}

// Uint returns an unsigned integer field (0 when absent).
func (d *Decoded) Uint(name string) uint64 {
	v, _ := d.Get(name)
	switch x := v.(type) {
	case uint64:
		return x
	case Pointer:
		return uint64(x)
	case int64:
		return uint64(x)
	}
	return 0
}

// Str returns a string field ("" when absent).
func (d *Decoded) Str(name string) string {
	v, _ := d.Get(name)
	s, _ := v.(string)
	return s
}

// Bytes returns a binary field (nil when absent).
func (d *Decoded) Bytes(name string) []byte {
	v, _ := d.Get(name)
	b, _ := v.([]byte)
	return b
}

func (d *Decoded) add(name string, v any) { d.Fields = append(d.Fields, Field{name, v}) }

// errShort reports a payload that ends before a field.
var errShort = errors.New("payload ends before the field")

// payload reads little-endian fields with a sticky error.
type payload struct {
	b   []byte
	off int
	ptr int
	err error
	at  string
}

func (p *payload) fail(field string) {
	if p.err == nil {
		p.err = fmt.Errorf("field %s at payload offset %d: %w", field, p.off, errShort)
	}
}

func (p *payload) left() int { return len(p.b) - p.off }

func (p *payload) take(n int, field string) []byte {
	if p.err != nil {
		return nil
	}
	if n < 0 || p.off+n > len(p.b) {
		p.fail(field)
		return nil
	}
	b := p.b[p.off : p.off+n]
	p.off += n
	return b
}

func (p *payload) u8(f string) uint64 {
	if b := p.take(1, f); b != nil {
		return uint64(b[0])
	}
	return 0
}
func (p *payload) u16(f string) uint64 {
	if b := p.take(2, f); b != nil {
		return uint64(binary.LittleEndian.Uint16(b))
	}
	return 0
}
func (p *payload) u32(f string) uint64 {
	if b := p.take(4, f); b != nil {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return 0
}
func (p *payload) u64(f string) uint64 {
	if b := p.take(8, f); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}
func (p *payload) pointer(f string) uint64 {
	if p.ptr == 4 {
		return p.u32(f)
	}
	return p.u64(f)
}

func (p *payload) wstr(f string) string {
	if p.err != nil {
		return ""
	}
	b := p.b[p.off:]
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			p.off += i + 2
			return decodeUTF16(b[:i])
		}
	}
	p.fail(f)
	return ""
}

func (p *payload) astr(f string) string {
	if p.err != nil {
		return ""
	}
	b := p.b[p.off:]
	for i, c := range b {
		if c == 0 {
			p.off += i + 1
			return latin1OrUTF8(b[:i])
		}
	}
	p.fail(f)
	return ""
}

// latin1OrUTF8 decodes an 8-bit string: UTF-8 when valid, else Latin-1.
func latin1OrUTF8(b []byte) string {
	if isUTF8(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func isUTF8(b []byte) bool {
	return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) && !strings.ContainsRune(string(b), '\uFFFD')
}

// rawSID reads a SID (revision, count, 6-byte authority, count sub
// authorities) and renders it as S-1-5-...
func (p *payload) rawSID(f string) string {
	if p.err != nil {
		return ""
	}
	if p.left() < 8 {
		p.fail(f)
		return ""
	}
	n := int(p.b[p.off+1])
	b := p.take(8+4*n, f)
	if b == nil {
		return ""
	}
	return FormatSID(b)
}

// kernelSID reads a SID as kernel-logger events store it: 4 zero bytes for
// none, else a TOKEN_USER (two pointers) followed by the SID.
func (p *payload) kernelSID(f string) (string, bool) {
	if p.err != nil {
		return "", false
	}
	if p.left() >= 4 && binary.LittleEndian.Uint32(p.b[p.off:]) == 0 {
		p.off += 4
		return "", false
	}
	p.take(2*p.ptr, f)
	s := p.rawSID(f)
	return s, p.err == nil
}

// FormatSID renders a binary SID as S-R-A-S1-S2...; "" when malformed.
func FormatSID(b []byte) string {
	if len(b) < 8 {
		return ""
	}
	n := int(b[1])
	if len(b) < 8+4*n {
		return ""
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	sb.WriteByte('-')
	if auth >= 1<<32 {
		sb.WriteString("0x" + hex.EncodeToString(b[2:8]))
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < n; i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String()
}

// Pointer is a kernel address or handle in a payload (a key object, KCB,
// process key...). It prints as hex.
type Pointer uint64

// String renders the pointer as 0x-prefixed hex.
func (p Pointer) String() string { return "0x" + strconv.FormatUint(uint64(p), 16) }

// Decode decodes e's payload with the decoder for its provider, or returns
// a Decoded with Source "" when none applies (the payload stays raw). It
// never fails: Decoded.Err says where a malformed payload stopped it.
func Decode(e *Event) *Decoded {
	d := &Decoded{Fields: make([]Field, 0, 16)}
	DecodeInto(e, d)
	return d
}

// DecodeInto is Decode writing into d, reusing its Fields slice: a loop
// that does not keep the fields of earlier events allocates less.
func DecodeInto(e *Event, d *Decoded) {
	*d = Decoded{Fields: d.Fields[:0]}
	ptr := e.PointerSize
	if ptr == 0 {
		ptr = 8
	}
	p := &payload{b: e.Payload, ptr: ptr}
	switch {
	case e.IsKernel():
		switch e.Provider {
		case EventTraceGUID:
			decodeEventTrace(e, d, p)
		case RegistryClassGUID:
			decodeRegistryClass(e, d, p)
		case ProcessClassGUID:
			decodeProcessClass(e, d, p)
		case ThreadClassGUID:
			decodeThreadClass(e, d, p)
		}
	case e.HeaderType == HeaderEvent32 || e.HeaderType == HeaderEvent64:
		switch {
		case e.Provider == KernelRegistryGUID:
			decodeKernelRegistry(e, d, p)
		case e.Provider == KernelProcessGUID:
			decodeKernelProcess(e, d, p)
		case e.Flags&EventHeaderFlagStringOnly != 0:
			d.Source = "String"
			s, _ := utf16z(e.Payload)
			d.add("String", s)
		default:
			if meta, ok := e.Extended(ExtEventSchemaTL); ok {
				decodeTraceLogging(e, d, meta)
			}
		}
	}
	if p.err != nil && d.Err == nil {
		d.Err = p.err
	}
}

func decodeEventTrace(e *Event, d *Decoded, p *payload) {
	d.Source = "EventTrace"
	switch e.Opcode {
	case 0:
		d.Name = "Header"
		h, err := parseLogfileHeader(e.Payload, p.ptr)
		if err != nil {
			d.Err = err
			return
		}
		d.add("BufferSize", uint64(h.BufferSize))
		d.add("Version", h.VersionString())
		d.add("ProviderVersion", uint64(h.ProviderVersion))
		d.add("NumberOfProcessors", uint64(h.NumberOfProcessors))
		d.add("EndTime", h.EndTime)
		d.add("LogFileMode", uint64(h.LogFileMode))
		d.add("BuffersWritten", uint64(h.BuffersWritten))
		d.add("PointerSize", uint64(h.PointerSize))
		d.add("EventsLost", uint64(h.EventsLost))
		d.add("CPUSpeed", uint64(h.CPUSpeedInMHz))
		d.add("BootTime", h.BootTime)
		d.add("PerfFreq", uint64(h.PerfFreq))
		d.add("StartTime", h.StartTime)
		d.add("ReservedFlags", uint64(h.ReservedFlags))
		d.add("BuffersLost", uint64(h.BuffersLost))
		d.add("SessionNameString", h.LoggerName)
		d.add("LogFileNameString", h.LogFileName)
	case 5, 32:
		d.Name = "Extension"
		if e.Opcode == 32 {
			d.Name = "EndExtension"
		}
		for i := 1; i <= 8; i++ {
			d.add("GroupMask"+strconv.Itoa(i), p.u32("GroupMask"))
		}
		d.add("KernelEventVersion", p.u32("KernelEventVersion"))
	case 8:
		d.Name = "RDComplete"
	case 64:
		d.Name = "DbgIdRSDS"
		g := p.take(16, "Guid")
		age := p.u32("Age")
		name := p.astr("PdbName")
		if p.err == nil {
			d.add("Guid", guidAt(g))
			d.add("Age", age)
			d.add("PdbName", name)
		}
	case 66:
		d.Name = "BuildInfo"
		d.add("BuildString", p.astr("BuildString"))
	case 80:
		d.Name = "PartitionInfoExtension"
		d.add("EventVersion", p.u16("EventVersion"))
		p.u16("Reserved")
		d.add("PartitionType", p.u32("PartitionType"))
		d.add("QpcOffsetFromRoot", int64(p.u64("QpcOffsetFromRoot")))
		if g := p.take(16, "PartitionId"); g != nil {
			d.add("PartitionId", guidAt(g))
		}
		if g := p.take(16, "ParentId"); g != nil {
			d.add("ParentId", guidAt(g))
		}
	}
}

// Kernel-logger Registry class opcodes.
var registryOpcodeNames = map[uint8]string{
	10: "Create", 11: "Open", 12: "Delete", 13: "Query", 14: "SetValue", 15: "DeleteValue",
	16: "QueryValue", 17: "EnumerateKey", 18: "EnumerateValueKey", 19: "QueryMultipleValue",
	20: "SetInformation", 21: "Flush", 22: "KCBCreate", 23: "KCBDelete", 24: "KCBRundownBegin",
	25: "KCBRundownEnd", 26: "Virtualize", 27: "Close", 28: "SetSecurity", 29: "QuerySecurity",
	30: "TxRCommit", 31: "TxRPrepare", 32: "TxRRollback", 34: "Counters", 35: "Config",
	36: "HiveInit", 37: "HiveDestroy", 38: "HiveLink", 39: "HiveRundownDC", 40: "HiveDirty",
	48: "ChangeNotify",
}

// RegistryOpcodeName returns the name of a kernel-logger Registry opcode.
func RegistryOpcodeName(op uint8) string { return registryOpcodeNames[op] }

func decodeRegistryClass(e *Event, d *Decoded, p *payload) {
	d.Source = "Registry"
	d.Name = registryOpcodeNames[e.Opcode]
	add := func(name string, v any) {
		if p.err == nil {
			d.add(name, v)
		}
	}
	switch {
	case e.Opcode >= 10 && e.Opcode <= 29:
		switch e.Version {
		case 0:
			add("Status", p.pointer("Status"))
			add("KeyHandle", Pointer(p.pointer("KeyHandle")))
			add("ElapsedTime", int64(p.u64("ElapsedTime")))
		case 1:
			add("Status", p.pointer("Status"))
			add("KeyHandle", Pointer(p.pointer("KeyHandle")))
			add("ElapsedTime", int64(p.u64("ElapsedTime")))
			add("Index", p.u32("Index"))
		default:
			add("InitialTime", int64(p.u64("InitialTime")))
			add("Status", p.u32("Status"))
			add("Index", p.u32("Index"))
			add("KeyHandle", Pointer(p.pointer("KeyHandle")))
		}
		if p.err == nil && p.left() == 0 {
			return // some events end right after the handle
		}
		add("KeyName", p.wstr("KeyName"))
	case e.Opcode >= 30 && e.Opcode <= 32:
		if g := p.take(16, "TxrGUID"); g != nil {
			add("TxrGUID", guidAt(g))
		}
		add("Status", p.u32("Status"))
		add("UowCount", p.u32("UowCount"))
		add("OperationTime", p.u64("OperationTime"))
		add("Hive", p.wstr("Hive"))
	case e.Opcode == 35:
		add("CurrentControlSet", p.u32("CurrentControlSet"))
	case e.Opcode == 36:
		add("Hive", Pointer(p.pointer("Hive")))
		add("OperationType", p.u32("OperationType"))
		add("PoolTag", p.u32("PoolTag"))
		add("Size", p.u32("Size"))
		add("FileName", p.wstr("FileName"))
	case e.Opcode == 37:
		add("Hive", Pointer(p.pointer("Hive")))
		add("FileName", p.wstr("FileName"))
		add("Path", p.wstr("Path"))
	case e.Opcode == 38:
		add("Hive", Pointer(p.pointer("Hive")))
		add("Path", p.wstr("Path"))
	case e.Opcode == 39:
		add("Size", p.u64("Size"))
		add("Hive", Pointer(p.pointer("Hive")))
		add("LoadedKeyCount", p.u32("LoadedKeyCount"))
		add("FileName", p.wstr("FileName"))
		add("LinkPath", p.wstr("LinkPath"))
	case e.Opcode == 40:
		add("Hive", Pointer(p.pointer("Hive")))
		add("LinkPath", p.wstr("LinkPath"))
		add("DirtyReason", p.u32("DirtyReason"))
	case e.Opcode == 48:
		add("Notification", Pointer(p.pointer("Notification")))
		add("KeyHandle", Pointer(p.pointer("KeyHandle")))
		add("Type", p.u8("Type"))
		add("WatchSubtree", p.u8("WatchSubtree"))
		add("Primary", p.u8("Primary"))
	}
}

// Kernel-logger Process class opcodes.
var processOpcodeNames = map[uint8]string{
	1: "Start", 2: "End", 3: "DCStart", 4: "DCEnd", 11: "Terminate", 39: "Defunct",
	32: "PerfCtr", 33: "PerfCtrRundown", 35: "InSwap",
}

func decodeProcessClass(e *Event, d *Decoded, p *payload) {
	d.Source = "Process"
	d.Name = processOpcodeNames[e.Opcode]
	switch e.Opcode {
	case 1, 2, 3, 4, 39:
	case 11:
		if pid := p.u32("ProcessId"); p.err == nil {
			d.add("ProcessId", pid)
		}
		return
	default:
		return
	}
	add := func(name string, v any) {
		if p.err == nil {
			d.add(name, v)
		}
	}
	switch e.Version {
	case 0:
		add("ProcessId", p.pointer("ProcessId"))
		add("ParentId", p.pointer("ParentId"))
	case 1:
		add("PageDirectoryBase", Pointer(p.pointer("PageDirectoryBase")))
	default:
		add("UniqueProcessKey", Pointer(p.pointer("UniqueProcessKey")))
	}
	if e.Version >= 1 {
		add("ProcessId", p.u32("ProcessId"))
		add("ParentId", p.u32("ParentId"))
		add("SessionId", p.u32("SessionId"))
		add("ExitStatus", int64(int32(p.u32("ExitStatus"))))
	}
	if e.Version >= 3 {
		add("DirectoryTableBase", Pointer(p.pointer("DirectoryTableBase")))
	}
	if e.Version >= 4 {
		add("Flags", p.u32("Flags"))
	}
	if sid, ok := p.kernelSID("UserSID"); ok {
		add("UserSID", sid)
	}
	add("ImageFileName", p.astr("ImageFileName"))
	if e.Version >= 2 {
		add("CommandLine", p.wstr("CommandLine"))
	}
	if e.Version >= 4 {
		add("PackageFullName", p.wstr("PackageFullName"))
		add("ApplicationId", p.wstr("ApplicationId"))
	}
	if e.Version >= 5 && p.left() >= 8 {
		add("ExitTime", wintime.FromFiletime(p.u64("ExitTime")))
	}
}

func decodeThreadClass(e *Event, d *Decoded, p *payload) {
	d.Source = "Thread"
	names := map[uint8]string{1: "Start", 2: "End", 3: "DCStart", 4: "DCEnd"}
	d.Name = names[e.Opcode]
	if d.Name == "" {
		return
	}
	if e.Version == 0 {
		tid, pid := p.u32("TThreadId"), p.u32("ProcessId")
		if p.err == nil {
			d.add("TThreadId", tid)
			d.add("ProcessId", pid)
		}
		return
	}
	pid, tid := p.u32("ProcessId"), p.u32("TThreadId")
	if p.err == nil {
		d.add("ProcessId", pid)
		d.add("TThreadId", tid)
	}
}

// Kernel-Registry event names by id.
var kernelRegistryNames = map[uint16]string{
	1: "CreateKey", 2: "OpenKey", 3: "DeleteKey", 4: "QueryKey", 5: "SetValueKey", 6: "DeleteValueKey",
	7: "QueryValueKey", 8: "EnumerateKey", 9: "EnumerateValueKey", 10: "QueryMultipleValueKey",
	11: "SetInformationKey", 12: "FlushKey", 13: "CloseKey", 14: "QuerySecurityKey", 15: "SetSecurityKey",
}

// KernelRegistryEventName returns the name of a Kernel-Registry event id.
func KernelRegistryEventName(id uint16) string { return kernelRegistryNames[id] }

func decodeKernelRegistry(e *Event, d *Decoded, p *payload) {
	d.Source = "Kernel-Registry"
	d.Name = kernelRegistryNames[e.ID]
	if e.Version != 0 && d.Name != "" {
		// Every published manifest has version 0 only: decode with that
		// layout, and say so.
		defer func() {
			if d.Err == nil && p.err == nil {
				d.Err = fmt.Errorf("Kernel-Registry event %d version %d decoded with the version 0 layout", e.ID, e.Version)
			}
		}()
	}
	add := func(name string, v any) {
		if p.err == nil {
			d.add(name, v)
		}
	}
	captured := func(name, sizeName string) {
		if p.err != nil || p.left() < 2 {
			return // older builds end before the captured data
		}
		n := int(p.u16(sizeName))
		b := p.take(n, name)
		if p.err == nil {
			d.add(sizeName, uint64(n))
			d.add(name, b)
		}
	}
	switch e.ID {
	case 1, 2:
		add("BaseObject", Pointer(p.pointer("BaseObject")))
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("Disposition", p.u32("Disposition"))
		add("BaseName", p.wstr("BaseName"))
		add("RelativeName", p.wstr("RelativeName"))
	case 3, 12, 13, 14, 15:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("KeyName", p.wstr("KeyName"))
	case 4, 11:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("InfoClass", p.u32("InfoClass"))
		add("DataSize", p.u32("DataSize"))
		add("KeyName", p.wstr("KeyName"))
		captured("CapturedData", "CapturedDataSize")
	case 5:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("Type", p.u32("Type"))
		add("DataSize", p.u32("DataSize"))
		add("KeyName", p.wstr("KeyName"))
		add("ValueName", p.wstr("ValueName"))
		captured("CapturedData", "CapturedDataSize")
		if p.err == nil && p.left() >= 8 {
			add("PreviousDataType", p.u32("PreviousDataType"))
			add("PreviousDataSize", p.u32("PreviousDataSize"))
			captured("PreviousData", "PreviousDataCapturedSize")
		}
	case 6:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("KeyName", p.wstr("KeyName"))
		add("ValueName", p.wstr("ValueName"))
	case 7:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("InfoClass", p.u32("InfoClass"))
		add("DataSize", p.u32("DataSize"))
		add("KeyName", p.wstr("KeyName"))
		add("ValueName", p.wstr("ValueName"))
		captured("CapturedData", "CapturedDataSize")
	case 8, 9:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("Index", p.u32("Index"))
		add("InfoClass", p.u32("InfoClass"))
		add("DataSize", p.u32("DataSize"))
		add("KeyName", p.wstr("KeyName"))
		captured("CapturedData", "CapturedDataSize")
	case 10:
		add("KeyObject", Pointer(p.pointer("KeyObject")))
		add("Status", p.u32("Status"))
		add("EntryCount", p.u32("EntryCount"))
		add("DataSize", p.u32("DataSize"))
		add("KeyName", p.wstr("KeyName"))
	}
}

// Kernel-Process event names by id.
var kernelProcessNames = map[uint16]string{1: "ProcessStart", 2: "ProcessStop", 3: "ThreadStart", 4: "ThreadStop", 15: "ProcessRundown"}

func decodeKernelProcess(e *Event, d *Decoded, p *payload) {
	d.Source = "Kernel-Process"
	d.Name = kernelProcessNames[e.ID]
	add := func(name string, v any) {
		if p.err == nil {
			d.add(name, v)
		}
	}
	start := func(v uint8) { // v = ProcessStart template version 0..3
		add("ProcessID", p.u32("ProcessID"))
		if v >= 3 {
			add("ProcessSequenceNumber", p.u64("ProcessSequenceNumber"))
		}
		add("CreateTime", wintime.FromFiletime(p.u64("CreateTime")))
		add("ParentProcessID", p.u32("ParentProcessID"))
		if v >= 3 {
			add("ParentProcessSequenceNumber", p.u64("ParentProcessSequenceNumber"))
		}
		add("SessionID", p.u32("SessionID"))
		if v >= 1 {
			add("Flags", p.u32("Flags"))
		}
		if v >= 3 {
			add("ProcessTokenElevationType", p.u32("ProcessTokenElevationType"))
			add("ProcessTokenIsElevated", p.u32("ProcessTokenIsElevated"))
			add("MandatoryLabel", p.rawSID("MandatoryLabel"))
		}
		add("ImageName", p.wstr("ImageName"))
		if v >= 2 {
			add("ImageChecksum", p.u32("ImageChecksum"))
			add("TimeDateStamp", p.u32("TimeDateStamp"))
			add("PackageFullName", p.wstr("PackageFullName"))
			add("PackageRelativeAppId", p.wstr("PackageRelativeAppId"))
		}
	}
	switch e.ID {
	case 3, 4:
		// ThreadStart/ThreadStop: only the ids are needed (the thread map).
		if e.Version > 1 {
			return
		}
		add("ProcessID", p.u32("ProcessID"))
		add("ThreadID", p.u32("ThreadID"))
	case 1:
		if e.Version > 3 {
			return
		}
		start(e.Version)
	case 15:
		switch e.Version {
		case 0:
			start(2)
		case 1:
			start(3)
		}
	case 2:
		if e.Version > 2 {
			return
		}
		add("ProcessID", p.u32("ProcessID"))
		if e.Version >= 2 {
			add("ProcessSequenceNumber", p.u64("ProcessSequenceNumber"))
		}
		add("CreateTime", wintime.FromFiletime(p.u64("CreateTime")))
		add("ExitTime", wintime.FromFiletime(p.u64("ExitTime")))
		add("ExitCode", p.u32("ExitCode"))
		add("TokenElevationType", p.u32("TokenElevationType"))
		add("HandleCount", p.u32("HandleCount"))
		add("CommitCharge", p.u64("CommitCharge"))
		add("CommitPeak", p.u64("CommitPeak"))
		if e.Version >= 1 {
			add("CPUCycleCount", p.u64("CPUCycleCount"))
			for _, n := range []string{"ReadOperationCount", "WriteOperationCount", "ReadTransferKiloBytes", "WriteTransferKiloBytes", "HardFaultCount"} {
				add(n, p.u32(n))
			}
		}
		add("ImageName", p.astr("ImageName"))
	}
}
