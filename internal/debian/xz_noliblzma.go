//go:build !(cgo && liblzma)

package debian

import (
	"errors"
	"io"
)

// haveLiblzma tells that this build decodes .xz with liblzma: it does not
// (build with -tags liblzma and liblzma-dev installed for that).
const haveLiblzma = false

// newLiblzmaReader fails: this build has no liblzma.
func newLiblzmaReader(io.Reader) (io.ReadCloser, error) {
	return nil, errors.New("built without liblzma (go build -tags liblzma)")
}
