// Package etl reads Event Trace Log (.etl) files — the files ETW sessions,
// autologgers, WPR, xperf and PerfView write — on any OS, without Windows or
// TDH, and decodes the registry and process events that tell who wrote a
// registry value and when.
//
// A File is opened with Open or NewReader, which read the logfile header of
// buffer 0 (TRACE_LOGFILE_HEADER: times, clock, pointer size, CPUs, build,
// names, lost events). File.Events walks the buffers by their own size,
// decompresses MS-XCA LZ77 buffers, and yields every record (SYSTEM,
// COMPACT, PERFINFO, EVENT_HEADER with extended data items, FULL, INSTANCE
// and WPP MESSAGE headers) as an Event with its provider, ids, process and
// thread, CPU, raw timestamp and UTC time. Nothing is materialized: one
// buffer is in memory at a time. File.Timeline yields the same events
// merged into time order across CPUs.
//
// Decode turns an event's payload into named fields for the providers the
// hunt needs (Microsoft-Windows-Kernel-Registry, the kernel logger's
// Registry and Process classes, Microsoft-Windows-Kernel-Process, the
// EventTrace header group and every TraceLogging event); other payloads stay
// raw. State follows a trace to resolve registry key handles to key names and
// process ids to processes at a point in time.
//
// # Security
//
// ETL files are untrusted input. The reader never panics on them and bounds
// its work:
//   - buffers larger than MaxBufferSize (16 MiB) on disk or after
//     decompression are rejected; the decompressor never writes past the size
//     the buffer header announces, and rejects back references before the
//     start of its output; all compressed buffers of a file together expand
//     to at most 64 times the file's size (plus one buffer), so a crafted
//     file of tiny buffers that each claim 16 MiB cannot stall a walk;
//   - every record size, extended data item (at most 64 per event) and
//     payload field is checked against the bytes that hold it; a bad record
//     ends its buffer (with a FormatError) and reading goes on with the next
//     buffer; a bad buffer size ends the walk;
//   - a file that ends inside a buffer yields the whole buffers before it
//     (and that buffer's events when the cut falls in its padding) and a
//     FormatError naming the truncation;
//   - decoders bound strings by the payload, TraceLogging metadata to 256
//     fields and struct nesting to 8 levels, and the name and process maps of
//     State to a fixed number of entries;
//   - iteration checks the context between buffers.
//
// Err reports every problem (the first 20 in full) as *FormatError values
// naming the file and byte offset.
package etl
