package casereport

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/scan"
)

// gaps lists what the evidence did not allow to check, and why.
func gaps(he *scan.HostEvidence, h *Host, opts Options) []Gap {
	m := he.Machine
	var out []Gap
	add := func(what, why string) { out = append(out, Gap{What: what, Why: why}) }
	if m.System == nil {
		add("SYSTEM hive absent", "machine Environment (Path, ComSpec, PATHEXT, windir), services and kernel drivers, Code Integrity callbacks, ComputerName, domain and time zone not checked")
	}
	if m.Software == nil {
		add("SOFTWARE hive absent", "Run keys, Winlogon, Command Processor AutoRun (machine), ProfileList (user names, roaming, mandatory and temporary status), Group Policy state and the OS identity not checked")
	}
	if m.SAM == nil {
		add("SAM hive absent", "local account names not confirmed from the SAM: names come from ProfileList or the profile folder")
	}
	users := 0
	for _, u := range m.Users {
		if !u.Template {
			users++
		}
	}
	if users == 0 {
		add("no user profile hive (NTUSER.DAT)", "no user Environment, user Run keys, logon scripts or user Group Policy scripts checked")
	}
	hives := append([]*hive.Hive{m.System, m.Software, m.SAM, m.Default}, m.Others...)
	names := map[*hive.Hive]string{}
	for _, u := range m.Users {
		hives = append(hives, u.Hive)
		label := u.Folder
		if label == "" {
			label = userLabel(u.Name, u.SID)
		}
		names[u.Hive] = filepath.Base(he.HiveFiles[u.Hive]) + " of " + label
	}
	for _, hv := range hives {
		if hv == nil {
			continue
		}
		name := names[hv]
		if name == "" {
			name = filepath.Base(he.HiveFiles[hv]) + " hive"
		}
		switch {
		case hv.Dirty() && !hv.Recovered() && opts.Scan.NoLogs:
			add(name+" dirty and its transaction logs not applied (--no-logs)", "newest writes may be absent")
		case hv.Dirty() && !hv.Recovered():
			add(name+" dirty and its logs missing or unusable", "newest writes may be absent")
		}
		if hv.Partial() {
			add(name+" read in part", fmt.Sprintf("%d anomalies: data in damaged cells may be missing (see envhunt info)", len(hv.Anomalies())))
		}
	}
	for _, u := range h.Users {
		if u.HiveState == "profile hive not in the collection" {
			add("profile hive of "+u.Label()+" not collected", "ProfileList names the profile ("+u.ProfilePath+") but its NTUSER.DAT is not in the evidence: that user's environment and persistence not checked")
		}
	}
	for _, u := range h.Users {
		if u.CentralProfile == "" || u.Hive == "" {
			continue
		}
		compared := false
		for _, rc := range he.Roaming {
			if strings.EqualFold(rc.User.SID, u.SID) {
				compared = true
			}
		}
		switch {
		case compared:
		case len(opts.Scan.Roaming) == 0:
			add("server copy of "+u.Label()+"'s roaming profile not given", "the profile roams ("+u.CentralProfile+"); without the server copy (--roaming) the sync conflict that can overwrite the Environment at logon was not checked")
		default:
			add("server copy of "+u.Label()+"'s roaming profile not found", "no folder named after the profile ("+u.CentralProfile+") under "+strings.Join(opts.Scan.Roaming, ", ")+": the roaming sync conflict was not checked")
		}
	}
	if he.Summary.Files[string(evidence.KindETL)] == 0 && he.Summary.Files[string(evidence.KindEVTX)] == 0 {
		add("no traces or event logs", "writing process unknown: findings rest on the registry state alone, and writes a registry callback undid leave no trace")
	} else if len(he.Writes) == 0 {
		add("no registry write in the traces and event logs", "the traces and event logs read hold no registry write that names a process: writing process unknown")
	}
	if he.Summary.Files[string(evidence.KindGPO)] == 0 {
		add("no Group Policy files (Registry.pol, scripts.ini, Group Policy Preferences XML)", "Group Policy checked only from the registry's record of scripts and policy state")
	}
	unknown := false
	for _, u := range he.Environment {
		for _, p := range u.Path {
			if p.State == envmodel.Unknown {
				unknown = true
			}
		}
	}
	if unknown {
		add("file system not (fully) in the collection", "PATH directories and GOROOT\\bin\\go.exe that the collection does not hold are shown as unknown, not missing")
	}
	if opts.NoHistory {
		add("history of Path, GOROOT and GOPATH not read", "left out as asked")
	} else if he.Summary.Files["snapshot hive"] == 0 {
		add("no config\\RegBack or Windows.old copies", "earlier states come only from transaction logs, free cells, value slack, roaming copies and traces")
	}
	return out
}
