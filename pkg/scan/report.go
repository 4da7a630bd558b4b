package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/envhunt/envhunt/pkg/analyze"
	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/evidence"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/profile"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/winreg"
	builtinrules "github.com/envhunt/envhunt/rules"
)

// HostEvidence is everything one host's evidence gave: what a case report
// shows beyond the findings (the machine's registry, the effective
// environment, the evidence files with their digests, the roaming copies
// compared and the registry writes that name a process).
//
// The hives stay open (in memory) until the emit callback returns; a caller
// that keeps a HostEvidence keeps its hives.
type HostEvidence struct {
	Summary *HostSummary
	Machine *winreg.Machine
	// HiveFiles maps each opened hive to its evidence file.
	HiveFiles map[*hive.Hive]string
	// OnDisk maps a hive recovered with its transaction logs to the same
	// file read as it is on disk, without them.
	OnDisk map[*hive.Hive]*hive.Hive
	// Files are the evidence files, each with its size and SHA-256.
	Files []FileDigest
	// Environment is the effective environment of the host's users.
	Environment []*envmodel.User
	// Findings are the rule matches, sorted as the text report groups them.
	Findings []*report.Finding
	// Roaming are the server-side profile copies compared with local hives.
	Roaming []RoamingCopy
	// Writes are the registry_set events from traces and event logs that
	// name the writing process (Image), whatever the rules made of them.
	Writes []*event.Event
}

// FileDigest is one evidence file with the SHA-256 of its content.
type FileDigest struct {
	Path string
	// Kind is the evidence kind (SYSTEM, NTUSER, etl, ...), "log" for a
	// transaction log and "roaming copy" for a server-side profile hive.
	Kind string
	Size int64
	// SHA256 is the lowercase hex digest; "" when the file could not be
	// read (Err says why).
	SHA256 string
	// Parsed is true when the digest is of the very bytes that were parsed
	// (hives and their logs are read once, hashed while reading); false
	// when the file was hashed in its own pass and its parser read it
	// separately, or was not parsed at all.
	Parsed bool
	// Note says how the file was used ("not applied: --no-logs", ...).
	Note string
	Err  string
}

// RoamingCopy is the server copy of one user's roaming profile hive.
type RoamingCopy struct {
	User *winreg.User
	File string
	Hive *hive.Hive
	// Summary is the comparison with the local hive (nil when it failed).
	Summary *profile.Summary
}

// maxDigestFile bounds the evidence files read into memory for hashing and
// parsing (the hive reader's own limit); files hashed without being held
// are streamed.
const maxDigestFile = hive.DefaultMaxHiveSize

// Collect reads the evidence under inputs host by host, like Scan, and calls
// emit with everything each host gave (see HostEvidence). Hives and their
// transaction logs are read once, into memory, and hashed while they are
// read, so each digest is of exactly the bytes analysed; other evidence files
// are hashed in a streaming pass of their own. Hosts are read in parallel
// (Options.Jobs) and emitted in discovery order, from the caller's goroutine;
// at most Jobs hosts (plus the one being emitted) are held at once.
func Collect(ctx context.Context, inputs []string, opts Options, emit func(*HostEvidence) error) (*Summary, error) {
	rs := opts.Rules
	if rs == nil {
		var err error
		if rs, err = builtinrules.Load(); err != nil {
			return nil, err
		}
	}
	opts.Rules = rs
	hosts, err := discover(ctx, inputs, opts)
	if err != nil {
		return nil, err
	}
	// Each result holds its host's hives until emitted: a slot is freed
	// only then, so finished hosts waiting for their turn count too.
	sum := &Summary{}
	err = eachHost(ctx, hosts, opts.Jobs, true, func(ctx context.Context, h *evidence.Host) (*HostEvidence, error) {
		return collectHost(ctx, h, opts)
	}, func(he *HostEvidence) error {
		for _, f := range he.Findings {
			he.Summary.Findings.Add(f)
			sum.Findings.Add(f)
		}
		sum.Hosts = append(sum.Hosts, he.Summary)
		if opts.OnHost != nil {
			opts.OnHost(he.Summary)
		}
		return emit(he)
	})
	return sum, err
}

// collectHost reads one host; the error is non-nil only when ctx ends.
func collectHost(ctx context.Context, h *evidence.Host, opts Options) (*HostEvidence, error) {
	roaming := opts.Roaming
	opts.Roaming = nil // compared below, from hashed bytes
	hc, digests := openHostDigest(h, opts)
	he := &HostEvidence{Summary: hc.sum, Machine: hc.machine, HiveFiles: hc.files, OnDisk: hc.onDisk, Files: digests}
	rs := opts.Rules
	filter := newRuleFilter(rs)
	match := func(ev *event.Event) error {
		for _, m := range rs.Match(ev) {
			f := findingOf(m.Rule, ev)
			if opts.MinLevel != 0 && f.Level < opts.MinLevel {
				continue
			}
			he.Findings = append(he.Findings, f)
		}
		if ev.Category == event.RegistrySet && ev.String("Image") != "" {
			he.Writes = append(he.Writes, ev)
		}
		return nil
	}
	if err := hc.events(ctx, filter, match); err != nil {
		if isCancel(err) {
			return nil, err
		}
		hc.sum.Problems = append(hc.sum.Problems, err.Error())
	}
	if len(roaming) > 0 {
		for _, u := range hc.machine.Users {
			if u.Template || u.Hive == nil {
				continue
			}
			sc, ok := findServerCopy(roaming, hc.machine, u)
			if !ok {
				continue
			}
			server, ds := loadDigest(sc.path, "roaming copy", opts)
			he.Files = append(he.Files, ds...)
			if server == nil {
				hc.sum.Problems = append(hc.sum.Problems, ds[0].Err)
				continue
			}
			hc.sum.Files["roaming copy"]++
			s, err := analyze.RoamingEvents(ctx, hc.machine, u, hc.files[u.Hive], server, sc.path, filter, match)
			if err != nil {
				if isCancel(err) {
					return nil, err
				}
				hc.sum.Problems = append(hc.sum.Problems, fmt.Sprintf("%s vs %s: %v", hc.files[u.Hive], sc.path, err))
			}
			he.Roaming = append(he.Roaming, RoamingCopy{User: u, File: sc.path, Hive: server, Summary: s})
		}
	}
	he.Environment = hc.environment()
	hc.partialHives()
	report.SortFindings(he.Findings)
	return he, nil
}

// openHostDigest is openHost with every hive and log read once through a
// hash, and every other file hashed in a pass of its own.
func openHostDigest(h *evidence.Host, opts Options) (*hostContext, []FileDigest) {
	var digests []FileDigest
	hc := assembleHost(h, opts, func(f evidence.File) (*hive.Hive, *hive.Hive, error) {
		hv, disk, ds := loadHiveFile(f, opts)
		digests = append(digests, ds...)
		if hv == nil {
			return nil, nil, errors.New(ds[0].Err)
		}
		return hv, disk, nil
	}, func(f evidence.File) {
		kind := string(f.Kind)
		note := "read by its analyzer"
		if f.Snapshot != "" {
			kind = f.Snapshot + " " + kind
			note = "earlier state, not scanned as the live machine"
		}
		d := streamDigest(f.Path, kind)
		d.Note = note
		digests = append(digests, d)
		for _, l := range f.Logs {
			ld := streamDigest(l, "log")
			ld.Note = "log of " + f.Snapshot + " " + string(f.Kind) + ", read by the history"
			digests = append(digests, ld)
		}
	})
	return hc, digests
}

// loadHiveFile reads a hive and its transaction logs once each, hashing
// them, and loads it (recovered unless --no-logs) and, when the logs changed
// it, the same bytes as they are on disk.
func loadHiveFile(f evidence.File, opts Options) (hv, disk *hive.Hive, digests []FileDigest) {
	data, d := readDigest(f.Path, string(f.Kind), maxDigestFile)
	digests = append(digests, d)
	if d.Err != "" {
		return nil, nil, digests
	}
	hopts := append([]hive.Option(nil), opts.HiveOptions...)
	if opts.NoLogs {
		hopts = append(hopts, hive.WithoutLogs())
		for _, l := range f.Logs {
			ld := streamDigest(l, "log")
			ld.Note = "not applied (--no-logs)"
			digests = append(digests, ld)
		}
	} else {
		for _, l := range f.Logs {
			ldata, ld := readDigest(l, "log", hive.DefaultMaxLogSize)
			digests = append(digests, ld)
			if ld.Err == "" {
				hopts = append(hopts, hive.WithLogData(l, ldata))
			}
		}
		if len(f.Logs) == 0 {
			hopts = append(hopts, hive.WithoutLogs())
		}
	}
	hv, err := hive.Load(f.Path, data, hopts...)
	if err != nil {
		digests[0].Err = err.Error()
		return nil, nil, digests
	}
	for i := 1; i < len(digests); i++ {
		for _, l := range hv.Logs() {
			if l.File == digests[i].Path {
				if l.Applied {
					digests[i].Note = "applied"
				} else if digests[i].Note == "" {
					digests[i].Note = l.Reason
					if !strings.HasPrefix(l.Reason, "not applied") {
						digests[i].Note = "not applied: " + l.Reason
					}
				}
			}
		}
	}
	if hv.Recovered() {
		disk, _ = hive.Load(f.Path, data, append(append([]hive.Option(nil), opts.HiveOptions...), hive.WithoutLogs())...)
	}
	return hv, disk, digests
}

// loadDigest reads a hive that discovery did not list (a roaming copy),
// with the logs beside it, hashing each file.
func loadDigest(path, kind string, opts Options) (*hive.Hive, []FileDigest) {
	f := evidence.File{Path: path, Kind: evidence.KindNTUSER}
	if !opts.NoLogs {
		f.Logs = logsBeside(path)
	}
	hv, _, ds := loadHiveFile(f, opts)
	ds[0].Kind = kind
	return hv, ds
}

// logsBeside finds <name>.LOG, .LOG1 and .LOG2 beside a hive file,
// case-insensitively.
func logsBeside(path string) []string {
	var out []string
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for _, ext := range []string{".LOG", ".LOG1", ".LOG2"} {
		if p, ok := findFold(dir, base+ext); ok {
			out = append(out, p)
		}
	}
	return out
}

// readDigest reads a whole evidence file (at most max bytes), hashing it as
// it is read.
func readDigest(path, kind string, max int64) ([]byte, FileDigest) {
	d := FileDigest{Path: path, Kind: kind, Parsed: true}
	r, err := evidence.Open(path, max)
	if err != nil {
		d.Err = err.Error()
		return nil, d
	}
	defer r.Close()
	h := sha256.New()
	data, err := io.ReadAll(io.TeeReader(io.LimitReader(r, max+1), h))
	if err != nil {
		d.Err = fmt.Sprintf("%s: %v", path, err)
		return nil, d
	}
	if int64(len(data)) > max {
		d.Err = fmt.Sprintf("%s: larger than %d bytes, not read", path, max)
		return nil, d
	}
	d.Size = int64(len(data))
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return data, d
}

// streamDigest hashes a file without holding it.
func streamDigest(path, kind string) FileDigest {
	d := FileDigest{Path: path, Kind: kind}
	r, err := evidence.Open(path, maxDigestFile)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		d.Err = fmt.Sprintf("%s: %v", path, err)
		return d
	}
	d.Size = n
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d
}
