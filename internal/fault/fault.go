// Package fault holds the typed domain errors that every module returns and the
// web layer maps to HTTP status codes and RFC 9457 problem documents in one place.
// A fault carries a stable machine code for partners and a message in Vietnamese
// (and English) for people; internal causes stay in the log, never in a response.
package fault

import (
	"context"
	"errors"
	"fmt"
)

// Kind is the class of a fault; it decides the HTTP status.
type Kind int

// Kinds of fault.
const (
	Internal        Kind = iota // a bug or an unavailable dependency
	Invalid                     // the input is malformed or breaks a rule
	NotFound                    // no such record
	Conflict                    // the record's state forbids the change (second death, duplicate)
	Forbidden                   // the actor may not do this
	Unauthenticated             // no valid sign-in
	TooLarge                    // the request body is too large
	Malformed                   // the request cannot be read at all (broken JSON)
	Limited                     // too many requests or quota used up; retry later
	Canceled                    // the client went away before the answer; nothing to report
)

// Error is a domain error with a stable code. Code strings never change once
// published: partners match on them.
type Error struct {
	Kind    Kind
	Code    string // e.g. "pin.invalid_checksum"
	Field   string // the input field at fault, if any
	Message string // Vietnamese, shown to registrars
	English string // English, shown when the UI is switched
	Err     error  // cause, for the log only
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.English
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match faults by code, so a sentinel fault can be compared
// with one that has a different field or cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// New makes a fault.
func New(kind Kind, code, vi, en string) *Error {
	return &Error{Kind: kind, Code: code, Message: vi, English: en}
}

// Invalidf makes an Invalid fault on a field.
func Invalidf(field, code, vi, en string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(vi, args...), English: fmt.Sprintf(en, args...)}
}

// WithField returns a copy of e naming the field at fault.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Wrap returns a copy of e with a cause for the log.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// As returns the fault inside err, or an Internal fault if there is none.
func As(err error) *Error {
	var l List
	if errors.As(err, &l) && len(l) > 0 {
		return l[0]
	}
	var f *Error
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Kind: Canceled, Code: "client_closed", Message: "Yêu cầu đã bị huỷ.", English: "The request was cancelled.", Err: err}
	}
	return &Error{Kind: Internal, Code: "internal", Message: "Lỗi hệ thống, vui lòng thử lại sau.", English: "Internal error, please try again later.", Err: err}
}

// Common faults shared by modules.
var (
	ErrNotFound     = New(NotFound, "not_found", "Không tìm thấy.", "Not found.")
	ErrForbidden    = New(Forbidden, "forbidden", "Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this.")
	ErrOutOfScope   = New(Forbidden, "out_of_scope", "Công dân này không thuộc địa bàn bạn quản lý.", "This person is outside your administrative unit.")
	ErrUnauthorized = New(Unauthenticated, "unauthenticated", "Vui lòng đăng nhập.", "Please sign in.")
	ErrStaleVersion = New(Conflict, "stale_version", "Hồ sơ đã được người khác thay đổi, vui lòng tải lại.", "The record was changed by someone else; reload it.")
)

// List is several validation faults found together, so a form can show every
// problem at once. Its Kind is Invalid.
type List []*Error

func (l List) Error() string {
	s := ""
	for i, e := range l {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Add appends a fault for a field.
func (l *List) Add(field string, e *Error) {
	*l = append(*l, e.WithField(field))
}

// Faults returns every fault in err: the members of a List, or the single fault.
func Faults(err error) []*Error {
	var l List
	if errors.As(err, &l) {
		return l
	}
	return []*Error{As(err)}
}
