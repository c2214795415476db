package actor

import "testing"

// TestCovers runs every unit-code length the platform has met: none
// (national), 2 (province), 5 (commune), and the lengths that must cover
// nobody — a pre-2025 district's 3 digits, 1, 4 and 6 digits, non-digits.
func TestCovers(t *testing.T) {
	tests := []struct {
		unit, prov, commune string
		level               Level
		want                bool
	}{
		{"", "01", "00004", LevelNational, true},
		{"01", "01", "00004", LevelProvince, true},
		{"01", "79", "26734", LevelProvince, false},
		{"00004", "01", "00004", LevelCommune, true},
		{"00004", "01", "00008", LevelCommune, false},
		{"00004", "01", "", LevelCommune, false},
		{"001", "01", "00004", LevelNone, false},
		{"001", "001", "001", LevelNone, false},
		{"0", "0", "0", LevelNone, false},
		{"0100", "01", "00004", LevelNone, false},
		{"000040", "01", "00004", LevelNone, false},
		{"0a", "0a", "00004", LevelNone, false},
		{"0000x", "01", "0000x", LevelNone, false},
	}
	for _, tt := range tests {
		a := Actor{Unit: tt.unit}
		if got := a.Level(); got != tt.level {
			t.Errorf("unit %q has level %d, want %d", tt.unit, got, tt.level)
		}
		if got := a.Covers(tt.prov, tt.commune); got != tt.want {
			t.Errorf("unit %q covers %s/%s = %v", tt.unit, tt.prov, tt.commune, got)
		}
	}
	if (Actor{Role: Leader}).CanRegister() {
		t.Error("a leader may register events")
	}
	if !(Actor{Role: Registrar}).CanRegister() {
		t.Error("a registrar may not register events")
	}
}

// TestPermissionTable is the table of docs/architecture.md: which role
// may do what. A desk officer finds citizens and does desk acts but
// registers nothing; a leader only reads; a province administrator
// manages staff but not the platform.
func TestPermissionTable(t *testing.T) {
	all := []Permission{FindPersons, RegisterEvents, DeskActs, ManageStaff, ManagePlatform, ReadDashboards}
	tests := []struct {
		name string
		a    Actor
		may  []Permission
	}{
		{"registrar", Actor{Role: Registrar, Unit: "01"}, []Permission{FindPersons, RegisterEvents, DeskActs, ReadDashboards}},
		{"desk officer", Actor{Role: Desk, Unit: "00004"}, []Permission{FindPersons, DeskActs}},
		{"leader", Actor{Role: Leader, Unit: "01"}, []Permission{FindPersons, ReadDashboards}},
		{"national administrator", Actor{Role: Admin}, all},
		{"province administrator", Actor{Role: Admin, Unit: "01"}, []Permission{FindPersons, RegisterEvents, DeskActs, ManageStaff, ReadDashboards}},
		{"system", SystemActor("cli"), all},
		{"unknown role", Actor{Role: "superuser"}, nil},
		{"citizen", Actor{ID: "citizen:001090000001"}, nil},
	}
	for _, tt := range tests {
		for _, p := range all {
			want := false
			for _, m := range tt.may {
				want = want || m == p
			}
			if got := tt.a.Can(p); got != want {
				t.Errorf("%s Can(%s) = %v, want %v", tt.name, p, got, want)
			}
		}
	}
	if (Actor{Role: Desk}).CanRegister() {
		t.Error("a desk officer may register births and deaths")
	}
}

// TestManagesUnit: a national administrator manages any account; a
// province administrator only accounts inside its province, never a
// national one; nobody else manages anyone.
func TestManagesUnit(t *testing.T) {
	national := Actor{Role: Admin}
	hanoi := Actor{Role: Admin, Unit: "01", Province: "01"}
	tests := []struct {
		name           string
		a              Actor
		unit, province string
		want           bool
	}{
		{"national: national account", national, "", "", true},
		{"national: commune", national, "26734", "79", true},
		{"province: own province", hanoi, "01", "01", true},
		{"province: own commune", hanoi, "00004", "01", true},
		{"province: national account", hanoi, "", "", false},
		{"province: other province", hanoi, "79", "79", false},
		{"province: other province's commune", hanoi, "26734", "79", false},
		{"province: malformed unit", hanoi, "001", "01", false},
		{"commune administrator", Actor{Role: Admin, Unit: "00004", Province: "01"}, "00004", "01", false},
		{"registrar", Actor{Role: Registrar}, "00004", "01", false},
		{"leader", Actor{Role: Leader}, "01", "01", false},
		{"desk", Actor{Role: Desk}, "00004", "01", false},
	}
	for _, tt := range tests {
		if got := tt.a.ManagesUnit(tt.unit, tt.province); got != tt.want {
			t.Errorf("%s: ManagesUnit(%q, %q) = %v", tt.name, tt.unit, tt.province, got)
		}
	}
}
