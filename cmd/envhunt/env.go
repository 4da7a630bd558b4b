package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "env", summary: "the effective environment and PATH of each user, with origins and risks", run: runEnv})
}

func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env", "env [--system SYSTEM] [--software SOFTWARE] [--ntuser NTUSER.DAT]... [PATH...]", stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "text", "text", "json")
	system := fs.String("system", "", "the SYSTEM hive")
	software := fs.String("software", "", "the SOFTWARE hive")
	ntusers := fs.StringArray("ntuser", nil, "a user's NTUSER.DAT (repeatable)")
	roots := fs.StringArray("root", nil, "map a drive to a complete file system, e.g. C:=/mnt/c (repeatable), so PATH entries can be checked as present or missing")
	if err := parseChecked(fs, args, &hf, &of); err != nil {
		return err
	}
	inputs := append([]string(nil), fs.Args()...)
	for _, p := range append([]string{*system, *software}, *ntusers...) {
		if p != "" {
			inputs = append(inputs, p)
		}
	}
	if len(inputs) == 0 {
		return usageErrorf("env: give a collection folder, or --system/--software/--ntuser hive files")
	}
	var vols []envmodel.Volume
	for _, r := range *roots {
		drive, dir, ok := strings.Cut(r, "=")
		if !ok || len(drive) != 2 || drive[1] != ':' || dir == "" {
			return usageErrorf("--root %q: want DRIVE:=DIR, e.g. C:=/mnt/c", r)
		}
		vols = append(vols, envmodel.Volume{Drive: strings.ToUpper(drive), Dir: dir, Complete: true})
	}
	w, closeOut, err := of.open(stdout)
	if err != nil {
		return err
	}
	var hosts []*scan.HostEnvironment
	sum, err := scan.Environments(ctx, inputs, scan.Options{NoLogs: hf.noLogs, Logs: hf.logs, Roots: vols, HiveOptions: hf.limitOptions()}, func(h *scan.HostEnvironment) error {
		if of.format == "text" {
			return writeEnvText(w, h)
		}
		hosts = append(hosts, h)
		return nil
	})
	if err == nil && of.format == "json" {
		err = writeEnvJSON(w, hosts)
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return scanFailure(sum, err)
	}
	return scanExit(sum, 0, stderr)
}

// envJSONUser is the documented JSON shape of one user's environment.
type envJSONUser struct {
	Host        string         `json:"host"`
	SID         string         `json:"sid"`
	User        string         `json:"user"`
	Kind        string         `json:"kind"`
	ProfilePath string         `json:"profile_path"`
	Variables   []envJSONVar   `json:"variables"`
	Path        []envJSONEntry `json:"path"`
	Unknown     []string       `json:"unknown"`
	Go          []envJSONGo    `json:"go,omitempty"`
	Which       []envJSONWhich `json:"which"`
}

type envJSONWhich struct {
	Name         string   `json:"name"`
	Resolver     string   `json:"resolver"`
	Winner       string   `json:"winner"`
	Undetermined string   `json:"undetermined,omitempty"`
	Searched     []string `json:"searched"`
}

type envJSONOrigin struct {
	Scope     string `json:"scope"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Type      string `json:"type,omitempty"`
	File      string `json:"file,omitempty"`
	LastWrite string `json:"last_write,omitempty"`
}

type envJSONVar struct {
	Name       string         `json:"name"`
	Value      string         `json:"value"`
	Expanded   string         `json:"expanded"`
	Origin     envJSONOrigin  `json:"origin"`
	Overrides  *envJSONOrigin `json:"overrides,omitempty"`
	Appended   bool           `json:"appended,omitempty"`
	Unresolved []string       `json:"unresolved,omitempty"`
}

type envJSONEntry struct {
	Position int           `json:"position"`
	Raw      string        `json:"raw"`
	Expanded string        `json:"expanded"`
	Origin   envJSONOrigin `json:"origin"`
	Flags    []string      `json:"flags"`
	State    string        `json:"state"`
}

type envJSONGo struct {
	Name       string `json:"name"`
	Env        string `json:"environment,omitempty"`
	File       string `json:"go_env_file,omitempty"`
	Winner     string `json:"winner"`
	Overridden bool   `json:"overridden"`
}

func jsonOrigin(o envmodel.Origin) envJSONOrigin {
	return envJSONOrigin{Scope: string(o.Scope), Key: o.Key, Value: o.Value, Type: o.Type, File: o.File, LastWrite: wintime.Format(o.LastWrite)}
}

func writeEnvJSON(w io.Writer, hosts []*scan.HostEnvironment) error {
	out := []envJSONUser{}
	for _, h := range hosts {
		for _, u := range h.Users {
			ju := envJSONUser{Host: h.Host, SID: u.SID, User: u.Name, Kind: u.Kind, ProfilePath: u.ProfilePath, Unknown: u.Unknown, Variables: []envJSONVar{}, Path: []envJSONEntry{}}
			for _, v := range u.Variables {
				jv := envJSONVar{Name: v.Name, Value: v.Value, Expanded: v.Expanded, Origin: jsonOrigin(v.Origin), Appended: v.Appended, Unresolved: v.Unresolved}
				if v.Overrides != nil {
					o := jsonOrigin(v.Overrides.Origin)
					jv.Overrides = &o
				}
				ju.Variables = append(ju.Variables, jv)
			}
			for _, e := range u.Path {
				ju.Path = append(ju.Path, envJSONEntry{Position: e.Position, Raw: e.Raw, Expanded: e.Expanded, Origin: jsonOrigin(e.Origin), Flags: append([]string{}, e.Flags...), State: e.State})
			}
			for _, g := range u.Go {
				ju.Go = append(ju.Go, envJSONGo{Name: g.Name, Env: g.Env, File: g.FileValue, Winner: g.Winner, Overridden: g.Overridden})
			}
			ju.Which = []envJSONWhich{}
			for _, r := range u.Which {
				jw := envJSONWhich{Name: r.Name, Resolver: r.Resolver, Winner: r.Winner, Undetermined: r.Undetermined, Searched: []string{}}
				for _, c := range r.Candidates {
					jw.Searched = append(jw.Searched, c.Path+" ("+c.Where+": "+c.State+")")
				}
				ju.Which = append(ju.Which, jw)
			}
			out = append(out, ju)
		}
	}
	enc := json.NewEncoder(invisibleEscaper{w})
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeEnvText(w io.Writer, h *scan.HostEnvironment) error {
	t := report.SafeTerminal
	for _, u := range h.Users {
		who := u.Name
		if who == "" {
			who = u.Kind
		}
		fmt.Fprintf(w, "== host %s · %s %s (%s) ==\n", t(h.Host), u.Kind, t(who), t(u.SID))
		if u.ProfilePath != "" {
			fmt.Fprintf(w, "profile %s\n", t(u.ProfilePath))
		}
		fmt.Fprintln(w, "\nPATH")
		for _, e := range u.Path {
			fmt.Fprintf(w, "%3d  %-50s %-7s %-8s %s\n", e.Position, t(e.Expanded), e.Origin.Scope, e.State, strings.Join(e.Flags, ","))
		}
		fmt.Fprintln(w, "\nVARIABLES")
		for _, v := range u.Variables {
			val := v.Expanded
			if v.Expanded != v.Value {
				val += "   (stored: " + v.Value + ")"
			}
			fmt.Fprintf(w, "  %-24s %s\n      from %s\n", t(v.Name), t(val), t(v.Origin.String()))
			if v.Overrides != nil && !v.Appended {
				fmt.Fprintf(w, "      overrides %s = %s\n", t(v.Overrides.Origin.String()), t(v.Overrides.Value))
			}
			if len(v.Unresolved) > 0 {
				fmt.Fprintf(w, "      unresolved: %s\n", t(strings.Join(v.Unresolved, ", ")))
			}
		}
		if len(u.Go) > 0 {
			fmt.Fprintln(w, "\nGO SETTINGS (environment beats go env -w)")
			for _, g := range u.Go {
				fmt.Fprintf(w, "  %-12s env=%q file=%q -> %s", g.Name, t(g.Env), t(g.FileValue), g.Winner)
				if g.Overridden {
					fmt.Fprint(w, "  (go env -w value ignored)")
				}
				fmt.Fprintln(w)
			}
		}
		if len(u.Which) > 0 {
			fmt.Fprintln(w, "\nWHICH (what runs for a bare command name)")
			for _, r := range u.Which {
				winner := r.Winner
				if winner == "" {
					winner = "nothing found"
				}
				fmt.Fprintf(w, "  %-6s %-14s %s", t(r.Name), r.Resolver, t(winner))
				if r.Undetermined != "" {
					fmt.Fprintf(w, "  (unless %s exists: not in the evidence)", t(r.Undetermined))
				}
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintf(w, "\nunknown offline: %s\n\n", strings.Join(u.Unknown, ", "))
	}
	return nil
}
