// Package hive reads Windows registry hive files (regf: NTUSER.DAT, SYSTEM,
// SOFTWARE, SAM, SECURITY, UsrClass.dat, Amcache.hve, BCD) offline, on any
// operating system, and applies their transaction logs (.LOG1/.LOG2, and the
// old single .LOG) in memory.
//
// A hive is opened with [Open] (a path) or [Load] (bytes already in memory).
// The whole file is held in memory and read through bounds-checked slices; the
// evidence file is opened read-only and never written. Keys are reached with
// [Hive.Root], [Hive.OpenKey] (a `\`-separated path, case-insensitive the way
// Windows compares names) or [Hive.Walk] (an iterative depth-first walk that
// honours a context). Each [Key] gives its decoded name, full 100 ns last-write
// time, class name, security descriptor and [Value] list; each value gives its
// type, exact data bytes and a typed [Data] decoding.
//
// When the base block says the hive is dirty (sequence numbers differ or the
// checksum is bad), [Open] looks for <name>.LOG, .LOG1 and .LOG2 beside the
// file (or uses the logs given with [WithLogs] / [WithLogData], which [Load]
// needs) and replays them on a copy the way Windows does; [Hive.Logs] says
// what was found and applied, and [WithReplayObserver] shows the hive after
// each applied entry. [WithoutLogs] reads the file exactly as it is on disk.
// [Hive.Keys] is the walk as a range-over-func iterator.
//
// Everything odd or skipped while reading is recorded as an [Anomaly] (file
// offset, kind, key, message) instead of being hidden or failing the whole
// read: [Hive.Partial] tells whether any of them lost data.
//
// # Security
//
// Hives are attacker-controlled input. The reader is written for that:
//
//   - The file size is checked against [Limits].MaxHiveSize (default 2 GiB)
//     before it is read; the image is never modified.
//   - Every cell access is checked against the hive-bins area; a cell whose
//     size field is zero, negative after sign fix-up, unaligned or runs past
//     the end is refused with an anomaly, never followed.
//   - Counts (subkeys, values, list entries, big-data segments) and lengths
//     (names, class names, value data, security descriptors) are capped by the
//     size of the cell that holds them; a cap that bites is an anomaly.
//   - Subkey lists: ri index lists may only point at lf/lh/li lists (depth 1).
//   - A walk visits each key cell at most once (a cycle or a key listed under
//     two parents is reported, not followed twice), checks each child's parent
//     pointer, reads each subkey list for one key only, and stops descending
//     at [Limits].MaxDepth (default 512).
//   - Nothing is shared that Windows never shares: a value list belongs to the
//     first key that reads it, a value cell is listed once, and a data cell of
//     more than 256 bytes belongs to the first value that reads it. Keys
//     pointing at one large list or data cell cannot multiply the work.
//   - Value data larger than [Limits].MaxValueSize (default 64 MiB) is
//     refused with an error naming the limit; big-data (db) lists are used
//     only where the format allows them (hive minor version 4 or later, data
//     longer than 16344 bytes).
//   - Names and strings that are not valid UTF-16 are decoded with U+FFFD and
//     flagged ([Key.NameValid], [Data].TextValid), so writers can add the raw
//     bytes instead of emitting invalid text.
//   - Transaction logs are bounded by [Limits].MaxLogSize and their counts by
//     the log's own size before anything is allocated.
//
// The work done for one hive is therefore bounded by its size: no input makes
// the reader panic, loop or allocate more than a small multiple of the file.
package hive
