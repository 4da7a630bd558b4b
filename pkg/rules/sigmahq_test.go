package rules

import (
	"errors"
	"testing"

	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
)

// Every SigmaHQ registry rule of the corpus loads (or, per file, an error
// names what is unsupported).
func TestSigmaHQ_RegistryRulesLoad(t *testing.T) {
	dir := testcorpus.Path(t, "sigma", "rules")
	rs, err := LoadDir(dir)
	var le LoadErrors
	if err != nil && !errors.As(err, &le) {
		t.Fatal(err)
	}
	for _, fe := range le {
		t.Errorf("%v", fe)
	}
	t.Logf("%d rules loaded, %d files failed", rs.Len(), len(le))
	if rs.Len()+len(le) != 247 {
		t.Errorf("loaded %d + failed %d, want 247 files", rs.Len(), len(le))
	}
}
