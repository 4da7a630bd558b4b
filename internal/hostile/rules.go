package hostile

import (
	"fmt"
	"strings"
)

// Rules returns malformed and hostile rule files (YAML): syntax errors,
// wrong types, unknown keys and modifiers, an alias bomb, deep nesting,
// huge and pathological conditions and regular expressions, tabs, binary
// garbage, an empty file and a document stream. Each must be refused with
// a message naming the file (and line where there is one), or loaded
// within the loader's bounds.
func Rules() []Case {
	const head = "title: t\nid: 5f0c1a51-3e8e-4d4e-9a57-000000000001\nstatus: test\nlevel: high\nlogsource:\n  product: windows\n  category: registry_set\n"
	var bomb strings.Builder
	bomb.WriteString("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n")
	for i := 'b'; i <= 'j'; i++ {
		fmt.Fprintf(&bomb, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	bomb.WriteString(head + "detection:\n  sel:\n    TargetObject: *j\n  condition: sel\n")
	deep := head + "detection:\n  sel:\n    TargetObject: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n  condition: sel\n"
	parens := head + "detection:\n  sel:\n    TargetObject: x\n  condition: " + strings.Repeat("(", 3000) + "sel" + strings.Repeat(")", 3000) + "\n"
	nots := head + "detection:\n  sel:\n    TargetObject: x\n  condition: " + strings.Repeat("not ", 5000) + "sel\n"
	longCond := head + "detection:\n  sel:\n    TargetObject: x\n  condition: sel" + strings.Repeat(" or sel", 20000) + "\n"
	regex := head + "detection:\n  sel:\n    TargetObject|re: '" + strings.Repeat("(a*)*", 2000) + "'\n  condition: sel\n"
	badRegex := head + "detection:\n  sel:\n    TargetObject|re: '(?P<x'\n  condition: sel\n"
	wild := head + "detection:\n  sel:\n    TargetObject: '" + strings.Repeat("*?", 4000) + "'\n  condition: sel\n"
	windash := head + "detection:\n  sel:\n    CommandLine|windash|contains: '" + strings.Repeat("-a -b -c -d -e -f -g ", 50) + "'\n  condition: sel\n"
	manyValues := head + "detection:\n  sel:\n    TargetObject:\n" + strings.Repeat("      - x\n", 200000) + "  condition: sel\n"
	return []Case{
		{Name: "empty.yml", Data: nil},
		{Name: "not-yaml.yml", Data: []byte("\x00\x01\x02\xff\xfe garbage {{{ [[[ ::: \x1b[31m")},
		{Name: "tabs.yml", Data: []byte("title: t\n\tid: x\n")},
		{Name: "unclosed.yml", Data: []byte(head + "detection:\n  sel:\n    TargetObject: 'x\n  condition: sel\n")},
		{Name: "wrong-types.yml", Data: []byte("title: [1,2]\nid: 7\nlevel: {a: b}\nlogsource: x\ndetection: 5\n")},
		{Name: "unknown-key.yml", Data: []byte(head + "bogus: 1\ndetection:\n  sel:\n    TargetObject: x\n  condition: sel\n")},
		{Name: "unknown-modifier.yml", Data: []byte(head + "detection:\n  sel:\n    TargetObject|explode: x\n  condition: sel\n")},
		{Name: "unknown-selection.yml", Data: []byte(head + "detection:\n  sel:\n    TargetObject: x\n  condition: nothere and sel\n")},
		{Name: "unknown-field.yml", Data: []byte(head + "detection:\n  sel:\n    NoSuchField\x1b[31m: x\n  condition: sel\n")},
		{Name: "alias-bomb.yml", Data: []byte(bomb.String())},
		{Name: "deep-nesting.yml", Data: []byte(deep)},
		{Name: "deep-parentheses.yml", Data: []byte(parens)},
		{Name: "many-nots.yml", Data: []byte(nots)},
		{Name: "long-condition.yml", Data: []byte(longCond)},
		{Name: "nested-quantifiers.yml", Data: []byte(regex)},
		{Name: "bad-regex.yml", Data: []byte(badRegex)},
		{Name: "wildcards.yml", Data: []byte(wild)},
		{Name: "windash.yml", Data: []byte(windash)},
		{Name: "many-values.yml", Data: []byte(manyValues)},
		{Name: "documents.yml", Data: []byte(strings.Repeat("---\n"+head, 1000))},
		{Name: "bad-envhunt-tests.yml", Data: []byte(head + "detection:\n  sel:\n    TargetObject: x\n  condition: sel\nenvhunt:\n  pattern: nope\n  tests:\n    - fixture: ../../../../etc/passwd\n")},
	}
}
