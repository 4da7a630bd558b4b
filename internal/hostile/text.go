package hostile

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/etl/etltest"
	"github.com/envhunt/envhunt/pkg/evtx/evtxtest"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// Strings are texts built to attack what envhunt's output goes into: a
// terminal (escape sequences, C0 and C1 controls, bidirectional
// overrides), a spreadsheet (formula prefixes), a timeline (the '|'
// separator, newlines), a script (quotes, subexpressions, statement
// separators), a JSON or CSV parser (invalid UTF-8 bytes, quotes) and an
// HTML or Markdown report (markup, links, table separators).
// Each is short enough for a key or value name.
var Strings = []string{
	"\x1b[31mred\x1b[0m\x1b]0;owned\x07",     // SGR colour and an OSC title change
	"\x1b]8;;http://evil.example/\x1b\\link", // OSC 8 hyperlink
	"bell\x07back\x08\x08space\x7fdel",
	"c1\u0085next\u009b31mcsi\u009d0;t\u009c",
	"rlo\u202egnp.exe",
	"lri\u2066x\u2069 fsi\u2068y\u2069 lre\u202az\u202c",
	"zero\u200bwidth\ufeffbom",
	"line1\nline2\rline3",
	"pipe|field|break",
	"=HYPERLINK(\"http://evil.example\",\"x\")",
	"+cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0",
	"@SUM(1+1)*cmd|' /C calc'!A0",
	"\t=1+1",
	"\r=1+1",
	"'; Remove-Item -Recurse C:\\ ; '",
	"$(Invoke-Expression 'calc')",
	"`\"; calc; \"`",
	"quote\"dq'sq`bt",
	"invalid\xff\xfeutf8\xc3",
	"nul\x00inside",
	"<script>alert(1)</script>",
	"\"><img src=x onerror=alert(1)>",
	"[click](javascript:alert(1)) <!-- | md | table | `code` *em* ",
}

// utf16Raw encodes units (any 16-bit values, lone surrogates included) as
// little-endian bytes.
func utf16Raw(units []uint16) []byte {
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return b
}

// loneSurrogate returns the UTF-16LE bytes of prefix, a lone high
// surrogate, a lone low surrogate and suffix.
func loneSurrogate(prefix, suffix string) []byte {
	u := utf16.Encode([]rune(prefix))
	u = append(u, 0xD800)
	u = append(u, utf16.Encode([]rune(suffix))...)
	u = append(u, 0xDC01)
	return utf16Raw(u)
}

// stringData is s as REG_SZ data: UTF-16LE with a terminating NUL. Bytes of
// s that are not valid UTF-8 become U+FFFD (the registry stores UTF-16).
func stringData(s string) []byte { return hivetest.UTF16(s) }

// UserSID is the SID of the user profile in HostileUserHive's collection.
const UserSID = "S-1-5-21-1111111111-2222222222-3333333333-1001"

// HostileUserTree returns a user hive (NTUSER.DAT) whose Environment key and
// other keys the rules read carry every string of Strings in key names,
// value names and data, plus names with lone surrogates, embedded NULs and
// right-to-left overrides stored as raw UTF-16. Values sit where the
// built-in rules look (Environment, Run, Command Processor), so findings
// quote them too.
func HostileUserTree() *hivetest.Key {
	t0 := time.Date(2025, 6, 10, 8, 30, 0, 1234567, time.UTC)
	env := &hivetest.Key{Name: "Environment", LastWrite: t0, Values: []hivetest.Value{
		hivetest.ExpandSZ("Path", `C:\Users\Public\bin;%USERPROFILE%\AppData\Local\Microsoft\WindowsApps`),
	}}
	run := &hivetest.Key{Name: "Run", LastWrite: t0}
	cmdProc := &hivetest.Key{Name: "Command Processor", LastWrite: t0}
	var odd []*hivetest.Key
	for i, s := range Strings {
		name := s
		env.Values = append(env.Values,
			hivetest.Value{Name: name, NameUTF16: true, Type: hivetest.RegSZ, Data: stringData(`C:\Users\Public\` + s)},
			hivetest.Value{Name: "GO" + string(rune('A'+i)), Type: hivetest.RegExpandSZ, Data: stringData(s + `;C:\Windows\Temp\x`)},
		)
		run.Values = append(run.Values, hivetest.Value{Name: name, NameUTF16: true, Type: hivetest.RegSZ,
			Data: stringData(`C:\Users\Public\` + s + `.exe`)})
		odd = append(odd, &hivetest.Key{Name: name, NameUTF16: true, LastWrite: t0.Add(time.Duration(i) * time.Second),
			Values: []hivetest.Value{hivetest.SZ(s, s), hivetest.MultiSZ("multi", s, "second "+s)}})
	}
	cmdProc.Values = append(cmdProc.Values, hivetest.SZ("AutoRun", Strings[0]+" & "+Strings[16]))
	env.Values = append(env.Values,
		hivetest.Value{NameRaw: loneSurrogate("lone", "name"), NameUTF16: true, Type: hivetest.RegSZ, Data: loneSurrogate("C:\\lone", "data")},
		hivetest.Value{NameRaw: utf16Raw(utf16.Encode([]rune("Path\x00hidden"))), NameUTF16: true, Type: hivetest.RegSZ, Data: stringData(`C:\Users\Public\hidden`)},
		hivetest.Value{NameRaw: utf16Raw(utf16.Encode([]rune("\u202eatad"))), NameUTF16: true, Type: hivetest.RegExpandSZ, Data: stringData(`C:\Temp\rlo`)},
		hivetest.Value{Name: "RawBinary", Type: hivetest.RegBinary, Data: []byte("\x1b[2J\x00\xff=cmd|calc\n")},
		hivetest.Value{Name: "OddType", Type: 0x7fff1234, Data: []byte("\x1b]0;t\x07")},
		hivetest.Value{Name: "OddSZ", Type: hivetest.RegSZ, Data: []byte{0x41, 0x00, 0x1b}}, // odd length
	)
	odd = append(odd,
		&hivetest.Key{NameRaw: loneSurrogate("lonekey", ""), NameUTF16: true, LastWrite: t0},
		&hivetest.Key{NameRaw: utf16Raw(utf16.Encode([]rune("Run\x00hidden"))), NameUTF16: true, LastWrite: t0,
			Values: []hivetest.Value{hivetest.SZ("x", "y")}},
	)
	return &hivetest.Key{Name: "ROOT", LastWrite: t0, Subkeys: []*hivetest.Key{
		env,
		{Name: "Software", LastWrite: t0, Subkeys: []*hivetest.Key{
			{Name: "Microsoft", LastWrite: t0, Subkeys: []*hivetest.Key{
				cmdProc,
				{Name: "Windows", LastWrite: t0, Subkeys: []*hivetest.Key{
					{Name: "CurrentVersion", LastWrite: t0, Subkeys: []*hivetest.Key{run}},
				}},
			}},
		}},
		{Name: "Hostile", LastWrite: t0, Subkeys: odd},
	}}
}

// HostileTraces returns ETL files in which a process whose image name and
// command line carry attack strings writes a registry value whose key
// name, value name and data carry them too (one file per string, Kernel-
// Registry events with captured data). Named trace-N.etl.
func HostileTraces() []Case {
	var out []Case
	for i, s := range Strings {
		out = append(out, Case{Name: fmt.Sprintf("trace-%02d.etl", i), Data: etltest.WriteTrace(etltest.Write{
			Time:        time.Date(2025, 6, 10, 9, 0, i, 1234567, time.UTC),
			PID:         4000 + uint32(i),
			PPID:        700,
			UserSID:     UserSID,
			Image:       s + ".exe",
			CommandLine: `C:\Windows\System32\cmd.exe /c ` + s,
			Key:         `\REGISTRY\USER\` + UserSID + `\Environment`,
			Value:       s,
			Type:        hivetest.RegSZ,
			Data:        stringData(`C:\Users\Public\` + s),
		})})
	}
	return out
}

// HostileEventLog returns a Sysmon event log (EVTX) with one registry
// value set (event 13) and one process creation (event 1) per string of
// Strings, the strings in TargetObject, Details, Image and CommandLine,
// as Data names too, and in the Computer name.
func HostileEventLog() []byte {
	var recs []evtxtest.Record
	t0 := time.Date(2025, 6, 10, 9, 30, 0, 1234567, time.UTC)
	for i, s := range Strings {
		recs = append(recs,
			evtxtest.Record{Provider: "Microsoft-Windows-Sysmon", EventID: 13, Time: t0.Add(time.Duration(i) * time.Second),
				RecordID: uint64(2*i + 1), ProcessID: 2000, Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "WS-DEV-07" + s,
				Data: []evtxtest.Data{
					{Name: "RuleName", Value: s},
					{Name: "EventType", Value: "SetValue"},
					{Name: "UtcTime", Value: "2025-06-10 09:30:00.123"},
					{Name: "ProcessId", Value: uint32(4000 + i)},
					{Name: "Image", Value: `C:\Users\Public\` + s + `.exe`},
					{Name: "TargetObject", Value: `HKU\` + UserSID + `\Environment\` + s},
					{Name: "Details", Value: `C:\Users\Public\` + s},
				}},
			evtxtest.Record{Provider: "Microsoft-Windows-Sysmon", EventID: 1, Time: t0.Add(time.Duration(i) * time.Second),
				RecordID: uint64(2*i + 2), ProcessID: 2000, Channel: "Microsoft-Windows-Sysmon/Operational", Computer: "WS-DEV-07",
				Data: []evtxtest.Data{
					{Name: "Image", Value: `C:\Users\Public\` + s + `.exe`},
					{Name: "CommandLine", Value: `setx PATH "` + s + `"`},
					{Name: s, Value: s},
				}},
		)
	}
	return evtxtest.File(recs, 16)
}
