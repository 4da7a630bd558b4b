package wintime

import (
	"testing"
	"time"
)

func TestFromFiletime_KeepsAllSevenDigits(t *testing.T) {
	// Root key of the regipy NTUSER.DAT corpus hive, as agreed by four parsers.
	got := Format(FromFiletime(129780243434537497))
	if want := "2012-04-04T14:45:43.4537497Z"; got != want {
		t.Fatalf("Format(FromFiletime) = %s, want %s", got, want)
	}
}

func TestFromFiletime_ZeroAndBefore1970(t *testing.T) {
	if !FromFiletime(0).IsZero() {
		t.Fatal("FILETIME 0 must give the zero time")
	}
	got := FromFiletime(1) // 1601-01-01T00:00:00.0000001Z
	if got.Year() != 1601 || got.Nanosecond() != 100 {
		t.Fatalf("FromFiletime(1) = %v", got)
	}
}

func TestToFiletime_RoundTrip(t *testing.T) {
	for _, ft := range []uint64{1, 129780243434537497, 116444736000000000, 0x7fffffffffffffff / 100} {
		if back := ToFiletime(FromFiletime(ft)); back != ft {
			t.Errorf("round trip of %d gave %d", ft, back)
		}
	}
	if ToFiletime(time.Time{}) != 0 {
		t.Error("zero time must give FILETIME 0")
	}
}
