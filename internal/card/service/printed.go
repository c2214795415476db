package service

import (
	"fmt"

	"github.com/dancu-project/dancu/internal/card/lds"
)

// Printed is what the card's chip carries in DG13 (the Vietnamese data
// group: ethnicity and religion by name, place of birth registration,
// parents' names…), decoded from the stored chip of a card already read
// (and its read audited) with Get; false when the card has no chip yet.
// The desk's card page shows it, so the officer sees what the card says,
// not what the register says now.
func (c Card) Printed() (lds.DG13Data, bool, error) {
	if len(c.chip) == 0 {
		return lds.DG13Data{}, false, nil
	}
	ch, err := c.chipDump()
	if err != nil {
		return lds.DG13Data{}, false, err
	}
	d, err := lds.ParseDG13(ch.DataGroups[13])
	if err != nil {
		return lds.DG13Data{}, false, fmt.Errorf("card %s: DG13: %w", c.Serial, err)
	}
	return d, true, nil
}
