package hivetest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// The reference tools read what the writer wrote: hivexml (hivex) and
// reglookup (libregfi) are independent regf parsers. Each test skips when
// its tool is not installed.

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hive.dat")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// expectedValue renders a value the way the comparison sees it: the type
// name hivex uses and the decoded data.
func expectedValue(v Value) (typ, data string) {
	switch v.Type {
	case RegSZ, RegExpandSZ, RegLink:
		return map[uint32]string{RegSZ: "string", RegExpandSZ: "expand", RegLink: "link"}[v.Type], decodeUTF16Z(v.Data)
	case RegDWORD:
		return "int32", strconv.Itoa(int(int32(binary.LittleEndian.Uint32(v.Data))))
	case RegDWORDBigEndian:
		return "int32", strconv.Itoa(int(int32(binary.BigEndian.Uint32(v.Data))))
	case RegQWORD:
		return "int64", strconv.FormatInt(int64(binary.LittleEndian.Uint64(v.Data)), 10)
	case RegMultiSZ:
		var parts []string
		units := make([]uint16, len(v.Data)/2)
		for i := range units {
			units[i] = binary.LittleEndian.Uint16(v.Data[2*i:])
		}
		for _, s := range strings.Split(string(utf16.Decode(units)), "\x00") {
			parts = append(parts, s)
		}
		// hivex lists the strings up to and including the terminating
		// empty one, then stops.
		if i := slices.Index(parts, ""); i >= 0 {
			parts = parts[:i+1]
		}
		return "string-list", strings.Join(parts, "|")
	}
	name := map[uint32]string{RegNone: "none", RegBinary: "binary", RegResourceList: "resource-list",
		RegFullResourceDescriptor: "resource-description", RegResourceRequirementsList: "resource-requirements"}[v.Type]
	if name == "" {
		name = "unknown"
	}
	return name, fmt.Sprintf("%x", v.Data)
}

// flatten lists every key path with its last-write second and values.
func flatten(k *Key, path string, out map[string]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "mtime=%s", k.LastWrite.UTC().Format(time.RFC3339))
	vals := slices.Clone(k.Values)
	slices.SortFunc(vals, func(a, b Value) int { return strings.Compare(a.Name, b.Name) })
	for _, v := range vals {
		typ, data := expectedValue(v)
		fmt.Fprintf(&b, "\n  %q %s %q", v.Name, typ, data)
	}
	out[path] = b.String()
	for _, s := range k.Subkeys {
		flatten(s, path+`\`+s.Name, out)
	}
}

type hxNode struct {
	Name   string    `xml:"name,attr"`
	MTime  string    `xml:"mtime"`
	Nodes  []hxNode  `xml:"node"`
	Values []hxValue `xml:"value"`
}

type hxValue struct {
	Type     string   `xml:"type,attr"`
	Key      string   `xml:"key,attr"`
	Encoding string   `xml:"encoding,attr"`
	Value    string   `xml:"value,attr"`
	Strings  []string `xml:"string"`
}

func flattenHivex(t *testing.T, n hxNode, path string, out map[string]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "mtime=%s", n.MTime)
	vals := slices.Clone(n.Values)
	slices.SortFunc(vals, func(a, b hxValue) int { return strings.Compare(a.Key, b.Key) })
	for _, v := range vals {
		data := v.Value
		switch {
		case v.Type == "string-list":
			data = strings.Join(v.Strings, "|")
		case v.Encoding == "base64":
			raw, err := base64.StdEncoding.DecodeString(v.Value)
			if err != nil {
				t.Fatalf("%s: value %q: %v", path, v.Key, err)
			}
			data = fmt.Sprintf("%x", raw)
		}
		fmt.Fprintf(&b, "\n  %q %s %q", v.Key, v.Type, data)
	}
	out[path] = b.String()
	for _, c := range n.Nodes {
		flattenHivex(t, c, path+`\`+c.Name, out)
	}
}

func TestBuild_HivexReadsTheSameTree(t *testing.T) {
	tool := needTool(t, "hivexml")
	for _, version := range []uint32{3, 5} {
		t.Run(fmt.Sprintf("version 1.%d", version), func(t *testing.T) {
			root := sampleTree(5000)
			b, err := Build(root, WithVersion(1, version))
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(tool, writeTemp(t, b)).Output()
			if err != nil {
				t.Fatalf("hivexml: %v", err)
			}
			var doc struct {
				Root hxNode `xml:"node"`
			}
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			want, got := map[string]string{}, map[string]string{}
			flatten(root, root.Name, want)
			flattenHivex(t, doc.Root, doc.Root.Name, got)
			if len(got) != len(want) {
				t.Errorf("hivex sees %d keys, want %d", len(got), len(want))
			}
			for p, w := range want {
				if got[p] != w {
					t.Errorf("key %s:\nhivex: %s\nwant:  %s", p, got[p], w)
				}
			}
		})
	}
}

// reglookupUnquote undoes reglookup's %XX quoting of bytes.
func reglookupUnquote(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(n))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func TestBuild_ReglookupReadsTheSameKeysTimesAndSecurity(t *testing.T) {
	tool := needTool(t, "reglookup")
	root := sampleTree(5000)
	b, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-H", "-s", writeTemp(t, b)).Output()
	if err != nil {
		t.Fatalf("reglookup: %v", err)
	}
	// Expected keys (ASCII and Latin-1 names compare exactly; reglookup
	// prints the Latin-1 bytes quoted) with their last-write second.
	type keyInfo struct{ mtime, owner, dacl, class string }
	want := map[string]keyInfo{}
	var walk func(k *Key, path string)
	values := 0
	walk = func(k *Key, path string) {
		want[path] = keyInfo{mtime: k.LastWrite.UTC().Format("2006-01-02 15:04:05"), class: k.Class}
		values += len(k.Values)
		for _, s := range k.Subkeys {
			walk(s, path+"/"+s.Name)
		}
	}
	walk(root, "")
	got := map[string]keyInfo{}
	gotValues := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) >= 2 && f[1] != "KEY" {
			gotValues++
			continue
		}
		if len(f) < 9 {
			continue
		}
		path := reglookupUnquote(f[0])
		if path == "/" {
			path = ""
		}
		got[path] = keyInfo{mtime: f[3], owner: f[4], dacl: f[7], class: f[8]}
	}
	if len(got) != len(want) || gotValues != values {
		t.Errorf("reglookup: %d keys, %d values; want %d, %d", len(got), gotValues, len(want), values)
	}
	latin1 := func(s string) string { // our names as the bytes reglookup prints
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	for p, w := range want {
		if strings.ContainsFunc(p, func(r rune) bool { return r > 0xFF }) {
			continue // UTF-16 names: reglookup prints raw UTF-16 bytes
		}
		g, ok := got[latin1(p)]
		if !ok {
			t.Errorf("reglookup misses key %q", p)
			continue
		}
		if g.mtime != w.mtime || g.class != w.class {
			t.Errorf("key %q: reglookup mtime %s class %q, want %s %q", p, g.mtime, g.class, w.mtime, w.class)
		}
	}
	if g := got["/Environment"]; g.owner != SIDAdministrators || g.dacl != "S-1-1-0:ALLOW:SET_VAL:" {
		t.Errorf("Environment security as reglookup sees it: owner %s DACL %s", g.owner, g.dacl)
	}
	if g := got["/Many/sub00042"]; g.owner != "S-1-5-21-1-2-3-1001" {
		t.Errorf("inherited security: owner %s", g.owner)
	}
}

// TestBuild_LibregfReadsTheSameKeysAndValues: regfexport (libregf), a third
// independent parser, lists the same key paths and, per key, the same value
// names with the same data sizes.
func TestBuild_LibregfReadsTheSameKeysAndValues(t *testing.T) {
	tool := needTool(t, "regfexport")
	root := sampleTree(2000)
	b, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, writeTemp(t, b)).Output()
	if err != nil {
		t.Fatalf("regfexport: %v", err)
	}
	want := map[string]string{}
	var walk func(k *Key, path string)
	walk = func(k *Key, path string) {
		var vals []string
		for _, v := range k.Values {
			name := v.Name
			if name == "" {
				name = "(default)"
			}
			vals = append(vals, fmt.Sprintf("%s=%d", name, len(v.Data)))
		}
		want[path] = strings.Join(vals, ",")
		for _, s := range k.Subkeys {
			walk(s, path+`\`+s.Name)
		}
	}
	walk(root, root.Name)
	got := map[string]string{}
	var cur string
	var vals []string
	var valName string
	flush := func() {
		if cur != "" {
			got[cur] = strings.Join(vals, ",")
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Key path: "):
			flush()
			cur, vals = strings.TrimPrefix(line, "Key path: "), nil
		case strings.HasPrefix(line, "Value: "):
			// "Value: N name"
			f := strings.SplitN(strings.TrimPrefix(line, "Value: "), " ", 2)
			valName = ""
			if len(f) == 2 {
				valName = f[1]
			}
		case strings.HasPrefix(line, "Data size: "):
			vals = append(vals, valName+"="+strings.TrimPrefix(line, "Data size: "))
		}
	}
	flush()
	if len(got) != len(want) {
		t.Errorf("libregf lists %d keys, want %d", len(got), len(want))
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("key %s: libregf values %q, want %q", p, got[p], w)
		}
	}
}
