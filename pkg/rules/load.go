package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"gopkg.in/yaml.v3"
)

// Bounds enforced while loading (see the package documentation).
const (
	maxRuleFileSize = 1 << 20
	maxYAMLNodes    = 200_000
	maxRuleFiles    = 100_000
	maxTitleLen     = 256
	maxRulesPerFile = 1000
)

// loader holds the state of loading one file.
type loader struct {
	file  string
	errs  []*Error
	warns []*Error
	cats  []event.Category
	// patterns counts the compiled values of the rule, against
	// maxPatternsPerRule.
	patterns int
}

func (l *loader) errorf(n *yaml.Node, format string, a ...any) {
	e := &Error{File: l.file, Msg: fmt.Sprintf(format, a...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	l.errs = append(l.errs, e)
}

// warnf records a problem that does not stop the rule from loading.
func (l *loader) warnf(n *yaml.Node, format string, a ...any) {
	if len(l.warns) >= maxErrorsPerFile {
		return
	}
	e := &Error{File: l.file, Msg: "warning: " + fmt.Sprintf(format, a...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	l.warns = append(l.warns, e)
}

// fieldKnown reports whether any category the rule reads declares name.
func (l *loader) fieldKnown(name string) bool {
	for _, c := range l.cats {
		if event.HasField(c, name) {
			return true
		}
	}
	return false
}

func (l *loader) unknownField(n *yaml.Node, name string) {
	cats := make([]string, len(l.cats))
	for i, c := range l.cats {
		cats[i] = string(c)
	}
	var known []string
	hint := ""
	for _, c := range l.cats {
		if s, ok := event.Lookup(c); ok {
			for _, f := range append(append([]event.Field(nil), event.CommonFields...), s.Fields...) {
				known = append(known, f.Name)
				if strings.EqualFold(f.Name, name) {
					hint = fmt.Sprintf(" (field names are case-sensitive: did you mean %q?)", f.Name)
				}
			}
		}
	}
	if hint == "" {
		hint = didYouMean(name, known)
	}
	l.errorf(n, "field %q does not exist in %s events%s; see docs/fields.md", name, strings.Join(cats, "/"), hint)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Parse loads one rule from YAML. name is used in error messages. The error,
// when not nil, is a *FileError listing every problem found with its line
// and column. A Sigma rule collection (several rules in one file) is an
// error here: use ParseAll or the directory loaders.
func Parse(name string, data []byte) (*Rule, error) {
	rules, err := ParseAll(name, data)
	if err != nil {
		return nil, err
	}
	if len(rules) != 1 {
		return nil, &FileError{File: name, Errs: []*Error{{File: name, Msg: fmt.Sprintf("holds %d rules (a Sigma rule collection): load it with ParseAll or as part of a directory", len(rules))}}}
	}
	return rules[0], nil
}

// ParseAll loads every rule of a file: one rule, or a Sigma rule collection
// (several YAML documents, with action: global, reset and repeat). The
// error, when not nil, is a *FileError, and no rule of the file is
// returned.
func ParseAll(name string, data []byte) ([]*Rule, error) {
	l := &loader{file: name}
	rules := l.parseAll(data)
	// Report in file order, whatever order the checks ran in.
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	for _, r := range rules {
		sort.SliceStable(r.Warnings, func(i, j int) bool {
			a, b := r.Warnings[i], r.Warnings[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
	}
	if len(l.errs) > 0 {
		if len(l.errs) > maxErrorsPerFile {
			extra := len(l.errs) - maxErrorsPerFile
			l.errs = append(l.errs[:maxErrorsPerFile], &Error{File: name, Msg: fmt.Sprintf("%d more problems not shown", extra)})
		}
		return nil, &FileError{File: name, Errs: l.errs}
	}
	return rules, nil
}

// LoadFile loads one rule file.
func LoadFile(name string) (*Rule, error) {
	data, err := readBounded(os.Open(name))
	if err != nil {
		return nil, &FileError{File: name, Errs: []*Error{{File: name, Msg: err.Error()}}}
	}
	return Parse(name, data)
}

func readBounded(f fs.File, err error) ([]byte, error) {
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRuleFileSize+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if len(data) > maxRuleFileSize {
		return nil, fmt.Errorf("larger than %d bytes: not a rule file", maxRuleFileSize)
	}
	return data, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// LoadDir loads every *.yml and *.yaml file under dir (recursively). It
// returns the rules of the good files; when some files failed, the error is
// LoadErrors with one entry per bad file, named by its path under dir.
func LoadDir(dir string) (*RuleSet, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		data, err := readBounded(os.Open(dir))
		if err != nil {
			return NewRuleSet(), LoadErrors{{File: dir, Errs: []*Error{{File: dir, Msg: err.Error()}}}}
		}
		rules, err := ParseAll(dir, data)
		if err != nil {
			return NewRuleSet(), LoadErrors{err.(*FileError)}
		}
		return NewRuleSet(rules...), nil
	}
	return loadFS(os.DirFS(dir), ".", func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) })
}

// LoadFS loads every *.yml and *.yaml file under root in fsys, as LoadDir
// does. File names in rules and errors are the paths in fsys.
func LoadFS(fsys fs.FS, root string) (*RuleSet, error) {
	return loadFS(fsys, root, func(p string) string { return p })
}

func loadFS(fsys fs.FS, root string, display func(string) string) (*RuleSet, error) {
	var files []string
	var errs LoadErrors
	werr := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &FileError{File: display(p), Errs: []*Error{{File: display(p), Msg: unwrapPathError(err).Error()}}})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		base := path.Base(p)
		if d.IsDir() {
			if p != root && strings.HasPrefix(base, ".") {
				return fs.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(path.Ext(base))
		if (ext == ".yml" || ext == ".yaml") && !strings.HasPrefix(base, ".") {
			if len(files) >= maxRuleFiles {
				return fmt.Errorf("more than %d rule files", maxRuleFiles)
			}
			files = append(files, p)
		}
		return nil
	})
	if werr != nil {
		errs = append(errs, &FileError{File: display(root), Errs: []*Error{{File: display(root), Msg: werr.Error()}}})
	}
	sort.Strings(files)
	var good []*Rule
	seen := map[string]*Rule{}
	for _, p := range files {
		name := display(p)
		data, err := readBounded(fsys.Open(p))
		if err != nil {
			errs = append(errs, &FileError{File: name, Errs: []*Error{{File: name, Msg: err.Error()}}})
			continue
		}
		rules, err := ParseAll(name, data)
		if err != nil {
			errs = append(errs, err.(*FileError))
			continue
		}
		var dups []*Error
		here := map[string]bool{}
		for _, r := range rules {
			id := strings.ToLower(r.ID)
			if prev, dup := seen[id]; dup {
				dups = append(dups, &Error{File: name, Line: r.idLine, Col: r.idCol,
					Msg: fmt.Sprintf("rule id %s is already used by %s", r.ID, prev.File)})
			} else if here[id] {
				dups = append(dups, &Error{File: name, Line: r.idLine, Col: r.idCol,
					Msg: fmt.Sprintf("rule id %s is used twice in this file", r.ID)})
			}
			here[id] = true
		}
		if len(dups) > 0 {
			errs = append(errs, &FileError{File: name, Errs: dups})
			continue
		}
		for _, r := range rules {
			seen[strings.ToLower(r.ID)] = r
			good = append(good, r)
		}
	}
	rs := NewRuleSet(good...)
	if len(errs) > 0 {
		return rs, errs
	}
	return rs, nil
}

// topKeys are the keys a rule file may have: Sigma's, SigmaHQ's repository
// keys, and the envhunt block.
var topKeys = map[string]bool{
	"title": true, "id": true, "related": true, "name": true, "taxonomy": true, "status": true,
	"description": true, "license": true, "references": true, "author": true, "date": true,
	"modified": true, "tags": true, "logsource": true, "detection": true, "fields": true,
	"falsepositives": true, "level": true, "scope": true, "envhunt": true,
	// SigmaHQ repository metadata, accepted and ignored.
	"regression_tests_path": true, "simulation": true,
}

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	dateRE    = regexp.MustCompile(`^\d{4}[-/]\d{2}[-/]\d{2}$`)
	tagRE     = regexp.MustCompile(`^[a-z0-9_-]+\.[a-z0-9._-]+$`)
	selNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// mapping checks that n is a mapping without duplicate keys, aliases or
// non-scalar keys, and returns its keys and values in order.
func (l *loader) mapping(n *yaml.Node, what string) (keys, vals []*yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "%s must be a mapping, not a %s", what, kindName(n))
		return nil, nil, false
	}
	seen := map[string]bool{}
	ok = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "%s: keys must be plain names", what)
			ok = false
			continue
		}
		if seen[k.Value] {
			l.errorf(k, "%s: key %q appears twice", what, k.Value)
			ok = false
			continue
		}
		seen[k.Value] = true
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return keys, vals, ok
}

func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errorf(n, "%s must be text, not a %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// strList accepts a list of texts (or, where lenient, one text).
func (l *loader) strList(n *yaml.Node, what string, single bool) []string {
	if single && n.Kind == yaml.ScalarNode {
		s, _ := l.str(n, what)
		return []string{s}
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s must be a list, not a %s", what, kindName(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := l.str(c, what+" entry"); ok {
			out = append(out, s)
		}
	}
	return out
}

// checkTree rejects aliases and oversized documents before anything reads
// the tree.
func (l *loader) checkTree(n *yaml.Node) bool {
	count := 0
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		count++
		if count > maxYAMLNodes {
			l.errorf(n, "more than %d YAML nodes: not a rule file", maxYAMLNodes)
			return false
		}
		if depth > 64 {
			l.errorf(n, "YAML nested more than 64 levels: not a rule file")
			return false
		}
		if n.Kind == yaml.AliasNode {
			l.errorf(n, "YAML aliases (*name) are not supported in rules: write the value out")
			return false
		}
		for _, c := range n.Content {
			if !walk(c, depth+1) {
				return false
			}
		}
		return true
	}
	return walk(n, 0)
}

// parseAll reads every rule of a file: one YAML document, or a Sigma rule
// collection (several documents, with action: global, reset and repeat).
func (l *loader) parseAll(data []byte) []*Rule {
	if len(data) > maxRuleFileSize {
		l.errorf(nil, "larger than %d bytes: not a rule file", maxRuleFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			e := &Error{File: l.file, Msg: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
				e.Msg = "YAML: " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "line "+m[1]+": ")
			}
			l.errs = append(l.errs, e)
			return nil
		}
		if len(n.Content) == 0 {
			continue
		}
		if len(docs) >= maxRulesPerFile {
			l.errorf(&n, "more than %d YAML documents in one file", maxRulesPerFile)
			return nil
		}
		if !l.checkTree(n.Content[0]) {
			return nil
		}
		docs = append(docs, n.Content[0])
	}
	if len(docs) == 0 {
		l.errorf(nil, "empty file: not a rule")
		return nil
	}
	var rules []*Rule
	for _, root := range l.expandCollection(docs) {
		if r := l.parseRule(root); r != nil {
			rules = append(rules, r)
		}
	}
	return rules
}

// expandCollection applies Sigma collection actions: a document with
// "action: global" is merged into every later document until one with
// "action: reset"; "action: repeat" is merged into the rule before it.
// Plain documents are rules of their own.
func (l *loader) expandCollection(docs []*yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	var global, prev *yaml.Node
	for _, d := range docs {
		action, rest := l.splitAction(d)
		switch action {
		case "":
			out = append(out, mergeNodes(global, d))
		case "global":
			global = mergeNodes(global, rest)
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev == nil {
				l.errorf(d, "action: repeat needs a rule before it")
				continue
			}
			out = append(out, mergeNodes(prev, rest))
		default:
			l.errorf(d, "action %q: want global, reset or repeat", action)
			continue
		}
		if action == "" || action == "repeat" {
			prev = out[len(out)-1]
		}
	}
	if global != nil && len(out) == 0 {
		l.errorf(docs[0], "a Sigma collection with action: global but no rule after it")
	}
	return out
}

// splitAction returns a document's action and the document without it.
func (l *loader) splitAction(d *yaml.Node) (string, *yaml.Node) {
	if d.Kind != yaml.MappingNode {
		return "", d
	}
	for i := 0; i+1 < len(d.Content); i += 2 {
		if d.Content[i].Value == "action" {
			rest := *d
			rest.Content = append(append([]*yaml.Node(nil), d.Content[:i]...), d.Content[i+2:]...)
			return d.Content[i+1].Value, &rest
		}
	}
	return "", d
}

// mergeNodes merges mapping b over mapping a, recursively; anything else
// in b replaces a. The nodes are shared, not copied: rules never change
// them.
func mergeNodes(a, b *yaml.Node) *yaml.Node {
	if a == nil {
		return b
	}
	if a.Kind != yaml.MappingNode || b.Kind != yaml.MappingNode {
		return b
	}
	out := *b
	out.Content = nil
	inB := map[string]int{}
	for i := 0; i+1 < len(b.Content); i += 2 {
		inB[b.Content[i].Value] = i
	}
	for i := 0; i+1 < len(a.Content); i += 2 {
		k := a.Content[i]
		if j, ok := inB[k.Value]; ok {
			out.Content = append(out.Content, b.Content[j], mergeNodes(a.Content[i+1], b.Content[j+1]))
			continue
		}
		out.Content = append(out.Content, k, a.Content[i+1])
	}
	inA := map[string]bool{}
	for i := 0; i+1 < len(a.Content); i += 2 {
		inA[a.Content[i].Value] = true
	}
	for i := 0; i+1 < len(b.Content); i += 2 {
		if !inA[b.Content[i].Value] {
			out.Content = append(out.Content, b.Content[i], b.Content[i+1])
		}
	}
	return &out
}

// parseRule reads one rule from its (merged) document.
func (l *loader) parseRule(root *yaml.Node) *Rule {
	// Each rule of a collection reports its own problems; the counters
	// that bound one rule start again.
	l.patterns = 0
	nerr := len(l.errs)
	l.warns = nil
	keys, vals, _ := l.mapping(root, "a rule")
	if keys == nil && root.Kind != yaml.MappingNode {
		return nil
	}
	r := &Rule{File: l.file, Line: root.Line}
	byKey := map[string]*yaml.Node{}
	keyNode := map[string]*yaml.Node{}
	for i, k := range keys {
		switch k.Value {
		case "correlation":
			l.errorf(k, "Sigma correlation rules are not supported: envhunt matches single events")
			continue
		case "filter":
			l.errorf(k, "Sigma meta-filters (filter:) are not supported: add the exclusion to the rule's detection")
			continue
		}
		if !topKeys[k.Value] {
			var known []string
			for key := range topKeys {
				known = append(known, key)
			}
			sort.Strings(known)
			l.errorf(k, "unknown key %q%s", k.Value, didYouMean(k.Value, known))
			continue
		}
		byKey[k.Value] = vals[i]
		keyNode[k.Value] = k
	}
	required := func(k string) *yaml.Node {
		if n := byKey[k]; n != nil {
			return n
		}
		l.errorf(root, "missing required key %q", k)
		return nil
	}

	if n := required("title"); n != nil {
		if s, ok := l.str(n, "title"); ok {
			if len(s) > maxTitleLen || strings.TrimSpace(s) == "" {
				l.errorf(n, "title must be 1 to %d characters", maxTitleLen)
			}
			r.Title = s
		}
	}
	if n := required("id"); n != nil {
		if s, ok := l.str(n, "id"); ok {
			if !uuidRE.MatchString(s) {
				l.errorf(n, "id %q is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", s)
			}
			r.ID = s
			r.idLine, r.idCol = n.Line, n.Column
		}
	}
	if n := byKey["name"]; n != nil {
		r.Name, _ = l.str(n, "name")
	}
	if n := byKey["related"]; n != nil {
		r.Related = l.related(n)
	}
	if n := byKey["status"]; n != nil {
		if s, ok := l.str(n, "status"); ok {
			switch s {
			case "stable", "test", "experimental", "deprecated", "unsupported":
			default:
				l.errorf(n, "status %q: want stable, test, experimental, deprecated or unsupported%s", s, didYouMean(s, []string{"stable", "test", "experimental", "deprecated", "unsupported"}))
			}
			r.Status = s
		}
	}
	for k, dst := range map[string]*string{"description": &r.Description, "license": &r.License, "author": &r.Author, "taxonomy": new(string)} {
		if n := byKey[k]; n != nil {
			*dst, _ = l.str(n, k)
		}
	}
	for k, dst := range map[string]*string{"date": &r.Date, "modified": &r.Modified} {
		if n := byKey[k]; n != nil {
			if s, ok := l.str(n, k); ok {
				if !dateRE.MatchString(s) {
					l.errorf(n, "%s %q: want YYYY-MM-DD", k, s)
				}
				*dst = s
			}
		}
	}
	if n := byKey["references"]; n != nil {
		r.References = l.strList(n, "references", false)
	}
	if n := byKey["tags"]; n != nil {
		r.Tags = l.strList(n, "tags", false)
		for i, t := range r.Tags {
			if !tagRE.MatchString(t) && i < len(n.Content) {
				l.errorf(n.Content[i], "tag %q: want namespace.name in lower case (attack.t1574.007)", t)
			}
		}
	}
	if n := byKey["fields"]; n != nil {
		r.Fields = l.strList(n, "fields", false)
	}
	if n := byKey["falsepositives"]; n != nil {
		r.FalsePositives = l.strList(n, "falsepositives", true)
	}
	if n := byKey["scope"]; n != nil {
		l.strList(n, "scope", true)
	}
	if n := required("level"); n != nil {
		if s, ok := l.str(n, "level"); ok {
			lv, err := ParseLevel(s)
			if err != nil || s != strings.ToLower(s) {
				l.errorf(n, "level %q: want informational, low, medium, high or critical%s", s, didYouMean(s, levelNames[1:]))
			}
			r.Level = lv
		}
	}
	logsourceOK := false
	if n := required("logsource"); n != nil {
		logsourceOK = l.logsource(n, r)
	}
	if n := required("detection"); n != nil && logsourceOK {
		r.det = l.detection(n, r)
	}
	if n := byKey["envhunt"]; n != nil && logsourceOK {
		l.envhunt(n, r)
	}
	if len(l.errs) > nerr {
		return nil
	}
	r.Warnings = l.warns
	return r
}

func (l *loader) related(n *yaml.Node) []Related {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "related must be a list, not a %s", kindName(n))
		return nil
	}
	var out []Related
	for _, c := range n.Content {
		keys, vals, ok := l.mapping(c, "related entry")
		if !ok {
			continue
		}
		var rel Related
		for i, k := range keys {
			switch k.Value {
			case "id":
				rel.ID, _ = l.str(vals[i], "related id")
				if !uuidRE.MatchString(rel.ID) {
					l.errorf(vals[i], "related id %q is not a UUID", rel.ID)
				}
			case "type":
				rel.Type, _ = l.str(vals[i], "related type")
				switch rel.Type {
				case "derived", "obsolete", "merged", "renamed", "similar":
				default:
					l.errorf(vals[i], "related type %q: want derived, obsolete, merged, renamed or similar", rel.Type)
				}
			default:
				l.errorf(k, "related entry: unknown key %q", k.Value)
			}
		}
		out = append(out, rel)
	}
	return out
}

func (l *loader) logsource(n *yaml.Node, r *Rule) bool {
	keys, vals, ok := l.mapping(n, "logsource")
	if !ok {
		return false
	}
	var catNode *yaml.Node
	for i, k := range keys {
		s, _ := l.str(vals[i], "logsource "+k.Value)
		switch k.Value {
		case "product":
			r.Logsource.Product = s
		case "category":
			r.Logsource.Category = s
			catNode = vals[i]
		case "service":
			r.Logsource.Service = s
		case "definition":
			r.Logsource.Definition = s
		default:
			l.errorf(k, "logsource: unknown key %q (want product, category, service, definition)", k.Value)
			return false
		}
	}
	if catNode == nil {
		l.errorf(n, "logsource has no category: envhunt selects events by category (%s)", categoryList())
		return false
	}
	cats := event.Resolve(event.Category(r.Logsource.Category))
	if len(cats) == 0 {
		l.errorf(catNode, "logsource category %q has no events in envhunt (have: %s)", r.Logsource.Category, categoryList())
		return false
	}
	if r.Logsource.Product != "" {
		for _, c := range cats {
			if s, _ := event.Lookup(c); s.Product != r.Logsource.Product {
				l.errorf(n, "logsource product %q: %s events are product %q", r.Logsource.Product, c, s.Product)
				return false
			}
		}
	}
	if r.Logsource.Service != "" {
		l.errorf(n, "logsource service %q: envhunt selects events by category only; remove the service", r.Logsource.Service)
		return false
	}
	r.categories = cats
	l.cats = cats
	return true
}

func categoryList() string {
	seen := map[string]bool{}
	var out []string
	for _, s := range event.Categories() {
		for _, c := range append([]event.Category{s.Category}, s.Aliases...) {
			if !seen[string(c)] {
				seen[string(c)] = true
				out = append(out, string(c))
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// selection is one named selection of a detection: an OR of groups, each an
// AND of field matchers.
type selection struct {
	name   string
	groups [][]*fieldMatcher
}

func (l *loader) detection(n *yaml.Node, r *Rule) *detection {
	keys, vals, ok := l.mapping(n, "detection")
	if !ok {
		return nil
	}
	sels := map[string]*selection{}
	var names []string
	var condNode *yaml.Node
	for i, k := range keys {
		switch k.Value {
		case "condition":
			condNode = vals[i]
			continue
		case "timeframe":
			l.errorf(k, "timeframe (correlation) is not supported: envhunt matches single events")
			continue
		}
		if !selNameRE.MatchString(k.Value) {
			l.errorf(k, "selection name %q: use letters, digits, '_', '-' and '.' only", k.Value)
			continue
		}
		switch k.Value {
		case "and", "or", "not", "of", "all", "them":
			l.errorf(k, "selection name %q is a condition keyword", k.Value)
			continue
		}
		if strings.Trim(k.Value, "0123456789") == "" {
			l.errorf(k, "selection name %q: a number cannot name a selection", k.Value)
			continue
		}
		if s := l.selection(k.Value, vals[i]); s != nil {
			sels[k.Value] = s
		}
		names = append(names, k.Value)
	}
	if condNode == nil {
		l.errorf(n, "detection has no condition")
		return nil
	}
	if len(names) == 0 {
		l.errorf(n, "detection has no selections")
		return nil
	}
	broken := len(sels) != len(names)
	if broken {
		// The selection errors are reported; stand-ins let the condition
		// be checked too.
		for _, name := range names {
			if sels[name] == nil {
				sels[name] = &selection{name: name}
			}
		}
	}
	var conds []*yaml.Node
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []*yaml.Node{condNode}
	case yaml.SequenceNode:
		conds = condNode.Content
		if len(conds) == 0 {
			l.errorf(condNode, "condition: empty list")
			return nil
		}
	default:
		l.errorf(condNode, "condition must be text or a list of texts, not a %s", kindName(condNode))
		return nil
	}
	var xs []cond
	for _, c := range conds {
		s, ok := l.str(c, "condition")
		if !ok {
			continue
		}
		r.Conditions = append(r.Conditions, s)
		if x := l.compileCondition(c, sels, names); x != nil {
			xs = append(xs, x)
		}
	}
	if len(xs) != len(conds) || broken {
		return nil
	}
	d := &detection{cond: xs[0]}
	if len(xs) > 1 {
		d.cond = &condOr{xs}
	}
	used := map[*selection]bool{}
	markUsed(d.cond, used)
	for i, k := range keys {
		if s := sels[k.Value]; s != nil && !used[s] {
			l.warnf(keys[i], "selection %q is not used by the condition", k.Value)
		}
	}
	return d
}

func markUsed(n cond, used map[*selection]bool) {
	switch x := n.(type) {
	case *condSel:
		used[x.s] = true
	case *condNot:
		markUsed(x.x, used)
	case *condAnd:
		for _, y := range x.xs {
			markUsed(y, used)
		}
	case *condOr:
		for _, y := range x.xs {
			markUsed(y, used)
		}
	}
}

func (l *loader) selection(name string, n *yaml.Node) *selection {
	s := &selection{name: name}
	group := func(m *yaml.Node) []*fieldMatcher {
		keys, vals, ok := l.mapping(m, "selection "+name)
		if !ok {
			return nil
		}
		if len(keys) == 0 {
			l.errorf(m, "selection %s is empty", name)
			return nil
		}
		var g []*fieldMatcher
		failed := false
		for i, k := range keys {
			fieldless := strings.HasPrefix(k.Value, "|")
			fm := l.compileField(k, vals[i], fieldless)
			if fm == nil {
				failed = true // go on: report every bad field at once
				continue
			}
			g = append(g, fm)
		}
		if failed {
			return nil
		}
		return g
	}
	switch n.Kind {
	case yaml.MappingNode:
		g := group(n)
		if g == nil {
			return nil
		}
		s.groups = append(s.groups, g)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			l.errorf(n, "selection %s is an empty list", name)
			return nil
		}
		maps, scalars := 0, 0
		for _, c := range n.Content {
			switch c.Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			}
		}
		switch {
		case maps == len(n.Content):
			failed := false
			for _, c := range n.Content {
				g := group(c)
				if g == nil {
					failed = true
					continue
				}
				s.groups = append(s.groups, g)
			}
			if failed {
				return nil
			}
		case scalars == len(n.Content):
			fm := l.compileField(&yaml.Node{Kind: yaml.ScalarNode, Value: "keywords", Line: n.Line, Column: n.Column}, n, true)
			if fm == nil {
				return nil
			}
			s.groups = append(s.groups, []*fieldMatcher{fm})
		default:
			l.errorf(n, "selection %s mixes field maps and keywords in one list", name)
			return nil
		}
	case yaml.ScalarNode:
		fm := l.compileField(&yaml.Node{Kind: yaml.ScalarNode, Value: "keywords", Line: n.Line, Column: n.Column}, n, true)
		if fm == nil {
			return nil
		}
		s.groups = append(s.groups, []*fieldMatcher{fm})
	default:
		l.errorf(n, "selection %s must be a mapping or a list", name)
		return nil
	}
	return s
}

func (l *loader) envhunt(n *yaml.Node, r *Rule) {
	keys, vals, ok := l.mapping(n, "envhunt")
	if !ok {
		return
	}
	hasPattern := false
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "pattern":
			s, _ := l.str(v, "envhunt pattern")
			valid := false
			for _, p := range Patterns {
				if string(p) == s {
					valid = true
				}
			}
			if !valid {
				names := make([]string, len(Patterns))
				for i, p := range Patterns {
					names[i] = string(p)
				}
				l.errorf(v, "envhunt pattern %q: want one of %s", s, strings.Join(names, ", "))
			}
			r.Pattern = Pattern(s)
			hasPattern = true
		case "explain":
			if s, ok := l.str(v, "envhunt explain"); ok {
				r.ExplainTemplate = s
				r.explain = l.parseTemplate(v, s)
			}
		case "remediation":
			if s, ok := l.str(v, "envhunt remediation"); ok {
				r.RemediationTemplate = s
				r.remediation = l.parseTemplate(v, s)
			}
		case "tests":
			r.Tests = l.tests(v, r)
		default:
			l.errorf(k, "envhunt: unknown key %q (want pattern, explain, remediation, tests)", k.Value)
		}
	}
	if !hasPattern {
		l.errorf(n, "envhunt block has no pattern")
	}
}

func (l *loader) tests(n *yaml.Node, r *Rule) []TestCase {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "envhunt tests must be a list, not a %s", kindName(n))
		return nil
	}
	var out []TestCase
	for i, c := range n.Content {
		keys, vals, ok := l.mapping(c, "test case")
		if !ok {
			continue
		}
		tc := TestCase{Name: fmt.Sprintf("case %d", i+1), Line: c.Line, Col: c.Column}
		hasExpect := false
		sources := 0
		for j, k := range keys {
			v := vals[j]
			switch k.Value {
			case "name":
				tc.Name, _ = l.str(v, "test name")
			case "expect":
				s, _ := l.str(v, "test expect")
				switch s {
				case "match":
					tc.ExpectMatch = true
				case "nomatch":
				default:
					l.errorf(v, "test expect %q: want match or nomatch", s)
				}
				hasExpect = true
			case "event":
				sources++
				if ev := l.testEvent(v, r); ev != nil {
					tc.Events = append(tc.Events, ev)
				}
			case "events":
				sources++
				if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
					l.errorf(v, "test events must be a non-empty list of events")
					continue
				}
				for _, e := range v.Content {
					if ev := l.testEvent(e, r); ev != nil {
						tc.Events = append(tc.Events, ev)
					}
				}
			case "fixture":
				sources++
				tc.Fixture, _ = l.str(v, "test fixture")
				if !filepath.IsLocal(filepath.FromSlash(tc.Fixture)) || strings.Contains(tc.Fixture, `\`) {
					l.errorf(v, "test fixture %q must be a relative path (with /) inside the rule's folder", tc.Fixture)
				}
			default:
				l.errorf(k, "test case: unknown key %q (want name, expect, event, events, fixture)", k.Value)
			}
		}
		if !hasExpect {
			l.errorf(c, "test case %q has no expect (match or nomatch)", tc.Name)
		}
		if sources != 1 {
			l.errorf(c, "test case %q needs exactly one of event, events or fixture", tc.Name)
		}
		out = append(out, tc)
	}
	return out
}

// testEvent builds an event of a test case, checking its category and every
// field name against the declarations.
func (l *loader) testEvent(n *yaml.Node, r *Rule) *event.Event {
	keys, vals, ok := l.mapping(n, "test event")
	if !ok {
		return nil
	}
	var cat event.Category
	if len(l.cats) > 0 && l.cats[0] == event.Category(r.Logsource.Category) {
		cat = l.cats[0]
	}
	var t time.Time
	var fields *yaml.Node
	for i, k := range keys {
		v := vals[i]
		switch k.Value {
		case "category":
			s, _ := l.str(v, "test event category")
			cat = event.Category(s)
			valid := false
			for _, c := range l.cats {
				if c == cat {
					valid = true
				}
			}
			if !valid {
				l.errorf(v, "test event category %q: this rule reads %s", s, catNames(l.cats))
				return nil
			}
		case "time":
			s, _ := l.str(v, "test event time")
			var err error
			if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				l.errorf(v, "test event time %q: want RFC 3339 (2024-01-02T03:04:05Z)", s)
			}
		case "fields":
			fields = v
		default:
			l.errorf(k, "test event: unknown key %q (want category, time, fields)", k.Value)
		}
	}
	if cat == "" {
		l.errorf(n, "test event needs a category: this rule reads %s", catNames(l.cats))
		return nil
	}
	ev := event.New(cat, t)
	if fields == nil {
		l.errorf(n, "test event has no fields")
		return nil
	}
	fk, fv, ok := l.mapping(fields, "test event fields")
	if !ok {
		return nil
	}
	spec, _ := event.Lookup(cat)
	for i, k := range fk {
		name := k.Value
		if !event.HasField(cat, name) {
			saved := l.cats
			l.cats = []event.Category{cat}
			l.unknownField(k, name)
			l.cats = saved
			continue
		}
		typ := "string"
		for _, f := range spec.Fields {
			if f.Name == name {
				typ = f.Type
			}
		}
		v := fv[i]
		switch v.Kind {
		case yaml.SequenceNode:
			list := []string{}
			for _, c := range v.Content {
				s, ok := l.str(c, "field "+name+" entry")
				if ok {
					list = append(list, s)
				}
			}
			ev.Set(name, list)
		case yaml.ScalarNode:
			switch tag := v.ShortTag(); {
			case tag == "!!null":
				ev.Set(name, nil)
			case tag == "!!int" && strings.Contains(typ, "int"):
				var i int64
				if err := v.Decode(&i); err != nil {
					var u uint64
					if err := v.Decode(&u); err != nil {
						l.errorf(v, "field %s: %v", name, err)
						continue
					}
					ev.Set(name, u)
					continue
				}
				ev.Set(name, i)
			case tag == "!!bool" && typ == "bool":
				var b bool
				_ = v.Decode(&b)
				ev.Set(name, b)
			default:
				if typ == "time" {
					tv, err := time.Parse(time.RFC3339Nano, v.Value)
					if err != nil {
						l.errorf(v, "field %s is a time: want RFC 3339, got %q", name, v.Value)
						continue
					}
					ev.Set(name, tv)
					continue
				}
				ev.Set(name, v.Value)
			}
		default:
			l.errorf(v, "field %s: want a value or a list of texts, not a %s", name, kindName(v))
		}
	}
	return ev
}

func catNames(cs []event.Category) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}
