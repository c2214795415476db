package ui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-project/dancu/internal/card/lds"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// mountCards registers the card desk pages: lifecycle buttons posted from the
// person page, the card page (chip dump, QR, MRZ) and the verification desk.
func (u *UI) mountCards(s func(string, handler)) {
	s("POST /persons/{pin}/cards", u.registrar(u.cardApply))
	s("POST /cards/{serial}/{step}", u.registrar(u.cardStep))
	s("GET /cards/{serial}", u.cardPage)
	s("GET /desk/verify", u.verifyPage)
	s("POST /desk/verify", u.verifySubmit)
}

// cardSection is the "Thẻ căn cước" part of the person page.
type cardSection struct {
	Cards   []cardRow
	History []cardservice.HistoryEntry
	// CanApply offers a new application: none in progress, no valid card,
	// the person alive and the officer a registrar.
	CanApply bool
}

// cardRow is a card with the lifecycle steps offered for it.
type cardRow struct {
	cardservice.Card
	Steps     []string // approve, produce, hand-over, report-lost, reissue
	CanRevoke bool
	// CanCancel offers to close an application not yet produced, so that
	// one whose data cannot become a card does not hold the person.
	CanCancel bool
}

var nextSteps = map[string][]string{
	cardservice.Applied:    {"approve"},
	cardservice.Approved:   {"produce"},
	cardservice.Produced:   {"hand-over"},
	cardservice.HandedOver: {"report-lost", "reissue"},
	cardservice.Lost:       {"reissue"},
}

// cardSectionFor loads the person's cards; nil when the card service is not
// wired.
func (u *UI) cardSectionFor(r *http.Request, s staff.Session, p registry.Person) (*cardSection, error) {
	if u.cards == nil {
		return nil, nil
	}
	a := actorOf(s)
	cards, hist, err := u.cards.Cards(r.Context(), a, p.PIN)
	if err != nil {
		return nil, err
	}
	sec := &cardSection{History: hist, CanApply: a.CanRegister() && p.Status != registry.Dead}
	for _, c := range cards {
		row := cardRow{Card: c}
		switch c.Status {
		case cardservice.Applied, cardservice.Approved, cardservice.Produced, cardservice.HandedOver:
			sec.CanApply = false
		}
		if a.CanRegister() {
			row.Steps = nextSteps[c.Status]
			row.CanRevoke = c.Status != cardservice.Revoked && c.Status != cardservice.Replaced && c.Status != cardservice.Cancelled
			row.CanCancel = c.Status == cardservice.Applied || c.Status == cardservice.Approved
		}
		sec.Cards = append(sec.Cards, row)
	}
	return sec, nil
}

func (u *UI) cardApply(w http.ResponseWriter, r *http.Request, s staff.Session) {
	c, err := u.cards.Apply(r.Context(), actorOf(s), r.PathValue("pin"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/persons/"+url.PathEscape(c.PIN)+"?done=card_apply#cards", http.StatusSeeOther)
}

func (u *UI) cardStep(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx, a, serial := r.Context(), actorOf(s), r.PathValue("serial")
	var c cardservice.Card
	var err error
	step := r.PathValue("step")
	switch step {
	case "approve":
		c, err = u.cards.Approve(ctx, a, serial)
	case "produce":
		c, err = u.cards.Produce(ctx, a, serial)
	case "hand-over":
		c, err = u.cards.HandOver(ctx, a, serial)
	case "report-lost":
		c, err = u.cards.ReportLost(ctx, a, serial)
	case "reissue":
		c, err = u.cards.Reissue(ctx, a, serial)
	case "revoke":
		c, err = u.cards.Revoke(ctx, a, serial, r.PostFormValue("reason"))
	case "cancel":
		c, err = u.cards.Cancel(ctx, a, serial, r.PostFormValue("reason"))
	default:
		u.NotFound(w, r)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/persons/"+url.PathEscape(c.PIN)+"?done=card_"+strings.ReplaceAll(step, "-", "_")+"#cards", http.StatusSeeOther)
}

// cardView is the card page: its facts, MRZ, QR image and chip download
// (both served by the API, which accepts the session cookie for GETs).
type cardView struct {
	C        cardservice.Card
	MRZLines []string
	// Chip is what the produced card's chip says in DG13; nil before
	// production.
	Chip *lds.DG13Data
}

func (u *UI) cardPage(w http.ResponseWriter, r *http.Request, s staff.Session) {
	c, err := u.cards.Get(r.Context(), actorOf(s), r.PathValue("serial"), "card-desk")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "card.title", "")
	v.Nav = "search"
	cv := cardView{C: c, MRZLines: strings.Split(c.MRZ, "\n")}
	if d, ok, err := c.Printed(); err != nil {
		u.fail(w, r, err)
		return
	} else if ok {
		cv.Chip = &d
	}
	v.Page = cv
	u.render(w, r, http.StatusOK, "card", v)
}

// verifyView is the verification desk: the form, and the report once sent.
type verifyView struct {
	QR     string
	Report *cardservice.Report
}

func (u *UI) verifyPage(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "verify.title", "")
	v.Nav = "verify"
	v.Page = verifyView{}
	u.render(w, r, http.StatusOK, "verify", v)
}

var errNoCardInput = fault.New(fault.Invalid, "card.verify.input", "Dán chuỗi QR hoặc chọn tệp dữ liệu chip.", "Paste a QR string or choose a chip dump file.")
var errChipFile = fault.New(fault.Invalid, "card.chip.file", "Tệp dữ liệu chip không phải JSON hợp lệ (data_groups và sod).", "The chip dump file is not valid JSON (data_groups and sod).")

// verifySubmit verifies a pasted QR string or an uploaded chip dump. The
// officer is signed in, so the card is compared with the register too.
func (u *UI) verifySubmit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "verify.title", "/desk/verify")
	v.Nav = "verify"
	if err := r.ParseMultipartForm(maxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		u.errorPage(w, r, &s, http.StatusBadRequest, "err.invalid.title", u.tr(v.Lang, "err.badform"))
		return
	}
	in := cardservice.VerifyInput{QR: strings.TrimSpace(r.PostFormValue("qr"))}
	view := verifyView{QR: in.QR}
	if f, _, err := r.FormFile("chip"); err == nil {
		defer f.Close()
		dec := json.NewDecoder(io.LimitReader(f, maxForm))
		dec.DisallowUnknownFields()
		var chip cardservice.VerifyInput
		if err := dec.Decode(&chip); err != nil || chip.QR != "" {
			u.verifyProblem(w, r, v, view, errChipFile)
			return
		}
		in.DataGroups, in.SOD = chip.DataGroups, chip.SOD
	}
	if in.QR == "" && len(in.DataGroups) == 0 && len(in.SOD) == 0 {
		u.verifyProblem(w, r, v, view, errNoCardInput)
		return
	}
	a := actorOf(s)
	rep, err := u.cards.Verify(r.Context(), &a, in)
	if err != nil {
		if fault.As(err).Kind == fault.Internal {
			u.fail(w, r, err)
			return
		}
		u.verifyProblem(w, r, v, view, fault.As(err))
		return
	}
	view.Report = rep
	v.Page = view
	u.render(w, r, http.StatusOK, "verify", v)
}

func (u *UI) verifyProblem(w http.ResponseWriter, r *http.Request, v *view, data verifyView, f *fault.Error) {
	u.kit.Refused(r, http.StatusUnprocessableEntity, f.Code)
	v.Summary = []summaryItem{{Message: page.FaultText(v.Lang, f)}}
	v.Page = data
	u.render(w, r, http.StatusUnprocessableEntity, "verify", v)
}
