// Package rules loads, compiles and evaluates envhunt's detection rules:
// YAML files in the shape of Sigma rules, plus an envhunt block with the
// hijack pattern, an explanation template, remediation text and self-tests.
//
// A rule names a logsource category (registry_set, registry_key, ... — see
// docs/fields.md) and a detection: named selections of field conditions
// combined by a condition such as "selection and not 1 of filter_*". Values
// match as in Sigma: case-insensitively, with * and ? wildcards and
// backslash escapes (\*, \?, \\; a backslash before anything else is
// literal, so registry paths are written as they are). Field modifiers
// (contains, startswith, endswith, all, re, base64, base64offset, windash,
// wide, cidr, exists, gt/gte/lt/lte, fieldref, cased, and the time parts
// minute to year) are listed in Modifiers. docs/rules.md is the rule
// writer's guide.
//
// A file holds one rule, or an old-style Sigma rule collection (several
// YAML documents with action: global, repeat and reset), read by ParseAll
// and the directory loaders.
//
// Loading is strict: an unknown key, modifier, field or category, a
// malformed condition or a reference to a missing selection is an *Error
// with the file, line and column. LoadDir and LoadFS keep the good files
// and report the bad ones in LoadErrors, so one exotic SigmaHQ rule does
// not disable the rest.
//
// Each rule is compiled once into a matcher tree (wildcards, lower-cased
// needles and regular expressions are prepared at load time). A RuleSet
// indexes rules by event category; RuleSet.Match tries an event only
// against the rules that can match its category, and RuleSet.Needs tells a
// scanner which categories, fields and TargetObject patterns the rules
// read, so it can skip hive subtrees and events no rule can match.
// RuleSet.Without narrows both for sources that never carry some fields
// (hive state has no Image): rules that need them are not even tried.
//
// # Security
//
// Rule files may come from anyone (a --rules directory). The loader bounds
// what one file can cost: at most 1 MiB per file, 200,000 YAML nodes and 64
// levels of nesting, no YAML aliases (no alias bombs), conditions of at most
// 16 KiB and 64 levels of parentheses or "not", regular expressions of at
// most 8 KiB compiled with Go's RE2 (linear time, no backtracking), windash
// expansion of at most 5 dashes per value and 100,000 compiled values per
// rule, at most 25 reported problems per file and 100,000 files per
// directory. Matching a wildcard value costs at most the value's length
// times the field's length, a regular expression linear time in the field.
// Nothing in a rule is executed, and no file other than the rule files is
// read. Texts rendered from templates contain evidence data unescaped (each
// field value cut at 1024 bytes): output writers must escape them.
package rules
