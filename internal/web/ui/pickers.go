package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The coded fields of the register's forms — commune, ethnicity, religion,
// nationality — are chosen by name from a select, never typed as a code:
// the codes stay the values sent, so the form works without JavaScript
// and the service still checks them against the catalogues.

// pickerView is a select of one form field: its label, hint and errors
// (fieldView) and the options, the form's value selected.
type pickerView struct {
	fieldView
	Options []pickerOption
}

// pickerOption is one choice: the code sent and the name shown.
type pickerOption struct {
	Value, Label string
	Selected     bool
}

// picker builds the select of kind ("commune", "ethnicity", "religion",
// "nationality") for field f in language l; a commune picker takes the
// communes offered (the officer's province). A value the list lacks (a
// code sent by an older form) is kept as an option of its own, so that
// sending the form again does not silently change it.
func picker(l string, kind string, f fieldView, units ...[]adminunit.Unit) pickerView {
	en := l == page.EN
	var opts []pickerOption
	switch kind {
	case "commune":
		opts = append(opts, pickerOption{Value: "", Label: "—"})
		for _, list := range units {
			for _, u := range list {
				opts = append(opts, pickerOption{Value: u.Code, Label: u.Name})
			}
		}
	case "ethnicity":
		for _, e := range registry.Ethnicities() {
			n, _ := registry.EthnicityName(e.Code)
			opts = append(opts, pickerOption{Value: e.Code, Label: pick(en, n)})
		}
	case "religion":
		opts = append(opts, pickerOption{Value: "", Label: pick(en, registry.NoReligion)})
		for _, r := range registry.Religions() {
			n, _ := registry.ReligionName(r)
			opts = append(opts, pickerOption{Value: r, Label: pick(en, n)})
		}
	case "nationality":
		ns := registry.Nationalities()
		sort.SliceStable(ns, func(i, j int) bool {
			if (ns[i].Code == "VNM") != (ns[j].Code == "VNM") {
				return ns[i].Code == "VNM" // Việt Nam first
			}
			return fold.String(pick(en, ns[i].Name)) < fold.String(pick(en, ns[j].Name))
		})
		for _, n := range ns {
			opts = append(opts, pickerOption{Value: n.Code, Label: pick(en, n.Name)})
		}
	default:
		panic(fmt.Sprintf("ui: unknown picker %q", kind))
	}
	v := religionIn(f.Value)
	if kind != "religion" {
		v = f.Value
	}
	found := false
	for i := range opts {
		if opts[i].Value == v && !found {
			opts[i].Selected, found = true, true
		}
	}
	if !found && v != "" {
		opts = append(opts, pickerOption{Value: v, Label: v, Selected: true})
	}
	return pickerView{fieldView: f, Options: opts}
}

func pick(en bool, n registry.Name) string {
	if en && n.EN != "" {
		return n.EN
	}
	return n.VI
}

// checkName is the name of a card verification check (verify.Check.Code)
// from the catalogue by lookup: "dg2.hash" is the data-group hash check
// named with its group; a code without a name shows as itself.
func checkName(lookup func(id string) string, code string) string {
	if n := lookup(code); n != "" {
		return n
	}
	if dg, ok := strings.CutSuffix(code, ".hash"); ok && strings.HasPrefix(dg, "dg") {
		if n := lookup("hash"); n != "" {
			return n + " " + strings.ToUpper(dg)
		}
	}
	return code
}
