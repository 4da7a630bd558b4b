// Package builtinrules holds envhunt's built-in detection rules, embedded in
// the binary: one YAML rule per file, in a folder per hijack pattern
// (acl, gpo, callback, persistence, env, ...). See docs/rules.md for the
// format and README.md in this folder for the layout.
package builtinrules

import (
	"embed"
	"io/fs"

	"github.com/envhunt/envhunt/pkg/rules"
)

// files holds every file of this folder; the loader reads only *.yml and
// *.yaml, so this file, the README and test files are ignored.
//
//go:embed *
var files embed.FS

// FS returns the built-in rule files. Paths are relative to the rules
// folder ("persistence/env_userinitmprlogonscript.yml").
func FS() fs.FS { return files }

// Load compiles the built-in rules. A built-in file that fails to load is a
// defect that the tests catch; Load still returns the rules that loaded,
// with the error (rules.LoadErrors) beside them.
func Load() (*rules.RuleSet, error) {
	return rules.LoadFS(files, ".")
}
