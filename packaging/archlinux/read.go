package archlinux

import (
	"io"

	"github.com/omnipack/omnipack/pkgfile"
)

// Walk reads a pacman package: one zstd-compressed tar whose top-level
// dot files (.PKGINFO, .MTREE, .INSTALL, .BUILDINFO) are metadata for
// pacman, not installed files.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	zr, closeZ, err := pkgfile.Decompress(r, "zst")
	if err != nil {
		return err
	}
	defer closeZ()
	return pkgfile.WalkTar(zr, pkgfile.IsDotFile, nil, fn)
}
