package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Collections packed as ZIP files (Velociraptor's offline collector, KAPE's
// zip output, a responder's own archive) are read in place: discovery lists
// the archive's central directory, and Open/ReadFile decompress one member
// at a time into memory. Nothing is extracted next to the evidence.

// isZipName reports whether a file name looks like a ZIP archive.
func isZipName(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".zip")
}

// zipEntries lists the regular files of the archive at path as walk
// entries: parts are base (the archive's own path elements below the walk
// root, possibly empty) followed by the member's unescaped, lower-case path.
func zipEntries(ctx context.Context, path string, base []string, visited *int, max int) ([]entry, error) {
	zr, err := openZip(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var out []entry
	var refused []error
	for i, f := range zr.File {
		if *visited++; *visited > max {
			return out, fmt.Errorf("evidence: %s: more than %d entries, stopped (raise the limit to read further)", path, max)
		}
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		mode := f.Mode()
		if mode.IsDir() || mode&fs.ModeSymlink != 0 || strings.HasSuffix(f.Name, "/") {
			continue
		}
		name := strings.TrimLeft(strings.ReplaceAll(f.Name, `\`, "/"), "/")
		if name == "" || !fs.ValidPath(name) {
			// "..", empty elements: never a path we would join. The member
			// is not read, and that is said, since it may hold evidence.
			if len(refused) < 100 {
				refused = append(refused, fmt.Errorf("evidence: %s: member %q is not a plain path inside the archive (it climbs out or has empty elements): not read", path, f.Name))
			}
			continue
		}
		parts := append([]string(nil), base...)
		for _, s := range strings.Split(name, "/") {
			parts = append(parts, strings.ToLower(unescapeName(s)))
		}
		out = append(out, entry{path: path + "/" + name, parts: parts, size: int64(f.UncompressedSize64), archive: path})
	}
	return out, errors.Join(refused...)
}

// splitArchivePath finds the ZIP file a member path starts with: the
// longest leading part of p that is a regular file ending in .zip.
func splitArchivePath(p string) (archive, member string, ok bool) {
	slash := filepath.ToSlash(p)
	for i := len(slash); i > 0; i-- {
		if i < len(slash) && slash[i] != '/' {
			continue
		}
		head := slash[:i]
		if !isZipName(head) {
			continue
		}
		st, err := os.Stat(filepath.FromSlash(head))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if i == len(slash) {
			return "", "", false
		}
		return filepath.FromSlash(head), slash[i+1:], true
	}
	return "", "", false
}

// Open opens an evidence file for reading: a file on disk, or a member of
// a ZIP collection named as discovery names it (archive path + "/" +
// member). A member is decompressed into memory, at most max bytes (a
// larger member is refused, so a hostile archive cannot exhaust memory);
// files on disk are opened read-only and not read ahead.
func Open(path string, max int64) (io.ReadCloser, error) {
	f, err := openRegular(path)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, errNotRegular) {
		return nil, err
	}
	archive, member, ok := splitArchivePath(path)
	if !ok {
		return nil, err
	}
	data, err := readMember(archive, member, max)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// ReadFile returns the content of an evidence file (on disk or in a ZIP
// collection), refusing files larger than max bytes with an error that
// names the file and the limit.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := openRegular(path)
	if errors.Is(err, errNotRegular) {
		return nil, err
	}
	if err == nil {
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, max+1))
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", path, err)
		}
		if int64(len(data)) > max {
			return nil, fmt.Errorf("evidence: %s: larger than %d bytes, not read", path, max)
		}
		return data, nil
	}
	archive, member, ok := splitArchivePath(path)
	if !ok {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return readMember(archive, member, max)
}

func readMember(archive, member string, max int64) ([]byte, error) {
	zr, err := openZip(archive)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.TrimLeft(strings.ReplaceAll(f.Name, `\`, "/"), "/") != member {
			continue
		}
		if f.UncompressedSize64 > uint64(max) {
			return nil, fmt.Errorf("evidence: %s: member %s of %d bytes is larger than %d, not read", archive, member, f.UncompressedSize64, max)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %s: %w", archive, member, err)
		}
		defer rc.Close()
		// The declared size is not trusted: read at most max+1 bytes.
		data, err := io.ReadAll(io.LimitReader(rc, max+1))
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %s: %w", archive, member, err)
		}
		if int64(len(data)) > max {
			return nil, fmt.Errorf("evidence: %s: member %s is larger than %d bytes, not read", archive, member, max)
		}
		return data, nil
	}
	return nil, fmt.Errorf("evidence: %s: no member %s: %w", archive, member, fs.ErrNotExist)
}

// openZip opens an archive. Names that are not local paths ("../x",
// absolute) do not make the whole archive unreadable: such members are
// skipped when listed.
func openZip(path string) (*zip.ReadCloser, error) {
	zr, err := zip.OpenReader(path)
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		return zr, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: %s: %w", path, err)
	}
	return zr, nil
}

// errNotRegular marks a path that is a pipe, device, socket or directory.
var errNotRegular = errors.New("not a regular file")

// openRegular opens a regular file read-only. Anything else (a named pipe
// would block the open until a writer comes, a device would be read
// without end) is refused before it is opened.
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("evidence: %s: %w (%s), not read", path, errNotRegular, st.Mode().Type())
	}
	return os.Open(path)
}
