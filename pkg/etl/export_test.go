package etl

// DecompressLZ77ForTest exposes the decompressor to the external tests.
func DecompressLZ77ForTest(in []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	w, err := decompressLZ77(out, in)
	if err == nil && w != n {
		err = errLZ77
	}
	return out[:w], err
}
