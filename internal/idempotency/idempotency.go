// Package idempotency holds the one rule for the keys clients send so that
// a request sent again (its answer lost to a timeout or a failed node) is
// done once: the Idempotency-Key of the register acts and the dossiers.
package idempotency

// ValidKey reports whether k can be an idempotency key: 8–64 letters,
// digits, '-', '_' or '.', so it can be stored and logged as it is.
func ValidKey(k string) bool {
	if len(k) < 8 || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
