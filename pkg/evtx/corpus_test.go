package evtx

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// expectedFile holds the figures of one file from the corpus's EXPECTED.md,
// section "7. EVTX files".
type expectedFile struct {
	name     string
	records  int
	chunks   int // chunks with a signature (the "header count" column)
	eventIDs map[string]int
	// nReg, n4688, n4104 are the summary table's counts, which the detail
	// tables must match (a check on this parser as much as on the reader).
	nReg, n4688, n4104 int
	recovered          int        // evtxinfo's recovered records
	recoveredXML       int        // of them, rendered as XML by evtxexport
	registry           [][]string // record, EventRecordID, UtcTime, EventID, EventType, TargetObject, Details, Image, ProcessId, writer
	proc4688           [][]string // record, EventRecordID, TimeCreated, NewProcessId, NewProcessName, ProcessId, CommandLine, SubjectUserName
	ps4104             [][]string // record, EventRecordID, TimeCreated, ScriptBlockId, MessageNumber / MessageTotal, Path, characters, SHA-256
}

// cells splits a Markdown table row and strips code quoting from cells.
func cells(line string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case strings.HasPrefix(p, "`` ") && strings.HasSuffix(p, " ``"):
			p = p[3 : len(p)-3]
		case len(p) >= 2 && strings.HasPrefix(p, "`") && strings.HasSuffix(p, "`"):
			p = p[1 : len(p)-1]
		}
		parts[i] = p
	}
	return parts
}

// readExpected parses section 7 of EXPECTED.md.
func readExpected(t *testing.T, dir string) map[string]*expectedFile {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "EXPECTED.md"))
	if err != nil {
		t.Skipf("EXPECTED.md: %v", err)
	}
	defer f.Close()
	out := map[string]*expectedFile{}
	var cur *expectedFile
	in := false
	table := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## 7.")
			continue
		}
		if !in {
			continue
		}
		if strings.HasPrefix(line, "| evtx/") {
			c := cells(line)
			name := strings.TrimPrefix(c[0], "evtx/")
			e := &expectedFile{name: name, eventIDs: map[string]int{}}
			fmt.Sscanf(c[3], "%d /", &e.chunks)
			fmt.Sscanf(c[4], "%d /", &e.records)
			fmt.Sscanf(c[5], "%d / %d", &e.recovered, &e.recoveredXML)
			e.nReg, _ = strconv.Atoi(c[6])
			e.n4688, _ = strconv.Atoi(c[8])
			e.n4104, _ = strconv.Atoi(c[10])
			out[name] = e
			continue
		}
		if strings.HasPrefix(line, "### evtx/") {
			cur = out[strings.TrimPrefix(line, "### evtx/")]
			table = ""
			continue
		}
		if cur == nil {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			table = ""
			continue
		}
		c := cells(line)
		switch {
		case strings.HasPrefix(c[0], "---"):
		case c[0] == "provider":
			table = "ids"
		case c[0] == "record" && len(c) > 9 && c[5] == "TargetObject":
			table = "reg"
		case c[0] == "record" && len(c) > 4 && c[3] == "NewProcessId":
			table = "4688"
		case c[0] == "record" && len(c) > 3 && c[3] == "ScriptBlockId":
			table = "4104"
		default:
			switch table {
			case "ids":
				n, _ := strconv.Atoi(c[2])
				cur.eventIDs[c[0]+"/"+c[1]] = n
			case "reg":
				cur.registry = append(cur.registry, c)
			case "4688":
				cur.proc4688 = append(cur.proc4688, c)
			case "4104":
				cur.ps4104 = append(cur.ps4104, c)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("EXPECTED.md has no EVTX section 7")
	}
	return out
}

func readAll(t *testing.T, path string) ([]*Record, []error, int) {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*Record
	var errs []error
	for r, err := range f.Records(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	return recs, errs, f.SignedChunks()
}

// hexNumber normalises a rendered hexadecimal number (the oracles pad with
// zeros, Windows does not).
func hexNumber(s string) string {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return s
	}
	return "0x" + strconv.FormatUint(n, 16)
}

func TestCorpus_MatchesExpectedFigures(t *testing.T) {
	dir := testcorpus.Dir(t)
	exp := readExpected(t, dir)
	for name, e := range exp {
		t.Run(name, func(t *testing.T) {
			if len(e.registry) != e.nReg || len(e.proc4688) != e.n4688 || len(e.ps4104) != e.n4104 || len(e.eventIDs) == 0 {
				t.Fatalf("EXPECTED.md tables read incompletely: %d/%d registry, %d/%d 4688, %d/%d 4104 rows, %d EventIDs",
					len(e.registry), e.nReg, len(e.proc4688), e.n4688, len(e.ps4104), e.n4104, len(e.eventIDs))
			}
			recs, errs, chunks := readAll(t, filepath.Join(dir, "evtx", name))
			if len(errs) > 0 {
				t.Errorf("anomalies on a clean file: %v", errs)
			}
			if len(recs) != e.records {
				t.Errorf("records = %d, want %d", len(recs), e.records)
			}
			if chunks != e.chunks {
				t.Errorf("chunks = %d, want %d", chunks, e.chunks)
			}
			ids := map[string]int{}
			byNumber := map[string]*Record{}
			for _, r := range recs {
				ids[r.System.ProviderName+"/"+strconv.Itoa(int(r.System.EventID))]++
				byNumber[strconv.FormatUint(r.Identifier, 10)] = r
			}
			if fmt.Sprint(ids) != fmt.Sprint(e.eventIDs) {
				t.Errorf("EventIDs by provider = %v, want %v", ids, e.eventIDs)
			}
			nreg := 0
			for _, r := range recs {
				if r.System.ProviderName == "Microsoft-Windows-Sysmon" && r.System.EventID >= 12 && r.System.EventID <= 14 {
					nreg++
				}
			}
			if nreg != len(e.registry) {
				t.Errorf("Sysmon registry records = %d, want %d", nreg, len(e.registry))
			}
			get := func(r *Record, f string) string { v, _ := r.Get(f); return v.String() }
			for _, row := range e.registry {
				r := byNumber[row[0]]
				if r == nil {
					t.Errorf("record %s missing", row[0])
					continue
				}
				details := row[6]
				if details == "–" {
					details = ""
				}
				got := []string{strconv.FormatUint(r.System.EventRecordID, 10), get(r, "UtcTime"), strconv.Itoa(int(r.System.EventID)),
					get(r, "EventType"), get(r, "TargetObject"), get(r, "Details"), get(r, "Image"), get(r, "ProcessId")}
				want := []string{row[1], row[2], row[3], row[4], row[5], details, row[7], row[8]}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("record %s:\n got %q\nwant %q", row[0], got, want)
				}
			}
			for _, row := range e.proc4688 {
				r := byNumber[row[0]]
				if r == nil {
					t.Errorf("record %s missing", row[0])
					continue
				}
				cmd := row[6]
				if cmd == `""` {
					cmd = ""
				}
				got := []string{strconv.FormatUint(r.System.EventRecordID, 10), r.System.TimeCreated.Format("2006-01-02T15:04:05.000000000Z"),
					get(r, "NewProcessId"), get(r, "NewProcessName"), get(r, "ProcessId"), get(r, "CommandLine"), get(r, "SubjectUserName")}
				want := []string{row[1], row[2], hexNumber(row[3]), row[4], hexNumber(row[5]), cmd, row[7]}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("record %s:\n got %q\nwant %q", row[0], got, want)
				}
			}
			for _, row := range e.ps4104 {
				r := byNumber[row[0]]
				if r == nil {
					t.Errorf("record %s missing", row[0])
					continue
				}
				text := get(r, "ScriptBlockText")
				sum := sha256.Sum256([]byte(text))
				path := row[5]
				if path == `""` {
					path = ""
				}
				got := []string{strconv.FormatUint(r.System.EventRecordID, 10), r.System.TimeCreated.Format("2006-01-02T15:04:05.000000000Z"),
					strings.ToLower(strings.Trim(get(r, "ScriptBlockId"), "{}")), get(r, "MessageNumber") + " / " + get(r, "MessageTotal"),
					get(r, "Path"), strconv.Itoa(utf8.RuneCountInString(text)), hex.EncodeToString(sum[:])}
				want := []string{row[1], row[2], row[3], row[4], path, row[6], row[7]}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("record %s:\n got %q\nwant %q", row[0], got, want)
				}
			}
		})
	}
}

// TestCorpus_DamagedCopiesGivePartialResults cuts and corrupts real logs in
// memory: every cut gives the records before it (never more than the whole
// file, and never fewer without an anomaly saying so), every corruption ends in records and anomalies, never a
// panic or a hang.
func TestCorpus_DamagedCopiesGivePartialResults(t *testing.T) {
	dir := testcorpus.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "evtx", "*.evtx"))
	if len(files) == 0 {
		t.Skip("no .evtx files in the corpus")
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := readMem(data)
		var cuts []int
		for cut := 4096 + 512; cut < len(data); cut += 7919 {
			cuts = append(cuts, cut)
		}
		for cut := 4096 + 65536; cut < len(data); cut += 65536 {
			cuts = append(cuts, cut) // at a chunk boundary
		}
		for _, cut := range cuts {
			recs, errs := readMem(data[:cut])
			if recs > whole {
				t.Errorf("%s cut at %d: %d records, more than the whole file's %d", filepath.Base(path), cut, recs, whole)
			}
			if recs < whole && errs == 0 {
				t.Errorf("%s cut at %d: %d of %d records and no anomaly", filepath.Base(path), cut, recs, whole)
			}
		}
		rng := rand.New(rand.NewSource(int64(len(data))))
		for i := 0; i < 40; i++ {
			bad := bytes.Clone(data)
			for j := 0; j < 16; j++ {
				bad[rng.Intn(len(bad))] = byte(rng.Intn(256))
			}
			readMem(bad)
		}
	}
}

func readMem(data []byte) (int, int) {
	f, err := NewReader(bytes.NewReader(data), int64(len(data)), "mem")
	if err != nil {
		return 0, 1
	}
	recs, errs := 0, 0
	for r, err := range f.Records(context.Background()) {
		if err != nil {
			errs++
			continue
		}
		_ = r.XML()
		recs++
	}
	return recs, errs
}

// The Security log's 1102 (log cleared) keeps its values in UserData
// (<LogFileCleared>); they become fields named after their elements. The
// values are those both oracles render for the record.
func TestCorpus_UserDataBecomesFields(t *testing.T) {
	recs, _, _ := readAll(t, testcorpus.Path(t, "evtx", "security_4624_4673_token_manip.evtx"))
	r := recs[0]
	var got []string
	for _, f := range r.Data {
		got = append(got, f.Name+"="+f.Value.String())
	}
	want := []string{"SubjectUserSid=S-1-5-21-3583694148-1414552638-2922671848-1000", "SubjectUserName=IEUser",
		"SubjectDomainName=IEWIN7", "SubjectLogonId=0x1371b"}
	if r.DataSection != "UserData" || r.System.EventID != 1102 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s %d %q", r.DataSection, r.System.EventID, got)
	}
}

// sequence renders everything an iteration yields, in order.
func sequence(seq func(func(*Record, error) bool)) []string {
	var out []string
	for r, err := range seq {
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		out = append(out, r.XML())
	}
	return out
}

func TestRecordsParallel_SameAsRecords(t *testing.T) {
	dir := testcorpus.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "evtx", "*.evtx"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The file as it is, and a damaged copy.
		bad := bytes.Clone(data)
		for k := 4096 + 100; k < len(bad); k += 9973 {
			bad[k] ^= 0x5a
		}
		for _, d := range [][]byte{data, bad} {
			f, err := NewReader(bytes.NewReader(d), int64(len(d)), "x")
			if err != nil {
				t.Fatal(err)
			}
			want := sequence(f.Records(context.Background()))
			for _, workers := range []int{2, 3, 8} {
				got := sequence(f.RecordsParallel(context.Background(), workers))
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s, %d workers: %d items differ from the sequential %d", filepath.Base(path), workers, len(got), len(want))
				}
			}
		}
	}
}

func TestRecordsParallel_StopsEarlyAndOnCancel(t *testing.T) {
	path := testcorpus.Path(t, "evtx", "PanacheSysmon_vs_AtomicRedTeam01.evtx")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for range f.RecordsParallel(context.Background(), 4) {
		if n++; n == 50 {
			break
		}
	}
	if n != 50 {
		t.Errorf("stopped after %d", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n = 0
	for r, err := range f.RecordsParallel(ctx, 4) {
		if r != nil {
			if n++; n == 10 {
				cancel()
			}
		}
		last = err
	}
	if !errors.Is(last, context.Canceled) || n >= 565 {
		t.Errorf("after cancel: %d records, last error %v", n, last)
	}
}

// The slack of every corpus log holds as many carved records as libevtx
// counts recovered, and as many render whole as evtxexport renders as XML
// (EXPECTED.md §7, "recovered: evtxinfo / rendered by evtxexport"); in
// PanacheSysmon, where all 31 render, they are stale copies of allocated
// records.
func TestCorpus_SlackRecordsMatchRecoveredCounts(t *testing.T) {
	dir := testcorpus.Dir(t)
	exp := readExpected(t, dir)
	for name, e := range exp {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(dir, "evtx", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			allocated := map[uint64]bool{}
			for r, err := range f.Records(context.Background()) {
				if err == nil {
					allocated[r.System.EventRecordID] = true
				}
			}
			carved, rendered, partial, stale := 0, 0, 0, 0
			for r, err := range f.Slack(context.Background()) {
				if err != nil {
					if !strings.Contains(err.Error(), "without its event data") {
						carved++
					}
					continue
				}
				carved++
				if r.Partial {
					partial++
					continue
				}
				rendered++
				if !r.Recovered {
					t.Error("slack record not marked Recovered")
				}
				if allocated[r.System.EventRecordID] {
					stale++
				}
			}
			if carved != e.recovered {
				t.Errorf("%d slack records, evtxinfo counts %d", carved, e.recovered)
			}
			if name == "PanacheSysmon_vs_AtomicRedTeam01.evtx" && (rendered != 31 || stale != 31) {
				t.Errorf("%d slack records rendered, %d of them stale copies; want all 31", rendered, stale)
			}
			if rendered != e.recoveredXML {
				t.Errorf("%d slack records rendered whole, evtxexport renders %d", rendered, e.recoveredXML)
			}
			t.Logf("%d carved, %d rendered, %d without their event data", carved, rendered, partial)
		})
	}
}
