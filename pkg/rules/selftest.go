package rules

import (
	"fmt"

	"github.com/envhunt/envhunt/pkg/event"
)

// TestCase is one self-test of a rule, from its envhunt tests list.
type TestCase struct {
	Name string
	// ExpectMatch is true for "expect: match": at least one of the events
	// must match. For "expect: nomatch" none may.
	ExpectMatch bool
	// Events are the case's events (event: or events:).
	Events []*event.Event
	// Fixture is a file, relative to the rule file, whose events a
	// FixtureLoader provides (fixture:).
	Fixture string
	// Line and Col locate the case in the rule file.
	Line, Col int
}

// TestResult is the outcome of one test case.
type TestResult struct {
	Rule *Rule
	Case *TestCase
	// Passed is true when the rule behaved as the case expects.
	Passed bool
	// Skipped is true for a fixture case run without a FixtureLoader.
	Skipped bool
	// Message says what went wrong (or why the case was skipped).
	Message string
}

// String renders a result as "file:line:col: rule id: case: message".
func (t TestResult) String() string {
	status := "ok"
	switch {
	case t.Skipped:
		status = "skipped"
	case !t.Passed:
		status = "FAIL"
	}
	s := fmt.Sprintf("%s:%d:%d: %s %s: %s", t.Rule.File, t.Case.Line, t.Case.Col, t.Rule.ID, t.Case.Name, status)
	if t.Message != "" {
		s += ": " + t.Message
	}
	return s
}

// FixtureLoader turns a test case's fixture file into events (for example
// by scanning a fixture hive). rule is the rule that names it.
type FixtureLoader func(rule *Rule, fixture string) ([]*event.Event, error)

// RunTests runs the rule's self-tests. Fixture cases are skipped; use
// RunTestsWith to run them.
func (r *Rule) RunTests() []TestResult { return r.RunTestsWith(nil) }

// RunTestsWith runs the rule's self-tests, loading fixtures with load.
func (r *Rule) RunTestsWith(load FixtureLoader) []TestResult {
	out := make([]TestResult, 0, len(r.Tests))
	for i := range r.Tests {
		tc := &r.Tests[i]
		res := TestResult{Rule: r, Case: tc}
		evs := tc.Events
		if tc.Fixture != "" {
			if load == nil {
				res.Skipped = true
				res.Message = "fixture " + tc.Fixture + " needs a fixture loader"
				out = append(out, res)
				continue
			}
			var err error
			evs, err = load(r, tc.Fixture)
			if err != nil {
				res.Message = fmt.Sprintf("fixture %s: %v", tc.Fixture, err)
				out = append(out, res)
				continue
			}
		}
		matched := 0
		for _, ev := range evs {
			if r.Match(ev) != nil {
				matched++
			}
		}
		switch {
		case tc.ExpectMatch && matched == 0:
			res.Message = fmt.Sprintf("expected a match, none of %d event(s) matched", len(evs))
		case !tc.ExpectMatch && matched > 0:
			res.Message = fmt.Sprintf("expected no match, %d of %d event(s) matched", matched, len(evs))
		default:
			res.Passed = true
		}
		out = append(out, res)
	}
	return out
}

// TestCounts returns how many of the rule's test cases expect a match and
// how many expect none.
func (r *Rule) TestCounts() (match, nomatch int) {
	for _, t := range r.Tests {
		if t.ExpectMatch {
			match++
		} else {
			nomatch++
		}
	}
	return match, nomatch
}

// RunTests runs every rule's self-tests, in rule order.
func (s *RuleSet) RunTests(load FixtureLoader) []TestResult {
	var out []TestResult
	for _, r := range s.rules {
		out = append(out, r.RunTestsWith(load)...)
	}
	return out
}
