package idempotency

import "testing"

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{
		"birth-0001-hoa": true, "a.b_c-d1": true, "1234567": false, "bad key!": false,
		"khóa-tiếng-việt": false, string(make([]byte, 65)): false,
		"0123456789012345678901234567890123456789012345678901234567890123": true,
	} {
		if got := ValidKey(k); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", k, got, want)
		}
	}
}
