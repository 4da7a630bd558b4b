package casereport

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func renderMarkdown(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// sections are the headings every report has, in order.
var sections = []string{"Case header", "Evidence files", "Host identity", "User identity", "Findings", "Environment at a glance", "History of Path, GOROOT and GOPATH", "What was not checked, and why"}

func TestWriteHTML_HostileStringsStayText(t *testing.T) {
	r := hostileReport(t)
	out := renderHTML(t, r)
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<img", "<b>", "\"onload=", "onerror=alert(3)>", "\u202e", "\x1b", "\r"} {
		if strings.Contains(lower, strings.ToLower(bad)) {
			i := strings.Index(lower, strings.ToLower(bad))
			t.Errorf("HTML holds %q unescaped: …%s…", bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if n := strings.Count(lower, "</style>"); n != 1 {
		t.Errorf("HTML has %d </style>, want only the report's own", n)
	}
	for _, want := range []string{
		"&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",                            // host name
		"corp&#34;onload=alert(1) x=&#34;",                                                       // domain
		`\u202e\x1b[31m&#34;onload=alert(2)|&lt;img src=x onerror=alert(3)&gt;\x0d\x0a# heading`, // data, hidden characters made visible
		"&lt;/style&gt;&lt;b&gt;bold&lt;/b&gt;|pipe|`tick`",                                      // value name
		`C:\Users\Public\&lt;script&gt;alert(4)&lt;/script&gt;`,                                  // PATH entry
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks the escaped text %q", want)
		}
	}
	for _, s := range sections {
		if !strings.Contains(out, ">"+s+"</h") {
			t.Errorf("HTML lacks the section %q", s)
		}
	}
	if !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Error("HTML lacks its Content-Security-Policy")
	}
	for _, ext := range []string{"http://", "https://", "src=\"", "@import", "url("} {
		if strings.Contains(lower, ext) {
			t.Errorf("HTML refers to something outside itself: %q", ext)
		}
	}
	if n, local := strings.Count(lower, "href=\""), strings.Count(lower, "href=\"#"); n != local {
		t.Errorf("HTML has %d links, %d of them within the document", n, local)
	}
}

// mdLine scans one Markdown line as a GitHub renderer would: it counts the
// unescaped | (table separators; GitHub splits cells at them even inside
// code spans) and reports raw HTML or entities outside code spans.
func mdLine(line string) (pipes int, raw string) {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '\\':
			i++
		case '|':
			pipes++
		case '<', '&':
			if raw == "" {
				raw = line[i:min(len(line), i+30)]
			}
		case '`':
			n := 1
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			fence := strings.Repeat("`", n)
			end := strings.Index(line[i+n:], fence)
			for end >= 0 && i+n+end+n < len(line) && line[i+n+end+n] == '`' {
				next := strings.Index(line[i+n+end+n+1:], fence)
				if next < 0 {
					end = -1
					break
				}
				end += n + 1 + next
			}
			if end < 0 {
				i += n - 1
				continue
			}
			body := line[i+n : i+n+end]
			for j := 0; j < len(body); j++ {
				if body[j] == '|' && (j == 0 || body[j-1] != '\\') {
					pipes++
				}
			}
			i += n + end + n - 1
		}
	}
	return pipes, raw
}

func TestWriteMarkdown_HostileStringsStayText(t *testing.T) {
	out := renderMarkdown(t, hostileReport(t))
	if strings.ContainsAny(out, "\u202e\x1b\r") {
		t.Error("Markdown passes hidden or control characters through")
	}
	lines := strings.Split(out, "\n")
	header := -1
	for i, l := range lines {
		pipes, raw := mdLine(l)
		if raw != "" {
			t.Errorf("line %d: raw HTML or entity outside a code span: %q in %q", i+1, raw, l)
		}
		switch {
		case strings.HasPrefix(l, "|") && header < 0:
			header = pipes
		case strings.HasPrefix(l, "|") && pipes != header:
			t.Errorf("line %d: %d cell separators, the table's header has %d: %q", i+1, pipes, header, l)
		case !strings.HasPrefix(l, "|"):
			header = -1
			if pipes > 0 && strings.HasPrefix(l, "#") {
				t.Errorf("line %d: unescaped | in a heading: %q", i+1, l)
			}
		}
		if strings.HasPrefix(l, "# heading") {
			t.Errorf("line %d: the evidence started a block: %q", i+1, l)
		}
	}
	for _, want := range []string{
		`## Host \<script\>document.title='pwned'\</script\>`,
		"`` </style><b>bold</b>\\|pipe\\|`tick` ``", // in a table cell
		"`` </style><b>bold</b>|pipe|`tick` ``",     // in a list item
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	for _, s := range sections {
		if !strings.Contains(out, "# "+s+"\n") {
			t.Errorf("Markdown lacks the section %q", s)
		}
	}
}

func TestMdEsc_EscapesEveryMarkupCharacter(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{`a*b_c`, `a\*b\_c`},
		{"<b>&amp;</b>", `\<b\>\&amp;\</b\>`},
		{"a|b", `a\|b`},
		{"# title", `\# title`},
		{"- item", `\- item`},
		{"12. item", `12\. item`},
		{"3) item", `3\) item`},
		{"[x](javascript:alert(1))", `\[x\](javascript:alert(1))`},
		{"line\nbreak", `line\\x0abreak`},
		{"~~strike~~", `\~\~strike\~\~`},
		{"`code`", "\\`code\\`"},
	} {
		if got := mdEsc(c.in); got != c.want {
			t.Errorf("mdEsc(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMdCode_FenceOutgrowsBackticks(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"a", "`a`"},
		{"a`b", "``a`b``"},
		{"`a``", "``` `a`` ```"},
		{"a|b", "`a|b`"},
	} {
		if got := mdCode(c.in); got != c.want {
			t.Errorf("mdCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := mdCell("a|b"); got != "`a\\|b`" {
		t.Errorf("mdCell(a|b) = %q", got)
	}
}

// TestWriteHTML_BrowserRendersWithoutRunningScripts loads the hostile report
// in headless Chromium (Debian's chromium package) and checks the DOM it
// built: the sections are there, no script element exists, the title is
// the report's, and the hostile strings are text.
func TestWriteHTML_BrowserRendersWithoutRunningScripts(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium): browser check skipped")
	}
	if testing.Short() {
		t.Skip("browser check skipped in -short mode")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(renderHTML(t, hostileReport(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	s := string(dom)
	i, j := strings.Index(s, "<title>"), strings.Index(s, "</title>")
	if i < 0 || j < i {
		t.Fatalf("no title in the DOM:\n%.2000s", s)
	}
	if title := s[i+len("<title>") : j]; !strings.HasPrefix(title, "envhunt case report · ") || !strings.Contains(title, "&lt;script&gt;document.title='pwned'") {
		t.Errorf("title = %q: a script changed it, or the host name is not text", title)
	}
	lower := strings.ToLower(s)
	for _, bad := range []string{"<script", "<img", "<b>bold"} {
		if strings.Contains(lower, bad) {
			t.Errorf("the browser built a %s element from the evidence", bad)
		}
	}
	for _, sec := range sections {
		if !strings.Contains(s, ">"+sec+"</h") {
			t.Errorf("rendered DOM lacks the section %q", sec)
		}
	}
	for _, want := range []string{"Host &lt;script&gt;document.title='pwned'&lt;/script&gt;", "&lt;/style&gt;&lt;b&gt;bold&lt;/b&gt;|pipe|`tick`", "<svg"} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	// Printing: the document lays out into a PDF.
	pdf := filepath.Join(dir, "report.pdf")
	cmd = exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer",
		"--print-to-pdf="+pdf, "file://"+file)
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --print-to-pdf: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || !regexp.MustCompile(`/Type\s*/Page[^s]`).Match(data) {
		t.Errorf("printing gave no PDF page (%d bytes, %v)", len(data), err)
	}
}
