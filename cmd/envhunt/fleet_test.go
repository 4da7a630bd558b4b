package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Velociraptor artifacts in contrib/velociraptor cannot be run here (no
// Velociraptor binary); these tests check what can be checked without one:
// the artifact's shape, that every flag of the envhunt command line in the
// query is a real flag of `envhunt scan` used the way the flag set expects,
// and that the command line itself, with the query's variables filled in,
// runs on the demo collection laid out as the artifact lays it out and
// writes JSONL findings.

type vrArtifact struct {
	Name         string `yaml:"name"`
	Description  string `yaml:"description"`
	Author       string `yaml:"author"`
	Type         string `yaml:"type"`
	Precondition string `yaml:"precondition"`
	Tools        []struct {
		Name         string `yaml:"name"`
		URL          string `yaml:"url"`
		ServeLocally bool   `yaml:"serve_locally"`
	} `yaml:"tools"`
	Parameters []struct {
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		Type        string   `yaml:"type"`
		Default     string   `yaml:"default"`
		Choices     []string `yaml:"choices"`
	} `yaml:"parameters"`
	Sources []struct {
		Name  string `yaml:"name"`
		Query string `yaml:"query"`
	} `yaml:"sources"`
}

const fleetDir = "../../contrib/velociraptor"

func loadArtifacts(t *testing.T) map[string]*vrArtifact {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fleetDir, "*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("artifacts: %v %v", files, err)
	}
	out := map[string]*vrArtifact{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var a vrArtifact
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true) // a misspelt top-level key is an error, as in Velociraptor
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = &a
	}
	return out
}

// scanFlagSpec returns the flags of `envhunt scan` from its own --help:
// name -> whether it takes a value, and the allowed --format values.
func scanFlagSpec(t *testing.T) (map[string]bool, []string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scan", "--help"}, &out, &errb); code != 0 {
		t.Fatalf("scan --help: exit %d: %s", code, errb.String())
	}
	flags := map[string]bool{}
	var formats []string
	line := regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9-]+)(\[=true\|false\])?(?: (\w+))?`)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		flags[m[1]] = m[2] == "" && m[3] != ""
		if m[1] == "format" {
			if f := regexp.MustCompile(`output format: ([a-z|]+)`).FindStringSubmatch(sc.Text()); f != nil {
				formats = strings.Split(f[1], "|")
			}
		}
	}
	if len(flags) < 5 || len(formats) == 0 {
		t.Fatalf("could not read the scan flags from --help: %v %v", flags, formats)
	}
	return flags, formats
}

// argvOf returns the elements of the execve argv list of the query that
// runs envhunt scan: quoted literals unquoted, other expressions as written.
func argvOf(t *testing.T, query string) (elems []string, literal []bool) {
	t.Helper()
	m := regexp.MustCompile(`execve\(argv=\[([^\]]*\[0\][^\]]*)\]`).FindStringSubmatch(query)
	if m == nil {
		t.Fatal("no execve(argv=[...]) in the query")
	}
	for _, e := range strings.Split(m[1], ",") {
		e = strings.TrimSpace(e)
		if len(e) >= 2 && e[0] == '"' && e[len(e)-1] == '"' {
			elems, literal = append(elems, e[1:len(e)-1]), append(literal, true)
		} else {
			elems, literal = append(elems, e), append(literal, false)
		}
	}
	return elems, literal
}

func TestVelociraptorArtifacts_Shape(t *testing.T) {
	want := map[string]string{"Custom.Windows.EnvHunt.yaml": "CLIENT", "Custom.Server.EnvHunt.yaml": "SERVER"}
	arts := loadArtifacts(t)
	for file, typ := range want {
		a := arts[file]
		if a == nil {
			t.Errorf("%s missing", file)
			continue
		}
		if a.Name+".yaml" != file || !strings.HasPrefix(a.Name, "Custom.") {
			t.Errorf("%s: name %q must be the file name and start with Custom.", file, a.Name)
		}
		if a.Type != typ {
			t.Errorf("%s: type %q, want %s", file, a.Type, typ)
		}
		if !strings.Contains(a.Description, "has not been executed") {
			t.Errorf("%s: the description must say the artifact has not been executed", file)
		}
		if len(a.Tools) != 1 || a.Tools[0].Name == "" || a.Tools[0].URL == "" {
			t.Fatalf("%s: want one tool with a name and URL: %+v", file, a.Tools)
		}
		if len(a.Sources) == 0 || strings.TrimSpace(a.Sources[0].Query) == "" {
			t.Fatalf("%s: no source query", file)
		}
		q := a.Sources[0].Query
		if !strings.Contains(q, `FetchBinary(ToolName="`+a.Tools[0].Name+`")`) {
			t.Errorf("%s: the query does not fetch the declared tool %s", file, a.Tools[0].Name)
		}
		if !strings.Contains(q, "parse_jsonl(filename=OutFile)") {
			t.Errorf("%s: the findings are not returned as rows from the JSONL output", file)
		}
		seen := map[string]bool{}
		for _, p := range a.Parameters {
			if p.Name == "" || seen[p.Name] {
				t.Errorf("%s: parameter name %q empty or repeated", file, p.Name)
			}
			seen[p.Name] = true
			if !regexp.MustCompile(`\b` + p.Name + `\b`).MatchString(q) {
				t.Errorf("%s: parameter %s is never used by the query", file, p.Name)
			}
			if p.Type == "choices" && (len(p.Choices) == 0 || !contains(p.Choices, p.Default)) {
				t.Errorf("%s: parameter %s: default %q not among its choices", file, p.Name, p.Default)
			}
		}
		// Parenthesis and bracket balance: a cheap guard against a broken
		// query after an edit.
		for _, pair := range []string{"()", "[]", "{}"} {
			if strings.Count(q, pair[:1]) != strings.Count(q, pair[1:]) {
				t.Errorf("%s: unbalanced %s in the query", file, pair)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestVelociraptorArtifacts_CommandLineUsesRealScanFlags(t *testing.T) {
	flags, formats := scanFlagSpec(t)
	for file, a := range loadArtifacts(t) {
		argv, literal := argvOf(t, a.Sources[0].Query)
		if len(argv) < 3 || argv[1] != "scan" {
			t.Errorf("%s: argv %q does not run envhunt scan", file, argv)
			continue
		}
		params := map[string]bool{}
		for _, p := range a.Parameters {
			params[p.Name] = true
		}
		sawFormat := false
		for i := 2; i < len(argv); i++ {
			if !literal[i] || !strings.HasPrefix(argv[i], "-") {
				continue
			}
			name := strings.TrimLeft(argv[i], "-")
			takesValue, ok := flags[name]
			if !ok {
				t.Errorf("%s: %s is not a flag of envhunt scan", file, argv[i])
				continue
			}
			if takesValue {
				if i+1 >= len(argv) || (literal[i+1] && strings.HasPrefix(argv[i+1], "-")) {
					t.Errorf("%s: %s needs a value", file, argv[i])
					continue
				}
				if name == "format" {
					sawFormat = true
					if !literal[i+1] || argv[i+1] != "jsonl" || !contains(formats, argv[i+1]) {
						t.Errorf("%s: --format %s: the artifact must ask for jsonl (allowed: %v)", file, argv[i+1], formats)
					}
				}
				if !literal[i+1] && !params[argv[i+1]] && !strings.Contains(a.Sources[0].Query, argv[i+1]+" <=") && !strings.Contains(a.Sources[0].Query, "AS "+argv[i+1]) {
					t.Errorf("%s: value %s of %s is neither a parameter nor defined in the query", file, argv[i+1], argv[i])
				}
				i++
			}
		}
		if !sawFormat {
			t.Errorf("%s: the command line does not ask for --format jsonl", file)
		}
	}
}

// The artifacts' command lines, with their variables filled in, run on the
// demo collection laid out as each artifact sees it: the client artifact's
// <Hostname>/C/... copy, the server artifact's uploads/auto/C%3A/... store.
func TestVelociraptorArtifacts_CommandLineRunsOnTheDemo(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo", "WS-DEV-07", "C")
	if _, err := os.Stat(demo); err != nil {
		t.Skip("demo collection not present:", err)
	}
	for file, a := range loadArtifacts(t) {
		t.Run(file, func(t *testing.T) {
			tmp := t.TempDir()
			var evidence string
			if a.Type == "SERVER" {
				evidence = filepath.Join(tmp, "uploads")
				copyTree(t, demo, filepath.Join(evidence, "auto", "C%3A"))
			} else {
				evidence = filepath.Join(tmp, "WS-DEV-07")
				copyTree(t, demo, filepath.Join(evidence, "C"))
			}
			out := filepath.Join(tmp, "findings.jsonl")
			defaults := map[string]string{}
			for _, p := range a.Parameters {
				defaults[p.Name] = p.Default
			}
			argv, literal := argvOf(t, a.Sources[0].Query)
			args := []string{}
			for i := 1; i < len(argv); i++ {
				switch {
				case literal[i]:
					args = append(args, argv[i])
				case argv[i] == "OutFile":
					args = append(args, out)
				case argv[i] == "HostDir" || argv[i] == "Uploads":
					args = append(args, evidence)
				case defaults[argv[i]] != "":
					args = append(args, defaults[argv[i]])
				default:
					t.Fatalf("no value for %s", argv[i])
				}
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &stdout, &stderr)
			if code != 0 && code != 1 && code != 3 {
				t.Fatalf("envhunt %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			rules := map[string]bool{}
			lines := 0
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var row map[string]any
				if err := json.Unmarshal([]byte(l), &row); err != nil {
					t.Fatalf("line %d is not JSON: %v", lines+1, err)
				}
				lines++
				id, _ := row["rule_id"].(string)
				rules[id] = true
				if row["host"] != "WS-DEV-07" {
					t.Errorf("row host %v, want WS-DEV-07 (from the SYSTEM hive)", row["host"])
				}
			}
			// Two planted items of the demo README: the Environment ACL
			// (#1) and the Group Policy Registry.pol (#13).
			for _, id := range []string{"61e48f91-d72c-5e2d-b6c5-cd7f3d6d1fac", "bf9b5794-a2e3-4568-be3c-931ec8700a25"} {
				if !rules[id] {
					t.Errorf("no finding of rule %s among %d rows", id, lines)
				}
			}
		})
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
