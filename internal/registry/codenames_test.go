package registry

import (
	"testing"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// TestCatalogueNames: every value of the three catalogues has a name in
// both languages, so that no page falls back to showing a code.
func TestCatalogueNames(t *testing.T) {
	for _, e := range Ethnicities() {
		n, ok := EthnicityName(e.Code)
		if !ok || n.VI != e.Name || n.EN == "" {
			t.Errorf("EthnicityName(%q) = %+v, %v", e.Code, n, ok)
		}
	}
	for _, r := range Religions() {
		n, ok := ReligionName(r)
		if !ok || n.VI != r || n.EN == "" {
			t.Errorf("ReligionName(%q) = %+v, %v", r, n, ok)
		}
	}
	if n, _ := ReligionName(""); n.VI != "Không" || n.EN != "None" {
		t.Errorf("ReligionName(\"\") = %+v, want Không/None", n)
	}
	if _, ok := EthnicityName("55"); ok {
		t.Error("EthnicityName(55) found a name")
	}
	if len(Nationalities()) != len(nationalities) {
		t.Errorf("%d nationality names for %d codes", len(Nationalities()), len(nationalities))
	}
	for c := range nationalities {
		if n, ok := NationalityName(c); !ok || n.VI == "" || n.EN == "" {
			t.Errorf("NationalityName(%q) = %+v, %v", c, n, ok)
		}
	}
	if n, _ := NationalityName("vnm"); n.VI != "Việt Nam" || n.EN != "Vietnam" {
		t.Errorf("NationalityName(vnm) = %+v", n)
	}
}

// TestNationalityNames: the country names are CLDR's, as x/text has them.
func TestNationalityNames(t *testing.T) {
	for _, n := range Nationalities() {
		r, err := language.ParseRegion(n.Code)
		if err != nil || n.Code[:2] == "XX" {
			continue // ICAO's XX codes, named by hand
		}
		if vi, en := display.Vietnamese.Regions().Name(r), display.English.Regions().Name(r); n.VI != vi || n.EN != en {
			t.Errorf("%s = %q/%q, CLDR %q/%q", n.Code, n.VI, n.EN, vi, en)
		}
	}
}
