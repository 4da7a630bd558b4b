package casereport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/envhunt/envhunt/pkg/envmodel"
	"github.com/envhunt/envhunt/pkg/report"
	"github.com/envhunt/envhunt/pkg/wintime"
)

//go:embed report.html.tmpl
var htmlSource string

// MaxData bounds how much of one value's data a report shows (the rest is
// counted, not shown); the JSON findings carry it whole.
const MaxData = 4096

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"t":        report.SafeTerminal,
	"utc":      wintime.Format,
	"times":    func(h *Host, t time.Time) string { return h.Identity.TimeZone.Times(t) },
	"fact":     factText,
	"clipData": func(s string) string { return clip(s, MaxData) },
	"badFlag":  badFlag,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
}).Parse(htmlSource))

// WriteHTML writes the report as one self-contained HTML document.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlTemplate.Execute(w, r)
}

// Tally is the host's findings count by level: "12 findings · 8 high · ...".
func (h *Host) Tally() string {
	total := h.Findings.Total()
	s := fmt.Sprintf("%d findings", total)
	if total == 1 {
		s = "1 finding"
	}
	ls := report.Levels()
	for i := len(ls) - 1; i >= 0; i-- {
		if n := h.Findings.Count(ls[i]); n > 0 {
			s += fmt.Sprintf(" · %d %s", n, ls[i])
		}
	}
	return s
}

func factText(f Fact) string {
	if f.Value == "" {
		return "not recorded"
	}
	return report.SafeTerminal(f.Value) + " (" + report.SafeTerminal(f.Source) + ")"
}

// badFlag marks the PATH flags that make an entry dangerous.
func badFlag(f string) bool {
	switch f {
	case envmodel.FlagAheadOfSys, envmodel.FlagUserWrite, envmodel.FlagPublic, envmodel.FlagTemp, envmodel.FlagUNC, envmodel.FlagRelative, envmodel.FlagUnresolved:
		return true
	}
	return false
}
