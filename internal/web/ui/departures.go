package ui

import (
	"net/http"

	"github.com/dancu-project/dancu/internal/staff"
)

// departures lists the moves out of the staff member's unit. After a move
// the person is the unit of arrival's to read; this page is what the unit
// left keeps: who left, when and where to (each listing audited).
func (u *UI) departures(w http.ResponseWriter, r *http.Request, s staff.Session) {
	deps, err := u.reg.Departures(r.Context(), actorOf(s), 100)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "departures.title", "")
	v.Nav = "departures"
	v.Page = deps
	u.render(w, r, http.StatusOK, "departures", v)
}
