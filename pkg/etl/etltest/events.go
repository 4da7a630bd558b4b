package etltest

import (
	"time"
)

// Providers, as text.
const (
	KernelRegistry GUIDText = "70eb4f03-c1de-4f73-a051-33d13d5413bd"
	KernelProcess  GUIDText = "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"
)

// Kernel-logger class groups.
const (
	GroupProcess  = 0x03
	GroupThread   = 0x05
	GroupRegistry = 0x09
)

// Registry value types.
const (
	RegSZ       = 1
	RegExpandSZ = 2
	RegDWORD    = 4
)

// KernelRegistryCreateKey is the payload of Kernel-Registry CreateKey (1)
// and OpenKey (2).
func KernelRegistryCreateKey(ptr int, baseObject, keyObject uint64, status, disposition uint32, baseName, relativeName string) []byte {
	p := &Payload{Ptr: ptr}
	p.Pointer(baseObject).Pointer(keyObject).U32(status).U32(disposition).WString(baseName).WString(relativeName)
	return p.B
}

// KernelRegistrySetValue is the payload of Kernel-Registry SetValueKey (5).
// data is the captured data (nil when the session captured none); the
// previous-data fields are written empty.
func KernelRegistrySetValue(ptr int, keyObject uint64, status, typ, dataSize uint32, keyName, valueName string, data []byte) []byte {
	p := &Payload{Ptr: ptr}
	p.Pointer(keyObject).U32(status).U32(typ).U32(dataSize).WString(keyName).WString(valueName)
	p.U16(uint16(len(data))).Bytes(data)
	p.U32(0).U32(0).U16(0)
	return p.B
}

// KernelRegistryDeleteValue is the payload of Kernel-Registry
// DeleteValueKey (6).
func KernelRegistryDeleteValue(ptr int, keyObject uint64, status uint32, keyName, valueName string) []byte {
	p := &Payload{Ptr: ptr}
	p.Pointer(keyObject).U32(status).WString(keyName).WString(valueName)
	return p.B
}

// KernelRegistryKey is the payload of the Kernel-Registry events that carry
// only a key: DeleteKey (3), FlushKey (12), CloseKey (13), Query/SetSecurityKey.
func KernelRegistryKey(ptr int, keyObject uint64, status uint32, keyName string) []byte {
	p := &Payload{Ptr: ptr}
	p.Pointer(keyObject).U32(status).WString(keyName)
	return p.B
}

// RegistryV2 is the payload of a kernel-logger Registry class event,
// version 2 (Registry_TypeGroup1).
func RegistryV2(ptr int, initialTime int64, status, index uint32, keyHandle uint64, keyName string) []byte {
	p := &Payload{Ptr: ptr}
	p.U64(uint64(initialTime)).U32(status).U32(index).Pointer(keyHandle).WString(keyName)
	return p.B
}

// ProcessV4 is the payload of a kernel-logger Process class event,
// version 4 (Start, End, DCStart, DCEnd).
func ProcessV4(ptr int, uniqueKey uint64, pid, ppid, session uint32, exitStatus int32, dtb uint64, flags uint32, userSID, image, commandLine string) []byte {
	p := &Payload{Ptr: ptr}
	p.Pointer(uniqueKey).U32(pid).U32(ppid).U32(session).U32(uint32(exitStatus)).Pointer(dtb).U32(flags)
	p.KernelSID(userSID).AString(image).WString(commandLine).WString("").WString("")
	return p.B
}

// KernelProcessStartV1 is the payload of Kernel-Process ProcessStart (1),
// version 1.
func KernelProcessStartV1(pid uint32, create time.Time, ppid, session, flags uint32, imageName string) []byte {
	p := &Payload{}
	p.U32(pid).U64(filetime(create)).U32(ppid).U32(session).U32(flags).WString(imageName)
	return p.B
}

// KernelProcessStartV3 is the payload of Kernel-Process ProcessStart (1),
// version 3 (and ProcessRundown version 1).
func KernelProcessStartV3(pid uint32, seq uint64, create time.Time, ppid uint32, parentSeq uint64, session, flags, elevationType, elevated uint32, mandatoryLabel, imageName string) []byte {
	p := &Payload{}
	p.U32(pid).U64(seq).U64(filetime(create)).U32(ppid).U64(parentSeq).U32(session).U32(flags).U32(elevationType).U32(elevated)
	p.SID(mandatoryLabel).WString(imageName).U32(0).U32(0).WString("").WString("")
	return p.B
}

// UTF16Data encodes a registry string value's data (with its terminator).
func UTF16Data(s string) []byte { return UTF16z(s) }

// Write describes one registry value write by one process, for WriteTrace.
type Write struct {
	// PointerSize is 4 or 8 (default 8).
	PointerSize int
	// KernelLogger selects the kernel-logger Registry class (KCBCreate +
	// SetValue, value name and handle only) instead of
	// Microsoft-Windows-Kernel-Registry (OpenKey + SetValueKey with
	// captured data).
	KernelLogger bool
	// Compress writes the data buffers LZ77-compressed.
	Compress  bool
	Time      time.Time
	PID, PPID uint32
	TID       uint32
	UserSID   string
	// Image is the executable's file name as the kernel logger records it
	// ("x.exe"); CommandLine the full command line.
	Image       string
	CommandLine string
	// Key is the NT path of the key (\REGISTRY\USER\<SID>\Environment).
	Key    string
	Value  string
	Type   uint32
	Data   []byte
	Status uint32
}

// WriteTrace returns an ETL file in which a process (described by a
// kernel-logger Process Start event) writes one registry value. It is what
// the demo collection and the end-to-end tests use.
func WriteTrace(w Write) []byte {
	ptr := w.PointerSize
	if ptr != 4 {
		ptr = 8
	}
	at := w.Time
	if at.IsZero() {
		at = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)
	}
	if w.TID == 0 {
		w.TID = w.PID + 4
	}
	start := at.Add(-2 * time.Second)
	const obj = 0xffffc0000a1b2c30
	evs := []Event{
		{Header: System, Time: at.Add(-3 * time.Second), CPU: 0, PID: w.PPID, TID: 100, Group: GroupProcess, Opcode: 1, Version: 4,
			Payload: ProcessV4(ptr, 0xffffe0001afc4080, w.PID, w.PPID, 1, 259, 0x1a2b3000, 0, w.UserSID, w.Image, w.CommandLine)},
		{Header: System, Time: at.Add(-3 * time.Second), CPU: 0, PID: w.PID, TID: w.TID, Group: GroupThread, Opcode: 1, Version: 3,
			Payload: (&Payload{Ptr: ptr}).U32(w.PID).U32(w.TID).B},
	}
	if w.KernelLogger {
		const kcb = 0xffffc00009161820
		evs = append(evs,
			Event{Header: System, Time: start, CPU: 1, PID: w.PID, TID: w.TID, Group: GroupRegistry, Opcode: 22, Version: 2,
				Payload: RegistryV2(ptr, 0, 0, 0, kcb, w.Key)},
			Event{Header: System, Time: at, CPU: 1, PID: w.PID, TID: w.TID, Group: GroupRegistry, Opcode: 14, Version: 2,
				Payload: RegistryV2(ptr, 1156580683338, w.Status, 0, kcb, w.Value)},
		)
	} else {
		evs = append(evs,
			Event{Header: Manifest, Time: start, CPU: 1, PID: w.PID, TID: w.TID, Provider: KernelRegistry, ID: 2, Opcode: 33, Level: 4, Keywords: 0x2000,
				Payload: KernelRegistryCreateKey(ptr, 0, obj, 0, 0, "", w.Key)},
			Event{Header: Manifest, Time: at, CPU: 1, PID: w.PID, TID: w.TID, Provider: KernelRegistry, ID: 5, Opcode: 36, Level: 4, Keywords: 0x100,
				Payload: KernelRegistrySetValue(ptr, obj, w.Status, w.Type, uint32(len(w.Data)), "", w.Value, w.Data)},
			Event{Header: Manifest, Time: at.Add(time.Millisecond), CPU: 1, PID: w.PID, TID: w.TID, Provider: KernelRegistry, ID: 13, Opcode: 44, Level: 4, Keywords: 0x1,
				Payload: KernelRegistryKey(ptr, obj, 0, "")},
		)
	}
	return Build(Trace{PointerSize: ptr, StartTime: at.Add(-10 * time.Second), Events: evs, Compress: w.Compress})
}

func filetime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix()+11644473600)*10_000_000 + uint64(t.Nanosecond()/100)
}
