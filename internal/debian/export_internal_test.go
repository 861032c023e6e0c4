package debian

import (
	"context"
	"io"
)

// NewParserBlock returns a Parser that reads blocks of block bytes, so that
// tests reach block boundaries with small inputs.
func NewParserBlock(r io.Reader, block int) *Parser {
	p := NewParser(r)
	p.block = block
	return p
}

// ReadPackagesBlock is ReadPackages with blocks of block bytes parsed by
// workers goroutines, so that tests reach many blocks with small inputs.
func ReadPackagesBlock(ctx context.Context, r io.Reader, block, workers int) (map[string]*Package, error) {
	return readPackages(ctx, r, block, workers)
}

// HaveLiblzma tells whether this build decodes .xz with liblzma.
const HaveLiblzma = haveLiblzma
