package api

import (
	"context"
	"net/http"

	"github.com/dancu-project/dancu/internal/actor"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// maxChipBody bounds a verification request: a chip dump with a portrait in
// DG2 is tens of kilobytes, far above the register forms' limit.
const maxChipBody = 1 << 20

func (a *API) applyCard(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Cards.Apply(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cards/"+c.Serial)
	return jsonbody.Write(w, http.StatusCreated, c)
}

func (a *API) personCards(w http.ResponseWriter, r *http.Request) error {
	cards, hist, err := a.Cards.Cards(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": cards, "history": hist})
}

func (a *API) getCard(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Cards.Get(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"), purpose(r))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, c)
}

// cardStep runs a lifecycle step that takes no body and answers the card.
func (a *API) cardStep(w http.ResponseWriter, r *http.Request, step func(context.Context, actor.Actor, string) (cardservice.Card, error)) error {
	c, err := step(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, c)
}

func (a *API) approveCard(w http.ResponseWriter, r *http.Request) error {
	return a.cardStep(w, r, a.Cards.Approve)
}

func (a *API) produceCard(w http.ResponseWriter, r *http.Request) error {
	return a.cardStep(w, r, a.Cards.Produce)
}

func (a *API) handOverCard(w http.ResponseWriter, r *http.Request) error {
	return a.cardStep(w, r, a.Cards.HandOver)
}

func (a *API) reportLostCard(w http.ResponseWriter, r *http.Request) error {
	return a.cardStep(w, r, a.Cards.ReportLost)
}

func (a *API) reissueCard(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Cards.Reissue(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cards/"+c.Serial)
	return jsonbody.Write(w, http.StatusCreated, c)
}

type revokeRequest struct {
	Reason string `json:"reason"`
}

func (a *API) revokeCard(w http.ResponseWriter, r *http.Request) error {
	var in revokeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.Cards.Revoke(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"), in.Reason)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, c)
}

// cancelCard closes an application that is not produced yet, so a person
// whose data cannot become a card is not held by an open application.
func (a *API) cancelCard(w http.ResponseWriter, r *http.Request) error {
	var in revokeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.Cards.Cancel(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"), in.Reason)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, c)
}

func (a *API) cardChip(w http.ResponseWriter, r *http.Request) error {
	chip, err := a.Cards.Chip(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="chip-`+chip.Serial+`.json"`)
	return jsonbody.Write(w, http.StatusOK, chip)
}

func (a *API) cardQR(w http.ResponseWriter, r *http.Request) error {
	png, err := a.Cards.QRImage(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("serial"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(png)
	return err
}

// cardFront, cardBack and cardPreview serve the rendered card. The images
// are personal data: the service audits each one as a read of the holder's
// record, and no cache may keep them.
func (a *API) cardFront(w http.ResponseWriter, r *http.Request) error {
	return a.cardImage(w, r, cardservice.RenderFront, "image/png", "")
}

func (a *API) cardBack(w http.ResponseWriter, r *http.Request) error {
	return a.cardImage(w, r, cardservice.RenderBack, "image/png", "")
}

func (a *API) cardPreview(w http.ResponseWriter, r *http.Request) error {
	return a.cardImage(w, r, cardservice.RenderPreview, "application/pdf", ".pdf")
}

func (a *API) cardImage(w http.ResponseWriter, r *http.Request, kind, contentType, ext string) error {
	serial := r.PathValue("serial")
	b, err := a.Cards.Render(r.Context(), actorOf(r.Context()).Actor(), serial, kind)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	if ext != "" {
		// The serial matched a stored card, so it is the card's hex serial
		// and safe in a header.
		w.Header().Set("Content-Disposition", `inline; filename="card-`+serial+ext+`"`)
	}
	_, err = w.Write(b)
	return err
}

// verifyCard is public: anyone may check a card's signatures. When a staff
// member is signed in (a bearer token, or a cookie with its CSRF token), the
// card is also compared with the register, as that staff member.
func (a *API) verifyCard(w http.ResponseWriter, r *http.Request) error {
	var in cardservice.VerifyInput
	if err := decodeLimit(w, r, &in, maxChipBody); err != nil {
		return err
	}
	var who *actor.Actor
	if r2, sess, err := auth.Load(r, a.Staff); err == nil && auth.CSRFOK(r2) {
		ac := sess.Account.Actor()
		who = &ac
	}
	rep, err := a.Cards.Verify(r.Context(), who, in)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, rep)
}

func (a *API) masterList(w http.ResponseWriter, r *http.Request) error {
	b, err := a.Cards.MasterList()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pkcs7-mime")
	w.Header().Set("Content-Disposition", `attachment; filename="masterlist.ml"`)
	_, err = w.Write(b)
	return err
}

func (a *API) crl(w http.ResponseWriter, r *http.Request) error {
	b, err := a.Cards.CRL()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Content-Disposition", `attachment; filename="csca.crl"`)
	_, err = w.Write(b)
	return err
}

// decodeLimit is decode with a larger body limit.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" && !hasPrefix(ct, "application/json;") {
		return jsonbody.ErrContentType
	}
	return jsonbody.Decode(w, r, v, limit)
}
