package pkgfile

import (
	"archive/tar"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// WalkTar calls fn for every member of a tar stream except directories and
// the members skip names. extra, if set, adds a digest check per header.
func WalkTar(r io.Reader, skip func(name string) bool, extra func(*tar.Header) func(string, string) error, fn WalkFunc) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		if skip != nil && skip(hdr.Name) {
			continue
		}
		e := Entry{Name: hdr.Name, Mode: hdr.FileInfo().Mode()}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
			e.Size = hdr.Size
			if extra != nil {
				e.Check = extra(hdr)
			}
		case tar.TypeSymlink:
			e.Link = hdr.Linkname
		case tar.TypeLink:
			e.Link, e.Hardlink = hdr.Linkname, true
		case tar.TypeXHeader, tar.TypeXGlobalHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue // archive/tar folds these into the next header
		default:
			if e.Mode&fs.ModeType == 0 {
				return fmt.Errorf("tar: %s has unsupported type %q", hdr.Name, hdr.Typeflag)
			}
		}
		if err := fn(e, tr); err != nil {
			return err
		}
	}
}

// maxWindow bounds the dictionary (window) a zstd or lzma stream may
// declare, which the decoders allocate up front: zstd --ultra -22 and
// lzma -9 stay within it, and a forged header cannot make us allocate more.
const maxWindow = 128 << 20

// Decompress wraps r for a compression named by a file suffix or an rpm
// PAYLOADCOMPRESSOR value. The returned close releases decoder resources.
func Decompress(r io.Reader, name string) (io.Reader, func(), error) {
	nop := func() {}
	switch name {
	case "", "none", "tar":
		return r, nop, nil
	case "gz", "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case "xz":
		// Unbounded: ulikunitz/xz allocates whatever dictionary a block
		// header declares (up to 4 GiB) and has no option to refuse it.
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	case "zst", "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case "lzma":
		zr, err := lzma.ReaderConfig{DictCap: maxWindow}.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	case "bz2", "bzip2":
		return bzip2.NewReader(r), nop, nil
	}
	return nil, nil, fmt.Errorf("unsupported compression %q", name)
}

// IsDotFile reports whether a member is a top-level metadata file such as
// .PKGINFO rather than an installed file.
func IsDotFile(name string) bool {
	name = strings.TrimPrefix(name, "./")
	return strings.HasPrefix(name, ".") && !strings.Contains(name, "/")
}
