// Package problem writes errors as RFC 9457 problem documents. It is the one
// place where domain fault kinds become HTTP status codes; internal causes are
// logged, never sent.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/dancu-project/dancu/internal/fault"
)

// Problem is an RFC 9457 problem document with dancu's extension members.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// FieldError is one invalid field.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	English string `json:"message_en"`
}

// Status maps a fault kind to its HTTP status.
func Status(k fault.Kind) int {
	switch k {
	case fault.Invalid:
		return http.StatusUnprocessableEntity
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Malformed:
		return http.StatusBadRequest
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.Limited:
		return http.StatusTooManyRequests
	case fault.Canceled:
		return StatusClientClosed
	default:
		return http.StatusInternalServerError
	}
}

// StatusClientClosed is the status recorded for a request whose client went
// away before the answer (nginx's 499). It is not a server fault: it is
// neither logged as an error nor counted among the 5xx.
const StatusClientClosed = 499

// ClientGone reports whether r's client disconnected, so that whatever
// failed after that is the client's leaving, not a server fault.
func ClientGone(r *http.Request) bool { return errors.Is(r.Context().Err(), context.Canceled) }

// TypeURI names a problem type by its stable code.
func TypeURI(code string) string { return "urn:dancu:problem:" + code }

// From builds the problem document for err.
func From(err error) Problem {
	faults := fault.Faults(err)
	first := faults[0]
	p := Problem{Type: TypeURI(first.Code), Title: first.English, Status: Status(first.Kind), Detail: first.Message, Code: first.Code}
	if len(faults) > 1 || first.Field != "" {
		p.Type, p.Code = TypeURI("validation"), "validation"
		p.Title, p.Detail = "The request has invalid fields.", "Yêu cầu có trường không hợp lệ."
		for _, f := range faults {
			p.Errors = append(p.Errors, FieldError{Field: f.Field, Code: f.Code, Message: f.Message, English: f.English})
		}
		p.Status = Status(first.Kind)
	}
	return p
}

// Write sends err as a problem document and logs internal causes.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := From(err)
	p.Instance = r.URL.Path
	if p.Status >= 500 && ClientGone(r) {
		// A query cut short by the client's leaving fails with the driver's
		// own error: it is still the client's leaving.
		p = From(context.Canceled)
	}
	if p.Status == StatusClientClosed {
		log.DebugContext(r.Context(), "client closed the request", "route", r.Pattern)
		w.WriteHeader(p.Status)
		return
	}
	if p.Status >= 500 {
		// The cause may hold SQL or driver text: log it, send nothing of it.
		log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
		p.Instance = ""
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
