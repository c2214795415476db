package eid

import "time"

// TOTPCode is the current code of a secret, as an authenticator app shows it.
func TOTPCode(secret string, t time.Time) string {
	c, _ := totpCode(secret, totpStepAt(t))
	return c
}
