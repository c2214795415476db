package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Options are what an uploader may declare; zero values mean detect.
type Options struct {
	Encoding  Encoding
	Format    Format
	Delimiter byte
}

// Prepared is a file ready to be stored and parsed.
type Prepared struct {
	Encoding Encoding
	Header   Header
	// Text is the whole file decoded to UTF-8 NFC, from its first byte.
	Text io.Reader
}

// Prepare reads the start of a raw upload: it refuses empty and binary
// files, settles the encoding, format and delimiter, and checks the
// header. Nothing but the first SampleSize bytes is read before it returns.
func Prepare(raw io.Reader, o Options) (Prepared, error) {
	br := bufio.NewReaderSize(raw, SampleSize)
	sample, err := br.Peek(SampleSize)
	full := false
	switch {
	case errors.Is(err, io.EOF):
		full = true
	case err != nil:
		return Prepared{}, err
	}
	enc, err := Sniff(sample, o.Encoding, full)
	if err != nil {
		return Prepared{}, err
	}
	text, err := io.ReadAll(Decoder(bytes.NewReader(sample), enc))
	if err != nil {
		return Prepared{}, err
	}
	h, err := ReadHeader(text, o.Format, o.Delimiter)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{Encoding: enc, Header: h, Text: Decoder(br, enc)}, nil
}
