package pkgfile

import "io"

// walkTarball reads omnipack's release tarball: one gzip-compressed tar of
// paths relative to /, for hosts without a supported package manager.
func walkTarball(r io.Reader, fn walkFunc) error {
	zr, closeZ, err := decompress(r, "gz")
	if err != nil {
		return err
	}
	defer closeZ()
	return walkTar(zr, func(string) bool { return false }, nil, fn)
}
