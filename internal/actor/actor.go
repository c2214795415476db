// Package actor describes who is acting — a staff member, a citizen, a
// partner system or the platform itself — and the administrative scope they
// act in. Modules check scope with it and write it into the audit log.
package actor

import "strings"

// Role of a staff member.
type Role string

// Staff roles.
const (
	Registrar Role = "registrar" // registers births, deaths, moves in their unit
	Leader    Role = "leader"    // reads and watches dashboards for their unit
	Admin     Role = "admin"     // manages accounts; national scope unless a unit is set
	System    Role = "system"    // the platform itself (seed, relays)
)

// Actor is the one doing something.
type Actor struct {
	ID   string // audit identity: "staff:lan.nt", "system:seed"
	Name string // display name
	Role Role
	// Unit is the administrative unit the actor is scoped to: "" for the whole
	// country, a 2-digit province code or a 5-digit commune code.
	Unit string
	// Province is the province of Unit (equal to Unit for a province).
	Province string
}

// Covers reports whether a record located in (province, commune) is inside the
// actor's scope.
func (a Actor) Covers(province, commune string) bool {
	switch len(a.Unit) {
	case 0:
		return true
	case 2:
		return province == a.Unit
	default:
		return commune == a.Unit
	}
}

// CanRegister reports whether the actor may record life events.
func (a Actor) CanRegister() bool {
	return a.Role == Registrar || a.Role == Admin || a.Role == System
}

// Label is the actor's ID without its kind prefix, for display.
func (a Actor) Label() string {
	if _, after, ok := strings.Cut(a.ID, ":"); ok {
		return after
	}
	return a.ID
}

// SystemActor is the platform acting on its own behalf.
func SystemActor(name string) Actor {
	return Actor{ID: "system:" + name, Name: name, Role: System}
}
