package report

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/secdesc"
)

// Remediation formats accepted by NewRemediationWriter.
const (
	FormatPowerShell = "ps1"
	FormatReg        = "reg"
)

// RemediationFormatFor picks the remediation format from an output file
// name: "reg" for *.reg, else "ps1".
func RemediationFormatFor(name string) string {
	if strings.EqualFold(path.Ext(strings.ReplaceAll(name, `\`, "/")), ".reg") {
		return FormatReg
	}
	return FormatPowerShell
}

// RemediationOptions describes where a remediation script comes from, for
// its header.
type RemediationOptions struct {
	// Evidence lists the evidence paths the findings were read from.
	Evidence []string
	// Generator names the program and version ("envhunt 0.1.0").
	Generator string
}

// NewRemediationWriter returns a remediation script writer: "ps1" (a
// PowerShell script, see PowerShellWriter) or "reg" (a .reg file, see
// RegWriter). The writer takes findings like the other FindingWriters;
// each finding's steps are Finding.Actions, or DefaultActions when empty.
func NewRemediationWriter(format string, w io.Writer, opts RemediationOptions) (FindingWriter, error) {
	switch format {
	case FormatPowerShell:
		return NewPowerShellWriter(w, opts), nil
	case FormatReg:
		return NewRegWriter(w, opts), nil
	}
	return nil, fmt.Errorf("unknown remediation format %q: want ps1 or reg", format)
}

// baselineMachineEnvironmentSDDL is the DACL reset for the machine's
// Session Manager\Environment: in every era's baseline (secdesc.Baselines)
// all of its entries are inherited from the parent key, so the reset is an
// empty, unprotected DACL, which Windows refills with the parent's
// inheritable entries when Set-Acl writes it.
const baselineMachineEnvironmentSDDL = "D:AI"

var sidPattern = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+)+$`)

// BaselineSDDL returns the DACL (SDDL "D:" part) that resets one of the
// Environment keys to Windows' baseline: for the user's Environment, the
// Windows 10/11 baseline of secdesc.Baselines (protected; the user, SYSTEM
// and Administrators full control; RESTRICTED, ALL APPLICATION PACKAGES and
// the capability SID read), which needs the user's SID (from the key or
// userSID); for the machine's Session Manager\Environment, "D:AI"
// (inherit everything from the parent, as every Windows version does). ok
// is false for other keys, or a user key without a SID.
func BaselineSDDL(key, userSID string) (sddl string, ok bool) {
	switch secdesc.KindOf(key) {
	case secdesc.MachineEnvironment:
		return baselineMachineEnvironmentSDDL, true
	case secdesc.UserEnvironment:
		_, _, sid := splitKey(key)
		if sid == "" {
			sid = userSID
		}
		if !sidPattern.MatchString(sid) {
			return "", false
		}
		owner, err := secdesc.ParseSIDString(sid)
		if err != nil {
			return "", false
		}
		b, found := secdesc.FindBaseline(secdesc.UserEnvironment, "win10")
		if !found {
			return "", false
		}
		return b.DACLSDDL(owner), true
	}
	return "", false
}

// splitKey normalizes a registry path: root as the long name
// (HKEY_USERS, HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, ...), and for
// HKEY_USERS the SID (first component) and the rest.
func splitKey(key string) (root, sub, sid string) {
	key = strings.TrimPrefix(strings.TrimPrefix(key, `Registry::`), `\`)
	first, rest, _ := strings.Cut(key, `\`)
	switch strings.ToUpper(strings.TrimSuffix(first, ":")) {
	case "HKU", "HKEY_USERS":
		root = "HKEY_USERS"
		sid, sub, _ = strings.Cut(rest, `\`)
		return root, sub, sid
	case "HKLM", "HKEY_LOCAL_MACHINE":
		return "HKEY_LOCAL_MACHINE", rest, ""
	case "HKCU", "HKEY_CURRENT_USER":
		return "HKEY_CURRENT_USER", rest, ""
	case "HKCR", "HKEY_CLASSES_ROOT":
		return "HKEY_CLASSES_ROOT", rest, ""
	}
	return "", key, ""
}

// knownFix is the default step for a well-known value: remove it (it only
// exists when someone added it) or restore Windows' default.
type knownFix struct {
	keySuffix string // lowercased key suffix the value must be under ("" = any)
	kind      ActionKind
	typ       string
	data      string
}

var knownFixes = map[string]knownFix{
	"userinitmprlogonscript":   {`\environment`, ActionDeleteValue, "", ""},
	"cor_enable_profiling":     {`\environment`, ActionDeleteValue, "", ""},
	"cor_profiler":             {`\environment`, ActionDeleteValue, "", ""},
	"cor_profiler_path":        {`\environment`, ActionDeleteValue, "", ""},
	"coreclr_enable_profiling": {`\environment`, ActionDeleteValue, "", ""},
	"coreclr_profiler":         {`\environment`, ActionDeleteValue, "", ""},
	"coreclr_profiler_path":    {`\environment`, ActionDeleteValue, "", ""},
	"dotnet_startup_hooks":     {`\environment`, ActionDeleteValue, "", ""},
	"autorun":                  {"", ActionDeleteValue, "", ""},
	"comspec":                  {`\session manager\environment`, ActionSetValue, "REG_EXPAND_SZ", `%SystemRoot%\system32\cmd.exe`},
	"windir":                   {`\session manager\environment`, ActionSetValue, "REG_EXPAND_SZ", `%SystemRoot%`},
	"pathext":                  {`\session manager\environment`, ActionSetValue, "REG_SZ", `.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC`},
	"userinit":                 {`\windows nt\currentversion\winlogon`, ActionSetValue, "REG_SZ", `C:\Windows\system32\userinit.exe,`},
	"shell":                    {`\windows nt\currentversion\winlogon`, ActionSetValue, "REG_SZ", `explorer.exe`},
}

var guidPattern = regexp.MustCompile(`\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}`)

// DefaultActions returns the remediation steps for a finding: its Actions
// when set; otherwise, conservatively:
//
//   - pattern "acl": reset the key's DACL to its baseline (BaselineSDDL),
//     or a note when the baseline is not known;
//   - pattern "gpo": a note for the domain admin with the GPO's GUID and
//     name (event fields GPOGuid/GPOId/GPOName/GPODisplayName, else a
//     {GUID} in the key, source or data), since a local change would be
//     reapplied at the next policy refresh;
//   - a value that only exists when someone added it
//     (UserInitMprLogonScript, COR_*/CORECLR_* profiler values,
//     DOTNET_STARTUP_HOOKS, AutoRun): delete it;
//   - a changed machine ComSpec, windir or PATHEXT, or Winlogon Userinit or
//     Shell: restore the Windows default;
//   - anything else: a note to review the value by hand. envhunt never
//     guesses a value to delete or restore.
func DefaultActions(f *Finding) []Action {
	if len(f.Actions) > 0 {
		return f.Actions
	}
	review := Action{Kind: ActionNote, Key: f.Key, Value: f.Value,
		Note: "Review by hand; envhunt does not know a safe automatic fix for this finding."}
	switch f.Pattern {
	case "acl":
		if sddl, ok := BaselineSDDL(f.Key, f.UserSID); ok {
			note := "Reset the key's DACL to the Windows baseline."
			if sddl == baselineMachineEnvironmentSDDL {
				note = "Reset the key's DACL: drop its explicit entries and inherit from the parent key " +
					"(Session Manager) again, as Windows ships it. Check the parent's DACL first."
			}
			return []Action{{Kind: ActionResetACL, Key: f.Key, SDDL: sddl, Hive: f.Source, Note: note}}
		}
		review.Note = "Review the key's security descriptor by hand; envhunt has no baseline for this key."
		return []Action{review}
	case "gpo":
		id, name := gpoIdentity(f)
		note := "This comes from Group Policy: a local change is reapplied at the next policy refresh. Fix or unlink the GPO in the domain"
		if id == "" && name == "" {
			note += " (the GPO could not be identified from the evidence)."
		} else {
			note += "."
		}
		return []Action{{Kind: ActionNote, Key: f.Key, Value: f.Value, GPOID: id, GPOName: name, Note: note}}
	}
	if f.Value != "" {
		if fix, ok := knownFixes[strings.ToLower(f.Value)]; ok && strings.HasSuffix(strings.ToLower(f.Key), fix.keySuffix) {
			a := Action{Kind: fix.kind, Key: f.Key, Value: f.Value, ValueRaw: f.Raw["value"], Type: fix.typ, Hive: f.Source}
			if fix.kind == ActionSetValue {
				a.Data = fix.data
				a.Note = "Restore the Windows default."
			} else {
				a.Note = "Remove the value: Windows does not create it."
			}
			return []Action{a}
		}
	}
	return []Action{review}
}

func gpoIdentity(f *Finding) (id, name string) {
	if f.Event != nil {
		for _, k := range []string{"GPOGuid", "GPOId", "GPOID", "GPO"} {
			if v, ok := f.Event.Get(k); ok {
				if s := event.FormatValue(v); s != "" {
					id = s
					break
				}
			}
		}
		for _, k := range []string{"GPOName", "GPODisplayName", "DisplayName"} {
			if v, ok := f.Event.Get(k); ok {
				if s := event.FormatValue(v); s != "" {
					name = s
					break
				}
			}
		}
	}
	if id == "" {
		for _, s := range []string{f.Key, f.Source, f.Data} {
			if m := guidPattern.FindString(s); m != "" {
				id = m
				break
			}
		}
	}
	return id, name
}

// target is where a step writes: the PowerShell provider path and the .reg
// section name, after resolving HKCU.
type target struct {
	root, sub string // root long name and the path below it
	load      string // hive file to load first, when the key has no SID
	ok        bool
	why       string // why the key cannot be targeted
}

// resolveTarget maps an action's key to HKEY_USERS\<SID>, HKEY_LOCAL_MACHINE
// or a loaded copy of the user's hive; never HKEY_CURRENT_USER, which is
// whoever runs the script.
func resolveTarget(a Action, f *Finding) target {
	root, sub, sid := splitKey(a.Key)
	switch root {
	case "HKEY_USERS":
		if sid == "" {
			return target{why: "the key names no user"}
		}
		return target{root: root, sub: joinKey(sid, sub), ok: true}
	case "HKEY_LOCAL_MACHINE", "HKEY_CLASSES_ROOT":
		return target{root: root, sub: sub, ok: true}
	case "HKEY_CURRENT_USER":
		if sidPattern.MatchString(f.UserSID) {
			return target{root: "HKEY_USERS", sub: joinKey(f.UserSID, sub), ok: true}
		}
		hive := a.Hive
		if hive == "" {
			hive = f.Source
		}
		if hive == "" {
			return target{why: "the user's SID is unknown and no hive file is named to load"}
		}
		return target{root: "HKEY_USERS", sub: sub, load: hive, ok: true}
	}
	return target{why: "the key is not a full registry path"}
}

func joinKey(a, b string) string {
	if b == "" {
		return a
	}
	return a + `\` + b
}

// PowerShellWriter writes a remediation script for the responder to review
// and run on the live machine. envhunt never runs it. The script:
//
//   - starts with a header saying so, naming the evidence, and a $DryRun
//     switch that is $true: every change is passed -WhatIf:$DryRun, so a
//     first run only shows what it would do;
//   - has one commented block per finding (level, title, rule, key, value,
//     data, explanation; all as escaped ASCII comments) with its steps:
//     Set-ItemProperty for a value restore, Remove-ItemProperty for a
//     removal, Get-Acl/SetSecurityDescriptorSddlForm/Set-Acl for a DACL
//     reset, comments only for notes and Group Policy findings;
//   - targets Registry::HKEY_USERS\<SID>\... (or HKEY_LOCAL_MACHINE),
//     never HKCU:, and loads a user's hive with reg load HKU\envhunt_<n>
//     when the SID is not known (and unloads it at the end);
//   - quotes every name, value and path with PowerShellString, so nothing
//     from the evidence becomes code, and is pure ASCII.
type PowerShellWriter struct {
	w      *bufio.Writer
	opts   RemediationOptions
	n      int
	loaded map[string]string // hive file -> HKU mount name
	order  []string
	header bool
	err    error
}

// NewPowerShellWriter returns a PowerShell remediation writer on w.
func NewPowerShellWriter(w io.Writer, opts RemediationOptions) *PowerShellWriter {
	return &PowerShellWriter{w: bufio.NewWriter(w), opts: opts, loaded: map[string]string{}}
}

func (p *PowerShellWriter) line(s string) { p.w.WriteString(s + "\r\n") }
func (p *PowerShellWriter) comment(label, s string) {
	if s != "" {
		p.line("# " + label + commentText(s))
	}
}

func (p *PowerShellWriter) writeHeader() {
	if p.header {
		return
	}
	p.header = true
	gen := p.opts.Generator
	if gen == "" {
		gen = "envhunt"
	}
	p.line("# Remediation script generated by " + commentText(gen) + " from evidence:")
	if len(p.opts.Evidence) == 0 {
		p.line("#   (not recorded)")
	}
	for _, e := range p.opts.Evidence {
		p.line("#   " + commentText(e))
	}
	for _, s := range []string{
		"#",
		"# REVIEW BEFORE RUNNING. envhunt never runs this script. Each block below",
		"# answers one finding; compare it with the live machine and delete any step",
		"# you do not want. Names and values from the evidence are quoted as data.",
		"#",
		"# The script starts in dry-run mode: with $DryRun = $true every change is only",
		"# shown (-WhatIf). Set $DryRun = $false to apply the changes.",
		"# Run it as an administrator on the machine the evidence came from.",
		"",
		"#Requires -RunAsAdministrator",
		"Set-StrictMode -Version 2",
		"$ErrorActionPreference = 'Stop'",
		"$DryRun = $true",
	} {
		p.line(s)
	}
}

// WriteFinding writes the finding's block and steps.
func (p *PowerShellWriter) WriteFinding(f *Finding) error {
	if p.err != nil {
		return p.err
	}
	p.writeHeader()
	p.n++
	p.line("")
	p.line(fmt.Sprintf("# --- finding %d: [%s] %s", p.n, f.Level, commentText(f.Title)))
	p.comment("rule:   ", f.RuleID)
	p.comment("host:   ", f.Host)
	user := f.User
	if f.UserSID != "" {
		user = strings.TrimSpace(user + " (" + f.UserSID + ")")
	}
	p.comment("user:   ", user)
	p.comment("key:    ", f.Key)
	p.comment("value:  ", f.Value)
	p.comment("data:   ", f.Data)
	p.comment("source: ", f.Source)
	p.comment("why:    ", f.Explain)
	p.comment("fix:    ", f.Remediation)
	for _, a := range DefaultActions(f) {
		p.action(a, f)
	}
	return p.err
}

func (p *PowerShellWriter) action(a Action, f *Finding) {
	p.comment("step: ", a.Note)
	if a.Kind == ActionNote {
		if a.GPOID != "" || a.GPOName != "" {
			p.comment("GPO GUID: ", a.GPOID)
			p.comment("GPO name: ", a.GPOName)
		}
		return
	}
	t := resolveTarget(a, f)
	if !t.ok {
		p.comment("no step written: ", t.why+" ("+a.Key+")")
		return
	}
	if strings.Contains(t.sub, "/") {
		p.comment("no step written: ", "the key path holds '/', which PowerShell's registry provider reads as a separator ("+a.Key+")")
		return
	}
	sub := t.sub
	if t.load != "" {
		mount := p.load(t.load)
		sub = joinKey(mount, sub)
	}
	keyPath, exact := PowerShellString(`Registry::` + t.root + `\` + sub)
	if !exact {
		p.comment("warning: ", "the key path holds bytes that are not text; the path below may not match it")
	}
	switch a.Kind {
	case ActionSetValue:
		name, nameExact := p.valueName(a)
		value, typ, ok := psValue(a.Type, a.Data)
		if !ok {
			p.comment("no step written: ", fmt.Sprintf("cannot express %s data of Go type %T", a.Type, a.Data))
			return
		}
		if !nameExact {
			p.comment("warning: ", "the value name holds bytes that are not text; the name below may not match it")
		}
		p.line("Set-ItemProperty -LiteralPath " + keyPath + " -Name " + name + " -Value " + value + " -Type " + typ + " -WhatIf:$DryRun")
	case ActionDeleteValue:
		name, nameExact := p.valueName(a)
		if !nameExact {
			p.comment("warning: ", "the value name holds bytes that are not text; the name below may not match it")
		}
		if strings.ContainsAny(a.Value, "*?[]`") {
			// Remove-ItemProperty reads wildcards in -Name; delete the one
			// value by its exact name instead.
			hiveName := map[string]string{"HKEY_USERS": "Users", "HKEY_LOCAL_MACHINE": "LocalMachine", "HKEY_CLASSES_ROOT": "ClassesRoot"}[t.root]
			subExpr, _ := PowerShellString(sub)
			p.line("# The name holds wildcard characters: delete that exact value, not a pattern.")
			p.line("$key = [Microsoft.Win32.RegistryKey]::OpenBaseKey('" + hiveName + "', 'Default').OpenSubKey(" + subExpr + ", $true)")
			p.line("if ($DryRun) { Write-Host 'What if: delete value' " + name + " 'of' " + keyPath + " } else { $key.DeleteValue(" + name + ") }")
			p.line("$key.Close()")
			return
		}
		p.line("Remove-ItemProperty -LiteralPath " + keyPath + " -Name " + name + " -WhatIf:$DryRun")
	case ActionResetACL:
		sddl, _ := PowerShellString(a.SDDL)
		p.line("$acl = Get-Acl -LiteralPath " + keyPath)
		p.line("$acl.SetSecurityDescriptorSddlForm(" + sddl + ", [System.Security.AccessControl.AccessControlSections]::Access)")
		p.line("Set-Acl -LiteralPath " + keyPath + " -AclObject $acl -WhatIf:$DryRun")
	default:
		p.comment("no step written: ", "unknown action kind "+string(a.Kind))
	}
}

// valueName quotes a value name, from its UTF-16 bytes when the action has
// them; the default value is "(default)" to the PowerShell registry
// provider.
func (p *PowerShellWriter) valueName(a Action) (string, bool) {
	if len(a.ValueRaw) >= 2 {
		return PowerShellUTF16(a.ValueRaw), true
	}
	if a.Value == "" {
		return "'(default)'", true
	}
	return PowerShellString(a.Value)
}

// load emits the reg load step for a hive file the first time it is needed
// and returns its mount name under HKEY_USERS.
func (p *PowerShellWriter) load(hive string) string {
	if m, ok := p.loaded[hive]; ok {
		return m
	}
	m := "envhunt_" + strconv.Itoa(len(p.loaded)+1)
	p.loaded[hive] = m
	p.order = append(p.order, hive)
	file, exact := PowerShellString(hive)
	p.line("# The user's SID is not known: load a WORKING COPY of the user's hive (never the")
	p.line("# evidence itself) and change that. Edit the path to the copy on this machine.")
	p.line("# The load runs in dry-run mode too, so the preview can read the copy.")
	if !exact {
		p.comment("warning: ", "the hive path holds bytes that are not text")
	}
	p.line("& reg.exe load " + "'HKU\\" + m + "' " + file)
	p.line("if ($LASTEXITCODE -ne 0) { throw 'reg load failed: see the line above' }")
	return m
}

// Flush writes buffered script text to the underlying writer.
func (p *PowerShellWriter) Flush() error {
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}

// Close unloads any hive the script loaded, writes the end marker and
// flushes.
func (p *PowerShellWriter) Close() error {
	if p.err != nil {
		return p.err
	}
	p.writeHeader()
	if len(p.order) > 0 {
		p.line("")
		p.line("[gc]::Collect()")
		for _, h := range p.order {
			p.line("& reg.exe unload 'HKU\\" + p.loaded[h] + "'")
		}
	}
	p.line("")
	if p.n == 0 {
		p.line("# No findings: nothing to change.")
	}
	p.line("# End of envhunt remediation script.")
	return p.Flush()
}

// psValue renders registry data as a PowerShell value and the provider's
// -Type name.
func psValue(typ string, data any) (value, psType string, ok bool) {
	switch strings.ToUpper(typ) {
	case "REG_SZ", "REG_EXPAND_SZ":
		s, isStr := data.(string)
		if !isStr {
			return "", "", false
		}
		q, _ := PowerShellString(s)
		if strings.EqualFold(typ, "REG_SZ") {
			return q, "String", true
		}
		return q, "ExpandString", true
	case "REG_MULTI_SZ":
		list, isList := data.([]string)
		if !isList {
			return "", "", false
		}
		parts := make([]string, len(list))
		for i, s := range list {
			parts[i], _ = PowerShellString(s)
		}
		return "([string[]]@(" + strings.Join(parts, ", ") + "))", "MultiString", true
	case "REG_DWORD":
		v, isInt := toUint64(data)
		if !isInt || v > 0xffffffff {
			return "", "", false
		}
		return "([int32]" + strconv.FormatInt(int64(int32(uint32(v))), 10) + ")", "DWord", true
	case "REG_QWORD":
		v, isInt := toUint64(data)
		if !isInt {
			return "", "", false
		}
		return "([int64]" + strconv.FormatInt(int64(v), 10) + ")", "QWord", true
	case "REG_BINARY":
		b, isBytes := data.([]byte)
		if !isBytes {
			return "", "", false
		}
		parts := make([]string, len(b))
		for i, c := range b {
			parts[i] = fmt.Sprintf("0x%02X", c)
		}
		return "([byte[]]@(" + strings.Join(parts, ",") + "))", "Binary", true
	}
	return "", "", false
}

func toUint64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	case int32:
		return uint64(x), x >= 0
	case uint:
		return uint64(x), true
	}
	return 0, false
}

// RegWriter writes the remediation steps that a .reg file can express, in
// the format regedit exports (UTF-16LE with a byte-order mark, CRLF,
// "Windows Registry Editor Version 5.00"): [HKEY_USERS\<SID>\...] sections,
// "Name"=hex(2):... for REG_EXPAND_SZ (UTF-16LE with the trailing NUL),
// "Name"=- for a removal. DACL resets, notes, Group Policy findings and
// names a .reg file cannot carry safely (control characters, format
// characters, invalid text) are written as ; comments pointing to the
// PowerShell script. Keys without a SID are written under
// HKEY_USERS\envhunt_<n>, with a comment saying which hive to reg load there
// before importing.
type RegWriter struct {
	w      *bufio.Writer
	opts   RemediationOptions
	n      int
	loaded map[string]string
	header bool
	err    error
}

// NewRegWriter returns a .reg remediation writer on w.
func NewRegWriter(w io.Writer, opts RemediationOptions) *RegWriter {
	return &RegWriter{w: bufio.NewWriter(w), opts: opts, loaded: map[string]string{}}
}

func (r *RegWriter) line(s string) {
	u := utf16.Encode([]rune(s + "\r\n"))
	var b [2]byte
	for _, c := range u {
		binary.LittleEndian.PutUint16(b[:], c)
		r.w.Write(b[:])
	}
}

func (r *RegWriter) comment(label, s string) {
	if s != "" {
		r.line("; " + label + commentText(s))
	}
}

func (r *RegWriter) writeHeader() {
	if r.header {
		return
	}
	r.header = true
	r.w.Write([]byte{0xff, 0xfe})
	r.line("Windows Registry Editor Version 5.00")
	r.line("")
	gen := r.opts.Generator
	if gen == "" {
		gen = "envhunt"
	}
	r.line("; Remediation generated by " + commentText(gen) + " from evidence:")
	for _, e := range r.opts.Evidence {
		r.line(";   " + commentText(e))
	}
	r.line("; REVIEW BEFORE IMPORTING. envhunt never imports this file. Each section")
	r.line("; answers one finding; delete what you do not want. Steps a .reg file cannot")
	r.line("; express (DACL resets, Group Policy) are comments: use the .ps1 script.")
}

// WriteFinding writes the finding's steps.
func (r *RegWriter) WriteFinding(f *Finding) error {
	if r.err != nil {
		return r.err
	}
	r.writeHeader()
	r.n++
	r.line("")
	r.line(fmt.Sprintf("; --- finding %d: [%s] %s", r.n, f.Level, commentText(f.Title)))
	r.comment("rule:  ", f.RuleID)
	r.comment("key:   ", f.Key)
	r.comment("value: ", f.Value)
	r.comment("data:  ", f.Data)
	for _, a := range DefaultActions(f) {
		r.action(a, f)
	}
	return r.err
}

// regSafe reports whether s can go into a .reg key or value name as is.
func regSafe(s string) bool {
	return s == SafeTerminal(s) && !strings.ContainsAny(s, "\r\n")
}

func (r *RegWriter) action(a Action, f *Finding) {
	r.comment("step: ", a.Note)
	switch a.Kind {
	case ActionNote:
		r.comment("GPO GUID: ", a.GPOID)
		r.comment("GPO name: ", a.GPOName)
		return
	case ActionResetACL:
		r.comment("not expressible in .reg: ", "reset the DACL of "+a.Key+" to "+a.SDDL+" (see the .ps1 script)")
		return
	case ActionSetValue, ActionDeleteValue:
	default:
		r.comment("no step written: ", "unknown action kind "+string(a.Kind))
		return
	}
	t := resolveTarget(a, f)
	if !t.ok {
		r.comment("no step written: ", t.why+" ("+a.Key+")")
		return
	}
	sub := t.sub
	if t.load != "" {
		m, ok := r.loaded[t.load]
		if !ok {
			m = "envhunt_" + strconv.Itoa(len(r.loaded)+1)
			r.loaded[t.load] = m
		}
		r.comment("before importing: ", "reg load HKU\\"+m+" <working copy of "+t.load+">")
		sub = joinKey(m, sub)
	}
	section := t.root + `\` + sub
	if !regSafe(section) || strings.Contains(section, "]") {
		r.comment("no step written: ", "the key path cannot be written safely in a .reg file (use the .ps1 script): "+section)
		return
	}
	name := "@"
	if len(a.ValueRaw) > 0 {
		r.comment("no step written: ", "the value name is not valid UTF-16 and cannot be written in a .reg file (use the .ps1 script): "+a.Value)
		return
	}
	if a.Value != "" {
		if !regSafe(a.Value) {
			r.comment("no step written: ", "the value name cannot be written safely in a .reg file (use the .ps1 script): "+a.Value)
			return
		}
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a.Value) + `"`
	}
	var data string
	if a.Kind == ActionDeleteValue {
		data = "-"
	} else {
		var ok bool
		if data, ok = regData(a.Type, a.Data); !ok {
			r.comment("no step written: ", fmt.Sprintf("cannot express %s data of Go type %T", a.Type, a.Data))
			return
		}
	}
	r.line("[" + section + "]")
	r.line(name + "=" + data)
}

// regData renders data in .reg syntax.
func regData(typ string, data any) (string, bool) {
	switch strings.ToUpper(typ) {
	case "REG_SZ":
		s, ok := data.(string)
		if !ok {
			return "", false
		}
		if regSafe(s) {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, true
		}
		return regHex("hex(1):", utf16z(s)), true
	case "REG_EXPAND_SZ":
		s, ok := data.(string)
		if !ok {
			return "", false
		}
		return regHex("hex(2):", utf16z(s)), true
	case "REG_MULTI_SZ":
		list, ok := data.([]string)
		if !ok {
			return "", false
		}
		var b []byte
		for _, s := range list {
			b = append(b, utf16z(s)...)
		}
		return regHex("hex(7):", append(b, 0, 0)), true
	case "REG_DWORD":
		v, ok := toUint64(data)
		if !ok || v > 0xffffffff {
			return "", false
		}
		return fmt.Sprintf("dword:%08x", v), true
	case "REG_QWORD":
		v, ok := toUint64(data)
		if !ok {
			return "", false
		}
		return regHex("hex(b):", binary.LittleEndian.AppendUint64(nil, v)), true
	case "REG_BINARY":
		b, ok := data.([]byte)
		if !ok {
			return "", false
		}
		return regHex("hex:", b), true
	}
	return "", false
}

// utf16z encodes s as UTF-16LE with a terminating NUL; WTF-8 surrogates are
// kept as their code units.
func utf16z(s string) []byte {
	var units []uint16
	for i := 0; i < len(s); {
		if u, ok := wtf8Surrogate(s[i:]); ok {
			units = append(units, uint16(u))
			i += 3
			continue
		}
		r, n := decodeRune(s[i:])
		units = utf16.AppendRune(units, r)
		i += n
	}
	units = append(units, 0)
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// regHex writes bytes as regedit does: comma-separated hex pairs, lines
// continued with a backslash.
func regHex(prefix string, b []byte) string {
	var s strings.Builder
	s.WriteString(prefix)
	col := len(prefix) + 2 // the name and = precede it; close enough
	for i, c := range b {
		if i > 0 {
			s.WriteByte(',')
			col++
			if col > 76 {
				s.WriteString("\\\r\n  ")
				col = 2
			}
		}
		fmt.Fprintf(&s, "%02x", c)
		col += 2
	}
	return s.String()
}

// Flush writes buffered output to the underlying writer.
func (r *RegWriter) Flush() error {
	if r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}

// Close writes the header when nothing was written, and flushes.
func (r *RegWriter) Close() error {
	if r.err != nil {
		return r.err
	}
	r.writeHeader()
	return r.Flush()
}
