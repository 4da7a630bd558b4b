// Package wintime converts Windows timestamps (FILETIME, SYSTEMTIME) to Go
// time values without losing precision, and formats them the way envhunt
// prints every timestamp: RFC 3339, UTC, with all 7 fractional digits of the
// 100 ns FILETIME resolution.
package wintime

import (
	"encoding/binary"
	"time"
)

// filetimeEpochDelta is the number of 100 ns ticks between 1601-01-01 and
// 1970-01-01.
const filetimeEpochDelta = 116444736000000000

// FromFiletime converts a FILETIME (100 ns ticks since 1601-01-01 UTC) to a
// time.Time in UTC. Zero gives the zero time.Time, so callers can tell "not
// set" from 1601-01-01; every other value, including those before 1970,
// converts exactly.
func FromFiletime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	// Split before subtracting so values before 1970 and far in the future
	// neither underflow nor overflow int64 nanoseconds.
	ticks := int64(ft/10_000_000) - filetimeEpochDelta/10_000_000
	rem := int64(ft % 10_000_000)
	return time.Unix(ticks, rem*100).UTC()
}

// ToFiletime converts t back to a FILETIME. Times before 1601 give 0.
func ToFiletime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	sec := t.Unix() + filetimeEpochDelta/10_000_000
	if sec < 0 {
		return 0
	}
	return uint64(sec)*10_000_000 + uint64(t.Nanosecond()/100)
}

// FiletimeBytes decodes a little-endian FILETIME from the first 8 bytes of b.
// It returns the zero time when b is shorter than 8 bytes.
func FiletimeBytes(b []byte) time.Time {
	if len(b) < 8 {
		return time.Time{}
	}
	return FromFiletime(binary.LittleEndian.Uint64(b))
}

// Layout is the timestamp layout envhunt prints everywhere: RFC 3339 in UTC
// with the 7 fractional digits a FILETIME carries.
const Layout = "2006-01-02T15:04:05.0000000Z"

// Format renders t in Layout, in UTC. The zero time gives "".
func Format(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(Layout)
}
