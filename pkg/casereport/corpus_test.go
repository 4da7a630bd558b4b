package casereport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/internal/testcorpus"
	"github.com/envhunt/envhunt/pkg/winreg"
)

// TestTimeZoneRules_RealSystemHiveAgreesWithIANA reads the daylight rules
// of a real Eastern Standard Time SYSTEM hive and checks the local times
// they give against the IANA zone America/New_York (the US rules since
// 2007) every 30 minutes around each transition from 2008 to 2030.
func TestTimeZoneRules_RealSystemHiveAgreesWithIANA(t *testing.T) {
	h, err := hive.Open(testcorpus.Path(t, "hives", "regipy", "SYSTEM"), hive.WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	k, err := h.OpenKey(`ControlSet001\Control\TimeZoneInformation`)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := winreg.StringValue(k, "TimeZoneKeyName")
	bias, ok := winreg.DWORDValue(k, "Bias")
	if name != "Eastern Standard Time" || !ok {
		t.Fatalf("zone %q, bias %d (%v): not the hive this test expects", name, bias, ok)
	}
	r := readTZIRules(k, int(int32(uint32(bias))))
	if r == nil {
		t.Fatal("no daylight rules read")
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no IANA time zone database: %v", err)
	}
	checked := 0
	for y := 2008; y <= 2030; y++ {
		for _, month := range []time.Month{time.March, time.November} {
			for d := 1; d <= 14; d++ {
				for m := 0; m < 24*60; m += 30 {
					utc := time.Date(y, month, d, 0, m, 0, 0, time.UTC)
					_, want := utc.In(ny).Zone()
					_, got := r.local(utc).Zone()
					if got != want {
						t.Fatalf("%v: offset %d s from the hive's rules, %d s from IANA", utc, got, want)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// reglookupValue returns the raw bytes of one value as reglookup prints
// them (%XX escapes), or skips when reglookup is not installed.
func reglookupValue(t *testing.T, file, path string) []byte {
	t.Helper()
	if _, err := exec.LookPath("reglookup"); err != nil {
		t.Skip("reglookup not installed")
	}
	out, err := exec.Command("reglookup", "-H", "-p", path, file).Output()
	if err != nil {
		t.Fatalf("reglookup: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, ",", 4)
		if len(f) == 4 && f[0] == path {
			raw, err := url.PathUnescape(strings.TrimSuffix(f[2], ","))
			if err != nil {
				t.Fatalf("reglookup value %q: %v", f[2], err)
			}
			return []byte(raw)
		}
	}
	t.Fatalf("reglookup did not list %s", path)
	return nil
}

// TestSAMNames_RealSAMAgreesWithReglookup resolves local accounts of a real
// SAM hive: the machine SID and the name/RID pairs come from reglookup's
// listing of the same file.
func TestSAMNames_RealSAMAgreesWithReglookup(t *testing.T) {
	file := testcorpus.Path(t, "hives", "regipy", "SAM")
	v := reglookupValue(t, file, "/SAM/Domains/Account/V")
	if len(v) < 24 || !bytes.Equal(v[len(v)-24:len(v)-12], []byte{1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0}) {
		t.Fatalf("V does not end with an S-1-5-21 domain SID: % x", v[max(0, len(v)-24):])
	}
	tail := v[len(v)-12:]
	domain := fmt.Sprintf("S-1-5-21-%d-%d-%d", binary.LittleEndian.Uint32(tail), binary.LittleEndian.Uint32(tail[4:]), binary.LittleEndian.Uint32(tail[8:]))
	out, err := exec.Command("reglookup", "-H", "-p", "/SAM/Domains/Account/Users/Names", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 || !strings.HasSuffix(f[0], "/") || !strings.HasPrefix(f[1], "0x") {
			continue
		}
		rid, err := strconv.ParseUint(f[1][2:], 16, 32)
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(f[0], "/SAM/Domains/Account/Users/Names/"), "/")
		want[fmt.Sprintf("%s-%d", domain, rid)] = name
	}
	if len(want) < 2 {
		t.Fatalf("reglookup listed %d accounts", len(want))
	}
	sam, err := hive.Open(file, hive.WithoutLogs())
	if err != nil {
		t.Fatal(err)
	}
	m := &winreg.Machine{SAM: sam, Profiles: map[string]*winreg.Profile{}}
	for sid := range want {
		m.Profiles[sid] = &winreg.Profile{SID: sid}
	}
	foreign := "S-1-5-21-1-2-3-1000" // same RID as a local account, another domain
	m.Profiles[foreign] = &winreg.Profile{SID: foreign}
	got := samNames(m)
	for sid, name := range want {
		if got[strings.ToUpper(sid)] != name {
			t.Errorf("%s: name %q, reglookup lists %q", sid, got[strings.ToUpper(sid)], name)
		}
	}
	if n, ok := got[foreign]; ok {
		t.Errorf("a SID of another domain was named %q from a RID match", n)
	}
}
