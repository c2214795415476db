package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// CredentialType is the typ header of an electronic ID card credential. It
// keeps the credential apart from the provider's ID and access tokens,
// which are signed with the same keys.
const CredentialType = "dancu-ecard+jwt"

// Credential is the content of an electronic ID card (căn cước điện tử): a
// compact JWS (ES256) signed with the OpenID provider's current key, valid
// for a few minutes, checked with nothing but the provider's JWK Set.
type Credential struct {
	Issuer      string `json:"iss"`
	PIN         string `json:"pin"`
	Name        string `json:"name"`
	BirthDate   string `json:"birthdate"`
	Sex         string `json:"sex"` // "M" or "F"
	Nationality string `json:"nationality"`
	IssuedAt    int64  `json:"iat"`
	Expires     int64  `json:"exp"`
	ACR         string `json:"acr"`
}

// Reasons a credential fails verification. Their codes are part of the
// verification API.
var (
	ErrCredentialMalformed = fault.New(fault.Invalid, "ecard.malformed", "Mã căn cước điện tử không đúng định dạng.", "The electronic ID credential is not well formed.")
	ErrCredentialType      = fault.New(fault.Invalid, "ecard.wrong_type", "Đây không phải là căn cước điện tử.", "This is not an electronic ID card credential.")
	ErrCredentialKey       = fault.New(fault.Invalid, "ecard.unknown_key", "Khóa ký không có trong danh sách khóa công bố của hệ thống định danh.", "The signing key is not among the published keys of the identity provider.")
	ErrCredentialSignature = fault.New(fault.Invalid, "ecard.bad_signature", "Chữ ký số không hợp lệ: nội dung đã bị sửa đổi hoặc không do hệ thống định danh cấp.", "The signature is not valid: the content was altered or not issued by the identity provider.")
	ErrCredentialExpired   = fault.New(fault.Invalid, "ecard.expired", "Căn cước điện tử đã hết hiệu lực; đề nghị công dân mở lại để lấy mã mới.", "The electronic ID card has expired; ask the citizen to open it again for a new code.")
	ErrCredentialFuture    = fault.New(fault.Invalid, "ecard.not_yet_valid", "Thời điểm cấp của căn cước điện tử ở tương lai.", "The electronic ID card is issued in the future.")
	ErrCredentialLevel     = fault.New(fault.Invalid, "ecard.level", "Căn cước điện tử phải được cấp cho tài khoản mức 2.", "The electronic ID card must be issued at level 2.")
)

// clockSkew is the tolerance for a verifier's clock running behind the
// issuer's, on the issue time only: expiry is strict.
const clockSkew = 30 * time.Second

// VerifyCredential checks a credential against a JWK Set (as published at
// <issuer>/keys) at time now: ES256 signature by a key of the set, the typ,
// level 2 and the validity period. It needs nothing else, so a verifier can
// work offline with a copy of the JWK Set.
func VerifyCredential(keys jose.JSONWebKeySet, token string, now time.Time) (Credential, error) {
	obj, err := jose.ParseSigned(strings.TrimSpace(token), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 {
		return Credential{}, ErrCredentialMalformed
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != CredentialType {
		return Credential{}, ErrCredentialType
	}
	found := keys.Key(h.KeyID)
	if h.KeyID == "" || len(found) == 0 {
		return Credential{}, ErrCredentialKey
	}
	payload, err := obj.Verify(&found[0])
	if err != nil {
		return Credential{}, ErrCredentialSignature
	}
	var c Credential
	if err := json.Unmarshal(payload, &c); err != nil || c.PIN == "" || c.Expires == 0 {
		return Credential{}, ErrCredentialMalformed
	}
	switch {
	case c.ACR != oidcop.ACRLevel2:
		return c, ErrCredentialLevel
	case !now.Before(time.Unix(c.Expires, 0)):
		return c, ErrCredentialExpired
	case time.Unix(c.IssuedAt, 0).After(now.Add(clockSkew)):
		return c, ErrCredentialFuture
	}
	return c, nil
}

// ecardView is the electronic ID card page.
type ecardView struct {
	Credential
	Token   string
	QR      template.URL // data: URI of the PNG
	Expires time.Time
}

// issue makes the e-ID card of a level-2 session: the register read is the
// citizen's own (audited as "self-service").
func (p *Portal) issue(ctx context.Context, s eid.Session) (ecardView, error) {
	person, err := p.register.Get(ctx, self(s), s.PIN, purposeSelf)
	if err != nil {
		return ecardView{}, err
	}
	now := p.now()
	c := Credential{Issuer: p.provider.Issuer(), PIN: person.PIN, Name: person.FullName, BirthDate: person.BirthDate.String(),
		Sex: person.Sex, Nationality: person.Nationality, IssuedAt: now.Unix(), Expires: now.Add(p.credTTL).Unix(), ACR: oidcop.ACRLevel2}
	token, err := p.provider.SignCredential(ctx, CredentialType, c)
	if err != nil {
		return ecardView{}, err
	}
	png, err := qrcode.Encode(token, qrcode.Medium, 360)
	if err != nil {
		return ecardView{}, fmt.Errorf("e-ID card QR: %w", err)
	}
	return ecardView{Credential: c, Token: token, Expires: time.Unix(c.Expires, 0),
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}, nil
}

// verification is a verification's result, for the page and the API.
type verification struct {
	Valid      bool        `json:"valid"`
	Reason     string      `json:"reason,omitempty"`
	Message    string      `json:"message"`
	MessageEN  string      `json:"message_en"`
	Credential *Credential `json:"credential,omitempty"`
	ExpiresAt  *time.Time  `json:"expires_at,omitempty"`
}

var (
	msgValid   = "Căn cước điện tử hợp lệ, do hệ thống định danh điện tử cấp."
	msgValidEN = "The electronic ID card is valid and was issued by the electronic identification system."
)

// check verifies a credential against the provider's published keys.
func (p *Portal) check(ctx context.Context, token string) (verification, error) {
	keys, err := p.provider.KeySet(ctx)
	if err != nil {
		return verification{}, err
	}
	c, err := VerifyCredential(keys, token, p.now())
	if err != nil {
		f := fault.As(err)
		if f.Kind == fault.Internal {
			return verification{}, err
		}
		p.log.Info("e-ID card verification failed", "code", f.Code)
		return verification{Reason: f.Code, Message: f.Message, MessageEN: f.English}, nil
	}
	exp := time.Unix(c.Expires, 0).UTC()
	return verification{Valid: true, Message: msgValid, MessageEN: msgValidEN, Credential: &c, ExpiresAt: &exp}, nil
}

type verifyView struct {
	Token  string
	Result *verification
}

func (p *Portal) verifyPage(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "verify.title", "")
	v.Page = verifyView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure)}
	p.render(w, r, http.StatusOK, "verify.html", v)
}

func (p *Portal) verifySubmit(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "verify.title", "")
	vv := verifyView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure)}
	v.Page = vv
	if !page.FormTokenOK(r, csrfCookie) {
		p.kit.Refused(r, http.StatusForbidden, "csrf")
		v.Error = p.tr(r, "err.csrf.text")
		p.render(w, r, http.StatusForbidden, "verify.html", v)
		return
	}
	res, err := p.check(r.Context(), r.PostFormValue("credential"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	vv.Result = &res
	v.Page = vv
	p.render(w, r, http.StatusOK, "verify.html", v)
}

var errBadJSON = jsonbody.ErrMalformed

// verifyAPI is POST /api/v1/eid/credentials/verify with {"credential": "<JWS>"}.
// It answers 200 with valid true or false and the reason; a body that is
// not the expected JSON is a 400 problem. It needs no sign-in: checking a
// card shown at a counter is public, like the published keys.
func (p *Portal) verifyAPI(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	var in struct {
		Credential string `json:"credential"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Credential == "" {
		problem.Write(w, r, p.log, errBadJSON)
		return
	}
	res, err := p.check(r.Context(), in.Credential)
	if err != nil {
		problem.Write(w, r, p.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(res); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		p.log.Warn("e-ID card verification answer", "code", "portal.write")
	}
}
