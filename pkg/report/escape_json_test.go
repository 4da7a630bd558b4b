package report

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEscapeInvisibleJSON_KeepsMeaningHidesNothing(t *testing.T) {
	in := map[string]string{"k": "a\x7fb\u0085c\u202ed\u200be\U000E0041f"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := EscapeInvisibleJSON(b)
	for _, bad := range []string{"\x7f", "\u0085", "\u202e", "\u200b", "\U000E0041"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("%q left raw in %s", bad, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["k"] != in["k"] {
		t.Fatalf("meaning changed: %q (%v)", back["k"], err)
	}
	if plain := []byte(`{"a":"plain ünïcode"}`); string(EscapeInvisibleJSON(plain)) != string(plain) {
		t.Error("visible text must pass unchanged")
	}
}
