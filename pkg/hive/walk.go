package hive

import (
	"context"
	"errors"
	"iter"
)

// Walk calls fn for every key reachable from the root, depth first, parents
// before children, subkeys in on-disk list order. Returning SkipKey from fn
// skips that key's subkeys; any other error stops the walk and is returned.
// Walk is iterative: each key cell is visited at most once (a key listed
// twice or under its own descendant is recorded as an anomaly), and keys
// deeper than Limits.MaxDepth are not read. The context is checked as the
// walk goes.
func (h *Hive) Walk(ctx context.Context, fn func(k *Key) error) error {
	root, err := h.Root()
	if err != nil {
		return err
	}
	return h.walkFrom(ctx, root, fn)
}

// WalkKey is Walk over the subtree rooted at k (k included).
func (h *Hive) WalkKey(ctx context.Context, k *Key, fn func(k *Key) error) error {
	return h.walkFrom(ctx, k, fn)
}

type walkItem struct {
	k     *Key
	depth int
}

func (h *Hive) walkFrom(ctx context.Context, start *Key, fn func(k *Key) error) error {
	visited := newBitset(h.end)
	guard := &listGuard{seen: newBitset(h.end)}
	visited.set(start.off)
	stack := []walkItem{{start, 0}}
	var offs []uint32
	var kids []*Key
	n := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(it.k); err != nil {
			if errors.Is(err, SkipKey) {
				continue
			}
			return err
		}
		offs = it.k.subkeyOffsets(offs[:0], guard)
		if len(offs) == 0 {
			continue
		}
		if it.depth >= h.lim.MaxDepth {
			h.anomaly(it.k.off, AnomalyDepthLimit, it.k.path, true, "key is at depth %d (Limits.MaxDepth); its %d subkeys were not read", it.depth, len(offs))
			continue
		}
		kids = kids[:0]
		for _, off := range offs {
			if visited.has(off) {
				kind, msg := AnomalySharedKey, "listed again under %q; skipped"
				if isAncestor(it, off) {
					kind, msg = AnomalyCycle, "subkey list of %q points back at an ancestor; skipped"
				}
				h.anomaly(off, kind, it.k.path, true, "key cell %#x "+msg, off, it.k.path)
				continue
			}
			c, ok := it.k.child(off)
			if !ok {
				continue
			}
			visited.set(off)
			kids = append(kids, c)
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, walkItem{kids[i], it.depth + 1})
		}
	}
	return ctx.Err()
}

// isAncestor reports whether off is the cell of it.k or one of its ancestors
// (by parent pointers, bounded by the depth).
func isAncestor(it walkItem, off uint32) bool {
	k := it.k
	cur := k.off
	for i := 0; i <= it.depth+1; i++ {
		if cur == off {
			return true
		}
		p, _, err := k.h.cell(cur)
		if err != nil || len(p) < nkName {
			return false
		}
		cur = le32(p[nkParent:])
	}
	return false
}

// bitset marks 8-byte-aligned cell offsets.
type bitset []uint64

func newBitset(end int) bitset { return make(bitset, end/8/64+1) }

func (b bitset) set(off uint32) {
	i := off / 8
	if int(i/64) < len(b) {
		b[i/64] |= 1 << (i % 64)
	}
}

func (b bitset) has(off uint32) bool {
	i := off / 8
	return int(i/64) < len(b) && b[i/64]&(1<<(i%64)) != 0
}

// errStopIter ends a Walk when the consumer of Keys stops early.
var errStopIter = errors.New("iteration stopped")

// Keys is Walk as an iterator: every key, parents first, with a non-nil error
// as the last element when the walk failed (a cancelled context). Breaking
// out of the loop stops the walk.
func (h *Hive) Keys(ctx context.Context) iter.Seq2[*Key, error] {
	return func(yield func(*Key, error) bool) {
		err := h.Walk(ctx, func(k *Key) error {
			if !yield(k, nil) {
				return errStopIter
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopIter) {
			yield(nil, err)
		}
	}
}
