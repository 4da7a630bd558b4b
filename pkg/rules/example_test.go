package rules_test

import (
	"fmt"
	"time"

	"github.com/envhunt/envhunt/pkg/event"
	"github.com/envhunt/envhunt/pkg/rules"
)

const exampleRule = `title: Go Toolchain Redirected Through GOFLAGS
id: 6b0c2a4e-1f3d-4e5a-9b7c-8d9e0f1a2b3c
status: test
tags:
    - attack.t1574.007
logsource:
    product: windows
    category: registry_set
detection:
    selection:
        TargetObject|endswith: '\Environment\GOFLAGS'
        Details|contains:
            - '-toolexec'
            - '-overlay'
    condition: selection
level: high
envhunt:
    pattern: path
    explain: '{{TargetObject}} makes every go build run "{{Details}}".'
    tests:
        - name: toolexec
          expect: match
          event: {fields: {TargetObject: 'HKU\S-1-5-21-1\Environment\GOFLAGS', Details: '-toolexec=C:\Users\Public\t.exe'}}
        - name: plain flags
          expect: nomatch
          event: {fields: {TargetObject: 'HKU\S-1-5-21-1\Environment\GOFLAGS', Details: '-mod=mod'}}
`

// A pipeline loads rules, matches events and renders the explanation.
func Example() {
	r, err := rules.Parse("goflags.yml", []byte(exampleRule))
	if err != nil {
		fmt.Println(err)
		return
	}
	rs := rules.NewRuleSet(r)

	ev := event.New(event.RegistrySet, time.Time{}).
		Set("TargetObject", `HKU\S-1-5-21-1\Environment\GOFLAGS`).
		Set("Details", `-toolexec=C:\Users\Public\t.exe`)
	for _, m := range rs.Match(ev) {
		fmt.Println(m.Rule.Level, m.Rule.Attack(), m.Fields)
		fmt.Println(m.Explain())
	}
	// Output:
	// high [T1574.007] [TargetObject Details]
	// HKU\S-1-5-21-1\Environment\GOFLAGS makes every go build run "-toolexec=C:\Users\Public\t.exe".
}

// Load errors name the file, line and column.
func ExampleParse_error() {
	_, err := rules.Parse("bad.yml", []byte("title: x\nid: 6b0c2a4e-1f3d-4e5a-9b7c-8d9e0f1a2b3c\nlevel: high\nlogsource: {category: registry_set}\ndetection:\n    sel:\n        Details|contians: x\n    condition: sel\n"))
	fmt.Println(err.Error()[:60])
	// Output:
	// bad.yml:7:9: Details|contians: unknown modifier "contians" (
}

// A scanner asks what the rules read before walking hives.
func ExampleRuleSet_Needs() {
	r, _ := rules.Parse("goflags.yml", []byte(exampleRule))
	for _, in := range rules.NewRuleSet(r).Needs() {
		fmt.Println(in.Category, in.AnyTarget, in.TargetObjectNeedles, in.Fields)
		fmt.Println(in.MayMatch(`HKU\S-1-5-21-1\Environment\GOPATH`), in.MayMatchUnder(`HKU\S-1-5-21-1\Software`))
	}
	// Output:
	// registry_set false [*\environment\goflags] [Details TargetObject]
	// false true
}

// Self-tests run without any evidence.
func ExampleRule_RunTests() {
	r, _ := rules.Parse("goflags.yml", []byte(exampleRule))
	for _, res := range r.RunTests() {
		fmt.Println(res.Case.Name, res.Passed)
	}
	// Output:
	// toolexec true
	// plain flags true
}
