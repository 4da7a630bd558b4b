package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/wintime"
)

func init() {
	register(command{name: "info", summary: "base block, recovery and size facts of a hive", run: runInfo})
}

// infoReport is the JSON shape of "info --format json".
type infoReport struct {
	File         string        `json:"file"`
	Size         int64         `json:"size"`
	ChecksumOK   bool          `json:"checksum_ok"`
	Dirty        bool          `json:"dirty"`
	PrimarySeq   uint32        `json:"primary_seq"`
	SecondarySeq uint32        `json:"secondary_seq"`
	LastWritten  string        `json:"last_written"`
	EmbeddedName string        `json:"embedded_name"`
	Version      string        `json:"version"`
	HiveType     string        `json:"hive_type"`
	HiveBinsSize uint32        `json:"hive_bins_size"`
	Logs         []infoLog     `json:"logs"`
	Recovered    bool          `json:"recovered"`
	Partial      bool          `json:"partial"`
	Keys         int           `json:"keys"`
	Values       int           `json:"values"`
	RootWrite    string        `json:"root_last_write"`
	Anomalies    []infoAnomaly `json:"anomalies"`
}

type infoLog struct {
	File     string `json:"file"`
	Format   string `json:"format"`
	Applied  bool   `json:"applied"`
	Entries  int    `json:"entries"`
	Pages    int    `json:"pages"`
	Sequence uint32 `json:"sequence"`
	Reason   string `json:"reason"`
}

type infoAnomaly struct {
	Offset  int64  `json:"offset"`
	Kind    string `json:"kind"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", "info HIVE [--format json|text] [--log FILE]... [--no-logs] [--output FILE]", stdout)
	var hf hiveFlags
	var of outputFlags
	hf.add(fs)
	of.add(fs, "text", "text", "json")
	if err := parseChecked(fs, args, &hf, &of); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("info: want exactly one hive file, got %d arguments", fs.NArg())
	}
	h, err := dumpOpenHive(fs.Arg(0), hf)
	if err != nil {
		return err
	}
	rep, err := infoCollect(ctx, h)
	if err != nil {
		return err
	}
	if err := of.writeDocument(stdout, rep, func(w io.Writer) error { return infoText(w, rep) }); err != nil {
		return fmt.Errorf("info: writing output: %w", err)
	}
	return dumpPartial(h)
}

func infoCollect(ctx context.Context, h *hive.Hive) (*infoReport, error) {
	bb := h.BaseBlock()
	rep := &infoReport{
		File: h.Name(), Size: h.Size(), ChecksumOK: bb.ChecksumOK, Dirty: h.Dirty(),
		PrimarySeq: bb.PrimarySeq, SecondarySeq: bb.SecondarySeq,
		LastWritten: wintime.Format(bb.LastWritten), EmbeddedName: bb.FileName,
		Version: fmt.Sprintf("%d.%d", bb.Major, bb.Minor), HiveType: h.Type().String(),
		HiveBinsSize: bb.HiveBinsSize, Recovered: h.Recovered(),
		Logs: []infoLog{}, Anomalies: []infoAnomaly{},
	}
	for _, l := range h.Logs() {
		rep.Logs = append(rep.Logs, infoLog{File: l.File, Format: l.Format, Applied: l.Applied, Entries: l.Entries, Pages: l.Pages, Sequence: l.Sequence, Reason: l.Reason})
	}
	if root, err := h.Root(); err == nil {
		rep.RootWrite = wintime.Format(root.LastWrite())
	}
	// Read everything a consumer could ask for, so that the anomaly list
	// and the partial flag cover the whole hive.
	err := h.Walk(ctx, func(k *hive.Key) error {
		rep.Keys++
		k.Security()
		k.ClassName()
		vs, _ := k.Values()
		rep.Values += len(vs)
		for _, v := range vs {
			v.Data()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Partial = h.Partial()
	for _, a := range h.Anomalies() {
		rep.Anomalies = append(rep.Anomalies, infoAnomaly{Offset: a.Offset, Kind: a.Kind, Key: a.Key, Message: a.Message})
	}
	return rep, nil
}

func infoText(w io.Writer, r *infoReport) error {
	var b strings.Builder
	line := func(k, format string, a ...any) {
		fmt.Fprintf(&b, "%-16s %s\n", k+":", report.SafeTerminal(fmt.Sprintf(format, a...)))
	}
	line("file", "%s", r.File)
	line("hive type", "%s", r.HiveType)
	line("size", "%d bytes (hive bins %d)", r.Size, r.HiveBinsSize)
	line("version", "%s", r.Version)
	line("embedded name", "%s", r.EmbeddedName)
	line("last written", "%s", r.LastWritten)
	line("sequence", "primary %d, secondary %d", r.PrimarySeq, r.SecondarySeq)
	line("checksum ok", "%v", r.ChecksumOK)
	line("dirty", "%v", r.Dirty)
	if len(r.Logs) == 0 {
		line("logs", "none")
	}
	for _, l := range r.Logs {
		state := "applied"
		if !l.Applied {
			state = "not applied"
		}
		detail := fmt.Sprintf("%s, %s, %d entries, %d pages", l.Format, state, l.Entries, l.Pages)
		if l.Applied {
			detail += fmt.Sprintf(", sequence now %d", l.Sequence)
		}
		if l.Reason != "" {
			detail += ": " + l.Reason
		}
		line("log", "%s (%s)", l.File, detail)
	}
	line("recovered", "%v", r.Recovered)
	line("keys", "%d", r.Keys)
	line("values", "%d", r.Values)
	line("root written", "%s", r.RootWrite)
	line("partial", "%v", r.Partial)
	for _, a := range r.Anomalies {
		msg := a.Message
		if a.Key != "" {
			msg = "key " + a.Key + ": " + msg
		}
		line("anomaly", "%#x %s: %s", a.Offset, a.Kind, msg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
