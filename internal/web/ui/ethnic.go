package ui

import "github.com/dancu-project/dancu/internal/registry"

// ethnicity is one of the 54 ethnic groups of Vietnam with its official
// two-digit code: the register's catalogue, which also checks what a form
// sends.
type ethnicity = registry.Ethnicity

// ethnicities are in code order, Kinh first, which is also the order of the
// select on the birth form.
var ethnicities = registry.Ethnicities()
