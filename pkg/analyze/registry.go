package analyze

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// RegistryEvents walks every hive of m and emits one registry_key event per
// key and one registry_set event per value, as the filter allows. Subtrees
// the filter rules out are not walked. Problems reading a key are returned
// joined after the walk; the walk goes on past them.
func RegistryEvents(ctx context.Context, m *winreg.Machine, files map[*hive.Hive]string, f Filter, emit Emit) error {
	return RegistryEventsWith(ctx, m, RegistryOptions{Files: files}, f, emit)
}

// RegistryOptions tunes RegistryEventsWith.
type RegistryOptions struct {
	// Files maps hives to their evidence file names.
	Files map[*hive.Hive]string
	// OnDisk maps a hive recovered from its transaction logs to the same
	// file read without them. With it, only values that differ from the
	// file on disk (new or rewritten by the logs) are marked Recovered;
	// without it, every value of a recovered hive is.
	OnDisk map[*hive.Hive]*hive.Hive
}

// RegistryEventsWith is RegistryEvents with options.
func RegistryEventsWith(ctx context.Context, m *winreg.Machine, opts RegistryOptions, f Filter, emit Emit) error {
	if f == nil {
		f = All
	}
	var errs []error
	for _, h := range MachineHives(m) {
		if err := hiveEvents(ctx, m, h, opts.Files[h], opts.OnDisk[h], f, emit); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errStop) {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errStop wraps an error returned by emit so it is not taken for a hive
// problem.
var errStop = errors.New("stopped by the caller")

// MachineHives lists the hives of m in a stable order: SYSTEM, SOFTWARE,
// SECURITY, SAM, DEFAULT, then each user's NTUSER and UsrClass, then the
// rest.
func MachineHives(m *winreg.Machine) []*hive.Hive {
	var out []*hive.Hive
	for _, h := range []*hive.Hive{m.System, m.Software, m.Security, m.SAM, m.Default} {
		if h != nil {
			out = append(out, h)
		}
	}
	seen := map[*hive.Hive]bool{}
	for _, u := range m.Users {
		out = append(out, u.Hive)
		seen[u.Hive] = true
		if u.Classes != nil {
			out = append(out, u.Classes)
			seen[u.Classes] = true
		}
	}
	for _, h := range m.Others {
		if !seen[h] {
			out = append(out, h)
		}
	}
	return out
}

func hiveEvents(ctx context.Context, m *winreg.Machine, h *hive.Hive, file string, onDisk *hive.Hive, f Filter, emit Emit) error {
	if file == "" {
		file = h.Name()
	}
	user := m.UserOf(h)
	hiveType := h.Type().String()
	recovered := h.Recovered()
	isSystem := h == m.System && m.CurrentControlSet != 0
	return h.Walk(ctx, func(k *hive.Key) error {
		if isSystem && otherControlSet(k, m.CurrentControlSet) {
			// ControlSet00N other than the current one is the last-known-good
			// copy, not the live configuration: reporting it would repeat
			// every finding. Differences between the sets are an analysis of
			// their own.
			return hive.SkipKey
		}
		keyName := m.KeyName(h, k.Path())
		if !f.Descend(keyName) {
			return hive.SkipKey
		}
		lw := k.LastWrite()
		if f.Want(event.RegistryKey, keyName) {
			ev := event.New(event.RegistryKey, lw)
			ev.Source = event.Source{Host: m.Host, File: file, Offset: k.Offset()}
			ev.Set("EventType", "CreateKey").
				Set("TargetObject", keyName).
				Set("LastWrite", lw).
				Set("SubkeyCount", int64(k.SubkeyCount())).
				Set("ValueCount", int64(k.ValueCount()))
			if c := k.ClassName(); c != "" {
				ev.Set("ClassName", c)
			}
			if HiddenName(k.Name()) || !k.NameValid() {
				ev.Set("HiddenName", true)
			}
			commonFields(ev, m.Host, file, hiveType, user)
			if err := emit(ev); err != nil {
				return fmt.Errorf("%w: %w", errStop, err)
			}
		}
		if k.ValueCount() == 0 {
			return nil
		}
		vals, err := k.Values()
		if err != nil {
			// Reported through the hive's anomalies; keep what was read.
			if len(vals) == 0 {
				return nil
			}
		}
		for _, v := range vals {
			name := v.Name()
			shown := name
			if shown == "" {
				shown = "(Default)"
			}
			target := keyName + `\` + shown
			if !f.Want(event.RegistrySet, target) {
				continue
			}
			ev := ValueEvent(v, keyName, target)
			ev.Time = lw
			ev.Source = event.Source{Host: m.Host, File: file, Offset: k.Offset()}
			ev.Set("LastWrite", lw).Set("Hive", hiveType)
			if HiddenName(name) || !v.NameValid() {
				ev.Set("HiddenName", true)
			}
			if recovered && !sameOnDisk(onDisk, k.Path(), v) {
				ev.Set("Recovered", true)
			}
			commonFields(ev, m.Host, file, "", user)
			if err := emit(ev); err != nil {
				return fmt.Errorf("%w: %w", errStop, err)
			}
		}
		return nil
	})
}

// HiddenName reports whether a registry name hides what it is: an embedded
// NUL (regedit and the Win32 API stop at it, the "hidden Run value" trick),
// or a bidirectional override, embedding or isolate that makes it read
// differently from what it is.
func HiddenName(name string) bool {
	for _, r := range name {
		switch {
		case r == 0:
			return true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return true
		}
	}
	return false
}

// sameOnDisk reports whether the hive file without its logs holds value v
// of key path with the same type and data: then the value was not brought by
// log recovery.
func sameOnDisk(onDisk *hive.Hive, path string, v *hive.Value) bool {
	if onDisk == nil {
		return false
	}
	k, err := onDisk.OpenKey(path)
	if err != nil {
		return false
	}
	old, err := k.Value(v.Name())
	if err != nil || old.Type() != v.Type() {
		return false
	}
	a, err1 := old.Data()
	b, err2 := v.Data()
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// otherControlSet reports whether k is a ControlSet00N key (directly under
// the root) other than the current set.
func otherControlSet(k *hive.Key, current int) bool {
	p := k.Path()
	if len(p) != len("ControlSet001") || !strings.EqualFold(p[:10], "ControlSet") {
		return false
	}
	n := 0
	for _, c := range p[10:] {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n != current
}

func commonFields(ev *event.Event, host, file, hiveType string, u *winreg.User) {
	if hiveType != "" {
		ev.Set("Hive", hiveType)
	}
	ev.Set("Host", host).Set("EvidenceFile", file)
	if u != nil {
		if u.SID != "" {
			ev.Set("UserSid", u.SID)
		}
		if u.Name != "" {
			ev.Set("User", u.Name)
		}
	}
}

// ValueEvent builds the registry_set event of one hive value: EventType,
// TargetObject, Details (as Sysmon renders it), ValueName, ValueType, Data
// and KeyPath. Callers add the time, source and common fields.
func ValueEvent(v *hive.Value, keyName, target string) *event.Event {
	ev := event.New(event.RegistrySet, time.Time{})
	d, err := v.Decode()
	ev.Set("EventType", "SetValue").Set("TargetObject", target)
	if err != nil {
		ev.Set("Details", "Binary Data").Set("ValueName", v.Name()).Set("ValueType", v.Type().String())
		ev.Set("KeyPath", keyName)
		return ev
	}
	ev.Set("Details", Details(d)).
		Set("ValueName", v.Name()).
		Set("ValueType", d.Type.String()).
		Set("Data", TypedData(d)).
		Set("KeyPath", keyName)
	return ev
}

// Details renders value data the way Sysmon's event 13 does: DWORD
// (0x00000001), QWORD (0x00000000-0x00000001), (Empty) for empty data,
// Binary Data for binary types, else the string. REG_MULTI_SZ entries are
// joined with a space.
func Details(d hive.Data) string {
	switch d.Type {
	case hive.RegDWORD, hive.RegDWORDBigEndian:
		if len(d.Raw) == 0 {
			return "(Empty)"
		}
		return fmt.Sprintf("DWORD (0x%08x)", uint32(d.Int))
	case hive.RegQWORD:
		if len(d.Raw) == 0 {
			return "(Empty)"
		}
		return fmt.Sprintf("QWORD (0x%08x-0x%08x)", uint32(d.Int>>32), uint32(d.Int))
	case hive.RegSZ, hive.RegExpandSZ, hive.RegLink:
		if d.Text == "" {
			return "(Empty)"
		}
		return d.Text
	case hive.RegMultiSZ:
		if len(d.Strings) == 0 {
			return "(Empty)"
		}
		return strings.Join(d.Strings, " ")
	default:
		if len(d.Raw) == 0 {
			return "(Empty)"
		}
		return "Binary Data"
	}
}

// TypedData is the Data field: the string, the integer, the list of strings,
// or lowercase hex for other types.
func TypedData(d hive.Data) any {
	switch d.Type {
	case hive.RegSZ, hive.RegExpandSZ, hive.RegLink:
		return d.Text
	case hive.RegMultiSZ:
		return d.Strings
	case hive.RegDWORD, hive.RegDWORDBigEndian, hive.RegQWORD:
		if len(d.Raw) == 0 {
			return ""
		}
		return d.Int
	default:
		return hex.EncodeToString(d.Raw)
	}
}
