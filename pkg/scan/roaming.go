package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// serverCopy is a server-side copy of a user's profile hive.
type serverCopy struct {
	path    string
	version int // the .Vn suffix (0 for none)
}

// findServerCopy looks under the roaming folders for u's profile folder: by
// the profile folder name, the tail of ProfileList's CentralProfile, or the
// SID, each with or without a .V2–.V6 suffix; the highest version wins.
func findServerCopy(roots []string, m *winreg.Machine, u *winreg.User) (serverCopy, bool) {
	var names []string
	if u.Folder != "" {
		names = append(names, u.Folder)
	}
	if p, ok := m.Profiles[u.SID]; ok && p.CentralProfile != "" {
		cp := strings.TrimRight(strings.ReplaceAll(p.CentralProfile, "/", `\`), `\`)
		if i := strings.LastIndex(cp, `\`); i >= 0 {
			cp = cp[i+1:]
		}
		names = append(names, cp)
	}
	if u.SID != "" {
		names = append(names, u.SID)
	}
	best := serverCopy{version: -1}
	for _, root := range roots {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			base, version := splitVersion(e.Name())
			matched := false
			for _, n := range names {
				nb, _ := splitVersion(n)
				if strings.EqualFold(base, nb) {
					matched = true
				}
			}
			if !matched || version <= best.version {
				continue
			}
			for _, hiveName := range []string{"NTUSER.DAT", "NTUSER.MAN"} {
				if p, ok := findFold(filepath.Join(root, e.Name()), hiveName); ok {
					best = serverCopy{path: p, version: version}
					break
				}
			}
		}
	}
	return best, best.path != ""
}

// splitVersion splits "alice.V6" into ("alice", 6); names without a suffix
// give version 0.
func splitVersion(name string) (string, int) {
	i := strings.LastIndex(name, ".")
	if i > 0 && len(name) > i+2 && (name[i+1] == 'V' || name[i+1] == 'v') {
		if n, err := strconv.Atoi(name[i+2:]); err == nil && n >= 1 && n <= 99 {
			return name[:i], n
		}
	}
	return name, 0
}

// findFold finds a file by name in dir, case-insensitively.
func findFold(dir, name string) (string, bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.EqualFold(e.Name(), name) {
			return filepath.Join(dir, e.Name()), true
		}
	}
	return "", false
}

// roamingEvents compares each user's local hive with its server copy.
func roamingEvents(ctx context.Context, hc *hostContext, f analyze.Filter, emit analyze.Emit) error {
	if len(hc.opts.Roaming) == 0 {
		return nil
	}
	var errs []error
	for _, u := range hc.machine.Users {
		if u.Template || u.Hive == nil {
			continue
		}
		sc, ok := findServerCopy(hc.opts.Roaming, hc.machine, u)
		if !ok {
			continue
		}
		hopts := append([]hive.Option(nil), hc.opts.HiveOptions...)
		if hc.opts.NoLogs {
			hopts = append(hopts, hive.WithoutLogs())
		}
		server, err := hive.Open(sc.path, hopts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hc.sum.Files["roaming copy"]++
		if _, err := analyze.RoamingEvents(ctx, hc.machine, u, hc.files[u.Hive], server, sc.path, f, emit); err != nil {
			if isCancel(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s vs %s: %w", hc.files[u.Hive], sc.path, err))
		}
	}
	return errors.Join(errs...)
}
