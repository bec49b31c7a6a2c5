package tarball

import (
	"io"

	"github.com/omnipack/omnipack/pkgfile"
)

// Walk reads omnipack's release tarball: one gzip-compressed tar of
// paths relative to /, for hosts without a supported package manager.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	zr, closeZ, err := pkgfile.Decompress(r, "gz")
	if err != nil {
		return err
	}
	defer closeZ()
	return pkgfile.WalkTar(zr, func(string) bool { return false }, nil, fn)
}
