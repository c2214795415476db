package partnerapi

import (
	"net/http"
	"strings"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// ConsentHeader carries the citizen's consent token on a lookup: an access
// token the e-ID provider issued to one of the partner's clients after the
// citizen signed in and consented (authorization code flow). Its scopes
// bound the fields ("profile": name, birth date, sex; "address": permanent
// residence; "pin"); it must be the same citizen's and be issued to a
// client registered as a system of the calling partner.
const ConsentHeader = "Dancu-Consent-Token"

func (a *API) exchangeRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/me", "", a.me},
		{"POST", Prefix + "/verify", exchange.OpVerify, a.verify},
		{"POST", Prefix + "/lookup", exchange.OpLookup, a.lookup},
		{"PUT", Prefix + "/sector-ids/{scheme}", exchange.OpSectorWrite, a.writeSectorID},
		{"POST", Prefix + "/sector-ids/{scheme}/resolve", exchange.OpSectorResolve, a.resolveSectorID},
	}
}

// me tells a partner system who it is and under which policy, so an
// integrator can check the configuration before the first real call.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	c, _ := CallerFrom(r.Context())
	return jsonbody.Write(w, http.StatusOK, struct {
		Partner exchange.Partner `json:"partner"`
		System  exchange.System  `json:"system"`
	}{c.Partner, c.System})
}

func (a *API) verify(w http.ResponseWriter, r *http.Request) error {
	var in exchange.VerifyInput
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	p, _ := PartnerFrom(r.Context())
	res, err := a.Exchange.Verify(r.Context(), p, in)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, res)
}

func (a *API) lookup(w http.ResponseWriter, r *http.Request) error {
	var in exchange.LookupInput
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	consent, err := a.consent(r)
	if err != nil {
		return err
	}
	in.Consent = consent
	p, _ := PartnerFrom(r.Context())
	res, err := a.Exchange.Lookup(r.Context(), p, in)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, res)
}

func (a *API) writeSectorID(w http.ResponseWriter, r *http.Request) error {
	var in exchange.SectorInput
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	p, _ := PartnerFrom(r.Context())
	id, err := a.Exchange.WriteSectorID(r.Context(), p, r.PathValue("scheme"), in)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, id)
}

func (a *API) resolveSectorID(w http.ResponseWriter, r *http.Request) error {
	var in exchange.ResolveInput
	if err := Decode(w, r, &in, maxBody); err != nil {
		return err
	}
	consent, err := a.consent(r)
	if err != nil {
		return err
	}
	in.Consent = consent
	p, _ := PartnerFrom(r.Context())
	id, err := a.Exchange.ResolveSectorID(r.Context(), p, r.PathValue("scheme"), in)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, id)
}

// consent reads the citizen's consent token a lookup or a sector
// identifier resolution carries (ConsentHeader), nil when there is none;
// the exchange decides whether the purpose needs it and what it covers. A
// token that does not verify is an empty consent, which the exchange
// refuses (consent.invalid) in its turn: after the person's scope, so the
// answer about someone outside it is the same whatever the token.
func (a *API) consent(r *http.Request) (*exchange.Consent, error) {
	raw := strings.TrimSpace(r.Header.Get(ConsentHeader))
	if raw == "" {
		return nil, nil
	}
	t, err := a.Tokens.VerifyAccessToken(r.Context(), raw)
	if err != nil || !t.Citizen() {
		return &exchange.Consent{}, nil
	}
	return &exchange.Consent{ClientID: t.ClientID, PIN: t.PIN, Scopes: t.Scopes}, nil
}
