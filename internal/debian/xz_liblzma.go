//go:build cgo && liblzma

package debian

/*
#cgo LDFLAGS: -llzma
#include <lzma.h>
#include <stdlib.h>

// xz_new returns a decoder of concatenated .xz streams, or NULL.
static lzma_stream *xz_new(lzma_ret *ret) {
	lzma_stream *s = malloc(sizeof(lzma_stream));
	if (s == NULL) {
		*ret = LZMA_MEM_ERROR;
		return NULL;
	}
	lzma_stream init = LZMA_STREAM_INIT;
	*s = init;
	*ret = lzma_stream_decoder(s, UINT64_MAX, LZMA_CONCATENATED);
	if (*ret != LZMA_OK) {
		free(s);
		return NULL;
	}
	return s;
}

// xz_code decodes from in into out until out is full, in is used up or the
// stream ends; finish says no input follows in. It keeps no pointer to in
// or out: the buffers are Go memory.
static lzma_ret xz_code(lzma_stream *s, const uint8_t *in, size_t in_len, size_t *in_used,
		uint8_t *out, size_t out_len, size_t *out_used, int finish) {
	s->next_in = in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_len;
	lzma_ret ret = LZMA_OK;
	while (ret == LZMA_OK && s->avail_out > 0 && (s->avail_in > 0 || finish)) {
		ret = lzma_code(s, finish ? LZMA_FINISH : LZMA_RUN);
	}
	*in_used = in_len - s->avail_in;
	*out_used = out_len - s->avail_out;
	s->next_in = NULL;
	s->avail_in = 0;
	s->next_out = NULL;
	s->avail_out = 0;
	return ret;
}

static void xz_free(lzma_stream *s) {
	lzma_end(s);
	free(s);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// haveLiblzma tells that this build decodes .xz with liblzma.
const haveLiblzma = true

// liblzmaReader decodes .xz data in this process with liblzma: the
// decoder of the xz command, without the pipe (a Packages.xz of a Debian
// release comes out of xz in 8 KiB writes, and waking the reader for each
// cost the parser about a fifth of a core). It decodes on one thread, also
// a stream of several blocks: with liblzma's threaded decoder, a cold
// start on a two-block bookworm Packages.xz was no faster (the decoder's
// threads compete with the parser for the cores) and peaked up to 13 MiB
// higher.
type liblzmaReader struct {
	s    *C.lzma_stream
	src  io.Reader
	in   []byte // read from src, not yet decoded: in[inAt:]
	inAt int
	eof  bool // src has no more
	end  bool // the stream ended
	err  error
}

// newLiblzmaReader returns a reader of what the .xz data read from src
// decompresses to. The caller must call Close.
func newLiblzmaReader(src io.Reader) (*liblzmaReader, error) {
	var ret C.lzma_ret
	s := C.xz_new(&ret)
	if s == nil {
		return nil, fmt.Errorf("start liblzma decoder: %w", lzmaError(ret))
	}
	return &liblzmaReader{s: s, src: src, in: make([]byte, 0, 256<<10)}, nil
}

func (x *liblzmaReader) Read(p []byte) (int, error) {
	if x.err != nil {
		return 0, x.err
	}
	if x.s == nil {
		return 0, errors.New("read xz: reader closed")
	}
	n := 0
	for n == 0 && len(p) > 0 {
		if x.end {
			x.err = io.EOF
			return 0, io.EOF
		}
		if x.inAt == len(x.in) && !x.eof {
			m, err := x.src.Read(x.in[:cap(x.in)])
			x.in, x.inAt = x.in[:m], 0
			if err == io.EOF {
				x.eof = true
			} else if err != nil {
				x.err = fmt.Errorf("read xz: %w", err)
				return 0, x.err
			}
			if m == 0 && !x.eof {
				continue
			}
		}
		var inPtr *C.uint8_t
		if x.inAt < len(x.in) {
			inPtr = (*C.uint8_t)(unsafe.Pointer(&x.in[x.inAt]))
		}
		var used, made C.size_t
		finish := C.int(0)
		if x.eof {
			finish = 1
		}
		ret := C.xz_code(x.s, inPtr, C.size_t(len(x.in)-x.inAt), &used,
			(*C.uint8_t)(unsafe.Pointer(&p[0])), C.size_t(len(p)), &made, finish)
		x.inAt += int(used)
		n = int(made)
		switch ret {
		case C.LZMA_OK:
		case C.LZMA_STREAM_END:
			x.end = true
		case C.LZMA_BUF_ERROR:
			// No progress possible: the input ended inside the stream.
			x.err = fmt.Errorf("decompress xz: %w", io.ErrUnexpectedEOF)
			return n, nil
		default:
			x.err = fmt.Errorf("decompress xz: %w", lzmaError(ret))
			return n, nil
		}
	}
	return n, nil
}

// Close frees the decoder.
func (x *liblzmaReader) Close() error {
	if x.s != nil {
		C.xz_free(x.s)
		x.s = nil
	}
	return nil
}

// lzmaError describes a liblzma return code.
func lzmaError(ret C.lzma_ret) error {
	switch ret {
	case C.LZMA_MEM_ERROR:
		return errors.New("liblzma: cannot allocate memory")
	case C.LZMA_MEMLIMIT_ERROR:
		return errors.New("liblzma: memory usage limit reached")
	case C.LZMA_FORMAT_ERROR:
		return errXZMagic
	case C.LZMA_OPTIONS_ERROR:
		return errors.New("liblzma: unsupported compression options")
	case C.LZMA_DATA_ERROR:
		return errors.New("liblzma: compressed data is corrupt")
	case C.LZMA_UNSUPPORTED_CHECK:
		return errors.New("liblzma: unsupported integrity check")
	}
	return fmt.Errorf("liblzma: error %d", int(ret))
}
