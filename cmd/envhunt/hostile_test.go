package main

// Hostile evidence through the command line: damaged, cut, bit-flipped and
// crafted hives, logs, traces, event logs and rule files go through run()
// in-process, for every command that reads them. Each call must end with a
// clear error naming the file (exit 2), or a result with the damage marked
// (exit 0, or 3 with the file named on stderr); never a panic, and within
// generous time and allocation bounds measured around the call.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/envhunt/envhunt/internal/hostile"
	"github.com/envhunt/envhunt/pkg/gpo"
	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/scan"
)

// Bounds per call. They are caps against hangs and runaway allocation, not
// measures of speed: a sound call takes milliseconds and a few MiB.
const (
	hostileTimeLimit  = 30 * time.Second
	hostileAllocLimit = 1 << 30
)

// hostileResult is what one guarded call did.
type hostileResult struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
	alloc          uint64 // bytes allocated during the call (TotalAlloc growth)
	sys            uint64 // growth of memory obtained from the OS
	panicked       any
	stack          []byte
	timedOut       bool
}

// hostileCall runs envhunt with args in-process, recovering a panic and
// measuring time and allocation. A call still running after the time limit
// is cancelled and reported as timed out.
func hostileCall(args ...string) hostileResult {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	done := make(chan hostileResult, 1)
	go func() {
		var r hostileResult
		var out, errb bytes.Buffer
		defer func() {
			if p := recover(); p != nil {
				r.panicked, r.stack = p, debug.Stack()
			}
			r.stdout, r.stderr = out.String(), errb.String()
			done <- r
		}()
		r.code = run(ctx, args, &out, &errb)
	}()
	var r hostileResult
	select {
	case r = <-done:
	case <-time.After(hostileTimeLimit):
		cancel()
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
		}
		r.timedOut = true
	}
	r.elapsed = time.Since(start)
	runtime.ReadMemStats(&after)
	r.alloc = after.TotalAlloc - before.TotalAlloc
	if after.Sys > before.Sys {
		r.sys = after.Sys - before.Sys
	}
	return r
}

// hostileSave keeps a failing input where a developer can replay it:
// $ENVHUNT_HOSTILE_OUT, else envhunt-hostile-failures in the temp dir.
func hostileSave(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("ENVHUNT_HOSTILE_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "envhunt-hostile-failures")
	}
	p := filepath.Join(dir, strings.NewReplacer("/", "_", "\\", "_", " ", "_").Replace(t.Name()+"-"+name))
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.WriteFile(p, data, 0o644); err == nil {
			return p
		}
	}
	return "(could not save the input)"
}

// hostileTerminalUnsafe finds bytes that must never reach a terminal: C0
// controls other than newline and tab, DEL, C1 controls, bidirectional
// overrides and isolates, and invalid UTF-8.
func hostileTerminalUnsafe(s string) (string, bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("invalid UTF-8 byte %#x at %d", s[i], i), true
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r < 0xa0:
			return fmt.Sprintf("control character %U at %d", r, i), true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Sprintf("bidirectional control %U at %d", r, i), true
		}
		i += n
	}
	return "", false
}

// hostileExpect says how a command's output is checked beyond the exit
// code: jsonl output must be valid JSON per line, text must be safe for a
// terminal.
type hostileExpect struct {
	jsonl bool
	text  bool
}

// hostileCheck applies the contract to one call: no panic, no timeout,
// allocation bound, an allowed exit code, stderr lines that are prefixed,
// terminal-safe and (for exit 2 and 3) name the damaged file.
func hostileCheck(t *testing.T, caseName string, data []byte, file string, exp hostileExpect, args ...string) hostileResult {
	t.Helper()
	r := hostileCall(args...)
	fail := func(format string, a ...any) {
		t.Helper()
		saved := hostileSave(t, caseName, data)
		t.Errorf("%s: envhunt %s: %s (input saved as %s)", caseName, strings.Join(args, " "), fmt.Sprintf(format, a...), saved)
	}
	switch {
	case r.panicked != nil:
		fail("panic: %v\n%s", r.panicked, r.stack)
		return r
	case r.timedOut:
		fail("still running after %v", hostileTimeLimit)
		return r
	}
	if r.alloc > hostileAllocLimit {
		fail("allocated %d MiB (limit %d MiB)", r.alloc>>20, hostileAllocLimit>>20)
	}
	if r.sys > hostileAllocLimit {
		fail("took %d MiB more from the OS (limit %d MiB)", r.sys>>20, hostileAllocLimit>>20)
	}
	switch r.code {
	case exitOK:
	case exitUsage, exitPartial:
		if !strings.Contains(r.stderr, filepath.Base(file)) {
			fail("exit %d without naming %s on stderr: %q", r.code, filepath.Base(file), r.stderr)
		}
	default:
		fail("exit %d; stderr %q", r.code, r.stderr)
	}
	if r.code == exitUsage && strings.TrimSpace(r.stderr) == "" {
		fail("exit 2 with nothing on stderr")
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		if line == "" {
			continue
		}
		// "rules validate" prints compiler-style "file:line:col: message".
		if !strings.HasPrefix(line, "envhunt: ") && !strings.HasPrefix(line, "envhunt ") && !strings.HasPrefix(line, file+":") {
			fail("stderr line without the envhunt prefix: %q", line)
		}
		if why, bad := hostileTerminalUnsafe(line); bad {
			fail("stderr: %s in %q", why, line)
		}
	}
	if exp.jsonl {
		for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				fail("stdout line %d is not valid JSON: %.200q", i+1, line)
				break
			}
		}
	}
	if exp.text {
		if why, bad := hostileTerminalUnsafe(r.stdout); bad {
			fail("stdout: %s", why)
		}
	}
	return r
}

// hostileTally counts exit codes per command for the test log, so a run
// shows what the hostile corpus did (and counts the work done).
type hostileTally map[string]map[int]int

func (h hostileTally) add(cmd string, code int) {
	if h[cmd] == nil {
		h[cmd] = map[int]int{}
	}
	h[cmd][code]++
}

func (h hostileTally) log(t *testing.T) {
	t.Helper()
	for cmd, codes := range h {
		t.Logf("%-12s exit codes %v", cmd, codes)
	}
}

// hostileHiveCase is a hive to put through the hive commands, with the logs
// to place beside it.
type hostileHiveCase struct {
	name       string
	data       []byte
	log1, log2 []byte
	// damaged: the case certainly loses data, so info must show an
	// anomaly (and when info says "partial", dump must not exit 0).
	damaged bool
}

// hostileSoundHive is a clean hive for diff's other side and for scans
// that load hostile rules.
func hostileSoundHive(t *testing.T) string {
	t.Helper()
	b, err := hivetest.Build(hostile.BaseTree())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "SOUND.DAT")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostileRunHive puts one hive case through dump, info, acl, diff and
// scan.
func hostileRunHive(t *testing.T, c hostileHiveCase, sound string, tally hostileTally, full bool) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "NTUSER.DAT")
	files := map[string][]byte{p: c.data, p + ".LOG1": c.log1, p + ".LOG2": c.log2}
	for name, b := range files {
		if b == nil {
			continue
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := hostileCheck(t, c.name, c.data, p, hostileExpect{text: true}, "info", p)
	tally.add("info", r.code)
	partial := r.code == exitPartial || strings.Contains(r.stdout, "partial:         true")
	if c.damaged && r.code == exitOK && !partial && !strings.Contains(r.stdout, "anomaly:") {
		t.Errorf("%s: info exits 0 on a damaged hive and shows no anomaly:\n%s", c.name, r.stdout)
	}
	r = hostileCheck(t, c.name, c.data, p, hostileExpect{jsonl: true}, "dump", "--format", "jsonl", p)
	tally.add("dump", r.code)
	// Work is bounded by the input: every key dumped is a key cell of at
	// least 80 bytes (0x4C of fields, a name, the size field), each read
	// once, in the primary or in a log's pages.
	if keys, most := strings.Count(r.stdout, "\n"), (len(c.data)+len(c.log1)+len(c.log2))/80+1; keys > most {
		t.Errorf("%s: dump listed %d keys; the files can hold at most %d key cells", c.name, keys, most)
	}
	// dump prints neither class names nor descriptors: damage there does
	// not make its output partial.
	if partial && r.code == exitOK && !strings.Contains(c.name, "security") && !strings.Contains(c.name, "class") {
		t.Errorf("%s: info says the hive was read in part, but dump exits 0", c.name)
	}
	if !full {
		return
	}
	r = hostileCheck(t, c.name, c.data, p, hostileExpect{text: true}, "acl", p, "Environment")
	tally.add("acl", r.code)
	if c.name != "one-list-shared-by-many-keys" { // see TestHostileRegression_DiffWorkIsBoundedWhenKeysShareOneList
		r = hostileCheck(t, c.name, c.data, p, hostileExpect{jsonl: true}, "diff", "--format", "jsonl", p, sound)
		tally.add("diff", r.code)
	}
	r = hostileCheck(t, c.name, c.data, p, hostileExpect{jsonl: true}, "scan", "--quiet", "--jobs", "1", "--format", "jsonl", p)
	tally.add("scan", r.code)
}

// hostileRead reads a file, skipping the test when it is absent.
func hostileRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s: %v", p, err)
	}
	return b
}

func TestHostile_CraftedHivesThroughEveryHiveCommand(t *testing.T) {
	cases, err := hostile.Hives()
	if err != nil {
		t.Fatal(err)
	}
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	for _, c := range cases {
		damaged := c.Name != "deepest-tree" && c.Name != "five-thousand-subkeys"
		hostileRunHive(t, hostileHiveCase{name: c.Name, data: c.Data, damaged: damaged && hostileSurelyLossy(c.Name)}, sound, tally, true)
	}
	tally.log(t)
}

// hostileSurelyLossy tells the crafted cases whose damage makes part of the
// hive unreadable, so a reader that says nothing about them lies by
// omission. (Others, like a flag word with every bit set, may be read
// without loss.)
func hostileSurelyLossy(name string) bool {
	switch name {
	case "key-flags-all-set", "class-length-huge", "class-outside", "hive-bins-size-unaligned",
		"security-list-self-loop", "security-descriptor-length-huge", "root-cell-unaligned",
		"key-name-length-zero",
		"value-data-points-at-key": // the data is read from another cell: nothing to notice
		return false
	}
	return true
}

func TestHostile_HostileLogsThroughEveryHiveCommand(t *testing.T) {
	cases, err := hostile.DirtyHives()
	if err != nil {
		t.Fatal(err)
	}
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	for _, c := range cases {
		hostileRunHive(t, hostileHiveCase{name: c.Name, data: c.Primary, log1: c.Log1, log2: c.Log2}, sound, tally, true)
	}
	tally.log(t)
}

func TestHostile_DamagedCorpusHives(t *testing.T) {
	dir := corpusPath(t, "hives")
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	for _, rel := range []string{
		"regipy/corrupted_system_hive", "regipy/ntuser_software_partial",
		"yarp/BadListHive", "yarp/BadSubkeyHive", "yarp/BogusKeyNamesHive", "yarp/GarbageHive",
		"yarp/BadBaseBlockHive/BadBaseBlockHive", "yarp/DeletedTreeHive", "yarp/EmptyHive",
	} {
		p := filepath.Join(dir, rel)
		data := hostileRead(t, p)
		c := hostileHiveCase{name: filepath.Base(rel), data: data}
		if b, err := os.ReadFile(p + ".LOG1"); err == nil {
			c.log1 = b
		}
		if b, err := os.ReadFile(p + ".LOG2"); err == nil {
			c.log2 = b
		}
		hostileRunHive(t, c, sound, tally, true)
	}
	tally.log(t)
}

func TestHostile_CutAndFlippedHives(t *testing.T) {
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	var sources []hostile.Case
	for _, rel := range []string{"WS-DEV-07/C/Users/alice/NTUSER.DAT", "WS-DEV-07/C/Windows/System32/config/SOFTWARE"} {
		sources = append(sources, hostile.Case{Name: filepath.Base(rel), Data: hostileRead(t, filepath.Join("..", "..", "testdata", "demo", rel))})
	}
	if b, err := hivetest.Build(hostile.BaseTree()); err == nil {
		sources = append(sources, hostile.Case{Name: "base", Data: b})
	}
	for _, src := range sources {
		binsEnd := hivetest.BaseBlockSize + int(uint32(src.Data[0x28])|uint32(src.Data[0x29])<<8|uint32(src.Data[0x2a])<<16|uint32(src.Data[0x2b])<<24)
		for _, c := range hostile.Truncations(src.Data, 40) {
			// A cut before the end of the hive bins loses data: it must be
			// an error or a partial result.
			lossy := len(c.Data) < binsEnd
			hostileRunHive(t, hostileHiveCase{name: src.Name + "-" + c.Name, data: c.Data, damaged: lossy}, sound, tally, len(c.Data)%3 == 0)
		}
		for _, c := range hostile.BitFlips(src.Data, 1, 30, 6, hivetest.BaseBlockSize+512) {
			hostileRunHive(t, hostileHiveCase{name: src.Name + "-" + c.Name, data: c.Data}, sound, tally, true)
		}
	}
	tally.log(t)
}

func TestHostile_CutAndFlippedTransactionLogs(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07", "C", "Users", "bob", "NTUSER.DAT")
	primary := hostileRead(t, demo)
	log1 := hostileRead(t, demo+".LOG1")
	log2, _ := os.ReadFile(demo + ".LOG2")
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	for _, c := range hostile.Truncations(log1, 24) {
		hostileRunHive(t, hostileHiveCase{name: "LOG1-" + c.Name, data: primary, log1: c.Data, log2: log2}, sound, tally, false)
	}
	for _, c := range hostile.BitFlips(log1, 2, 20, 4, 1024) {
		hostileRunHive(t, hostileHiveCase{name: "LOG1-" + c.Name, data: primary, log1: c.Data, log2: log2}, sound, tally, false)
	}
	tally.log(t)
}

// hostileRunTrace puts one trace or event-log case through its command
// (events as JSONL and text, and the summary).
func hostileRunTrace(t *testing.T, cmd, ext string, c hostile.Case, tally hostileTally) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trace"+ext)
	if err := os.WriteFile(p, c.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileCheck(t, c.Name, c.Data, p, hostileExpect{jsonl: true}, cmd, p)
	tally.add(cmd, r.code)
	r = hostileCheck(t, c.Name, c.Data, p, hostileExpect{text: true}, cmd, "--format", "text", p)
	tally.add(cmd+" text", r.code)
	r = hostileCheck(t, c.Name, c.Data, p, hostileExpect{}, cmd, "--summary", p)
	tally.add(cmd+" summary", r.code)
	if cmd == "etl" {
		r = hostileCheck(t, c.Name, c.Data, p, hostileExpect{text: true}, cmd, "--format", "csv", "--registry", p)
		tally.add(cmd+" csv", r.code)
		if r.code == exitOK || r.code == exitPartial {
			if _, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll(); err != nil {
				t.Errorf("%s: etl CSV does not parse: %v", c.Name, err)
			}
		}
	}
}

func TestHostile_CutFlippedAndGarbageTraces(t *testing.T) {
	tally := hostileTally{}
	var sources []hostile.Case
	sources = append(sources, hostile.Case{Name: "EnvWatch", Data: hostileRead(t, filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07", "C", "Windows", "System32", "LogFiles", "WMI", "EnvWatch.etl"))})
	for _, name := range []string{"lxcore_kernel.etl", "perfview-SelfDescribingSingleEvent.etl"} {
		if b, err := os.ReadFile(filepath.Join(hostileCorpusDir(), "etl", name)); err == nil {
			sources = append(sources, hostile.Case{Name: name, Data: b})
		}
	}
	for _, src := range sources {
		for _, c := range hostile.Truncations(src.Data, 30) {
			c.Name = src.Name + "-" + c.Name
			hostileRunTrace(t, "etl", ".etl", c, tally)
		}
		for _, c := range hostile.BitFlips(src.Data, 3, 25, 8, 512) {
			c.Name = src.Name + "-" + c.Name
			hostileRunTrace(t, "etl", ".etl", c, tally)
		}
	}
	for _, src := range sources {
		for _, c := range hostile.ETLPatches(src.Data) {
			c.Name = src.Name + "-" + c.Name
			hostileRunTrace(t, "etl", ".etl", c, tally)
		}
	}
	for _, c := range hostile.Garbage(nil, 70000, 3, 4) {
		hostileRunTrace(t, "etl", ".etl", c, tally)
	}
	tally.log(t)
}

// hostileCorpusDir is the shared corpus folder (which may be absent).
func hostileCorpusDir() string {
	if d := os.Getenv("ENVHUNT_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

func TestHostile_CutFlippedAndGarbageEventLogs(t *testing.T) {
	tally := hostileTally{}
	var sources []hostile.Case
	for _, name := range []string{"evasion_persis_hidden_run_keyvalue_sysmon_13.evtx", "exec_emotet_ps_4104.evtx"} {
		if b, err := os.ReadFile(filepath.Join(hostileCorpusDir(), "evtx", name)); err == nil {
			sources = append(sources, hostile.Case{Name: name, Data: b})
		}
	}
	if len(sources) == 0 {
		t.Skip("no event logs in the shared corpus")
	}
	for _, src := range sources {
		for _, c := range hostile.Truncations(src.Data, 24) {
			c.Name = src.Name + "-" + c.Name
			hostileRunTrace(t, "evtx", ".evtx", c, tally)
		}
		for _, c := range hostile.BitFlips(src.Data, 5, 20, 8, 4096+512) {
			c.Name = src.Name + "-" + c.Name
			hostileRunTrace(t, "evtx", ".evtx", c, tally)
		}
	}
	for _, c := range hostile.Garbage([]byte("ElfFile\x00"), 69632, 3, 6) {
		hostileRunTrace(t, "evtx", ".evtx", c, tally)
	}
	tally.log(t)
}

func TestHostile_MalformedRuleFiles(t *testing.T) {
	sound := hostileSoundHive(t)
	tally := hostileTally{}
	for _, c := range hostile.Rules() {
		p := filepath.Join(t.TempDir(), c.Name)
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := hostileCheck(t, c.Name, c.Data, p, hostileExpect{}, "rules", "validate", p)
		tally.add("rules validate", r.code)
		r = hostileCheck(t, c.Name, c.Data, p, hostileExpect{jsonl: true}, "scan", "--quiet", "--jobs", "1", "--format", "jsonl", "--rules-only", p, sound)
		tally.add("scan --rules-only", r.code)
	}
	tally.log(t)
}

// A value the scan analyzes (HKCU\Environment\Path) whose data cannot be
// read must make the scan partial: the responder is otherwise told "no
// findings" about the very value envhunt hunts. The hive reader records the
// anomaly when the value is read, after the scan has already summarised the
// hive as complete.
func TestHostileRegression_ScanIsPartialWhenAnAnalyzedValueIsUnreadable(t *testing.T) {
	cases, err := hostile.Hives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != "value-data-size-huge" && c.Name != "value-data-outside" && c.Name != "zero-size-value-cell" {
			continue
		}
		p := filepath.Join(t.TempDir(), "NTUSER.DAT")
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		dump := hostileCall("dump", p)
		if dump.code != exitPartial {
			t.Fatalf("%s: dump exits %d, want 3: the case does not damage what it should", c.Name, dump.code)
		}
		r := hostileCall("scan", "--quiet", "--jobs", "1", p)
		if r.code != exitPartial || !strings.Contains(r.stderr, "NTUSER.DAT") {
			t.Errorf("%s: scan exits %d with stderr %q; want 3 naming NTUSER.DAT (dump says: %q)", c.Name, r.code, r.stderr, strings.TrimSpace(dump.stderr))
		}
	}
}

// hostileCopyTree copies the directory src to dst (files and folders only).
func hostileCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hostileCollection is a copy of the demo collection whose user alice has a
// hostile NTUSER.DAT: attack strings in key names, value names and data
// where the rules look (Environment, Run, Command Processor).
func hostileCollection(t *testing.T) (root, ntuser string) {
	t.Helper()
	root = t.TempDir()
	hostileCopyTree(t, filepath.Join("..", "..", "testdata", "demo"), root)
	b, err := hivetest.Build(hostile.HostileUserTree())
	if err != nil {
		t.Fatal(err)
	}
	ntuser = filepath.Join(root, "WS-DEV-07", "C", "Users", "alice", "NTUSER.DAT")
	if err := os.WriteFile(ntuser, b, 0o644); err != nil {
		t.Fatal(err)
	}
	wmi := filepath.Join(root, "WS-DEV-07", "C", "Windows", "System32", "LogFiles", "WMI")
	for _, c := range hostile.HostileTraces() {
		if err := os.WriteFile(filepath.Join(wmi, c.Name), c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gp := filepath.Join(root, "WS-DEV-07", "C", "Windows", "System32", "GroupPolicy", "User")
	for name, data := range map[string][]byte{
		"Registry.pol":                          hostile.HostilePol(),
		filepath.Join("Scripts", "scripts.ini"): hostile.HostileScriptsINI(),
	} {
		if err := os.WriteFile(filepath.Join(gp, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gpp := integrityFind(t, root, "EnvironmentVariables/EnvironmentVariables.xml")
	if err := os.WriteFile(gpp, hostile.HostileEnvironmentXML(), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(root, "WS-DEV-07", "C", "Windows", "System32", "winevt", "Logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "Microsoft-Windows-Sysmon%4Operational.evtx"), hostile.HostileEventLog(), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, ntuser
}

// hostileMarkers are pieces of the attack strings that, found in code
// (outside quoted literals) or in a raw field, mean evidence escaped.
var hostileMarkers = []string{"calc", "evil.example", "Invoke-Expression", "Remove-Item -Recurse", "HYPERLINK", "SUM(", "owned"}

// hostileCheckCSV parses CSV output and checks that no cell can start a
// formula: cells starting with =, +, -, @, tab or CR must be neutralized
// (envhunt prefixes an apostrophe). Plain negative numbers are allowed.
func hostileCheckCSV(t *testing.T, what, out string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Errorf("%s: CSV does not parse: %v", what, err)
		return
	}
	if len(recs) < 2 {
		t.Errorf("%s: CSV has %d records, want a header and rows", what, len(recs))
	}
	number := regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?$`)
	for i, rec := range recs {
		if len(rec) != len(recs[0]) {
			t.Errorf("%s: record %d has %d fields, header %d", what, i+1, len(rec), len(recs[0]))
		}
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !number.MatchString(cell) {
				t.Errorf("%s: record %d: cell starts a formula: %.80q", what, i+1, cell)
			}
			if why, bad := hostileTerminalUnsafe(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(cell)); bad {
				t.Errorf("%s: record %d: %s in cell %.80q", what, i+1, why, cell)
			}
		}
	}
}

// hostileCheckJSONL checks that every line is one valid JSON value and that
// a decoded string holding U+FFFD (text that was not valid) comes with a
// "_raw" field beside it in the same object.
func hostileCheckJSONL(t *testing.T, what, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Errorf("%s: no JSON lines", what)
		return
	}
	for i, line := range lines {
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("%s: line %d is not valid JSON: %v: %.120q", what, i+1, err, line)
			continue
		}
		if why, bad := hostileJSONUnsafe(line); bad {
			t.Errorf("%s: line %d: raw %s (JSON must escape it)", what, i+1, why)
		}
	}
}

// hostileJSONUnsafe finds what envhunt's JSON never holds raw: invalid
// UTF-8, C0 controls (which JSON forbids), and DEL, C1 controls and
// bidirectional controls (valid JSON, but envhunt escapes them so that a
// JSON file viewed in a terminal cannot drive or mislead it).
func hostileJSONUnsafe(s string) (string, bool) {
	return hostileTerminalUnsafe(s)
}

// hostileJSONInvalid finds what no JSON or XML text may hold raw: invalid
// UTF-8 and C0 controls.
func hostileJSONInvalid(s string) (string, bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Sprintf("invalid UTF-8 byte %#x at %d", s[i], i), true
		case r < 0x20:
			return fmt.Sprintf("control character %U at %d", r, i), true
		}
		i += n
	}
	return "", false
}

// hostileCheckLines checks a line-based timeline: every line has exactly
// fields fields separated by |.
func hostileCheckLines(t *testing.T, what, out string, fields int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Errorf("%s: no lines", what)
	}
	for i, line := range lines {
		if n := strings.Count(line, "|") + 1; n != fields {
			t.Errorf("%s: line %d has %d fields, want %d: %.160q", what, i+1, n, fields, line)
		}
		if why, bad := hostileTerminalUnsafe(line); bad {
			t.Errorf("%s: line %d: %s", what, i+1, why)
		}
	}
}

// hostilePowerShellCode returns the code of one line of a PowerShell
// script: the line without its single-quoted literals (PowerShell also
// ends them at the typographic quotes U+2018-U+201B), without [char]0xNNNN
// terms and without a trailing # comment. ok is false when a literal is
// left open at the end of the line: envhunt writes newlines in evidence as
// [char] terms, so a literal never spans lines.
func hostilePowerShellCode(line string) (code, comment string, ok bool) {
	var b strings.Builder
	in := false
	rs := []rune(line)
	isQuote := func(r rune) bool { return r == '\'' || (r >= 0x2018 && r <= 0x201b) }
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case in && isQuote(r) && i+1 < len(rs) && isQuote(rs[i+1]):
			i++
		case in && isQuote(r):
			in = false
			b.WriteString("''")
		case in:
		case isQuote(r):
			in = true
		case r == '#':
			return hostileCharTerm.ReplaceAllString(b.String(), ""), string(rs[i:]), true
		default:
			b.WriteRune(r)
		}
	}
	return hostileCharTerm.ReplaceAllString(b.String(), ""), "", !in
}

var hostileCharTerm = regexp.MustCompile(`\[char\]0x[0-9A-Fa-f]{4}`)

// hostileCheckPowerShell checks a remediation script: printable ASCII only
// (so no newline from evidence can end a comment or a literal), every
// literal closed on its line, and no piece of the attack strings in code.
// Comments may quote evidence: they end at the end of their line.
func hostileCheckPowerShell(t *testing.T, script string) {
	t.Helper()
	if script == "" {
		t.Error("remediation script is empty")
		return
	}
	for i, c := range []byte(script) {
		if c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
			t.Errorf("remediation script byte %d is %#x: the script must be printable ASCII", i, c)
			break
		}
	}
	if strings.Contains(script, "<#") {
		t.Error("remediation script has a block comment: evidence holding #> could end it")
	}
	for i, line := range strings.Split(script, "\n") {
		code, _, ok := hostilePowerShellCode(strings.TrimSuffix(line, "\r"))
		if !ok {
			t.Errorf("remediation script line %d leaves a literal open: %.200q", i+1, line)
		}
		for _, m := range hostileMarkers {
			if strings.Contains(code, m) {
				t.Errorf("remediation script line %d: evidence %q is code outside a single-quoted literal: %.200q", i+1, m, line)
			}
		}
	}
}

// hostileCheckHTML checks an HTML report: the markup in the evidence is
// escaped (no element, attribute or comment from it survives) and no
// control or bidirectional character is raw.
func hostileCheckHTML(t *testing.T, what, out string) {
	t.Helper()
	for _, raw := range []string{"<script>alert", "<img src=x", "onerror=alert(1)>", "<!-- | md"} {
		if strings.Contains(out, raw) {
			t.Errorf("%s: evidence markup %q is in the HTML unescaped", what, raw)
		}
	}
	if !strings.Contains(out, "alert(1)") {
		t.Errorf("%s: the hostile values did not reach the report: nothing was checked", what)
	}
	if why, bad := hostileTerminalUnsafe(out); bad {
		t.Errorf("%s: %s", what, why)
	}
}

// hostileMarkdownText returns what Markdown renders as inline markup on
// a line: the text outside code spans (a run of n backticks up to the next
// run of exactly n), with backslash-escaped characters blanked.
func hostileMarkdownText(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			b.WriteString("  ")
			i += 2
		case line[i] == '`':
			n := 0
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			closeAt := -1
			for j := i + n; j < len(line); {
				if line[j] != '`' {
					j++
					continue
				}
				m := 0
				for j+m < len(line) && line[j+m] == '`' {
					m++
				}
				if m == n {
					closeAt = j + m
					break
				}
				j += m
			}
			if closeAt < 0 {
				b.WriteString(line[i : i+n])
				i += n
				continue
			}
			b.WriteString(" ")
			i = closeAt
		default:
			b.WriteByte(line[i])
			i++
		}
	}
	return b.String()
}

// hostileCheckMarkdown checks a Markdown report: no HTML or link from the
// evidence is live markup (outside code spans and not escaped), and every
// row of a table has as many cells as its header (GitHub tables split on
// every | not escaped, even inside code spans).
func hostileCheckMarkdown(t *testing.T, what, out string) {
	t.Helper()
	if !strings.Contains(out, "alert(1)") {
		t.Errorf("%s: the hostile values did not reach the report: nothing was checked", what)
	}
	if why, bad := hostileTerminalUnsafe(out); bad {
		t.Errorf("%s: %s", what, why)
	}
	header := -1
	for i, line := range strings.Split(out, "\n") {
		live := hostileMarkdownText(line)
		for _, raw := range []string{"<script", "<img", "](javascript:", "<!--"} {
			if strings.Contains(live, raw) {
				t.Errorf("%s: line %d: evidence markup %q is live Markdown: %.200q", what, i+1, raw, line)
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(line), "|") {
			header = -1
			continue
		}
		n := 0
		for j := 0; j < len(line); j++ {
			if line[j] == '|' && (j == 0 || line[j-1] != '\\') {
				n++
			}
		}
		if header < 0 {
			header = n
			continue
		}
		if n != header {
			t.Errorf("%s: table row on line %d has %d separators, its header %d: %.200q", what, i+1, n, header, line)
		}
	}
}

// hostileCheckXML checks event XML: well-formed for any input (parsed to
// the end with encoding/xml), nothing raw a terminal would act on, and the
// evidence markup escaped.
func hostileCheckXML(t *testing.T, what, out string) {
	t.Helper()
	// envhunt declares XML 1.1 (which allows control characters as
	// references); encoding/xml reads 1.0 only, and its own checks on
	// characters are the stricter 1.0 ones.
	// So the references 1.1 allows for controls (never NUL) become a
	// placeholder first.
	xml10 := hostileCharRef.ReplaceAllStringFunc(out, func(ref string) string {
		var n uint64
		var err error
		if strings.HasPrefix(ref, "&#x") || strings.HasPrefix(ref, "&#X") {
			n, err = strconv.ParseUint(ref[3:len(ref)-1], 16, 32)
		} else {
			n, err = strconv.ParseUint(ref[2:len(ref)-1], 10, 32)
		}
		if err == nil && n != 0 && (n < 0x20 || (n >= 0x7f && n < 0xa0)) {
			return "?"
		}
		return ref
	})
	dec := xml.NewDecoder(strings.NewReader(strings.Replace(xml10, `<?xml version="1.1"`, `<?xml version="1.0"`, 1)))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: XML not well-formed: %v", what, err)
			return
		}
	}
	if strings.Contains(out, "<script>alert") || strings.Contains(out, "<img src=x") {
		t.Errorf("%s: evidence markup is live in the XML", what)
	}
	// XML may carry C1 and bidi controls raw; envhunt writes them (and the
	// C0 controls XML 1.1 allows) as references, like the JSON escapes them.
	if why, bad := hostileJSONUnsafe(strings.NewReplacer("\n", "", "\t", "").Replace(out)); bad {
		t.Errorf("%s: %s", what, why)
	}
}

var hostileCharRef = regexp.MustCompile(`&#([xX][0-9a-fA-F]+|[0-9]+);`)

// hostileRegLine is the grammar of a .reg file line envhunt may write.
var hostileRegLine = regexp.MustCompile(`^(Windows Registry Editor Version 5\.00|;[^\r\n]*|\[-?HKEY_[^\[\]\r\n]*\]|(@|"(?:[^"\\]|\\.)*")=(-|"(?:[^"\\]|\\.)*"|dword:[0-9a-fA-F]{8}|hex(\([0-9a-fA-F]+\))?:[0-9a-fA-F, \\]*)|\s+[0-9a-fA-F, \\]*|)$`)

func hostileCheckReg(t *testing.T, script string) {
	t.Helper()
	text := script
	if strings.HasPrefix(text, "\xff\xfe") {
		u := make([]uint16, 0, len(text)/2)
		for i := 2; i+1 < len(text); i += 2 {
			u = append(u, uint16(text[i])|uint16(text[i+1])<<8)
		}
		text = string(utf16.Decode(u))
	}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if !hostileRegLine.MatchString(line) {
			t.Errorf(".reg line %d is not a header, comment, key or value line: %.200q", i+1, line)
		}
		if why, bad := hostileTerminalUnsafe(line); bad {
			t.Errorf(".reg line %d: %s", i+1, why)
		}
	}
}

func TestHostile_OutputOfEveryCommandIsSafe(t *testing.T) {
	root, ntuser := hostileCollection(t)
	host := filepath.Join(root, "WS-DEV-07")
	roaming := filepath.Join(root, "profiles")
	serverCopy := filepath.Join(roaming, "alice.V6", "NTUSER.DAT")
	wmi := filepath.Join(host, "C", "Windows", "System32", "LogFiles", "WMI")
	evtxDir := filepath.Join(host, "C", "Windows", "System32", "winevt", "Logs", "Microsoft-Windows-Sysmon%4Operational.evtx")
	outDir := t.TempDir()
	type call struct {
		args  []string
		check func(t *testing.T, what, out string)
	}
	text := func(t *testing.T, what, out string) {
		t.Helper()
		if why, bad := hostileTerminalUnsafe(out); bad {
			t.Errorf("%s: %s", what, why)
		}
		if strings.TrimSpace(out) == "" {
			t.Errorf("%s: no output", what)
		}
	}
	jsonDoc := func(t *testing.T, what, out string) {
		t.Helper()
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Errorf("%s: not valid JSON: %v", what, err)
				return
			}
		}
		if why, bad := hostileJSONUnsafe(out); bad && !strings.Contains(why, "U+000A") {
			t.Errorf("%s: raw %s (JSON must escape it)", what, why)
		}
	}
	bodyfile := func(t *testing.T, what, out string) { hostileCheckLines(t, what, out, 11) }
	tln := func(t *testing.T, what, out string) { hostileCheckLines(t, what, out, 5) }
	calls := []call{
		{[]string{"scan", "-q", "--roaming", roaming, host}, text},
		{[]string{"scan", "-q", "--format", "jsonl", "--roaming", roaming, host}, hostileCheckJSONL},
		{[]string{"scan", "-q", "--format", "csv", "--roaming", roaming, host}, hostileCheckCSV},
		{[]string{"events", host}, hostileCheckJSONL},
		{[]string{"events", "--format", "csv", "--category", "registry_set", host}, hostileCheckCSV},
		{[]string{"events", "--format", "text", host}, text},
		{[]string{"env", host}, text},
		{[]string{"env", "--format", "json", host}, jsonDoc},
		{[]string{"dump", ntuser}, hostileCheckJSONL},
		{[]string{"dump", "--format", "csv", ntuser}, hostileCheckCSV},
		{[]string{"dump", "--format", "text", ntuser}, text},
		{[]string{"info", ntuser}, text},
		{[]string{"info", "--format", "json", ntuser}, jsonDoc},
		{[]string{"acl", ntuser, "Environment"}, text},
		{[]string{"acl", "--format", "json", ntuser, "Environment"}, jsonDoc},
		{[]string{"etl", wmi}, hostileCheckJSONL},
		{[]string{"etl", "--format", "text", wmi}, text},
		{[]string{"etl", "--format", "csv", wmi}, hostileCheckCSV},
		{[]string{"etl", "--summary", wmi}, hostileCheckJSONL},
		{[]string{"evtx", evtxDir}, hostileCheckJSONL},
		{[]string{"evtx", "--format", "text", evtxDir}, text},
		{[]string{"evtx", "--format", "csv", evtxDir}, hostileCheckCSV},
		{[]string{"evtx", "--format", "xml", evtxDir}, hostileCheckXML},
		{[]string{"evtx", "--summary", evtxDir}, hostileCheckJSONL},
		{[]string{"diff", ntuser, serverCopy}, text},
		{[]string{"diff", "--format", "jsonl", ntuser, serverCopy}, hostileCheckJSONL},
	}
	if _, ok := commands["timeline"]; ok {
		calls = append(calls,
			call{[]string{"timeline", "--roaming", roaming, host}, hostileCheckCSV},
			call{[]string{"timeline", "--format", "jsonl", "--roaming", roaming, host}, hostileCheckJSONL},
			call{[]string{"timeline", "--format", "bodyfile", "--roaming", roaming, host}, bodyfile},
			call{[]string{"timeline", "--format", "tln", "--roaming", roaming, host}, tln},
		)
	}
	if _, ok := commands["history"]; ok {
		calls = append(calls,
			call{[]string{"history", ntuser}, text},
			call{[]string{"history", "--format", "jsonl", ntuser}, hostileCheckJSONL},
			call{[]string{"history", "--format", "csv", ntuser}, hostileCheckCSV},
		)
	}
	if _, ok := commands["report"]; ok {
		calls = append(calls,
			call{[]string{"report", "--format", "html", "--roaming", roaming, host}, hostileCheckHTML},
			call{[]string{"report", "--format", "md", "--roaming", roaming, host}, hostileCheckMarkdown},
		)
	} else {
		t.Log("no report command in this build: HTML and Markdown reports not checked")
	}
	for _, c := range calls {
		what := strings.Join(c.args[:1], " ") + " " + strings.Join(c.args[1:len(c.args)-1], " ")
		r := hostileCall(c.args...)
		if r.panicked != nil {
			t.Errorf("%s: panic: %v\n%s", what, r.panicked, r.stack)
			continue
		}
		if r.code != exitOK && r.code != exitFindings && r.code != exitPartial {
			t.Errorf("%s: exit %d: %s", what, r.code, r.stderr)
			continue
		}
		if why, bad := hostileTerminalUnsafe(r.stderr); bad {
			t.Errorf("%s: stderr: %s", what, why)
		}
		c.check(t, what, r.stdout)
	}

	// The hostile names reach the outputs at all (else the checks above
	// prove nothing), and where text was not valid UTF-16 the exact bytes
	// are kept beside it.
	r := hostileCall("dump", ntuser)
	for _, want := range []string{`"name_raw"`, `"data_raw"`, "rlo", `\u001b`, "HYPERLINK"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dump jsonl lacks %s: the hostile names did not reach the output", want)
		}
	}
	if _, ok := commands["timeline"]; ok {
		r = hostileCall("timeline", "--format", "tln", host)
		if !strings.Contains(r.stdout, "HYPERLINK") || !strings.Contains(r.stdout, `\x7c`) {
			t.Errorf("timeline rows do not carry the hostile names: nothing was checked")
		}
	}
	r = hostileCall("etl", "--format", "csv", wmi)
	if !strings.Contains(r.stdout, "HYPERLINK") || !strings.Contains(r.stdout, `\x1b`) {
		t.Errorf("etl events do not carry the hostile names: nothing was checked")
	}
	r = hostileCall("evtx", "--format", "csv", evtxDir)
	if !strings.Contains(r.stdout, "HYPERLINK") || !strings.Contains(r.stdout, `\x1b`) {
		t.Errorf("evtx records do not carry the hostile names: nothing was checked")
	}
	r = hostileCall("events", "--category", "gpo_registry,gpo_script,gpp_environment", host)
	for _, want := range []string{"GroupPolicy", "Registry.pol", "scripts.ini", "EnvironmentVariables.xml", "HYPERLINK"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("Group Policy events lack %q: the hostile policy files were not read (exit %d: %s)", want, r.code, r.stderr)
		}
	}
	r = hostileCall("scan", "-q", "--format", "jsonl", host)
	if !strings.Contains(r.stdout, "HYPERLINK") || !strings.Contains(r.stdout, `\u001b`) {
		t.Errorf("scan findings do not quote the hostile values: nothing was checked")
	}

	for _, ext := range []string{".ps1", ".reg"} {
		script := filepath.Join(outDir, "remediate"+ext)
		r := hostileCall("scan", "-q", "--remediate", script, "--roaming", roaming, host)
		if r.code != exitOK && r.code != exitPartial {
			t.Errorf("scan --remediate %s: exit %d: %s", ext, r.code, r.stderr)
			continue
		}
		b, err := os.ReadFile(script)
		if err != nil {
			t.Errorf("scan --remediate %s: %v", ext, err)
			continue
		}
		if ext == ".ps1" {
			hostileCheckPowerShell(t, string(b))
			if !strings.Contains(string(b), "HYPERLINK") && !strings.Contains(string(b), "calc") {
				t.Errorf("remediation script does not mention the hostile values: nothing was checked")
			}
		} else {
			hostileCheckReg(t, string(b))
		}
	}
}

// The checkers above must be able to fail: they catch the injections they
// are meant to catch.
func TestHostileCheckers_CatchInjection(t *testing.T) {
	for _, tc := range []struct {
		line   string
		inCode bool
		ok     bool
	}{
		{`Set-ItemProperty -Name 'a''b' -Value ('x' + [char]0x000A + 'calc')`, false, true},
		{`Set-ItemProperty -Name 'x'; calc; 'y'`, true, true},
		{"Set-ItemProperty -Name 'x\u2019; calc; \u2018y'", true, true},
		{`Remove-ItemProperty -Name 'calc`, false, false},
		{`# value: $(calc)`, false, true},
	} {
		code, _, ok := hostilePowerShellCode(tc.line)
		if strings.Contains(code, "calc") != tc.inCode || ok != tc.ok {
			t.Errorf("%q: code %q ok %v; want calc in code %v, ok %v", tc.line, code, ok, tc.inCode, tc.ok)
		}
	}
	if !hostileRegLine.MatchString(`"Path"="C:\\x"`) || hostileRegLine.MatchString("\"Path\"=\"C:\\x\"\n[HKEY_X]") || hostileRegLine.MatchString(`"a"="b" calc`) {
		t.Error(".reg grammar accepts a broken line or refuses a good one")
	}
	for line, live := range map[string]bool{
		"a `<script>` b": false, "a ``x ` <script>`` b": false, `a \<script>`: false,
		"a <script> b": true, "a ``<script>` b": true, "` a ` <script>": true,
	} {
		if got := strings.Contains(hostileMarkdownText(line), "<script"); got != live {
			t.Errorf("markdown %q: markup live %v, want %v", line, got, live)
		}
	}
	if _, bad := hostileTerminalUnsafe("ok \u202e"); !bad {
		t.Error("terminal check misses U+202E")
	}
	if _, bad := hostileTerminalUnsafe("ok \x1b[31m"); !bad {
		t.Error("terminal check misses ESC")
	}
}

// Names that hide themselves — an embedded NUL (regedit and most tools show
// only the part before it), a right-to-left override (the name reads
// differently from what it is) — are an evasion technique in their own
// right (the "hidden Run value" trick). A key with such a name must give a
// finding even when its values are harmless.
func TestHostileRegression_HiddenRegistryNamesAreFlagged(t *testing.T) {
	root, _ := hostileCollection(t)
	r := hostileCall("scan", "-q", "--format", "jsonl", filepath.Join(root, "WS-DEV-07"))
	if r.code != exitOK && r.code != exitPartial {
		t.Fatalf("scan exits %d: %s", r.code, r.stderr)
	}
	hidden := map[string]bool{`Hostile\Run` + "\x00" + `hidden`: false, `Hostile\rlo` + "\u202e" + `gnp.exe`: false}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var f struct{ Key string }
		if json.Unmarshal([]byte(line), &f) != nil {
			continue
		}
		for k := range hidden {
			if strings.HasSuffix(f.Key, k) {
				hidden[k] = true
			}
		}
	}
	for k, found := range hidden {
		if !found {
			t.Errorf("no finding for the key named %q (a hidden name with a harmless value)", k)
		}
	}
}

// Exceeding a bound is a clear error (or anomaly) that names the limit. The
// hive limits have no command-line flags: they are set through the library
// (hive.WithLimits, scan.Options.HiveOptions), as pipelines do.
func TestLimits_HiveLimitsAreNamedWhenExceeded(t *testing.T) {
	dir := t.TempDir()
	tree := hostile.BaseTree()
	d, err := hivetest.BuildDirty(tree, []*hivetest.Key{func() *hivetest.Key {
		k := tree.Clone()
		k.Path("Environment").SetValue(hivetest.SZ("GOROOT", `C:\Go`))
		return k
	}()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.WriteFiles(dir, "NTUSER.DAT")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if _, err := hive.Open(p, hive.WithLimits(hive.Limits{MaxHiveSize: 4096})); err == nil || !strings.Contains(err.Error(), "MaxHiveSize") {
		t.Errorf("hive larger than MaxHiveSize: error %v, want one naming Limits.MaxHiveSize", err)
	}

	h, err := hive.Open(p, hive.WithLimits(hive.Limits{MaxLogSize: 1024}))
	switch {
	case err != nil && strings.Contains(err.Error(), "MaxLogSize"):
	case err != nil:
		t.Errorf("log larger than MaxLogSize: error %v, want one naming Limits.MaxLogSize", err)
	default:
		named := false
		for _, l := range h.Logs() {
			named = named || strings.Contains(fmt.Sprint(l), "MaxLogSize")
		}
		for _, a := range h.Anomalies() {
			named = named || strings.Contains(a.Message, "MaxLogSize")
		}
		if !named || h.Recovered() {
			t.Errorf("log larger than MaxLogSize: recovered %v, logs %+v; want the log refused, naming Limits.MaxLogSize", h.Recovered(), h.Logs())
		}
	}

	h, err = hive.Open(p, hive.WithLimits(hive.Limits{MaxValueSize: 16}))
	if err != nil {
		t.Fatal(err)
	}
	env, err := h.OpenKey("Environment")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := env.Values()
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, v := range vals {
		if v.Size() <= 16 {
			continue
		}
		if _, err := v.Data(); err == nil || !strings.Contains(err.Error(), "MaxValueSize") {
			t.Errorf("value %s of %d bytes with MaxValueSize 16: error %v, want one naming Limits.MaxValueSize", v.Name(), v.Size(), err)
		}
		refused++
	}
	if refused == 0 || !h.Partial() {
		t.Errorf("MaxValueSize 16: %d values refused, partial %v; want the big values refused and the hive partial", refused, h.Partial())
	}

	h, err = hive.Open(p, hive.WithLimits(hive.Limits{MaxDepth: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Walk(ctx, func(*hive.Key) error { return nil }); err != nil {
		t.Fatal(err)
	}
	named := false
	for _, a := range h.Anomalies() {
		named = named || (a.Kind == hive.AnomalyDepthLimit && strings.Contains(a.Message, "MaxDepth"))
	}
	if !named || !h.Partial() {
		t.Errorf("walk deeper than MaxDepth 1: anomalies %+v; want a depth-limit anomaly naming Limits.MaxDepth and a partial hive", h.Anomalies())
	}

	// Through the scanner, a limit that bites makes the host partial and
	// says which file.
	sum, err := scan.Scan(ctx, []string{p}, scan.Options{Jobs: 1, HiveOptions: []hive.Option{hive.WithLimits(hive.Limits{MaxHiveSize: 4096})}}, func(*report.Finding) error { return nil })
	if err == nil && (sum == nil || !sum.Partial() || !strings.Contains(strings.Join(sum.Problems(), "\n"), "MaxHiveSize")) {
		t.Errorf("scan with MaxHiveSize 4096: problems %v; want the hive named with Limits.MaxHiveSize", sum.Problems())
	}
	if err != nil && !strings.Contains(err.Error(), "MaxHiveSize") {
		t.Errorf("scan with MaxHiveSize 4096: error %v, want one naming Limits.MaxHiveSize", err)
	}
}

// Limits reachable from the command line: a rule file over the loader's
// 1 MiB, and a Group Policy file over gpo.MaxFileSize in a collection.
func TestLimits_FileSizeLimitsThroughTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), (1<<20)/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileCall("rules", "validate", big)
	if r.code != exitUsage || !strings.Contains(r.stderr, "big.yml") || !strings.Contains(r.stderr, "1048576") {
		t.Errorf("rule file over 1 MiB: exit %d, stderr %q; want 2 naming the file and the 1048576-byte limit", r.code, r.stderr)
	}

	root := t.TempDir()
	hostileCopyTree(t, filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07"), root)
	pol := integrityFind(t, root, "GroupPolicy/User/Registry.pol")
	f, err := os.OpenFile(pol, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(gpo.MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r = hostileCall("scan", "-q", root)
	if r.code != exitPartial || !strings.Contains(r.stderr, "Registry.pol") || !strings.Contains(r.stderr, fmt.Sprint(gpo.MaxFileSize)) {
		t.Errorf("Registry.pol over gpo.MaxFileSize: exit %d, stderr %q; want 3 naming the file and the %d-byte limit", r.code, r.stderr, gpo.MaxFileSize)
	}
}

// Windows logs whole 4 KiB pages of the hive bins (every dirty page of the
// corpus' real logs, 457 of them, has an offset and a size that are
// multiples of 4096). A page reference at any other offset shifts the page
// over its neighbours' cells; replaying it builds a hive no Windows ever
// had, and must be refused like any other damaged entry, even when the
// entry's hashes are valid.
func TestHostileRegression_LogPageAtUnalignedOffsetIsRefused(t *testing.T) {
	cases, err := hostile.DirtyHives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != "log-page-unaligned" {
			continue
		}
		p := filepath.Join(t.TempDir(), "NTUSER.DAT")
		if err := os.WriteFile(p, c.Primary, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".LOG1", c.Log1, 0o644); err != nil {
			t.Fatal(err)
		}
		r := hostileCall("info", p)
		if r.code != exitPartial || !strings.Contains(r.stdout, "not applied") || !strings.Contains(r.stdout, "recovered:       false") {
			t.Errorf("log with a dirty page at an unaligned offset: exit %d\n%s%s\nwant the log not applied and exit 3", r.code, r.stdout, r.stderr)
		}
		return
	}
	t.Fatal("no log-page-unaligned case")
}

func TestHostile_CutFlippedGroupPolicyFiles(t *testing.T) {
	tally := hostileTally{}
	gp := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07", "C", "Windows", "System32", "GroupPolicy", "User")
	type source struct {
		name string
		data []byte
	}
	sources := []source{
		{"Registry.pol", hostileRead(t, filepath.Join(gp, "Registry.pol"))},
		{"scripts.ini", hostileRead(t, filepath.Join(gp, "Scripts", "scripts.ini"))},
		{"Registry.pol", hostile.HostilePol()},
		{"scripts.ini", hostile.HostileScriptsINI()},
		{"EnvironmentVariables.xml", hostile.HostileEnvironmentXML()},
	}
	for _, src := range sources {
		cases := append(hostile.Truncations(src.data, 12), hostile.BitFlips(src.data, 9, 10, 4, 64)...)
		for _, c := range cases {
			// The file keeps its name: discovery knows policy files by it.
			p := filepath.Join(t.TempDir(), src.name)
			if err := os.WriteFile(p, c.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := hostileCheck(t, src.name+"-"+c.Name, c.Data, p, hostileExpect{jsonl: true}, "scan", "-q", "--jobs", "1", "--format", "jsonl", p)
			tally.add("scan "+src.name, r.code)
		}
	}
	tally.log(t)
}

// A Registry.pol whose last record is damaged still holds the records
// before it. Reading none of them lets one broken record, appended by
// whoever can write the policy, hide the policy's environment settings from
// the scan: the records read before the damage must still be analysed, and
// the file reported as read in part.
func TestHostileRegression_PolicyRecordsBeforeDamageAreKept(t *testing.T) {
	gp := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07", "C", "Windows", "System32", "GroupPolicy", "User", "Registry.pol")
	good := hostileRead(t, gp)
	p := filepath.Join(t.TempDir(), "Registry.pol")
	// A record cut inside its key name: "[" then a few UTF-16 characters.
	damaged := append(append([]byte(nil), good...), '[', 0, 'E', 0, 'n', 0)
	if err := os.WriteFile(p, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	whole := hostileCall("scan", "-q", "--format", "jsonl", gp)
	if !strings.Contains(whole.stdout, "GOPATH") {
		t.Fatalf("the sound policy gives no GOPATH finding (exit %d): the fixture changed", whole.code)
	}
	r := hostileCall("scan", "-q", "--format", "jsonl", p)
	if r.code != exitPartial || !strings.Contains(r.stderr, "Registry.pol") {
		t.Errorf("damaged policy: exit %d, stderr %q; want 3 naming Registry.pol", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "GOPATH") {
		t.Errorf("damaged policy: the GOPATH setting recorded before the damaged record is not reported")
	}
}

// Keys whose nk cells all name one shared subkey list (3,000 keys, each
// claiming the 3,000-entry list of their parent) must not make a reader
// decode the list once per key: a walk reads each list for one key only,
// and so must the roaming comparator, which today asks every key for its
// subkeys and allocates about 2 GiB on this 350 KB hive.
func TestHostileRegression_DiffWorkIsBoundedWhenKeysShareOneList(t *testing.T) {
	cases, err := hostile.Hives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != "one-list-shared-by-many-keys" {
			continue
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "NTUSER.DAT")
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		sound := hostileSoundHive(t)
		const bound = 256 << 20
		dump := hostileCall("dump", p)
		r := hostileCall("diff", "--format", "jsonl", p, sound)
		if r.panicked != nil || r.timedOut {
			t.Fatalf("diff: panic %v, timed out %v", r.panicked, r.timedOut)
		}
		if r.alloc > bound {
			t.Errorf("diff allocated %d MiB on a %d KB hive (dump of it: %d MiB); want at most %d MiB",
				r.alloc>>20, len(c.Data)>>10, dump.alloc>>20, bound>>20)
		}
		return
	}
	t.Fatal("no one-list-shared-by-many-keys case")
}

// Exit codes are one contract for every command (exit 3 when some input
// was read only in part): the report marks a damaged hive inside the
// document, and its exit code must say so too, as scan's does, so batch
// jobs that only look at exit codes notice.
func TestHostileRegression_ReportExitsPartialOnDamagedHive(t *testing.T) {
	if _, ok := commands["report"]; !ok {
		t.Skip("no report command in this build")
	}
	cases, err := hostile.Hives()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != "value-data-size-huge" {
			continue
		}
		p := filepath.Join(t.TempDir(), "NTUSER.DAT")
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		scanned := hostileCall("scan", "-q", p)
		r := hostileCall("report", "--format", "md", p)
		if r.code != scanned.code {
			t.Errorf("report exits %d on a hive scan reads in part (scan exits %d, stderr %q)", r.code, scanned.code, strings.TrimSpace(scanned.stderr))
		}
		return
	}
	t.Fatal("no value-data-size-huge case")
}

// hostileZip builds a ZIP file from named members, in order.
func hostileZip(t *testing.T, members []hostile.Case) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.Create(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHostile_ZipCollections(t *testing.T) {
	host := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07")
	var members []hostile.Case
	err := filepath.WalkDir(host, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		b, err := os.ReadFile(p)
		members = append(members, hostile.Case{Name: filepath.ToSlash(rel), Data: b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sound := hostileZip(t, members)
	cases := append(hostile.Truncations(sound, 16), hostile.BitFlips(sound, 11, 12, 6, 0)...)
	// A member's bytes claimed by a path that climbs out of the archive,
	// the same member twice, and a hive that decompresses to 64 MiB of
	// zeros (within the hive size bound, refused as a hive).
	sys := members[0]
	for _, m := range members {
		if strings.HasSuffix(m.Name, "config/SYSTEM") {
			sys = m
		}
	}
	cases = append(cases,
		hostile.Case{Name: "traversal", Data: hostileZip(t, append(members, hostile.Case{Name: "../../../../tmp/C/Windows/System32/config/SOFTWARE", Data: sys.Data}))},
		hostile.Case{Name: "duplicate-members", Data: hostileZip(t, append(members, sys))},
		hostile.Case{Name: "bomb", Data: hostileZip(t, []hostile.Case{{Name: "C/Windows/System32/config/SYSTEM", Data: make([]byte, 64<<20)}})},
	)
	tally := hostileTally{}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), "WS-DEV-07.zip")
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := hostileCheck(t, "zip-"+c.Name, c.Data, p, hostileExpect{jsonl: true}, "scan", "-q", "--jobs", "1", "--format", "jsonl", p)
		tally.add("scan zip", r.code)
		if c.Name == "traversal" {
			if _, err := os.Stat(filepath.Join(os.TempDir(), "C")); err == nil {
				t.Error("a member's path climbed out of the archive and was written")
			}
		}
	}
	tally.log(t)
}

// A ZIP member whose path climbs out of the archive ("../../x", the
// "zip slip" shape) is read in place, so it can do no harm; but dropping
// it without a word hides evidence the archive holds (here a second
// SYSTEM hive). It must be named on stderr and the scan marked partial.
func TestHostileRegression_ZipMemberOutsideTheArchiveIsNamed(t *testing.T) {
	host := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07")
	sys := hostileRead(t, filepath.Join(host, "C", "Windows", "System32", "config", "SYSTEM"))
	b := hostileZip(t, []hostile.Case{
		{Name: "C/Windows/System32/config/SYSTEM", Data: sys},
		{Name: "../../../../tmp/C/Windows/System32/config/SYSTEM", Data: sys},
	})
	p := filepath.Join(t.TempDir(), "WS-DEV-07.zip")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileCall("scan", "-q", p)
	if r.code != exitPartial || !strings.Contains(r.stderr, "tmp/C/Windows/System32/config/SYSTEM") {
		t.Errorf("scan: exit %d, stderr %q; want 3 naming the member ../../../../tmp/C/Windows/System32/config/SYSTEM", r.code, r.stderr)
	}
}

// Every JSON output escapes DEL, C1 controls and bidirectional controls, so
// that a JSON file viewed in a terminal or an editor shows them instead of
// being reordered by them; the event-log records must too.
func TestHostileRegression_EvtxJSONEscapesC1AndBidiControls(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Sysmon.evtx")
	if err := os.WriteFile(p, hostile.HostileEventLog(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileCall("evtx", p)
	if r.code != exitOK {
		t.Fatalf("evtx: exit %d: %s", r.code, r.stderr)
	}
	for i, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if why, bad := hostileJSONUnsafe(line); bad {
			t.Errorf("evtx JSON line %d: raw %s", i+1, why)
			break
		}
	}
}

// Event XML may carry C1 controls and bidirectional overrides as raw
// characters (XML allows them), but envhunt writes control characters as
// references so that the XML viewed in a terminal or an editor is as safe
// as the JSON; C1 controls and bidi controls need the same treatment.
func TestHostileRegression_EvtxXMLEscapesC1AndBidiControls(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Sysmon.evtx")
	if err := os.WriteFile(p, hostile.HostileEventLog(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hostileCall("evtx", "--format", "xml", p)
	if r.code != exitOK {
		t.Fatalf("evtx: exit %d: %s", r.code, r.stderr)
	}
	if why, bad := hostileJSONUnsafe(strings.NewReplacer("\n", "", "\t", "").Replace(r.stdout)); bad {
		t.Errorf("evtx XML: raw %s", why)
	}
}
