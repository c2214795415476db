// Package jsonbody reads JSON request bodies and writes JSON answers the
// same way for every API of the platform (staff, partner, delivery), with
// one set of stable problem codes for a body that cannot be read.
package jsonbody

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/dancu-project/dancu/internal/fault"
)

// Refusals of a request body.
var (
	ErrMalformed   = fault.New(fault.Malformed, "request.malformed_json", "Nội dung JSON không hợp lệ.", "The request body is not valid JSON for this operation.")
	ErrTooLarge    = fault.New(fault.TooLarge, "request.too_large", "Nội dung yêu cầu quá lớn.", "The request body is too large.")
	ErrContentType = fault.New(fault.Malformed, "request.content_type", "Nội dung phải là application/json.", "The body must be application/json.")
)

// Decode reads exactly one JSON value into v from a body of at most limit
// bytes, refusing unknown fields and anything after the value. A body over
// the limit is ErrTooLarge, anything else unreadable ErrMalformed. Callers
// check the content type themselves: the APIs differ on a missing one.
func Decode(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ErrTooLarge
		}
		return ErrMalformed.Wrap(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrMalformed
	}
	return nil
}

// Write sends v as JSON with status; API answers are never cached.
func Write(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
