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
