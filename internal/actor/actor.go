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
	Desk      Role = "desk"      // one-stop desk officer: finds citizens and does desk acts in their unit
	Leader    Role = "leader"    // reads and watches dashboards for their unit
	Admin     Role = "admin"     // manages accounts; national scope unless a province is set
	System    Role = "system"    // the platform itself (seed, relays)
)

// StaffRoles are the roles a staff account may hold, in the order pickers
// list them.
func StaffRoles() []Role { return []Role{Registrar, Desk, Leader, Admin} }

// Permission is one kind of act a role allows; where it may be done is the
// actor's unit (Covers), checked separately.
type Permission string

// Permissions. The table of which role holds which is Can; it is
// documented in docs/architecture.md.
const (
	FindPersons    Permission = "find_persons"    // search the register and read a record in scope
	RegisterEvents Permission = "register_events" // births, deaths, moves, name changes, cards
	DeskActs       Permission = "desk_acts"       // at the one-stop desk: read cards, activate level 2, lock, unlock, reset e-ID accounts
	ManageStaff    Permission = "manage_staff"    // add, disable, enable staff and reset their passwords, in scope
	ManagePlatform Permission = "manage_platform" // partners, policies, OpenID clients, subscriptions: national administrators only
	ReadDashboards Permission = "read_dashboards" // indicators of the unit
)

// Can reports whether the actor's role allows p. It is the one permission
// table; scope (which unit) is Covers's and ManagesUnit's. A province
// administrator manages staff of its province but not the platform.
func (a Actor) Can(p Permission) bool {
	switch a.Role {
	case System:
		return true
	case Admin:
		if p == ManagePlatform {
			return a.Level() == LevelNational
		}
		return true
	case Registrar:
		return p == FindPersons || p == RegisterEvents || p == DeskActs || p == ReadDashboards
	case Desk:
		return p == FindPersons || p == DeskActs
	case Leader:
		return p == FindPersons || p == ReadDashboards
	default:
		return false
	}
}

// ManagesUnit reports whether an administrator may manage a staff account
// scoped to unit (in province), whatever its role: a national administrator
// any; a province administrator only accounts inside its province and never
// a national one (a unit of ""). An actor without ManageStaff manages
// nothing.
func (a Actor) ManagesUnit(unit, province string) bool {
	if !a.Can(ManageStaff) {
		return false
	}
	switch a.Level() {
	case LevelNational:
		return true
	case LevelProvince:
		return unit != "" && province == a.Unit && (Actor{Unit: unit}).Level() != LevelNone
	default:
		return false
	}
}

// Actor is the one doing something.
type Actor struct {
	ID   string // audit identity: "staff:lan.nt", "system:seed"
	Name string // display name
	Role Role
	// Unit is the administrative unit the actor is scoped to: "" for the whole
	// country, a 2-digit province code or a 5-digit commune code. Any other
	// value scopes the actor to nothing (see Level).
	Unit string
	// Province is the province of Unit (equal to Unit for a province).
	Province string
}

// Level is the tier of the unit an actor is scoped to.
type Level int

// Levels of scope. A unit code of any other shape (a pre-2025 district's 3
// digits, a typo) is LevelNone and covers nobody: scope fails closed.
const (
	LevelNone     Level = iota // a unit code the platform does not know how to scope: nothing
	LevelNational              // no unit: the whole country
	LevelProvince              // a 2-digit province code
	LevelCommune               // a 5-digit commune code
)

// Level is the tier of a.Unit. Every scope check — a record's units in
// Covers, the register search's SQL filter — derives from it, so a unit
// code of an unexpected length cannot fall through to national scope.
func (a Actor) Level() Level {
	for i := 0; i < len(a.Unit); i++ {
		if a.Unit[i] < '0' || a.Unit[i] > '9' {
			return LevelNone
		}
	}
	switch len(a.Unit) {
	case 0:
		return LevelNational
	case 2:
		return LevelProvince
	case 5:
		return LevelCommune
	default:
		return LevelNone
	}
}

// Covers reports whether a record located in (province, commune) is inside the
// actor's scope. An empty commune is never inside a commune's scope.
func (a Actor) Covers(province, commune string) bool {
	switch a.Level() {
	case LevelNational:
		return true
	case LevelProvince:
		return province == a.Unit
	case LevelCommune:
		return commune == a.Unit
	default:
		return false
	}
}

// CanRegister reports whether the actor may record life events.
func (a Actor) CanRegister() bool { return a.Can(RegisterEvents) }

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
