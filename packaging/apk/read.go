package apk

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/omnipack/omnipack/pkgfile"
)

// Walk reads an apk v2 package: concatenated gzip streams holding an
// optional signature tar (.SIGN.*), the control tar (.PKGINFO, scripts) and
// the data tar. Each stream is read on its own; a bufio.Reader is an
// io.ByteReader, so gzip stops exactly at the end of each stream.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	br := bufio.NewReader(r)
	sawControl := false
	for stream := 0; ; stream++ {
		zr, err := gzip.NewReader(br)
		if err == io.EOF {
			return fmt.Errorf("apk has no data stream")
		}
		if err != nil {
			return fmt.Errorf("apk gzip stream %d: %w", stream, err)
		}
		zr.Multistream(false)
		if sawControl {
			// apk-tools checks every regular file against this pax record.
			check := func(hdr *tar.Header) func(string, string) error {
				want, ok := hdr.PAXRecords["APK-TOOLS.checksum.SHA1"]
				if !ok {
					return nil
				}
				return func(_, sha1 string) error {
					if !strings.EqualFold(want, sha1) {
						return fmt.Errorf("content sha1 %s, but the apk records %s", sha1, want)
					}
					return nil
				}
			}
			return pkgfile.WalkTar(zr, nil, check, fn)
		}
		// Signature and control streams: look at the first member only.
		// nfpm's control tar has no end-of-archive marker, so it is not
		// read as a whole tar.
		hdr, err := tar.NewReader(zr).Next()
		if err != nil {
			return fmt.Errorf("apk gzip stream %d: tar: %w", stream, err)
		}
		if !strings.HasPrefix(hdr.Name, ".SIGN.") {
			sawControl = true
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return fmt.Errorf("apk gzip stream %d: %w", stream, err)
		}
	}
}
