package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesByCode(t *testing.T) {
	err := fmt.Errorf("load person: %w", ErrNotFound.WithField("pin").Wrap(errors.New("sql: no rows")))
	if !errors.Is(err, ErrNotFound) {
		t.Fatal("wrapped fault with a field does not match its sentinel")
	}
	if errors.Is(err, ErrForbidden) {
		t.Fatal("fault matches a different code")
	}
	f := As(err)
	if f.Kind != NotFound || f.Field != "pin" {
		t.Fatalf("As = %+v", f)
	}
}

func TestAsUnknownIsInternal(t *testing.T) {
	f := As(errors.New("disk full"))
	if f.Kind != Internal || f.Code != "internal" {
		t.Fatalf("As = %+v", f)
	}
	if f.Message == "disk full" {
		t.Fatal("internal cause leaked into the message")
	}
}

func TestListCollectsFields(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list is an error")
	}
	l.Add("birth_date", New(Invalid, "date.format", "Sai ngày", "Bad date"))
	l.Add("full_name", New(Invalid, "name.empty", "Thiếu họ tên", "Missing name"))
	err := fmt.Errorf("register birth: %w", l.Err())
	fs := Faults(err)
	if len(fs) != 2 || fs[0].Field != "birth_date" || fs[1].Code != "name.empty" {
		t.Fatalf("Faults = %+v", fs)
	}
	if got := Faults(ErrNotFound); len(got) != 1 || got[0].Code != "not_found" {
		t.Fatalf("single fault: %+v", got)
	}
}
