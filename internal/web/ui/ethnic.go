package ui

import "github.com/dancu-project/dancu/internal/registry"

// ethnicity is one of the 54 ethnic groups of Vietnam with its official
// two-digit code: the register's catalogue, which also checks what a form
// sends.
type ethnicity = registry.Ethnicity

// ethnicities are in code order, Kinh first, which is also the order of the
// select on the birth form.
var ethnicities = registry.Ethnicities()

// ethnicName is the name of an ethnic group code, or the code itself when
// it is not one of the 54.
func ethnicName(code string) string {
	for _, e := range ethnicities {
		if e.Code == code {
			return e.Name
		}
	}
	if code == "" {
		return "—"
	}
	return code
}
