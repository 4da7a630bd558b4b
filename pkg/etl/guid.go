package etl

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a Windows GUID in its in-memory (and on-disk) byte order: Data1,
// Data2 and Data3 little-endian, Data4 as bytes.
type GUID [16]byte

// String renders the GUID in the usual lowercase form without braces,
// "70eb4f03-c1de-4f73-a051-33d13d5413bd".
func (g GUID) String() string {
	var b [36]byte
	d1 := binary.LittleEndian.Uint32(g[0:4])
	d2 := binary.LittleEndian.Uint16(g[4:6])
	d3 := binary.LittleEndian.Uint16(g[6:8])
	var tmp [8]byte
	binary.BigEndian.PutUint32(tmp[:4], d1)
	hex.Encode(b[0:8], tmp[:4])
	b[8] = '-'
	binary.BigEndian.PutUint16(tmp[:2], d2)
	hex.Encode(b[9:13], tmp[:2])
	b[13] = '-'
	binary.BigEndian.PutUint16(tmp[:2], d3)
	hex.Encode(b[14:18], tmp[:2])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g[10:16])
	return string(b[:])
}

// IsZero reports whether g is the all-zero GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// ParseGUID parses "70eb4f03-c1de-4f73-a051-33d13d5413bd", with or without
// braces, in any case.
func ParseGUID(s string) (GUID, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	var g GUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("etl: malformed GUID %q", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	raw, err := hex.DecodeString(h)
	if err != nil {
		return g, fmt.Errorf("etl: malformed GUID %q", s)
	}
	binary.LittleEndian.PutUint32(g[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(g[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(g[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(g[8:], raw[8:])
	return g, nil
}

// MustParseGUID is ParseGUID for constants; it panics on a malformed GUID
// and is only used with literals in this package and its tests.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// Well-known providers.
var (
	// EventTraceGUID is the group of the logfile header and its
	// companion events (kernel group 0).
	EventTraceGUID = MustParseGUID("68fdd900-4a3e-11d1-84f4-0000f80464e3")
	// KernelRegistryGUID is Microsoft-Windows-Kernel-Registry.
	KernelRegistryGUID = MustParseGUID("70eb4f03-c1de-4f73-a051-33d13d5413bd")
	// KernelProcessGUID is Microsoft-Windows-Kernel-Process.
	KernelProcessGUID = MustParseGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716")
	// RegistryClassGUID is the kernel logger's Registry class (group 9).
	RegistryClassGUID = MustParseGUID("ae53722e-c863-11d2-8659-00c04fa321a1")
	// ProcessClassGUID is the kernel logger's Process class (group 3).
	ProcessClassGUID = MustParseGUID("3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c")
	// ThreadClassGUID is the kernel logger's Thread class (group 5).
	ThreadClassGUID = MustParseGUID("3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c")
	// ImageClassGUID is the kernel logger's Image class (group 0x14).
	ImageClassGUID = MustParseGUID("2cb15d1d-5fc1-11d2-abe1-00a0c911f518")
)

type kernelGroup struct {
	guid GUID
	name string
}

// kernelGroups maps the high byte of a kernel hook id to its class GUID and
// name.
var kernelGroups = map[uint8]kernelGroup{}

// providerNames holds the names of well-known providers.
var providerNames = map[GUID]string{}

func init() {
	for _, g := range []struct {
		group uint8
		guid  string
		name  string
	}{
		{0x00, "68fdd900-4a3e-11d1-84f4-0000f80464e3", "EventTraceEvent"},
		{0x01, "3d6fa8d4-fe05-11d0-9dda-00c04fd7ba7c", "DiskIo"},
		{0x02, "3d6fa8d3-fe05-11d0-9dda-00c04fd7ba7c", "PageFault"},
		{0x03, "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", "Process"},
		{0x04, "90cbdc39-4a3e-11d1-84f4-0000f80464e3", "FileIo"},
		{0x05, "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", "Thread"},
		{0x06, "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", "TcpIp"},
		{0x07, "3282fc76-feed-498e-8aa7-e70f459d430e", "Job"},
		{0x08, "bf3a50c5-a9c9-4988-a005-2df0b7c80f80", "UdpIp"},
		{0x09, "ae53722e-c863-11d2-8659-00c04fa321a1", "Registry"},
		{0x0A, "13976d09-a327-438c-950b-7f03192815c7", "DbgPrint"},
		{0x0B, "01853a65-418f-4f36-aefc-dc0f1d2fd235", "EventTraceConfig"},
		{0x0C, "99134383-5248-43fc-834b-529454e75df3", "Spare1"},
		{0x0D, "42695762-ea50-497a-9068-5cbbb35e0b95", "Wnf"},
		{0x0E, "0268a8b6-74fd-4302-9dd0-6e8f1795c0cf", "Pool"},
		{0x0F, "ce1dbfb4-137e-4da6-87b0-3f59aa102cbc", "PerfInfo"},
		{0x10, "222962ab-6180-4b88-a825-346b75f2a24a", "Heap"},
		{0x11, "89497f50-effe-4440-8cf2-ce6b1cdcaca7", "Object"},
		{0x12, "e43445e0-0903-48c3-b878-ff0fccebdd04", "Power"},
		{0x13, "a9152f00-3f58-4bee-92a1-70c7d079d5dd", "ModBound"},
		{0x14, "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", "Image"},
		{0x15, "b2d14872-7c5b-463d-8419-ee9bf7d23e04", "Dpc"},
		{0x16, "7687a439-f752-45b8-b741-321aec0f8df9", "CC"},
		{0x17, "3ac66736-cc59-4cff-8115-8df50e39816b", "CritSec"},
		{0x18, "def2fe46-7bd6-4b80-bd94-f57fe20d0ce3", "StackWalk"},
		{0x19, "9aec974b-5b8e-4118-9b92-3186d8002ce5", "UMS"},
		{0x1A, "45d8cccd-539f-4b72-a8b7-5c683142609a", "ALPC"},
		{0x1B, "d837ca92-12b9-44a5-ad6a-3a65b3578aa8", "SplitIo"},
		{0x1C, "c861d0e2-a2c1-4d36-9f9c-970bab943a12", "ThreadPool"},
		{0x1D, "7f2a405c-69b5-4bf9-a1f5-30e8f1afab5e", "Hypervisor"},
		{0x1E, "2ce9a149-effe-42f0-a635-a1d39e26c8f2", "HypervisorX"},
	} {
		guid := MustParseGUID(g.guid)
		kernelGroups[g.group] = kernelGroup{guid, g.name}
		providerNames[guid] = g.name
	}
	providerNames[KernelRegistryGUID] = "Microsoft-Windows-Kernel-Registry"
	providerNames[KernelProcessGUID] = "Microsoft-Windows-Kernel-Process"
	providerNames[MustParseGUID("a0c1853b-5c40-4b15-8766-3cf1c58f985a")] = "Microsoft-Windows-PowerShell"
}

// ProviderName returns the name of a well-known provider or kernel class, or
// "" when the GUID is not one envhunt knows. TraceLogging events carry their
// provider's own name (Event.ProviderName).
func ProviderName(g GUID) string { return providerNames[g] }

// LookupProvider returns the GUID of a provider given by GUID text or by a
// well-known name (case-insensitive).
func LookupProvider(s string) (GUID, bool) {
	if g, err := ParseGUID(s); err == nil {
		return g, true
	}
	for g, n := range providerNames {
		if strings.EqualFold(n, s) {
			return g, true
		}
	}
	return GUID{}, false
}
