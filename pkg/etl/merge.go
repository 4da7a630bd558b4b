package etl

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"sort"
)

// Timeline ranges over the events of f in time order. Events inside a
// buffer are already ordered; buffers are grouped by the CPU that filled
// them, each CPU's buffers are taken in flush order (buffer TimeStamp, then
// SequenceNumber, then file order), and the per-CPU streams are merged. One
// buffer per CPU is held in memory. The *Event and its slices are valid
// until the next iteration. A non-nil error is yielded once, at the end.
func (f *File) Timeline(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		streams, err := f.cpuStreams(ctx)
		h := &eventHeap{}
		for _, s := range streams {
			if s.advance() {
				heap.Push(h, s)
			}
		}
		for h.Len() > 0 {
			s := (*h)[0]
			ev := s.it.Event()
			if !yield(ev, nil) {
				return
			}
			if s.advance() {
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
		var errs []error
		if err != nil {
			errs = append(errs, err)
		}
		for _, s := range streams {
			if e := s.it.Err(); e != nil {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			yield(nil, errors.Join(errs...))
		}
	}
}

// cpuStreams scans the buffer headers (only) and builds one stream per CPU.
func (f *File) cpuStreams(ctx context.Context) ([]*cpuStream, error) {
	type bref struct {
		off     int64
		ts, seq int64
		cpu     uint16
		idx     int
	}
	var refs []bref
	var scanErr error
	var hb [BufferHeaderSize]byte
	for off := int64(0); off+BufferHeaderSize <= f.size; {
		if err := ctx.Err(); err != nil {
			scanErr = err
			break
		}
		if _, err := f.r.ReadAt(hb[:], off); err != nil {
			scanErr = f.errorf(off, "reading buffer header: %v", err)
			break
		}
		size := int64(binary.LittleEndian.Uint32(hb[:]))
		if size < BufferHeaderSize || size > MaxBufferSize {
			break // the per-stream walk reports it
		}
		h := parseBufferHeader(hb[:])
		refs = append(refs, bref{off, h.TimeStamp, h.SequenceNumber, h.ProcessorIndex, len(refs)})
		off += size
	}
	byCPU := map[uint16][]bref{}
	for i, r := range refs {
		if i == 0 {
			r.cpu = 0xFFFF // buffer 0 (the header) sorts first on its own
		}
		byCPU[r.cpu] = append(byCPU[r.cpu], r)
	}
	var streams []*cpuStream
	budget := f.newBudget()
	for _, list := range byCPU {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].ts != list[j].ts {
				return list[i].ts < list[j].ts
			}
			return list[i].seq < list[j].seq
		})
		s := &cpuStream{}
		for _, r := range list {
			s.offs = append(s.offs, r.off)
			s.idx = append(s.idx, r.idx)
		}
		s.it = &Events{f: f, ctx: ctx, onlyBuffer: true, budget: budget}
		streams = append(streams, s)
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].offs[0] < streams[j].offs[0] })
	return streams, scanErr
}

// cpuStream walks a list of buffers (by offset) one after the other.
type cpuStream struct {
	offs []int64
	idx  []int
	next int
	it   *Events
	key  int64
}

func (s *cpuStream) advance() bool {
	for {
		if s.it.inBuf && s.it.nextRecord() {
			s.it.stats.Events++
			e := s.it.Event()
			s.key = e.Timestamp
			if !e.HasTimestamp {
				s.key = -1 << 63
			}
			return true
		}
		s.it.inBuf = false
		if s.next >= len(s.offs) {
			return false
		}
		s.it.off = s.offs[s.next]
		s.it.bufIndex = s.idx[s.next]
		s.next++
		// The stream's buffer memory is reused: the only event of this
		// stream the caller may hold is the one just yielded, which it
		// gave up by asking for the next.
		if !s.it.nextBuffer() {
			s.it.inBuf = false
		}
	}
}

type eventHeap []*cpuStream

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].offs[0] < h[j].offs[0]
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*cpuStream)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
