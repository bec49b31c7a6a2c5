package pkgfile

import "io"

// walkArch reads a pacman package: one zstd-compressed tar whose top-level
// dot files (.PKGINFO, .MTREE, .INSTALL, .BUILDINFO) are metadata for
// pacman, not installed files.
func walkArch(r io.Reader, fn walkFunc) error {
	zr, closeZ, err := decompress(r, "zst")
	if err != nil {
		return err
	}
	defer closeZ()
	return walkTar(zr, isDotFile, nil, fn)
}
