package actor

import "testing"

func TestCovers(t *testing.T) {
	tests := []struct {
		unit, prov, commune string
		want                bool
	}{
		{"", "01", "00004", true},
		{"01", "01", "00004", true},
		{"01", "79", "26734", false},
		{"00004", "01", "00004", true},
		{"00004", "01", "00008", false},
	}
	for _, tt := range tests {
		a := Actor{Unit: tt.unit}
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
