package registry

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
)

// maxNameRunes bounds a full name; the longest real Vietnamese names are far shorter.
const maxNameRunes = 100

// NormalizeName cleans a typed name: NFC, single spaces, each word's case
// kept as typed. It rejects digits, symbols and control characters with a
// fault a registrar understands.
func NormalizeName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrNameInvalid
	}
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	if s == "" {
		return "", ErrNameRequired
	}
	if utf8.RuneCountInString(s) > maxNameRunes {
		return "", ErrNameInvalid
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.Is(unicode.Mn, r), r == ' ', r == '-', r == '\'':
		default:
			return "", ErrNameInvalid
		}
	}
	return s, nil
}

// checkReason bounds the free-text reason of a change.
func checkReason(reason string, problems *fault.List) string {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
		problems.Add("reason", ErrReasonTooLong)
	}
	return reason
}

// pastDate reads a date that must not be in the future, adding any fault to
// problems under field.
func pastDate(text, field string, now time.Time, problems *fault.List) civildate.Date {
	d, err := civildate.Parse(text)
	if err == nil {
		err = d.NotFuture(now)
	}
	if err != nil {
		problems.Add(field, fault.As(err))
	}
	return d
}
