package hivetest

import (
	"fmt"
	"strings"
	"time"
)

// sampleTime is a fixed FILETIME-precision time for fixtures.
var sampleTime = time.Date(2024, 3, 5, 10, 11, 12, 345678900, time.UTC)

// sampleTree exercises every feature the writer has: names in ASCII,
// Latin-1 and UTF-16, every value type, resident, ordinary and big data,
// class names, shared and distinct security descriptors, and a fan-out that
// needs an ri index.
func sampleTree(fanout int) *Key {
	userSD := MustSD("S-1-5-21-1-2-3-1001", SIDSystem,
		Allow("S-1-5-21-1-2-3-1001", KeyAllAccess, ObjectInherit|ContainerInherit),
		Allow(SIDSystem, KeyAllAccess, ObjectInherit|ContainerInherit))
	openSD := MustSD(SIDAdministrators, SIDSystem, Allow(SIDEveryone, KeySetValue, 0))
	big := make([]byte, 40000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	many := &Key{Name: "Many", LastWrite: sampleTime.Add(time.Hour)}
	for i := range fanout {
		many.Subkeys = append(many.Subkeys, &Key{Name: fmt.Sprintf("sub%05d", fanout-1-i), LastWrite: sampleTime.Add(time.Duration(i) * 100)})
	}
	return &Key{
		Name: "ROOT", LastWrite: sampleTime, Security: userSD,
		Subkeys: []*Key{
			{Name: "Environment", LastWrite: sampleTime.Add(time.Second), Security: openSD, Class: "EnvClass",
				Values: []Value{
					ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
					{Name: "GOPATH", Type: RegSZ, Data: UTF16(`C:\Users\alice\go`), Slack: UTF16(`\old\workspace`)},
					SZ("", "default value"),
				},
				DeletedValues: []Value{
					ExpandSZ("Path", `C:\Users\Public\tools;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
					DWORD("COR_ENABLE_PROFILING", 1),
				}},
			{Name: "Types", LastWrite: sampleTime.Add(2 * time.Second), Security: openSD,
				Values: []Value{
					Raw("none", RegNone, nil),
					SZ("sz", "text"),
					ExpandSZ("expand", "%TEMP%"),
					Binary("binary", []byte{1, 2, 3}),
					Binary("binary-empty", []byte{}),
					DWORD("dword", 0xdeadbeef),
					DWORDBigEndian("dword-be", 0x01020304),
					Link("link", `\Registry\Machine\Software`),
					MultiSZ("multi", "one", "two", "three"),
					Raw("resource-list", RegResourceList, []byte{9, 8, 7, 6, 5}),
					Raw("full-resource", RegFullResourceDescriptor, []byte{1}),
					Raw("requirements", RegResourceRequirementsList, []byte{2, 2}),
					QWORD("qword", 0x0102030405060708),
					Raw("unknown-type", 0x1234, []byte("odd")),
					Binary("big", big),
					Binary("almost-big", big[:BigDataSegment]),
				}},
			{Name: "Latin1-Café-ÿ", LastWrite: sampleTime.Add(3 * time.Second),
				Values: []Value{SZ("Näme", "wert")}},
			{Name: "UTF16-Ключ-鍵", LastWrite: sampleTime.Add(4 * time.Second), Class: "Класс",
				Values: []Value{SZ("Имя", "значение"), {Name: "forced", NameUTF16: true, Type: RegDWORD, Data: []byte{1, 0, 0, 0}}}},
			{Name: "ascii-forced-utf16", NameUTF16: true, LastWrite: sampleTime.Add(5 * time.Second)},
			many,
		},
	}
}

// joinPath is a test helper for key paths.
func joinPath(parts ...string) string { return strings.Join(parts, `\`) }
