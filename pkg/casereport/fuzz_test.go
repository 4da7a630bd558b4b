package casereport

import (
	"strings"
	"testing"
)

// FuzzMarkdownEscaping checks, for any evidence string, that the Markdown
// escapes keep it one line of text: no raw HTML or entity outside code
// spans, no cell separator, no code span left open.
func FuzzMarkdownEscaping(f *testing.F) {
	for _, s := range []string{"", "a|b", "<script>alert(1)</script>", "`", "``a`", "\\|", "a\\", "# x\n- y", "&amp;", "1. x", "\u202e\x1b[1m", "[a](b)", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"mdEsc": mdEsc(s), "mdCode": mdCode(s)} {
			if strings.ContainsAny(out, "\n\r") {
				t.Fatalf("%s(%q) = %q spans lines", name, s, out)
			}
			pipes, raw := mdLine("x " + out + " x")
			if raw != "" {
				t.Fatalf("%s(%q) = %q leaves raw HTML %q", name, s, out, raw)
			}
			if name == "mdEsc" && pipes != 0 {
				t.Fatalf("%s(%q) = %q has %d unescaped |", name, s, out, pipes)
			}
		}
		if pipes, raw := mdLine("| " + mdCell(s) + " | " + mdEsc(s) + " |"); pipes != 3 || raw != "" {
			t.Fatalf("table row of %q: %d separators (want 3), raw %q", s, pipes, raw)
		}
		if code := mdCode(s); s != "" && (!strings.HasPrefix(code, "`") || !strings.HasSuffix(code, "`")) {
			t.Fatalf("mdCode(%q) = %q is not one code span", s, code)
		}
	})
}
