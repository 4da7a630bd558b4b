package analyze

import (
	"context"
	"strings"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// ServiceEvents emits one windows_service event per key under the current
// control set's Services key.
func ServiceEvents(ctx context.Context, m *winreg.Machine, file string, f Filter, emit Emit) error {
	cs := m.CurrentControlSetPath()
	if m.System == nil || cs == "" {
		return nil
	}
	base := m.KeyName(m.System, cs+`\Services`)
	if f == nil {
		f = All
	}
	if !f.Descend(base) {
		return nil
	}
	services, err := m.System.OpenKey(cs + `\Services`)
	if err != nil {
		return nil
	}
	subs, err := services.Subkeys()
	if err != nil && len(subs) == 0 {
		return err
	}
	root := systemRoot(m)
	for i, k := range subs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		name := base + `\` + k.Name()
		if !f.Want(event.WindowsService, name) {
			continue
		}
		ev := event.New(event.WindowsService, k.LastWrite())
		ev.Source = event.Source{Host: m.Host, File: file, Offset: k.Offset()}
		ev.Set("TargetObject", name).Set("ServiceName", k.Name())
		if img, ok := winreg.StringValue(k, "ImagePath"); ok {
			ev.Set("ImagePath", img).Set("ImagePathResolved", ResolveImagePath(img, root))
		}
		if t, ok := winreg.DWORDValue(k, "Type"); ok {
			ev.Set("ServiceType", int64(t)).Set("ServiceTypeName", serviceTypeName(t)).Set("IsDriver", t == 1 || t == 2)
		}
		if s, ok := winreg.DWORDValue(k, "Start"); ok {
			ev.Set("Start", int64(s)).Set("StartName", startName(s))
		}
		if s, ok := winreg.StringValue(k, "ObjectName"); ok {
			ev.Set("ObjectName", s)
		}
		if s, ok := winreg.StringValue(k, "DisplayName"); ok {
			ev.Set("DisplayName", s)
		}
		if p, err := k.Subkey("Parameters"); err == nil {
			if s, ok := winreg.StringValue(p, "ServiceDll"); ok {
				ev.Set("ServiceDll", s)
			}
		}
		ev.Set("LastWrite", k.LastWrite()).Set("Hive", "SYSTEM").Set("Host", m.Host).Set("EvidenceFile", file)
		if err := emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// systemRoot is the Windows directory from SOFTWARE's CurrentVersion, else
// C:\Windows.
func systemRoot(m *winreg.Machine) string {
	if m.Software != nil {
		if k, err := m.Software.OpenKey(`Microsoft\Windows NT\CurrentVersion`); err == nil {
			if s, ok := winreg.StringValue(k, "SystemRoot"); ok && s != "" {
				return strings.TrimRight(s, `\`)
			}
		}
	}
	return `C:\Windows`
}

// ResolveImagePath turns a service ImagePath into a Win32 path the way the
// service control manager and the kernel loader read it: "\??\" removed,
// "\SystemRoot\" and "%SystemRoot%" replaced by root, and a bare
// "system32\drivers\x.sys" taken relative to root. Quotes and arguments are
// kept as they are.
func ResolveImagePath(p, root string) string {
	s := strings.TrimSpace(p)
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, `\??\`):
		s = s[4:]
	case strings.HasPrefix(lower, `\systemroot\`):
		s = root + s[len(`\systemroot`):]
	case strings.HasPrefix(lower, `%systemroot%`):
		s = root + s[len(`%systemroot%`):]
	case strings.HasPrefix(lower, `system32\`) || strings.HasPrefix(lower, `syswow64\`):
		s = root + `\` + s
	}
	return s
}

func serviceTypeName(t uint64) string {
	switch {
	case t&0x1 != 0:
		return "kernel_driver"
	case t&0x2 != 0:
		return "file_system_driver"
	case t&0x40 != 0:
		return "user_service"
	case t&0x10 != 0:
		return "own_process"
	case t&0x20 != 0:
		return "share_process"
	}
	return "other"
}

func startName(s uint64) string {
	switch s {
	case 0:
		return "boot"
	case 1:
		return "system"
	case 2:
		return "auto"
	case 3:
		return "demand"
	case 4:
		return "disabled"
	}
	return "unknown"
}
