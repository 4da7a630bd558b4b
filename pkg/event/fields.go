package event

import (
	"fmt"
	"sort"
)

// Field declares one field of a category: its name as rules spell it, its
// type as documentation shows it, and a one-line meaning.
type Field struct {
	Name string
	Type string // "string", "int", "bool", "time", "[]string"
	Doc  string
}

// CategorySpec declares a category and every field its events may carry.
type CategorySpec struct {
	Category Category
	// Product is the Sigma logsource product ("windows").
	Product string
	// Doc is a paragraph on what one event of this category is.
	Doc string
	// Sources names the evidence that produces it ("hive values", "ETW", ...).
	Sources string
	Fields  []Field
	// Aliases are other Sigma category names whose rules run on this
	// category's events (registry_event and registry_add run on registry_set
	// and registry_key events, as in Sigma's Sysmon mapping).
	Aliases []Category
}

// CommonFields are carried by events of every category.
var CommonFields = []Field{
	{"Host", "string", "host the evidence belongs to (ComputerName, else the collection folder)"},
	{"EvidenceFile", "string", "path of the evidence file the event was read from"},
	{"UserSid", "string", "SID of the user the evidence belongs to, when known or inferred"},
	{"User", "string", "DOMAIN\\name of that user, when known"},
}

var declared = map[Category]*CategorySpec{}

// Declare registers a category's fields. It is called from init functions in
// this package, one file per source; it panics on a duplicate, which is a
// programming error caught by any test.
func Declare(spec CategorySpec) {
	if _, dup := declared[spec.Category]; dup {
		panic(fmt.Sprintf("event: category %q declared twice", spec.Category))
	}
	if spec.Product == "" {
		spec.Product = "windows"
	}
	s := spec
	declared[spec.Category] = &s
}

// Lookup returns the declaration of c.
func Lookup(c Category) (CategorySpec, bool) {
	s, ok := declared[c]
	if !ok {
		return CategorySpec{}, false
	}
	return *s, true
}

// Categories returns every declared category, sorted by name.
func Categories() []CategorySpec {
	out := make([]CategorySpec, 0, len(declared))
	for _, s := range declared {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	return out
}

// Resolve maps a rule's logsource category to the categories whose events it
// reads: the category itself when declared, plus every category that lists it
// as an alias.
func Resolve(c Category) []Category {
	var out []Category
	if _, ok := declared[c]; ok {
		out = append(out, c)
	}
	for _, s := range Categories() {
		for _, a := range s.Aliases {
			if a == c {
				out = append(out, s.Category)
			}
		}
	}
	return out
}

// HasField reports whether events of category c may carry the named field
// (common fields included). Field names compare case-sensitively, as in
// Sigma.
func HasField(c Category, name string) bool {
	for _, f := range CommonFields {
		if f.Name == name {
			return true
		}
	}
	s, ok := declared[c]
	if !ok {
		return false
	}
	for _, f := range s.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}
