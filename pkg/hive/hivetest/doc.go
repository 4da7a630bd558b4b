// Package hivetest writes Windows registry hive files (regf) and their
// transaction logs (HvLE .LOG1/.LOG2) from a declarative tree, so that tests
// and the demo collection use real-format evidence built in Go instead of
// binary blobs of unknown origin.
//
// A hive is described as a tree of [Key] values, each with its own
// last-write time, class name, security descriptor, values and subkeys, and
// written with [Build]:
//
//	root := &hivetest.Key{Name: "ROOT", Subkeys: []*hivetest.Key{{
//		Name:   "Environment",
//		Values: []hivetest.Value{hivetest.ExpandSZ("Path", `%USERPROFILE%\bin`)},
//	}}}
//	data, err := hivetest.Build(root, hivetest.WithFileName(`\??\C:\Users\alice\ntuser.dat`))
//
// The output is deterministic: the same description and options always give
// the same bytes. The writer lays cells out the way Windows does in a freshly
// written hive: every key node followed by its class name, values and, once
// its subtree is written, its subkey list; key names and value names are
// stored as compressed (Latin-1) names when every character fits, else as
// UTF-16LE; data of up to 4 bytes is resident in the value cell; data larger
// than 16344 bytes is split into a big-data (db) list in hives of version 1.4
// and later; subkey lists are lh lists sorted in the case-insensitive order
// Windows keeps, split under an ri index for large fan-outs; keys with
// identical security descriptors share one sk cell, with the reference count
// and the circular Flink/Blink list Windows maintains. Hostile tests can force
// UTF-16 names, raw name bytes, li/lf/ri list forms and odd base-block fields.
//
// [BuildDirty] produces a dirty hive: a primary file that still holds an
// older state (its sequence numbers mismatched) and transaction logs whose
// entries carry the dirty pages that turn it into each newer state, with the
// Marvin32 hashes Windows writes. [ParseLogEntry] and [LogEntry.Marshal] read
// and re-emit single HvLE entries; the tests anchor them to real logs by
// re-emitting those byte for byte.
//
// The package is meant for tests and fixture generators: it validates its
// input (names, sizes, counts) and returns errors for trees Windows could not
// store, but it builds everything in memory.
package hivetest
