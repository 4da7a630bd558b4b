package fieldsdoc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envhunt/envhunt/pkg/event"
)

// docs/fields.md is exactly what the generator produces from the event
// declarations: run "go generate ./pkg/rules" after changing a category.
func TestFieldsDoc_IsUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "docs", "fields.md")
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go generate ./pkg/rules)", err)
	}
	if want := Render(); !bytes.Equal(have, want) {
		t.Errorf("docs/fields.md is out of date with the event declarations: run go generate ./pkg/rules")
	}
}

// Every declared field of every category appears in the document.
func TestRender_ListsEveryDeclaredField(t *testing.T) {
	doc := string(Render())
	for _, s := range event.Categories() {
		if !strings.Contains(doc, "\n## "+string(s.Category)+"\n") {
			t.Errorf("category %s missing", s.Category)
		}
		for _, f := range s.Fields {
			if !strings.Contains(doc, "| `"+f.Name+"` |") {
				t.Errorf("%s.%s missing", s.Category, f.Name)
			}
		}
	}
}

func TestCell_EscapesTableSyntax(t *testing.T) {
	if got := cell(`a|b HKU\<SID> *x*`); got != `a\|b HKU\\&lt;SID&gt; \*x\*` {
		t.Errorf("got %q", got)
	}
}
