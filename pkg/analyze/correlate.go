package analyze

import (
	"errors"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// CorrelateWithHive compares a registry_set event from a trace or an event
// log (one that names the writing process) with the host's hives and adds
// the Hive* fields: whether the hive holds the value now, with which data,
// and whether the write happened after the key's last write. A write whose
// key the trace could not resolve is left alone: it cannot be tied to a key.
// Events from hives themselves are left alone too.
func CorrelateWithHive(ev *event.Event, m *winreg.Machine) {
	if ev.Category != event.RegistrySet || m == nil {
		return
	}
	if _, fromProcess := ev.Get("Image"); !fromProcess {
		if _, fromTrace := ev.Get("KeyResolution"); !fromTrace {
			return
		}
	}
	if ev.String("KeyResolution") == "ambiguous" {
		return
	}
	keyPath, name := ev.String("KeyPath"), ev.String("ValueName")
	if keyPath == "" {
		target := ev.String("TargetObject")
		i := strings.LastIndexByte(target, '\\')
		if i <= 0 {
			return
		}
		keyPath, name = target[:i], target[i+1:]
	}
	if name == "(Default)" {
		name = ""
	}
	k, _, err := m.OpenKey(keyPath)
	if err != nil {
		if !errors.Is(err, winreg.ErrNoHive) {
			// The hive is in the evidence but the key is not.
			ev.Set("HiveValueExists", false).Set("HiveDiffers", true)
		}
		return
	}
	lw := k.LastWrite()
	ev.Set("HiveKeyLastWrite", lw)
	if !ev.Time.IsZero() && !lw.IsZero() {
		ev.Set("WrittenAfterHiveLastWrite", ev.Time.After(lw.Add(time.Millisecond)))
	}
	v, err := k.Value(name)
	if err != nil {
		ev.Set("HiveValueExists", false).Set("HiveDiffers", true)
		return
	}
	d, err := v.Decode()
	if err != nil {
		return
	}
	hiveDetails := Details(d)
	ev.Set("HiveValueExists", true).Set("HiveDetails", hiveDetails)
	if logged := ev.String("Details"); logged != "" {
		ev.Set("HiveDiffers", !strings.EqualFold(strings.TrimSpace(logged), strings.TrimSpace(hiveDetails)))
	}
}
