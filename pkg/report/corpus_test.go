package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// corpusRows returns one key_last_write row per key of a corpus hive.
func corpusRows(t *testing.T, elem ...string) []TimelineRow {
	t.Helper()
	path := testcorpus.Path(t, elem...)
	h, err := hive.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []TimelineRow
	err = h.Walk(context.Background(), func(k *hive.Key) error {
		rows = append(rows, TimelineRow{Time: k.LastWrite(), Source: "registry", Kind: "key_last_write",
			Host: "CORPUS", Key: k.Path(), Description: "key last written", File: path})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBodyfile_CorpusHivesThroughMactime writes a row per key of real hives
// (one with CR LF and NUL in key names, one with a C1 control) and checks
// that mactime lists every key exactly once. Key counts are EXPECTED.md's.
func TestBodyfile_CorpusHivesThroughMactime(t *testing.T) {
	mactime, err := exec.LookPath("mactime")
	if err != nil {
		t.Skip("mactime (Debian sleuthkit) not installed")
	}
	for _, tc := range []struct {
		elem []string
		keys int
	}{
		{[]string{"hives", "regipy", "NTUSER.DAT"}, 1812},
		{[]string{"hives", "yarp", "BogusKeyNamesHive"}, 3},
		{[]string{"hives", "yarp", "CompHive"}, 4},
	} {
		t.Run(tc.elem[len(tc.elem)-1], func(t *testing.T) {
			rows := corpusRows(t, tc.elem...)
			if len(rows) != tc.keys {
				t.Fatalf("walk gave %d keys, EXPECTED.md says %d", len(rows), tc.keys)
			}
			body := filepath.Join(t.TempDir(), "body")
			if err := os.WriteFile(body, writeTimeline(t, FormatBodyfile, rows), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(mactime, "-b", body, "-d", "-y", "-z", "UTC")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("mactime: %v %s", err, stderr.String())
			}
			recs, err := csv.NewReader(&stdout).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs)-1 != len(rows) {
				t.Fatalf("mactime listed %d rows for %d keys", len(recs)-1, len(rows))
			}
			seen := map[string]int{}
			for _, r := range recs[1:] {
				seen[r[7]]++
			}
			for _, r := range rows {
				if seen[SafeLine(TimelineName(r))] != 1 {
					t.Errorf("key %q not listed exactly once", r.Key)
				}
			}
		})
	}
}

// TestWriters_CorpusHostileNames runs the real hostile key names (CR LF,
// NUL, a C1 control) through the text, CSV and JSONL table writers.
func TestWriters_CorpusHostileNames(t *testing.T) {
	var rows []TimelineRow
	for _, name := range []string{"BogusKeyNamesHive", "CompHive"} {
		rows = append(rows, corpusRows(t, "hives", "yarp", name)...)
	}
	for _, format := range []string{FormatText, FormatCSV, FormatJSONL} {
		var buf bytes.Buffer
		w, _ := NewTableWriter(format, &buf, []string{"key", "last_write"}, TextOptions{})
		for _, r := range rows {
			w.WriteRow(r.Key, r.Time)
		}
		w.Close()
		out := buf.String()
		switch format {
		case FormatText:
			assertTerminalSafe(t, "table", out)
			if !strings.Contains(out, `testnew\x0d\x0ane`) || !strings.Contains(out, `testnu\x00l`) {
				t.Errorf("hostile key names not shown escaped:\n%s", out)
			}
		case FormatCSV:
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(recs) != len(rows)+1 {
				t.Errorf("CSV: %d records, %v", len(recs), err)
			}
		case FormatJSONL:
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(rows) {
				t.Fatalf("%d JSONL lines for %d rows", len(lines), len(rows))
			}
			for i, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil || m["key"] != rows[i].Key {
					t.Errorf("line %d: %v, key %q want %q", i, err, m["key"], rows[i].Key)
				}
			}
		}
	}
}
