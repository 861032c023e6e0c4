package debian

import "io"

// NewParserBlock returns a Parser that reads blocks of block bytes, so that
// tests reach block boundaries with small inputs.
func NewParserBlock(r io.Reader, block int) *Parser {
	p := NewParser(r)
	p.block = block
	return p
}
