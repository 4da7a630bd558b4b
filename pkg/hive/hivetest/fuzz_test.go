package hivetest

import (
	"bytes"
	"testing"
)

// FuzzParseLogEntry: any bytes either fail to parse or parse into an entry
// that marshals back to exactly the bytes it came from (apart from the
// hashes, which Marshal recomputes).
func FuzzParseLogEntry(f *testing.F) {
	good, err := LogEntry{Sequence: 7, HiveBinsSize: 8192, Pages: []DirtyPage{{0, bytes.Repeat([]byte{1}, 4096)}, {8192, make([]byte, 4096)}}}.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:600])
	f.Add([]byte("HvLE\x00\x02\x00\x00"))
	f.Add(append([]byte("HvLE\x00\x02\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x10\x00\x00\xff\xff\xff\xff"), make([]byte, 600)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLogEntry(b)
		if err != nil {
			return
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("parsed entry does not marshal: %v", err)
		}
		in := b[:e.Size]
		if !bytes.Equal(out[:24], in[:24]) || !bytes.Equal(out[40:], in[40:]) {
			t.Fatalf("re-emitted entry differs from the parsed bytes")
		}
	})
}
