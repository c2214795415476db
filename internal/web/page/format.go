package page

import (
	"html/template"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
)

// Every page shows dates as Vietnamese readers write them (dd/mm/yyyy),
// times in Vietnam's time, and the names of coded values, never the codes
// the register stores. These are the template functions that do it,
// registered once by Parse into every module's set (a module's own
// function of the same name would replace one, which is why no module
// defines one).

// kitFuncs are the kit's template functions in language l:
//
//	date        a civil date (civildate.Date, or its ISO text) as dd/mm/yyyy
//	            (mm/yyyy, yyyy when partial), "—" when there is none
//	when        an instant as dd/mm/yyyy hh:mm in Vietnam's time, "—" when zero
//	ethnicity   an ethnic group's name from its code
//	religion    a religion's name ("Không"/"None" for none)
//	nationality a nationality's name from its ISO 3166-1 / ICAO code
func kitFuncs(l string) template.FuncMap {
	pick := func(n registry.Name, ok bool, code string) string {
		switch {
		case !ok:
			return code
		case l == EN && n.EN != "":
			return n.EN
		}
		return n.VI
	}
	return template.FuncMap{
		"date": DateText,
		"when": WhenText,
		"ethnicity": func(code string) string {
			if code == "" {
				return "—"
			}
			n, ok := registry.EthnicityName(code)
			return pick(n, ok, code)
		},
		"religion": func(name string) string {
			n, ok := registry.ReligionName(name)
			return pick(n, ok, name)
		},
		"nationality": func(code string) string {
			if code == "" {
				return "—"
			}
			n, ok := registry.NationalityName(code)
			return pick(n, ok, code)
		},
	}
}

// DateText is a civil date as the pages show it: dd/mm/yyyy (mm/yyyy or
// yyyy when partial), "—" when zero. d is a civildate.Date, a pointer to
// one, or its ISO text (as JSON-shaped data carries it); other text is
// shown as it is.
func DateText(d any) string {
	var date civildate.Date
	switch v := d.(type) {
	case civildate.Date:
		date = v
	case *civildate.Date:
		if v != nil {
			date = *v
		}
	case string:
		if v == "" {
			return "—"
		}
		p, err := civildate.Parse(v)
		if err != nil {
			return v
		}
		date = p
	case nil:
	default:
		return "—"
	}
	if date.IsZero() {
		return "—"
	}
	return date.Display()
}

// WhenText is an instant as the pages show it: dd/mm/yyyy hh:mm in
// Vietnam's time, "—" when zero or absent.
func WhenText(at any) string {
	var t time.Time
	switch v := at.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v != nil {
			t = *v
		}
	}
	if t.IsZero() {
		return "—"
	}
	return t.In(civildate.Location()).Format("02/01/2006 15:04")
}
