// Package hostile generates damaged and hostile evidence for tests: cuts of
// good files at many offsets, bit flips with a fixed seed, registry hives
// whose cells were patched into cycles, duplicates, huge counts and lengths
// and zero-size cells, transaction logs that point outside their hive, and
// strings built to attack terminals, spreadsheets, timelines and scripts.
//
// Everything is deterministic: the same input and seed give the same cases,
// so a failure names a case that can be rebuilt exactly.
package hostile

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Case is one hostile input: a name saying how it was made (used in test
// names and in the file name a failing input is saved under) and its bytes.
type Case struct {
	Name string
	Data []byte
}

// TruncationOffsets returns up to n distinct offsets at which to cut a file
// of size bytes: the interesting boundaries for registry and trace formats
// (0, a few bytes in, the 512-byte log header, the 4096-byte base block and
// first bin header, 64 KiB chunks) and then offsets spread evenly over the
// file. The full size itself is not included.
func TruncationOffsets(size, n int) []int {
	set := map[int]bool{}
	for _, o := range []int{0, 1, 3, 4, 7, 8, 16, 31, 32, 100, 128, 511, 512, 513, 1024,
		4095, 4096, 4097, 4100, 4128, 4129, 4200, 8191, 8192, 8200, 65535, 65536, 65537, 69632} {
		if o < size && len(set) < n {
			set[o] = true
		}
	}
	if rest := n - len(set); rest > 0 && size > 1 {
		step := size / (rest + 1)
		if step == 0 {
			step = 1
		}
		for o := step; o < size && len(set) < n; o += step {
			set[o] = true
		}
	}
	out := make([]int, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Ints(out)
	return out
}

// Truncations returns data cut at up to n offsets (see TruncationOffsets).
// The cases share data's backing array: do not modify them.
func Truncations(data []byte, n int) []Case {
	var out []Case
	for _, o := range TruncationOffsets(len(data), n) {
		out = append(out, Case{Name: fmt.Sprintf("cut@%#x", o), Data: data[:o:o]})
	}
	return out
}

// BitFlips returns n copies of data, each with flips random bits inverted,
// chosen with a generator seeded by seed (the same seed gives the same
// copies). When headerBytes is positive, half of the flips of every copy
// land in the first headerBytes bytes, where format headers live and
// damage matters most.
func BitFlips(data []byte, seed uint64, n, flips, headerBytes int) []Case {
	if len(data) == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []Case
	for i := 0; i < n; i++ {
		b := append([]byte(nil), data...)
		for j := 0; j < flips; j++ {
			limit := len(b)
			if headerBytes > 0 && j%2 == 0 && headerBytes < limit {
				limit = headerBytes
			}
			pos := r.IntN(limit)
			b[pos] ^= 1 << r.IntN(8)
		}
		out = append(out, Case{Name: fmt.Sprintf("flip-seed%d-%d", seed, i), Data: b})
	}
	return out
}

// Garbage returns n deterministic pseudo-random files of the given size,
// optionally starting with magic (a format signature, so readers get past
// their first check).
func Garbage(magic []byte, size, n int, seed uint64) []Case {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var out []Case
	for i := 0; i < n; i++ {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		copy(b, magic)
		out = append(out, Case{Name: fmt.Sprintf("garbage-%d-%d", size, i), Data: b})
	}
	return out
}
