package analyze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/gpo"
)

// GPOOptions says how to read a host's Group Policy files.
type GPOOptions struct {
	// Host names the host in the events.
	Host string
	// UserOf maps a user SID or a profile folder name (as found in a
	// history cache's path) to the user's SID and DOMAIN\name; nil, or ""
	// results, leave user policies under HKCU.
	UserOf func(sidOrFolder string) (sid, name string)
	// ReadFile reads an evidence file with a size bound (default
	// evidence.ReadFile, which also reads members of ZIP collections).
	ReadFile func(path string, max int64) ([]byte, error)
	// Open opens a script body for reading (default evidence.Open); only
	// the first gpo.MaxScriptBody bytes are read.
	Open func(path string, max int64) (io.ReadCloser, error)
	// Filter skips categories no rule wants (nil: all).
	Filter Filter
}

// sessionManagerEnv is the machine Environment key as rules name it.
const sessionManagerEnv = `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`

// GPOEvents reads the Group Policy files among files (kinds KindGPO and
// KindGPOScript; other files are ignored) and emits gpo_registry,
// gpo_script and gpp_environment events. A file that cannot be read or
// parsed is skipped and its error returned, joined with the others, after
// the remaining files were read; cancellation and an error from emit stop
// at once.
func GPOEvents(ctx context.Context, files []evidence.File, opts GPOOptions, emit Emit) error {
	if opts.ReadFile == nil {
		opts.ReadFile = evidence.ReadFile
	}
	if opts.Open == nil {
		opts.Open = evidence.Open
	}
	if opts.Filter == nil {
		opts.Filter = All
	}
	var bodies []evidence.File
	for _, f := range files {
		if f.Kind == evidence.KindGPOScript {
			bodies = append(bodies, f)
		}
	}
	var errs []error
	for _, f := range files {
		if f.Kind != evidence.KindGPO {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		g := &gpoFile{f: f, opts: &opts, emit: emit}
		g.sid, g.user = g.userOf()
		var err error
		switch strings.ToLower(pathBase(f.Path)) {
		case "registry.pol":
			if opts.Filter.WantCategory(event.GPORegistry) {
				err = g.pol()
			}
		case "registry.xml":
			if opts.Filter.WantCategory(event.GPORegistry) {
				err = g.registryXML()
			}
		case "scripts.ini", "psscripts.ini":
			if opts.Filter.WantCategory(event.GPOScript) {
				err = g.scripts(bodies)
			}
		case "environmentvariables.xml":
			if opts.Filter.WantCategory(event.GPPEnvironment) {
				err = g.environment()
			}
		}
		if err != nil {
			if errors.Is(err, errEmit) {
				return errors.Unwrap(err)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errEmit wraps an error returned by emit, which stops the analyzer.
var errEmit = errors.New("emit")

type emitError struct{ err error }

func (e emitError) Error() string        { return e.err.Error() }
func (e emitError) Is(target error) bool { return target == errEmit }
func (e emitError) Unwrap() error        { return e.err }

// gpoFile is one policy file being read.
type gpoFile struct {
	f         evidence.File
	opts      *GPOOptions
	emit      Emit
	sid, user string
}

// userOf returns the user a user-scope file belongs to: the SID its
// history folder is named after, or the user of its profile folder.
func (g *gpoFile) userOf() (string, string) {
	if g.f.Scope != "User" || g.opts.UserOf == nil {
		return g.f.SID, ""
	}
	for _, k := range []string{g.f.SID, g.f.Profile} {
		if k == "" {
			continue
		}
		if sid, name := g.opts.UserOf(k); sid != "" {
			return sid, name
		}
	}
	return g.f.SID, ""
}

// root is the registry root of the file's scope as rules name it.
func (g *gpoFile) root() string {
	if g.f.Scope == "Machine" {
		return "HKLM"
	}
	if g.sid != "" {
		return `HKU\` + g.sid
	}
	return "HKCU"
}

func (g *gpoFile) read(max int64) ([]byte, error) {
	return g.opts.ReadFile(g.f.Path, max)
}

// base returns an event of category c with the fields every Group Policy
// event carries.
func (g *gpoFile) base(c event.Category) *event.Event {
	ev := event.New(c, time.Time{})
	ev.Source = event.Source{Host: g.opts.Host, File: g.f.Path, Offset: -1}
	ev.Set("Host", g.opts.Host).Set("EvidenceFile", g.f.Path)
	if g.sid != "" {
		ev.Set("UserSid", g.sid)
	}
	if g.user != "" {
		ev.Set("User", g.user)
	}
	return ev
}

func (g *gpoFile) place(ev *event.Event) {
	scope := g.f.Scope
	ev.Set("Scope", scope).Set("GPOGuid", g.f.GPO).Set("PolicyFile", g.policyFile())
}

func (g *gpoFile) policyFile() string {
	if g.f.WinPath != "" {
		return g.f.WinPath
	}
	return g.f.Path
}

func (g *gpoFile) send(ev *event.Event) error {
	target := ev.String("TargetObject")
	if !g.opts.Filter.Want(ev.Category, target) {
		return nil
	}
	if err := g.emit(ev); err != nil {
		return emitError{err}
	}
	return nil
}

// pol emits one gpo_registry event per Registry.pol record, or per name a
// **DeleteValues / **DeleteKeys record lists.
func (g *gpoFile) pol() error {
	data, err := g.read(gpo.MaxFileSize)
	if err != nil {
		return err
	}
	// A damaged record ends the file; the records before it are still
	// what the policy applies, so they are reported with the error.
	p, perr := gpo.LoadPol(g.f.Path, data)
	if p == nil {
		return perr
	}
	root := g.root()
	for i := range p.Records {
		r := &p.Records[i]
		keyPath := root + `\` + strings.Trim(r.Key, `\`)
		d := r.DataValue()
		targets := r.Targets()
		if len(targets) == 0 {
			targets = []string{""}
		}
		for _, name := range targets {
			action := r.Action()
			ev := g.base(event.GPORegistry)
			ev.Source.Offset = r.Offset
			target := keyPath
			value := name
			switch action {
			case gpo.ActionDeleteKeys:
				target, value = keyPath+`\`+name, ""
			case gpo.ActionDeleteAllValues, gpo.ActionCreateKey, gpo.ActionSecureKey:
				value = ""
			default:
				target = keyPath + `\` + valueLabel(name)
			}
			ev.Set("TargetObject", target).Set("KeyPath", keyPath).Set("Key", r.Key).
				Set("ValueName", value).Set("RawValueName", r.ValueName).Set("Action", string(action)).
				Set("Type", r.Type.String())
			if action == gpo.ActionSet || action == gpo.ActionSoftSet || action == gpo.ActionSecureKey {
				ev.Set("Data", TypedData(d)).Set("Details", Details(d))
			} else {
				ev.Set("Data", "").Set("Details", "(Empty)")
			}
			ev.Set("Format", "Registry.pol")
			g.place(ev)
			if err := g.send(ev); err != nil {
				return err
			}
		}
	}
	return perr
}

// valueLabel names a value in a TargetObject the way Sysmon does: the
// default value is (Default).
func valueLabel(name string) string {
	if name == "" {
		return "(Default)"
	}
	return name
}

// gppRoot maps a GPP hive attribute to the rules' naming.
func (g *gpoFile) gppRoot(h string) string {
	switch strings.ToUpper(h) {
	case "HKEY_LOCAL_MACHINE", "HKLM":
		return "HKLM"
	case "HKEY_CURRENT_USER", "HKCU":
		if g.sid != "" {
			return `HKU\` + g.sid
		}
		return "HKCU"
	case "HKEY_USERS", "HKU":
		return "HKU"
	case "HKEY_CLASSES_ROOT", "HKCR":
		return "HKCR"
	case "HKEY_CURRENT_CONFIG", "HKCC":
		return "HKCC"
	}
	return h
}

// registryXML emits one gpo_registry event per GPP Registry item.
func (g *gpoFile) registryXML() error {
	data, err := g.read(gpo.MaxFileSize)
	if err != nil {
		return err
	}
	items, perr := gpo.LoadRegistryXML(g.f.Path, data) // items before a damaged one, with its error
	for _, it := range items {
		keyPath := g.gppRoot(it.Hive) + `\` + strings.Trim(it.Key, `\`)
		name := it.ValueName
		if it.Default {
			name = ""
		}
		ev := g.base(event.GPORegistry)
		ev.Set("TargetObject", keyPath+`\`+valueLabel(name)).Set("KeyPath", keyPath).Set("Key", it.Key).
			Set("ValueName", name).Set("RawValueName", it.ValueName).Set("Action", it.Action.Name()).
			Set("Type", it.Type)
		if it.Action == gpo.GPPDelete {
			ev.Set("Data", "").Set("Details", "(Empty)")
		} else {
			ev.Set("Data", gppData(it.Type, it.Value)).Set("Details", gppDetails(it.Type, it.Value))
		}
		ev.Set("Format", "GPP Registry.xml").Set("ItemName", it.Name).Set("Collection", it.Collection).Set("Disabled", it.Disabled)
		g.place(ev)
		if err := g.send(ev); err != nil {
			return err
		}
	}
	return perr
}

// gppData types a GPP value: DWORD/QWORD values are written in hex by the
// editor.
func gppData(typ, value string) any {
	switch typ {
	case "REG_DWORD", "REG_QWORD":
		if n, err := strconv.ParseUint(value, 16, 64); err == nil {
			return n
		}
	case "REG_MULTI_SZ":
		return strings.Split(value, " ")
	}
	return value
}

func gppDetails(typ, value string) string {
	switch typ {
	case "REG_DWORD":
		if n, err := strconv.ParseUint(value, 16, 32); err == nil {
			return fmt.Sprintf("DWORD (0x%08x)", n)
		}
	case "REG_QWORD":
		if n, err := strconv.ParseUint(value, 16, 64); err == nil {
			return fmt.Sprintf("QWORD (0x%08x-0x%08x)", n>>32, n&0xffffffff)
		}
	}
	if value == "" {
		return "(Empty)"
	}
	return value
}

// environment emits one gpp_environment event per item.
func (g *gpoFile) environment() error {
	data, err := g.read(gpo.MaxFileSize)
	if err != nil {
		return err
	}
	items, perr := gpo.LoadEnvironment(g.f.Path, data) // items before a damaged one, with its error
	for _, it := range items {
		ev := g.base(event.GPPEnvironment)
		keyPath := sessionManagerEnv
		if it.User {
			if g.sid != "" {
				keyPath = `HKU\` + g.sid + `\Environment`
			} else {
				keyPath = `HKCU\Environment`
			}
		}
		target := keyPath + `\` + it.VarName
		details := it.Value
		if details == "" {
			details = "(Empty)"
		}
		ev.Set("Action", it.Action.Name()).Set("Name", it.VarName).Set("Value", it.Value).
			Set("UserVariable", it.User).Set("Partial", it.Partial).Set("Disabled", it.Disabled).
			Set("ItemName", it.Name).Set("Collection", it.Collection).Set("Changed", it.Changed).
			Set("UID", it.UID).Set("TargetObject", target).Set("KeyPath", keyPath).Set("ValueName", it.VarName).
			Set("Details", details)
		g.place(ev)
		if err := g.send(ev); err != nil {
			return err
		}
	}
	return perr
}

// scripts emits one gpo_script event per scripts.ini/psscripts.ini entry,
// with the body of a relative script found among bodies.
func (g *gpoFile) scripts(bodies []evidence.File) error {
	data, err := g.read(gpo.MaxFileSize)
	if err != nil {
		return err
	}
	base := pathBase(g.f.Path)
	s, err := gpo.LoadScripts(g.f.Path, data, strings.EqualFold(base, "psscripts.ini"))
	if err != nil {
		return err
	}
	dir := pathKey(pathDir(g.f.Path))
	var errs []error
	for _, e := range s.Scripts {
		ev := g.base(event.GPOScript)
		ps := e.PowerShell || strings.HasSuffix(strings.ToLower(e.CmdLine), ".ps1")
		ev.Set("Phase", string(e.Phase)).Set("Index", int64(e.Index)).Set("CmdLine", e.CmdLine).
			Set("Parameters", e.Parameters).Set("PowerShell", ps)
		body, truncated, file, err := g.body(dir, e, bodies)
		if err != nil {
			errs = append(errs, err)
		}
		ev.Set("ScriptBody", body).Set("ScriptBodyTruncated", truncated).Set("ScriptFile", file)
		ev.Set("TargetObject", g.policyFile()+`\`+string(e.Phase)+`\`+strconv.Itoa(e.Index))
		ev.Set("Details", strings.TrimSpace(e.CmdLine+" "+e.Parameters))
		ev.Set("KeyPath", g.policyFile()+`\`+string(e.Phase)).Set("ValueName", strconv.Itoa(e.Index)+"CmdLine")
		g.place(ev)
		if err := g.send(ev); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// body finds and reads the script an entry names relative to the Scripts
// folder (<dir>\<Phase>\<CmdLine>), case-insensitively, among the host's
// script files.
func (g *gpoFile) body(dir string, e gpo.Script, bodies []evidence.File) (string, bool, string, error) {
	cmd := strings.Trim(e.CmdLine, `"`)
	if cmd == "" || strings.Contains(cmd, ":") || strings.HasPrefix(cmd, `\`) || strings.HasPrefix(cmd, "/") {
		return "", false, "", nil // a full or UNC path: not in the policy folder
	}
	want := dir + "/" + strings.ToLower(string(e.Phase)) + "/" + pathKey(cmd)
	for _, b := range bodies {
		if pathKey(b.Path) != want {
			continue
		}
		rc, err := g.opts.Open(b.Path, gpo.MaxFileSize)
		if err != nil {
			return "", false, b.Path, err
		}
		data, truncated, err := gpo.ReadBody(rc)
		rc.Close()
		if err != nil {
			return "", false, b.Path, fmt.Errorf("%s: %w", b.Path, err)
		}
		return gpo.DecodeText(data), truncated, b.Path, nil
	}
	return "", false, "", nil
}

// pathKey normalises a collection path for comparison: slashes, unescaped
// elements (%3A, %20 from triage tools), lower case.
func pathKey(p string) string {
	parts := strings.Split(strings.ReplaceAll(p, `\`, "/"), "/")
	for i, s := range parts {
		if strings.Contains(s, "%") {
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
		}
		parts[i] = strings.ToLower(s)
	}
	return strings.Join(parts, "/")
}

func pathBase(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

func pathDir(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[:i]
	}
	return ""
}
