package secdesc_test

import (
	"fmt"

	"github.com/envhunt/envhunt/pkg/secdesc"
)

// A pipeline holding the bytes of a key's sk cell (hive.Key.Security)
// decodes them, renders SDDL, and asks who besides the profile owner can
// write the key.
func Example() {
	// Built here from SDDL; in a pipeline the bytes come from the hive.
	fixture, _ := secdesc.FromSDDL("O:BAG:SYD:(A;OICIID;KA;;;S-1-5-21-1-2-3-1001)(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)(A;;KW;;;WD)")
	raw, _ := fixture.Marshal()

	sd, err := secdesc.Parse(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	owner := secdesc.MustSID("S-1-5-21-1-2-3-1001")
	names := secdesc.Names{owner.String(): `PC\alice`}
	fmt.Println(sd.SDDL())
	for _, p := range secdesc.Principals(sd) {
		class := secdesc.Classify(p.SID, owner)
		if p.Effective&secdesc.WriteRights != 0 && class != secdesc.ClassProfileOwner &&
			class != secdesc.ClassSystem && class != secdesc.ClassAdministrators {
			fmt.Printf("%s (%s) can write: %s\n", names.Name(p.SID), class, p.Effective)
		}
	}
	fmt.Println("baseline era:", secdesc.MatchBaseline(secdesc.UserEnvironment, sd, owner) != "")
	// Output:
	// O:BAG:SYD:(A;OICIID;KA;;;S-1-5-21-1-2-3-1001)(A;OICIID;KA;;;SY)(A;OICIID;KA;;;BA)(A;OICIID;KR;;;RC)(A;;KW;;;WD)
	// Everyone (well-known-broad) can write: KEY_WRITE (0x00020006)
	// baseline era: false
}
