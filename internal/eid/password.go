package eid

import "github.com/dancu-project/dancu/internal/staff"

// Passwords use the staff module's argon2id parameters and encoding, so one
// place decides how the platform hashes passwords.
func hashPassword(p string) (string, error) { return staff.HashPassword(p) }

func checkPassword(hash, p string) bool {
	ok, err := staff.CheckPassword(hash, p)
	return err == nil && ok
}
