package api

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// eidRoutes are the e-ID accounts' routes: the citizen's level-1 enrolment
// (public, throttled by eid per PIN and per client address like sign-in)
// and the desk's acts on an account (level 2 in person, the authenticator
// app, lock, unlock, reset, revoke), each scoped by eid through the
// register's one scope rule before anything else and audited.
func (a *API) eidRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/eid/enrolments", true, a.startEnrolment},
		{"POST", "/api/v1/eid/enrolments/{id}/confirm", true, a.confirmEnrolment},
		{"GET", "/api/v1/eid/accounts/{pin}", false, a.deskAccount},
		{"POST", "/api/v1/eid/accounts/{pin}/activate", false, a.activateAccount},
		{"POST", "/api/v1/eid/accounts/{pin}/totp", false, a.enrolTOTP},
		{"POST", "/api/v1/eid/accounts/{pin}/totp/confirm", false, a.confirmTOTP},
		{"POST", "/api/v1/eid/accounts/{pin}/lock", false, a.lockAccount},
		{"POST", "/api/v1/eid/accounts/{pin}/unlock", false, a.unlockAccount},
		{"POST", "/api/v1/eid/accounts/{pin}/reset", false, a.resetAccount},
		{"POST", "/api/v1/eid/accounts/{pin}/revoke", false, a.revokeAccount},
	}
}

var errEIDOff = fault.New(fault.NotFound, "eid.off", "Tài khoản định danh điện tử không có trên hệ thống này.", "Electronic ID accounts are not offered on this system.")

// maxFaceBody bounds an enrolment, whose face image is the bulk of it.
const maxFaceBody = 2 << 20

type enrolmentRequest struct {
	PIN        string `json:"pin"`
	CardNumber string `json:"card_number"`
	IssueDate  string `json:"issue_date"`
	QR         string `json:"qr"`
	Phone      string `json:"phone"`
	Email      string `json:"email"`
	Face       string `json:"face"` // base64 JPEG
}

type enrolmentResponse struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

var errFace = fault.New(fault.Invalid, "eid.face_encoding", "Ảnh khuôn mặt phải được mã hóa base64.", "The face image must be base64.").WithField("face")

func (a *API) startEnrolment(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in enrolmentRequest
	if err := decodeLimit(w, r, &in, maxFaceBody); err != nil {
		return err
	}
	if in.QR == "" && in.IssueDate == "" {
		// The API's one way is the card, as the portal's.
		return eid.ErrCardMismatch.WithField("issue_date")
	}
	face, err := base64.StdEncoding.DecodeString(in.Face)
	if err != nil {
		return errFace
	}
	e, err := a.EID.StartRegistration(r.Context(), eid.RegistrationInput{PIN: in.PIN, CardNumber: in.CardNumber, IssueDate: in.IssueDate,
		QR: in.QR, Phone: in.Phone, Email: in.Email, Face: face, ClientIP: clientIP(r)})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusAccepted, enrolmentResponse{ID: e.ID, Expires: e.Expires})
}

type confirmEnrolmentRequest struct {
	Code     string `json:"code"`
	Password string `json:"password"`
}

// accountJSON is an account as the API shows it: no secrets.
type accountJSON struct {
	PIN         string    `json:"pin"`
	Subject     string    `json:"subject"`
	Level       int       `json:"level"`
	Status      string    `json:"status"`
	CreatedVia  string    `json:"created_via"`
	HasPassword bool      `json:"has_password"`
	HasTOTP     bool      `json:"has_totp"`
	Updated     time.Time `json:"updated"`
}

func toAccountJSON(acct eid.Account) accountJSON {
	return accountJSON{PIN: acct.PIN, Subject: acct.Subject, Level: int(acct.Level), Status: acct.Status, CreatedVia: acct.CreatedVia,
		HasPassword: acct.HasPassword, HasTOTP: acct.HasTOTP, Updated: acct.Updated}
}

func (a *API) confirmEnrolment(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in confirmEnrolmentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acct, err := a.EID.CompleteRegistration(r.Context(), r.PathValue("id"), in.Code, in.Password)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, toAccountJSON(acct))
}

// deskAccountJSON is what the desk sees: the person's name and birth date
// from the register, and the account when there is one.
type deskAccountJSON struct {
	PIN       string       `json:"pin"`
	FullName  string       `json:"full_name"`
	BirthDate string       `json:"birth_date"`
	Alive     bool         `json:"alive"`
	Account   *accountJSON `json:"account,omitempty"`
}

func deskJSON(v eid.DeskView) deskAccountJSON {
	out := deskAccountJSON{PIN: v.Person.PIN, FullName: v.Person.FullName, BirthDate: v.Person.BirthDate.String(), Alive: v.Person.Status != registry.Dead}
	if v.HasAccount {
		acct := toAccountJSON(v.Account)
		out.Account = &acct
	}
	return out
}

func (a *API) deskAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	v, err := a.EID.AtDesk(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, deskJSON(v))
}

type activateRequest struct {
	// InPerson is the officer's confirmation that they checked the
	// citizen in person against the card.
	InPerson bool `json:"in_person"`
}

func (a *API) activateAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in activateRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acct, err := a.EID.ActivateInPerson(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"), in.InPerson)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, toAccountJSON(acct))
}

type totpJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

func (a *API) enrolTOTP(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	en, err := a.EID.EnrolTOTPAtDesk(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, totpJSON{Secret: en.Secret, URI: en.URI})
}

type codeRequest struct {
	Code string `json:"code"`
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in codeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.EID.ConfirmTOTPAtDesk(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"), in.Code); err != nil {
		return err
	}
	return a.answerAccount(w, r)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (a *API) lockAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in reasonRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.EID.Lock(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"), in.Reason); err != nil {
		return err
	}
	return a.answerAccount(w, r)
}

func (a *API) unlockAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	if err := a.EID.Unlock(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin")); err != nil {
		return err
	}
	return a.answerAccount(w, r)
}

func (a *API) resetAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	if err := a.EID.Reset(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin")); err != nil {
		return err
	}
	return a.answerAccount(w, r)
}

func (a *API) revokeAccount(w http.ResponseWriter, r *http.Request) error {
	if a.EID == nil {
		return errEIDOff
	}
	var in reasonRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.EID.Revoke(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"), in.Reason); err != nil {
		return err
	}
	return a.answerAccount(w, r)
}

// answerAccount answers an act with the account as it now is (the act was
// scoped, so reading the account back needs no further read of the
// register).
func (a *API) answerAccount(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.EID.Account(r.Context(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, toAccountJSON(acct))
}
