package hive

// Security is a key's security (sk) cell. Several keys usually share one;
// RefCount says how many.
type Security struct {
	// Offset is the sk cell's offset relative to the hive bins.
	Offset int64
	// RefCount is the number of keys the cell says use it.
	RefCount uint32
	// Descriptor is the self-relative SECURITY_DESCRIPTOR (see pkg/secdesc).
	// It aliases the hive image: do not modify it.
	Descriptor []byte
}

// sk layout.
const (
	skRefCount = 0x0C
	skSize     = 0x10
	skData     = 0x14
)

// Security returns the key's security descriptor cell. Cells are cached by
// offset, so keys sharing one get the same *Security.
func (k *Key) Security() (*Security, error) {
	h := k.h
	off := le32(k.nk[nkSecurity:])
	h.mu.Lock()
	s, ok := h.sk[off]
	h.mu.Unlock()
	if ok {
		return s, nil
	}
	if off == noCell {
		// Not damage: the key simply has no descriptor (hives written by
		// some tools), but Windows always sets one.
		h.anomaly(k.off, AnomalyBadSecurity, k.path, false, "key has no security cell")
		return nil, h.formatError(k.off, k.path, "key has no security cell")
	}
	p, _, err := h.cell(off)
	if err != nil {
		h.anomaly(off, AnomalyBadSecurity, k.path, true, "security cell: %v", err)
		return nil, h.formatError(off, k.path, "security cell: %v", err)
	}
	if len(p) < skData || p[0] != 's' || p[1] != 'k' {
		h.anomaly(off, AnomalyBadSecurity, k.path, true, "security cell %#x is not an sk cell", off)
		return nil, h.formatError(off, k.path, "security cell %#x is not an sk cell", off)
	}
	n := int(le32(p[skSize:]))
	if max := len(p) - skData; n > max {
		h.anomaly(off, AnomalyLengthCapped, k.path, true, "security descriptor length %d is larger than its cell (%d bytes left)", n, max)
		n = max
	}
	s = &Security{Offset: int64(off), RefCount: le32(p[skRefCount:]), Descriptor: p[skData : skData+n : skData+n]}
	h.mu.Lock()
	if h.sk == nil {
		h.sk = make(map[uint32]*Security)
	}
	if prev, ok := h.sk[off]; ok {
		s = prev
	} else {
		h.sk[off] = s
	}
	h.mu.Unlock()
	return s, nil
}
