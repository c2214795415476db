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
