package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocs_NameEveryOutputField fails when docs/output.md does not mention a
// field name the writers emit, so the documented schema cannot drift from
// the code.
func TestDocs_NameEveryOutputField(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "output.md"))
	if err != nil {
		t.Skipf("docs/output.md not found: %v", err)
	}
	doc := string(b)
	var names []string
	names = append(names, FindingColumns...)
	names = append(names, TimelineColumns...)
	names = append(names, EventBaseColumns...)
	names = append(names, "extra", "fields", "source", "category", "offset")
	for _, n := range names {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/output.md does not document field %q", n)
		}
	}
	for _, s := range []string{"Set-ItemProperty", "Remove-ItemProperty", "SetSecurityDescriptorSddlForm", "hex(2)", "mactime", "_raw"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/output.md does not mention %s", s)
		}
	}
}
