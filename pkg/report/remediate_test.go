package report

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
)

const aliceSID = "S-1-5-21-1-2-3-1001"

func remediationFindings() []*Finding {
	return []*Finding{
		{Title: "GOROOT points to a public directory", Level: LevelHigh, Pattern: "path", UserSID: aliceSID,
			Key: `HKU\` + aliceSID + `\Environment`, Value: "GOROOT", Data: `C:\Users\Public\go`,
			Actions: []Action{{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "GOROOT",
				Type: "REG_EXPAND_SZ", Data: `%USERPROFILE%\go`, Note: "Restore the value the user set."}}},
		{Title: "Logon script", Level: LevelHigh, Pattern: "persistence", UserSID: aliceSID,
			Key: `HKU\` + aliceSID + `\Environment`, Value: "UserInitMprLogonScript", Data: `C:\Users\Public\x.bat`},
		{Title: "Environment writable by Everyone", Level: LevelCritical, Pattern: "acl", UserSID: aliceSID,
			Key: `HKU\` + aliceSID + `\Environment`},
		{Title: "Machine Environment writable by Users", Level: LevelCritical, Pattern: "acl",
			Key: `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`},
		{Title: "Logon script rewrites Path", Level: LevelHigh, Pattern: "gpo",
			Key:   `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon\0\0`,
			Event: ordereddict.NewDict().Set("GPOGuid", "{31B2F340-016D-11D2-945F-00C04FB984F9}").Set("GPOName", "Default Domain Policy")},
		{Title: "ComSpec changed", Level: LevelMedium, Pattern: "persistence",
			Key: `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, Value: "ComSpec", Data: `C:\Temp\cmd.exe`},
		{Title: "Profiler in a loose hive", Level: LevelHigh, Pattern: "persistence", Source: "/cases/loose/NTUSER.DAT",
			Key: `HKCU\Environment`, Value: "COR_PROFILER", Data: "{00000000-0000-0000-0000-000000000000}"},
		{Title: "Suspicious TEMP", Level: LevelLow, Pattern: "path", UserSID: aliceSID,
			Key: `HKU\` + aliceSID + `\Environment`, Value: "TEMP", Data: `\\evil\share`},
		{Title: "Typed restores", Level: LevelLow, Pattern: "misconfig", UserSID: aliceSID, Key: `HKU\` + aliceSID + `\Environment`,
			Actions: []Action{
				{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "Multi", Type: "REG_MULTI_SZ", Data: []string{"a", "b"}},
				{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "Dword", Type: "REG_DWORD", Data: uint32(0xffffffff)},
				{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "Qword", Type: "REG_QWORD", Data: uint64(1)},
				{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "", Type: "REG_BINARY", Data: []byte{1, 0xff}},
				{Kind: ActionSetValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "Bad", Type: "REG_DWORD", Data: "x"},
				{Kind: ActionDeleteValue, Key: `HKU\` + aliceSID + `\Environment`, Value: "Path*"},
			}},
	}
}

// hostileRemediation puts each hostile string into a value name and the
// data to restore, and into a name to remove.
func hostileRemediation() []*Finding {
	var out []*Finding
	key := `HKU\` + aliceSID + `\Environment`
	for _, h := range hostile {
		out = append(out, &Finding{Title: h, Level: LevelHigh, Pattern: "path", UserSID: aliceSID, Key: key, Value: h, Data: h,
			Explain: h, Source: h, Actions: []Action{
				{Kind: ActionSetValue, Key: key, Value: h, Type: "REG_EXPAND_SZ", Data: h, Note: h},
				{Kind: ActionSetValue, Key: key + `\` + h, Value: h, Type: "REG_SZ", Data: h},
				{Kind: ActionDeleteValue, Key: key, Value: h},
				{Kind: ActionResetACL, Key: key, SDDL: h},
				{Kind: ActionSetValue, Key: `HKCU\Environment`, Value: h, Type: "REG_MULTI_SZ", Data: []string{h, h}, Hive: h},
			}})
	}
	return out
}

func writeRemediation(t *testing.T, format string, fs []*Finding) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewRemediationWriter(format, &buf, RemediationOptions{Evidence: []string{"/cases/ws01"}, Generator: "envhunt test"})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, fs)
	return buf.Bytes()
}

func decodeUTF16File(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xfe || len(b)%2 != 0 {
		t.Fatalf(".reg file is not UTF-16LE with a byte-order mark")
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 2; i < len(b); i += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[i:]))
	}
	return string(utf16.Decode(u))
}

func TestRemediation_MatchGoldenFiles(t *testing.T) {
	golden(t, "remediation.ps1", writeRemediation(t, FormatPowerShell, remediationFindings()))
	// The .reg file is UTF-16LE; the golden copy is its text in UTF-8.
	golden(t, "remediation.reg.txt", []byte(decodeUTF16File(t, writeRemediation(t, FormatReg, remediationFindings()))))
}

// psExprPattern matches one quoted expression PowerShellString produces.
var psLiteral = regexp.MustCompile(`^'((?:[^']|'')*)'`)
var psChar = regexp.MustCompile(`^\[char\]0x([0-9A-F]{4})`)

// evalPowerShellString evaluates an expression PowerShellString produced,
// following PowerShell's rules for single-quoted strings, and returns the
// UTF-16 code units it denotes and the rest of the input.
func evalPowerShellString(t *testing.T, s string) ([]uint16, string) {
	t.Helper()
	if m := psLiteral.FindStringSubmatch(s); m != nil {
		return utf16.Encode([]rune(strings.ReplaceAll(m[1], "''", "'"))), s[len(m[0]):]
	}
	if !strings.HasPrefix(s, "(") {
		t.Fatalf("not a quoted expression: %q", s)
	}
	s = s[1:]
	var out []uint16
	for {
		if m := psLiteral.FindStringSubmatch(s); m != nil {
			out = append(out, utf16.Encode([]rune(strings.ReplaceAll(m[1], "''", "'")))...)
			s = s[len(m[0]):]
		} else if m := psChar.FindStringSubmatch(s); m != nil {
			v, _ := strconv.ParseUint(m[1], 16, 16)
			out = append(out, uint16(v))
			s = s[len(m[0]):]
		} else {
			t.Fatalf("unexpected token in %q", s)
		}
		if strings.HasPrefix(s, ")") {
			return out, s[1:]
		}
		if !strings.HasPrefix(s, " + ") {
			t.Fatalf("expected + in %q", s)
		}
		s = s[3:]
	}
}

// wtf16 returns the UTF-16 code units s stands for, keeping WTF-8 surrogates.
func wtf16(s string) []uint16 {
	b := utf16z(s)
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[i:]))
	}
	return u[:len(u)-1]
}

func TestPowerShellString_IsExactDataForHostileStrings(t *testing.T) {
	for _, h := range append(hostile, "", "plain", "'", "''", "\u2019", "😀") {
		expr, exact := PowerShellString(h)
		for _, c := range []byte(expr) {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("PowerShellString(%q) is not printable ASCII: %q", h, expr)
			}
		}
		got, rest := evalPowerShellString(t, expr)
		if rest != "" {
			t.Fatalf("PowerShellString(%q) = %q has trailing %q", h, expr, rest)
		}
		if !exact {
			if utf8.ValidString(h) {
				t.Errorf("PowerShellString(%q) not exact for valid text", h)
			}
			continue
		}
		if want := wtf16(h); !slicesEqual(got, want) {
			t.Errorf("PowerShellString(%q) = %q evaluates to %q", h, expr, string(utf16.Decode(got)))
		}
	}
}

func slicesEqual(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// codeLine matches every non-comment line the PowerShell writer may emit,
// with Q standing for a quoted expression.
var codeLines = []*regexp.Regexp{
	regexp.MustCompile(`^Set-ItemProperty -LiteralPath Q -Name Q -Value (Q|\(\[string\[\]\]@\((Q(, Q)*)?\)\)|\(\[int32\]-?\d+\)|\(\[int64\]-?\d+\)|\(\[byte\[\]\]@\([0-9A-Fx,]*\)\)) -Type (String|ExpandString|MultiString|DWord|QWord|Binary) -WhatIf:\$DryRun$`),
	regexp.MustCompile(`^Remove-ItemProperty -LiteralPath Q -Name Q -WhatIf:\$DryRun$`),
	regexp.MustCompile(`^\$acl = Get-Acl -LiteralPath Q$`),
	regexp.MustCompile(`^\$acl\.SetSecurityDescriptorSddlForm\(Q, \[System\.Security\.AccessControl\.AccessControlSections\]::Access\)$`),
	regexp.MustCompile(`^Set-Acl -LiteralPath Q -AclObject \$acl -WhatIf:\$DryRun$`),
	regexp.MustCompile(`^\$key = \[Microsoft\.Win32\.RegistryKey\]::OpenBaseKey\(Q, Q\)\.OpenSubKey\(Q, \$true\)$`),
	regexp.MustCompile(`^if \(\$DryRun\) \{ Write-Host Q Q Q Q \} else \{ \$key\.DeleteValue\(Q\) \}$`),
	regexp.MustCompile(`^\$key\.Close\(\)$`),
	regexp.MustCompile(`^& reg\.exe load Q Q$`),
	regexp.MustCompile(`^if \(\$LASTEXITCODE -ne 0\) \{ throw Q \}$`),
	regexp.MustCompile(`^& reg\.exe unload Q$`),
	regexp.MustCompile(`^\[gc\]::Collect\(\)$`),
	regexp.MustCompile(`^Set-StrictMode -Version 2$`),
	regexp.MustCompile(`^\$ErrorActionPreference = Q$`),
	regexp.MustCompile(`^\$DryRun = \$true$`),
	regexp.MustCompile(`^$`),
}

// quotedExpr matches a PowerShellString result inside a line.
var quotedExpr = regexp.MustCompile(`\((?:'(?:[^']|'')*'|\[char\]0x[0-9A-F]{4})(?: \+ (?:'(?:[^']|'')*'|\[char\]0x[0-9A-F]{4}))+\)|'(?:[^']|'')*'`)

func TestPowerShellWriter_HostileEvidenceStaysData(t *testing.T) {
	fs := append(remediationFindings(), hostileRemediation()...)
	out := string(writeRemediation(t, FormatPowerShell, fs))
	for i, c := range []byte(out) {
		if (c < 0x20 && c != '\r' && c != '\n') || c >= 0x7f {
			t.Fatalf("script byte %d is %#x: not printable ASCII", i, c)
		}
	}
	if strings.Contains(out, "HKCU:") || strings.Contains(out, "HKEY_CURRENT_USER") {
		t.Error("script targets the current user's hive")
	}
	checkScript(t, out)
	// The data of each hostile restore is exactly the hostile string.
	for _, h := range hostile {
		q, exact := PowerShellString(h)
		if exact && !strings.Contains(out, "-Name "+q+" -Value "+q+" -Type ExpandString") {
			t.Errorf("no exact restore step for %q", h)
		}
	}
}

func TestPowerShellWriter_LoadsHiveWhenSIDUnknown(t *testing.T) {
	out := string(writeRemediation(t, FormatPowerShell, remediationFindings()))
	for _, want := range []string{
		`& reg.exe load 'HKU\envhunt_1' '/cases/loose/NTUSER.DAT'`,
		`Remove-ItemProperty -LiteralPath 'Registry::HKEY_USERS\envhunt_1\Environment' -Name 'COR_PROFILER' -WhatIf:$DryRun`,
		`& reg.exe unload 'HKU\envhunt_1'`,
		`Set-ItemProperty -LiteralPath 'Registry::HKEY_USERS\` + aliceSID + `\Environment' -Name 'GOROOT' -Value '%USERPROFILE%\go' -Type ExpandString -WhatIf:$DryRun`,
		// The Windows 10/11 DACL of HKCU\Environment (BRIEF §6): the user,
		// SYSTEM and Administrators KEY_ALL_ACCESS, RESTRICTED, ALL
		// APPLICATION PACKAGES and the capability SID KEY_READ, OI|CI, not
		// inherited.
		`$acl.SetSecurityDescriptorSddlForm('D:P(A;OICI;KA;;;` + aliceSID + `)(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;RC)(A;OICI;KR;;;AC)(A;OICI;KR;;;S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681)', [System.Security.AccessControl.AccessControlSections]::Access)`,
		`# GPO GUID: {31B2F340-016D-11D2-945F-00C04FB984F9}`,
		`# GPO name: Default Domain Policy`,
		`-Name 'ComSpec' -Value '%SystemRoot%\system32\cmd.exe' -Type ExpandString`,
		`$key.DeleteValue('Path*')`,
		`$DryRun = $true`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("script lacks %q", want)
		}
	}
}

func TestRegWriter_EncodingAndHostileNames(t *testing.T) {
	out := decodeUTF16File(t, writeRemediation(t, FormatReg, append(remediationFindings(), hostileRemediation()...)))
	if !strings.HasPrefix(out, "Windows Registry Editor Version 5.00\r\n") {
		t.Fatal("missing .reg header")
	}
	// %USERPROFILE%\go as REG_EXPAND_SZ: UTF-16LE with the trailing NUL.
	var le []byte
	for _, u := range append(utf16.Encode([]rune(`%USERPROFILE%\go`)), 0) {
		le = binary.LittleEndian.AppendUint16(le, u)
	}
	want := `"GOROOT"=hex(2):` + hexPairs(le)
	if !strings.Contains(strings.ReplaceAll(out, "\\\r\n  ", ""), want) {
		t.Errorf(".reg lacks %s", want)
	}
	if !strings.Contains(out, `"UserInitMprLogonScript"=-`) {
		t.Error(".reg lacks the removal")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	cont := false
	for n, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF", n)
		}
		assertTerminalSafe(t, ".reg line", l)
		switch {
		case cont, l == "", strings.HasPrefix(l, ";"), strings.HasPrefix(l, "Windows Registry Editor"):
		case strings.HasPrefix(l, "[HKEY_USERS\\") || strings.HasPrefix(l, "[HKEY_LOCAL_MACHINE\\"):
			if strings.Count(l, "]") != 1 || !strings.HasSuffix(l, "]") {
				t.Errorf("line %d: bad section %q", n, l)
			}
		case regexp.MustCompile(`^(@|"(?:[^"\\]|\\.)*")=(-|"(?:[^"\\]|\\.)*"|dword:[0-9a-f]{8}|hex(\([0-9a-f]\))?:[0-9a-f,\\]*)$`).MatchString(l):
		default:
			t.Errorf("line %d is not a .reg statement: %q", n, l)
		}
		cont = strings.HasSuffix(l, "\\") && !strings.HasPrefix(l, ";")
	}
}

func hexPairs(b []byte) string {
	var s []string
	for _, c := range b {
		s = append(s, strconv.FormatUint(uint64(c)|0x100, 16)[1:])
	}
	return strings.Join(s, ",")
}

func TestDefaultActions_NeverGuessesAChange(t *testing.T) {
	for _, tc := range []struct {
		f    Finding
		want ActionKind
	}{
		{Finding{Pattern: "path", Key: `HKU\S-1-5-21-1\Environment`, Value: "Path"}, ActionNote},
		{Finding{Pattern: "persistence", Key: `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run`, Value: "Updater"}, ActionNote},
		{Finding{Pattern: "persistence", Key: `HKU\S-1-5-21-1\Environment`, Value: "DOTNET_STARTUP_HOOKS"}, ActionDeleteValue},
		{Finding{Pattern: "persistence", Key: `HKU\S-1-5-21-1\Software\Microsoft\Command Processor`, Value: "AutoRun"}, ActionDeleteValue},
		{Finding{Pattern: "persistence", Key: `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`, Value: "Userinit"}, ActionSetValue},
		{Finding{Pattern: "acl", Key: `HKLM\SOFTWARE\Foo`}, ActionNote},
		{Finding{Pattern: "acl", Key: `HKLM\SYSTEM\ControlSet001\Control\Session Manager\Environment`}, ActionResetACL},
		{Finding{Pattern: "acl", Key: `HKCU\Environment`}, ActionNote},
		{Finding{Pattern: "gpo", Key: `HKLM\SOFTWARE\Policies\x`}, ActionNote},
	} {
		if got := DefaultActions(&tc.f); len(got) != 1 || got[0].Kind != tc.want {
			t.Errorf("%s %s\\%s: got %+v, want %s", tc.f.Pattern, tc.f.Key, tc.f.Value, got, tc.want)
		}
	}
}

func TestRemediationFormatFor(t *testing.T) {
	if RemediationFormatFor(`C:\out\fix.REG`) != FormatReg || RemediationFormatFor("fix.ps1") != FormatPowerShell || RemediationFormatFor("fix") != FormatPowerShell {
		t.Error("wrong format from file name")
	}
}

func TestPowerShellWriter_LoneSurrogateNameFromRawBytes(t *testing.T) {
	// A value named "COR_PROFILER" + lone high surrogate, hard to delete
	// with regedit: the hive reader gives U+FFFD in the name and the
	// UTF-16LE bytes as raw; the step must name exactly those code units.
	units := append(utf16.Encode([]rune("COR_PROFILER")), 0xD800)
	var raw []byte
	for _, u := range units {
		raw = binary.LittleEndian.AppendUint16(raw, u)
	}
	f := &Finding{Title: "hidden profiler", Level: LevelHigh, Pattern: "persistence", UserSID: aliceSID,
		Key: `HKU\` + aliceSID + `\Environment`, Value: string(utf16.Decode(units)), Raw: map[string][]byte{"value": raw}}
	f.Actions = []Action{{Kind: ActionDeleteValue, Key: f.Key, Value: f.Value, ValueRaw: raw}}
	out := string(writeRemediation(t, FormatPowerShell, []*Finding{f}))
	checkScript(t, out)
	want := `-Name ('COR_PROFILER' + [char]0xD800)`
	if !strings.Contains(out, want) {
		t.Errorf("script lacks %s", want)
	}
	expr, _ := evalPowerShellString(t, PowerShellUTF16(raw))
	if !slicesEqual(expr, units) {
		t.Errorf("PowerShellUTF16 evaluates to %x, want %x", expr, units)
	}
	reg := decodeUTF16File(t, writeRemediation(t, FormatReg, []*Finding{f}))
	if strings.Contains(reg, `"=-`) {
		t.Error(".reg wrote a removal for a name it cannot express")
	}
}
