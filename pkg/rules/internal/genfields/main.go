// Command genfields writes docs/fields.md from the event category
// declarations. It runs from "go generate ./pkg/rules".
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/envhunt/envhunt/pkg/rules/internal/fieldsdoc"
)

func main() {
	out := flag.String("o", "docs/fields.md", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, fieldsdoc.Render(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genfields:", err)
		os.Exit(1)
	}
}
