// Command mkdemo writes envhunt's demo collection: a KAPE-style triage of
// the host WS-DEV-07 with every hijack pattern envhunt hunts planted in real
// hive files (plus a server-side roaming profile copy), so that the README's
// first command has something to find on a fresh clone.
//
// Usage:
//
//	go run ./cmd/mkdemo -out testdata/demo
//
// The output is deterministic: running it again gives the same bytes, and a
// test checks that the committed collection is what the generator writes.
// Each part of the collection is produced by a generator registered from its
// own file (hives.go, ...); adding evidence of a new kind is one new file
// that calls register in its init function. testdata/demo/README.md lists
// every planted item and what envhunt reports for it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// generator writes one part of the demo collection.
type generator struct {
	name string
	run  func(c *collection) error
}

var generators []generator

// register adds a generator; generators run in name order so the output
// does not depend on file initialisation order.
func register(name string, run func(c *collection) error) {
	generators = append(generators, generator{name: name, run: run})
}

// collection is the output directory being written.
type collection struct {
	dir     string
	written map[string]string // slash path -> generator that wrote it
	current string
}

// write stores data at rel (a slash-separated path below the collection
// root). Two generators writing the same file is an error.
func (c *collection) write(rel string, data []byte) error {
	if prev, ok := c.written[rel]; ok {
		return fmt.Errorf("%s: written by both %s and %s", rel, prev, c.current)
	}
	c.written[rel] = c.current
	p := filepath.Join(c.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// generate runs every generator into dir and returns the files written
// (slash paths, sorted).
func generate(dir string) ([]string, error) {
	c := &collection{dir: dir, written: map[string]string{}}
	gens := slices.Clone(generators)
	slices.SortFunc(gens, func(a, b generator) int { return strings.Compare(a.name, b.name) })
	for _, g := range gens {
		c.current = g.name
		if err := g.run(c); err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
	}
	var files []string
	for f := range c.written {
		files = append(files, f)
	}
	slices.Sort(files)
	return files, nil
}

func main() {
	out := flag.String("out", filepath.Join("testdata", "demo"), "directory to write the demo collection into")
	list := flag.Bool("list", false, "print the files written")
	flag.Parse()
	files, err := generate(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdemo:", err)
		os.Exit(1)
	}
	if *list {
		for _, f := range files {
			fmt.Println(f)
		}
	}
}
