package partnerapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

// platform is the whole platform with the sample partners, two citizens
// with an e-ID and a few partners made for refusals.
type platform struct {
	t        *testing.T
	env      *apptest.Env
	issuer   string
	tokenURL string
	creds    map[string]exchange.SampleCredential // by partner id
	citizens []app.CitizenCredential
	person   registry.Person   // citizens[0] in the register
	clients  int               // consent clients made so far
	tokens   map[string]string // of the partners addPartner made, by id
}

func start(t *testing.T, d string) *platform {
	t.Helper()
	env := apptest.Start(t, storage.Dialect(d), 300)
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The bank, the health-insurance and social-affairs agencies, and the
	// hospital of the samples.
	if len(creds) != 4 {
		t.Fatalf("%d sample partner systems, want 4", len(creds))
	}
	citizens, err := env.App.BootstrapCitizens(ctx, apptest.Password)
	if err != nil || len(citizens) != 2 {
		t.Fatalf("sample citizens: %v %v", citizens, err)
	}
	person, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), citizens[0].PIN, "test")
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{t: t, env: env, issuer: env.Server.URL + "/oidc", creds: map[string]exchange.SampleCredential{}, citizens: citizens, person: person}
	for _, c := range creds {
		p.creds[c.PartnerID] = c
	}
	op, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	p.tokenURL = op.Endpoint().TokenURL
	return p
}

// token is a client-credentials access token of a partner system.
func (p *platform) token(clientID, secret string) string {
	p.t.Helper()
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: p.tokenURL}
	tok, err := cc.Token(context.Background())
	if err != nil {
		p.t.Fatalf("token for %s: %v", clientID, err)
	}
	return tok.AccessToken
}

func (p *platform) partnerToken(partner string) string {
	if tok, ok := p.tokens[partner]; ok {
		return tok
	}
	c := p.creds[partner]
	return p.token(c.ClientID, c.Secret)
}

type answer struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func (a answer) code() string { s, _ := a.json["code"].(string); return s }

func (p *platform) call(method, path, token string, body any, headers ...string) answer {
	p.t.Helper()
	return p.callAt(http.DefaultClient, p.env.Server.URL, method, path, token, body, headers...)
}

// callAt is call on another server (base URL) with another client.
func (p *platform) callAt(client *http.Client, base, method, path, token string, body any, headers ...string) answer {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	json.Unmarshal(raw, &a.json)
	return a
}

// consentToken signs a citizen in at the provider through a partner's web
// client, consents to scopes and returns the access token the partner's
// app receives: the consent token.
func (p *platform) consentToken(partner, pin string, scopes ...string) string {
	p.t.Helper()
	ctx := context.Background()
	const redirect = "http://127.0.0.1:9/cb"
	p.clients++
	clientID := fmt.Sprintf("%s-web-%s-%d", partner, pin[8:], p.clients)
	_, secret, err := p.env.App.Partners.NewSystem(ctx, p.env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: partner,
		ClientID: clientID, Name: "Ứng dụng", Scopes: scopes, RedirectURIs: []string{redirect}, DevMode: true})
	if err != nil {
		p.t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: oauth2.Endpoint{AuthURL: p.issuer + "/authorize", TokenURL: p.tokenURL},
		RedirectURL: redirect, Scopes: append([]string{"openid"}, scopes...)}
	v := oauth2.GenerateVerifier()
	code := apptest.SignIn(p.t, p.issuer, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), redirect, pin, apptest.Password)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		p.t.Fatal(err)
	}
	return tok.AccessToken
}

// csrfRE finds the CSRF token of a form page.
var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// addPartner registers a partner made for one test, with one system, and
// returns its token.
func (p *platform) addPartner(id string, pol exchange.Policy) string {
	p.t.Helper()
	ctx := context.Background()
	if _, err := p.env.App.Partners.AddPartner(ctx, exchange.Partner{ID: id, Name: "Đối tác " + id, Kind: exchange.KindOther, Policy: pol}); err != nil {
		p.t.Fatal(err)
	}
	sys, secret, err := p.env.App.Partners.NewSystem(ctx, p.env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: id})
	if err != nil {
		p.t.Fatal(err)
	}
	tok := p.token(sys.ClientID, secret)
	if p.tokens == nil {
		p.tokens = map[string]string{}
	}
	p.tokens[id] = tok
	return tok
}

func (p *platform) auditCount(action, actorID string) int {
	var n int
	p.env.App.AuditDB.R.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $2 AND subject = $3`,
		action, actorID, "person:"+p.person.PIN).Scan(&n)
	return n
}

func TestPartnerAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			p := start(t, string(d))
			t.Run("authentication", p.testAuthentication)
			t.Run("verify", p.testVerify)
			t.Run("lookup", p.testLookup)
			t.Run("refusals", p.testRefusals)
			t.Run("limits", p.testLimits)
			t.Run("sector ids", p.testSectorIDs)
			t.Run("access log", p.testAccessLog)
			t.Run("own subscriptions", p.testSubscriptions)
			if logs := p.env.Logs.String(); strings.Contains(logs, p.person.PIN) || strings.Contains(logs, p.person.FullName) {
				t.Fatal("personal data in the logs")
			}
		})
	}
}

func (p *platform) testAuthentication(t *testing.T) {
	body := map[string]any{"pin": p.person.PIN, "full_name": p.person.FullName, "birth_date": p.person.BirthDate.String(), "purpose": "aml-cdd"}
	for _, tc := range []struct {
		name, token, code string
	}{
		{"no token", "", "auth.token_required"},
		{"garbage", "not-a-token", "auth.token_invalid"},
		{"citizen token as system", p.consentToken("nganhang-a", p.citizens[1].PIN, "profile"), "auth.not_a_system_token"},
	} {
		a := p.call("POST", partnerapi.Prefix+"/verify", tc.token, body)
		if a.status != http.StatusUnauthorized || a.code() != tc.code || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s, want 401 %s with WWW-Authenticate", tc.name, a.status, a.body, tc.code)
		}
	}
	// A client of the provider that is no partner's system.
	ctx := context.Background()
	secret := oidcop.NewSecret()
	if err := p.env.App.OIDC.Clients().Add(ctx, oidcop.Client{ID: "stranger", Secret: secret, Name: "Lạ", Purpose: "Thử", GrantTypes: []string{oidcop.GrantClientCredentials}}); err != nil {
		t.Fatal(err)
	}
	if a := p.call("GET", partnerapi.Prefix+"/me", p.token("stranger", secret), nil); a.status != http.StatusUnauthorized || a.code() != "partner.unknown_system" {
		t.Errorf("a client that is no partner system: %d %s", a.status, a.body)
	}
	tok := p.partnerToken("nganhang-a")
	me := p.call("GET", partnerapi.Prefix+"/me", tok, nil)
	if me.status != 200 || me.json["partner"].(map[string]any)["id"] != "nganhang-a" {
		t.Fatalf("me: %d %s", me.status, me.body)
	}
	// A token revoked on this node is refused at once.
	revoke := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest("POST", p.issuer+"/revoke", strings.NewReader(revoke.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := p.creds["nganhang-a"]
	req.SetBasicAuth(c.ClientID, c.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := p.env.App.OIDC.VerifyAccessToken(ctx, tok); err == nil {
		t.Error("a revoked access token verifies")
	}
	if a := p.call("GET", partnerapi.Prefix+"/me", tok, nil); a.status != http.StatusUnauthorized || a.code() != "auth.token_invalid" {
		t.Errorf("the API accepts a token revoked on this node: %d %s", a.status, a.body)
	}
	if _, err := p.env.App.OIDC.VerifyAccessToken(ctx, p.partnerToken("nganhang-a")); err != nil {
		t.Errorf("a fresh token does not verify: %v", err)
	}
}

func (p *platform) testVerify(t *testing.T) {
	tok := p.partnerToken("nganhang-a")
	per := p.person
	bd := per.BirthDate
	swapped := ""
	if bd.Day != bd.Month && bd.Day <= 12 {
		swapped = time.Date(bd.Year, time.Month(bd.Day), bd.Month, 0, 0, 0, 0, time.UTC).Format("02/01/2006")
	}
	notFound := per.PIN[:6] + "999998"
	tests := []struct {
		name        string
		in          map[string]any
		result      string
		differences []string
	}{
		{"exact", map[string]any{"pin": per.PIN, "full_name": per.FullName, "birth_date": bd.String()}, "match", nil},
		{"no diacritics, upper case, card number", map[string]any{"pin": per.PIN, "full_name": strings.ToUpper(per.FullName), "birth_date": bd.String(), "card_number": per.PIN}, "", nil},
		{"other name", map[string]any{"pin": per.PIN, "full_name": "Hoàng Thị Không Khớp", "birth_date": bd.String()}, "no_match", []string{"full_name"}},
		{"other birth year", map[string]any{"pin": per.PIN, "full_name": per.FullName, "birth_date": "01/01/1901"}, "no_match", []string{"birth_date"}},
		{"swapped day and month", map[string]any{"pin": per.PIN, "full_name": per.FullName, "birth_date": swapped}, "no_match", []string{"birth_date"}},
		{"unknown PIN", map[string]any{"pin": notFound, "full_name": per.FullName, "birth_date": bd.String()}, "not_found", nil},
	}
	for _, tc := range tests {
		if tc.in["birth_date"] == "" {
			continue // the person's day and month cannot be swapped
		}
		tc.in["purpose"] = "aml-cdd"
		before := p.auditCount(exchange.ActionVerified, "partner:nganhang-a")
		a := p.call("POST", partnerapi.Prefix+"/verify", tok, tc.in)
		if a.status != 200 {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
			continue
		}
		if tc.result != "" && a.json["result"] != tc.result {
			t.Errorf("%s: result %v, want %s (%s)", tc.name, a.json["result"], tc.result, a.body)
		}
		var fields []string
		for _, d := range a.json["differences"].([]any) {
			fields = append(fields, d.(map[string]any)["field"].(string))
		}
		if strings.Join(fields, ",") != strings.Join(tc.differences, ",") && tc.result != "" {
			t.Errorf("%s: differences %v, want %v", tc.name, fields, tc.differences)
		}
		// Nothing of the register comes back: not the name, not the date.
		if tc.in["full_name"] != per.FullName && strings.Contains(a.body, per.FullName) || tc.in["birth_date"] != bd.String() && strings.Contains(a.body, bd.String()) {
			t.Errorf("%s: the answer discloses register data: %s", tc.name, a.body)
		}
		if tc.result != "not_found" && p.auditCount(exchange.ActionVerified, "partner:nganhang-a") != before+1 {
			t.Errorf("%s: the verification is not in the access log", tc.name)
		}
	}
	// The bank's policy has the status field: it learns about deaths.
	a := p.call("POST", partnerapi.Prefix+"/verify", tok, map[string]any{"pin": per.PIN, "full_name": per.FullName, "birth_date": bd.String(), "purpose": "aml-cdd"})
	if a.json["deceased"] != false {
		t.Errorf("deceased flag missing for a partner allowed the status: %s", a.body)
	}
	h := p.call("POST", partnerapi.Prefix+"/verify", p.partnerToken("bv-bachmai"), map[string]any{"pin": per.PIN, "full_name": per.FullName, "birth_date": bd.String(), "purpose": "insured-treatment"})
	if h.status != 200 || h.json["match"] != true || h.json["deceased"] != nil {
		t.Errorf("hospital verify: %d %s", h.status, h.body)
	}
	for name, in := range map[string]map[string]any{
		"malformed PIN":     {"pin": "12", "full_name": per.FullName, "purpose": "aml-cdd"},
		"nothing to verify": {"pin": per.PIN, "full_name": "", "birth_date": "", "purpose": "aml-cdd"},
	} {
		bad := p.call("POST", partnerapi.Prefix+"/verify", tok, in)
		if bad.status != http.StatusUnprocessableEntity || bad.code() != "validation" || len(bad.json["errors"].([]any)) != 1 {
			t.Errorf("%s: %d %s", name, bad.status, bad.body)
		}
	}
	if a := p.call("POST", partnerapi.Prefix+"/verify", tok, map[string]any{"pin": per.PIN, "unknown": 1}); a.status != 400 {
		t.Errorf("unknown member: %d %s", a.status, a.body)
	}
}

func (p *platform) testLookup(t *testing.T) {
	tok := p.partnerToken("nganhang-a")
	per := p.person
	pin := per.PIN
	consent := p.consentToken("nganhang-a", pin, "profile")
	disclosed := p.auditCount(exchange.ActionDisclosed, "partner:nganhang-a")
	lookup := func(in map[string]any, headers ...string) answer {
		t.Helper()
		return p.call("POST", partnerapi.Prefix+"/lookup", tok, in, headers...)
	}
	// With consent: exactly the fields asked, from the register.
	a := lookup(map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"full_name", "birth_date"}}, partnerapi.ConsentHeader, consent)
	fields, _ := a.json["fields"].(map[string]any)
	if a.status != 200 || fields["full_name"] != per.FullName || fields["birth_date"] != per.BirthDate.String() || len(fields) != 2 || a.json["basis"] != "consent" {
		t.Fatalf("lookup with consent: %d %s", a.status, a.body)
	}
	for _, tc := range []struct {
		name    string
		in      map[string]any
		headers []string
		status  int
		code    string
	}{
		{"consent-based purpose without consent", map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"full_name"}}, nil, 403, "consent.required"},
		{"field beyond the consent's scopes", map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"permanent_address"}}, []string{partnerapi.ConsentHeader, consent}, 403, "consent.required"},
		{"field outside the policy", map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"ethnicity"}}, []string{partnerapi.ConsentHeader, consent}, 403, "policy.field_not_allowed"},
		{"consent of another citizen", map[string]any{"pin": p.citizens[1].PIN, "purpose": "account-opening", "fields": []string{"full_name"}}, []string{partnerapi.ConsentHeader, consent}, 403, "consent.invalid"},
		{"garbage consent", map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"full_name"}}, []string{partnerapi.ConsentHeader, "x.y.z"}, 403, "consent.invalid"},
		{"law-based purpose: its fields only", map[string]any{"pin": pin, "purpose": "aml-cdd", "fields": []string{"permanent_address"}}, nil, 403, "policy.field_not_allowed"},
		{"undeclared purpose", map[string]any{"pin": pin, "purpose": "marketing", "fields": []string{"full_name"}}, nil, 403, "policy.purpose_not_declared"},
	} {
		a := lookup(tc.in, tc.headers...)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
		if strings.Contains(a.body, per.FullName) {
			t.Errorf("%s: a refusal disclosed the name", tc.name)
		}
	}
	// Without consent, a law-based purpose's fields.
	a = lookup(map[string]any{"pin": pin, "purpose": "aml-cdd", "fields": []string{"full_name", "status"}})
	if a.status != 200 || a.json["basis"] != "law" || a.json["fields"].(map[string]any)["status"] != "alive" {
		t.Errorf("law-based lookup: %d %s", a.status, a.body)
	}
	// The bank's consent token at the hospital: another partner's.
	h := p.call("POST", partnerapi.Prefix+"/lookup", p.partnerToken("bv-bachmai"), map[string]any{"pin": pin, "purpose": "patient-registration", "fields": []string{"full_name"}},
		partnerapi.ConsentHeader, consent)
	if h.status != 403 || h.code() != "consent.invalid" {
		t.Errorf("another partner's consent token: %d %s", h.status, h.body)
	}
	if n := p.auditCount(exchange.ActionDisclosed, "partner:nganhang-a") - disclosed; n != 2 {
		t.Errorf("%d disclosures in the access log, want 2", n)
	}
}

func (p *platform) testRefusals(t *testing.T) {
	pin := p.person.PIN
	verify := map[string]any{"pin": pin, "full_name": p.person.FullName, "birth_date": p.person.BirthDate.String(), "purpose": "insured-treatment"}
	hospital := p.partnerToken("bv-bachmai")
	if a := p.call("PUT", partnerapi.Prefix+"/sector-ids/health_insurance_card", hospital, map[string]any{"pin": pin, "value": "DN4010123456789", "purpose": "insured-treatment"}); a.status != 403 || a.code() != "policy.operation_not_allowed" {
		t.Errorf("operation outside the policy: %d %s", a.status, a.body)
	}
	// A partner scoped to Hồ Chí Minh City asks about a person of Hà Nội.
	far := p.addPartner("tinh-79", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Scope: "79",
		Purposes: []exchange.Purpose{{Code: "insured-treatment", Description: "Khám chữa bệnh", Basis: exchange.BasisLaw, Citation: "Luật BHYT, Điều 28"}}})
	a := p.call("POST", partnerapi.Prefix+"/verify", far, verify)
	if a.status != 403 || a.code() != "policy.out_of_scope" || strings.Contains(a.body, p.person.FullName) {
		t.Errorf("out of scope: %d %s", a.status, a.body)
	}
	if p.auditCount(exchange.ActionRefused, "partner:tinh-79") != 1 {
		t.Error("the refused call is not in the person's access log")
	}
	if err := p.env.App.Partners.SetPartnerDisabled(context.Background(), "tinh-79", true); err != nil {
		t.Fatal(err)
	}
	if a := p.call("POST", partnerapi.Prefix+"/verify", far, verify); a.status != 403 || a.code() != "partner.disabled" {
		t.Errorf("disabled partner: %d %s", a.status, a.body)
	}
}

func (p *platform) testLimits(t *testing.T) {
	pu := []exchange.Purpose{{Code: "check", Description: "Kiểm tra", Basis: exchange.BasisLaw, Citation: "Luật X, Điều 1"}}
	verify := map[string]any{"pin": p.person.PIN, "full_name": p.person.FullName, "birth_date": p.person.BirthDate.String(), "purpose": "check"}
	fields := []string{"full_name", "birth_date"}
	rated := p.addPartner("rated", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: fields, Purposes: pu, RatePerSecond: 0.5, Burst: 2})
	for i := 0; i < 2; i++ {
		if a := p.call("POST", partnerapi.Prefix+"/verify", rated, verify); a.status != 200 {
			t.Fatalf("call %d within the burst: %d %s", i, a.status, a.body)
		}
	}
	a := p.call("POST", partnerapi.Prefix+"/verify", rated, verify)
	if a.status != http.StatusTooManyRequests || a.code() != "policy.rate_limited" || a.header.Get("Retry-After") != "2" {
		t.Errorf("beyond the rate: %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	quota := p.addPartner("quota", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: fields, Purposes: pu, DailyQuota: 3})
	for i := 0; i < 3; i++ {
		if a := p.call("POST", partnerapi.Prefix+"/verify", quota, verify); a.status != 200 {
			t.Fatalf("call %d within the quota: %d %s", i, a.status, a.body)
		}
	}
	a = p.call("POST", partnerapi.Prefix+"/verify", quota, verify)
	if a.status != http.StatusTooManyRequests || a.code() != "policy.quota_exhausted" || a.header.Get("Retry-After") == "" {
		t.Errorf("beyond the quota: %d %s", a.status, a.body)
	}
	ctx := context.Background()
	if err := p.env.App.PartnerLimits.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	if n, err := p.env.App.PartnerLimits.Usage(ctx, "quota", day); err != nil || n != 3 {
		t.Errorf("durable usage %d (%v), want 3", n, err)
	}
	// Another node (a fresh limiter on the same database) sees the count.
	other := exchange.NewLimits(p.env.App.DB, time.Now)
	_, partner, err := p.env.App.Partners.System(ctx, "quota-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Admit(ctx, partner); err == nil {
		t.Error("another node admitted a call beyond the daily quota")
	}
	// Both verified the person: they may receive the person's life events.
	p.waitLinked(t, []string{"quota", "rated"}, nil)
}

// waitLinked waits until the partners in want are linked to the person
// (links are written behind the answer) and checks that none of notWant is.
func (p *platform) waitLinked(t *testing.T, want, notWant []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		linked, err := p.env.App.Partners.Linked(context.Background(), p.person.PIN)
		if err != nil {
			t.Fatal(err)
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return slices.Contains(linked, id) })
		for _, id := range notWant {
			if slices.Contains(linked, id) {
				t.Fatalf("partner %s is linked to the person (linked: %v)", id, linked)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partners %v not linked to the person (linked: %v)", missing, linked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *platform) testSectorIDs(t *testing.T) {
	pin := p.person.PIN
	bhxh := p.partnerToken("bhxh")
	const card = "DN4010123456789"
	put := func(tok, scheme string, body map[string]any) answer {
		return p.call("PUT", partnerapi.Prefix+"/sector-ids/"+scheme, tok, body)
	}
	if a := put(bhxh, "health_insurance_card", map[string]any{"pin": pin, "value": card, "purpose": "health-insurance"}); a.status != 200 || a.json["value"] != card {
		t.Fatalf("owner writes: %d %s", a.status, a.body)
	}
	if a := put(bhxh, "health_insurance_card", map[string]any{"pin": pin, "value": "not a card", "purpose": "health-insurance"}); a.status != 422 {
		t.Errorf("malformed value: %d %s", a.status, a.body)
	}
	if a := put(bhxh, "health_insurance_card", map[string]any{"pin": p.citizens[1].PIN, "value": card, "purpose": "health-insurance"}); a.status != 409 {
		t.Errorf("a value linked to someone else: %d %s", a.status, a.body)
	}
	other := p.addPartner("baohiem-khac", exchange.Policy{Operations: []exchange.Operation{exchange.OpSectorWrite},
		Purposes: []exchange.Purpose{{Code: "x-y", Description: "Bảo hiểm", Basis: exchange.BasisLaw, Citation: "Luật KDBH, Điều 1"}}})
	if a := put(other, "health_insurance_card", map[string]any{"pin": pin, "value": "DN4010000000001", "purpose": "x-y"}); a.status != 403 || a.code() != "sector_id.not_owner" {
		t.Errorf("a partner that does not own the scheme writes: %d %s", a.status, a.body)
	}
	hospital := p.partnerToken("bv-bachmai")
	r := p.call("POST", partnerapi.Prefix+"/sector-ids/health_insurance_card/resolve", hospital, map[string]any{"pin": pin, "purpose": "insured-treatment"})
	if r.status != 200 || r.json["value"] != card {
		t.Errorf("hospital resolves the card of a PIN: %d %s", r.status, r.body)
	}
	// The hospital's policy lacks "pin": it cannot turn a card into a PIN.
	r = p.call("POST", partnerapi.Prefix+"/sector-ids/health_insurance_card/resolve", hospital, map[string]any{"value": card, "purpose": "insured-treatment"})
	if r.status != 403 || r.code() != "policy.field_not_allowed" {
		t.Errorf("reverse resolve without the pin field: %d %s", r.status, r.body)
	}
	r = p.call("POST", partnerapi.Prefix+"/sector-ids/health_insurance_card/resolve", bhxh, map[string]any{"value": card, "purpose": "health-insurance"})
	if r.status != 200 || r.json["pin"] != pin {
		t.Errorf("owner resolves a card to its PIN: %d %s", r.status, r.body)
	}
	// Partners that resolved the person's identifier may receive the
	// person's life events; one refused (not the scheme's owner) may not.
	p.waitLinked(t, []string{"bhxh", "bv-bachmai"}, []string{"baohiem-khac"})
}

func (p *platform) testAccessLog(t *testing.T) {
	// The reads the page lists, made here so that the subtest stands
	// alone: a lookup with the citizen's consent, a law-based lookup, a
	// hospital's verification and a sector identifier its owner wrote.
	pin := p.person.PIN
	bank := p.partnerToken("nganhang-a")
	for _, c := range []struct {
		name, method, path, token string
		body                      map[string]any
		headers                   []string
	}{
		{"lookup with consent", "POST", "/lookup", bank, map[string]any{"pin": pin, "purpose": "account-opening", "fields": []string{"full_name", "birth_date"}},
			[]string{partnerapi.ConsentHeader, p.consentToken("nganhang-a", pin, "profile")}},
		{"law-based lookup", "POST", "/lookup", bank, map[string]any{"pin": pin, "purpose": "aml-cdd", "fields": []string{"full_name", "status"}}, nil},
		{"hospital verify", "POST", "/verify", p.partnerToken("bv-bachmai"), map[string]any{"pin": pin, "full_name": p.person.FullName, "birth_date": p.person.BirthDate.String(), "purpose": "insured-treatment"}, nil},
		{"sector id written", "PUT", "/sector-ids/health_insurance_card", p.partnerToken("bhxh"), map[string]any{"pin": pin, "value": "DN4010123456789", "purpose": "health-insurance"}, nil},
	} {
		if a := p.call(c.method, partnerapi.Prefix+c.path, c.token, c.body, c.headers...); a.status != 200 {
			t.Fatalf("%s: %d %s", c.name, a.status, a.body)
		}
	}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := b.Get(p.env.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	form := get("/citizen/login")
	m := csrfRE.FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("no login form: %s", form)
	}
	resp, err := b.PostForm(p.env.Server.URL+"/citizen/login", url.Values{"csrf": {m[1]}, "pin": {p.person.PIN}, "password": {apptest.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(get("/citizen/access"), " "))
	for _, want := range []string{
		"Ngân hàng TMCP Mẫu A",
		"Mở tài khoản thanh toán (định danh khách hàng điện tử - eKYC) — theo sự đồng ý của bạn",
		"Họ, chữ đệm và tên, Ngày, tháng, năm sinh",
		"Luật Phòng, chống rửa tiền số 14/2022/QH15",
		"Chỉ đối chiếu",
		"Bệnh viện Bạch Mai",
		"Bảo hiểm xã hội Việt Nam",
		"Mã định danh ngành",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the access log page lacks %q", want)
		}
	}
}

// testSubscriptions: a partner manages its own life-event subscriptions
// with the same credentials as the exchange API, and sees no one else's.
func (p *platform) testSubscriptions(t *testing.T) {
	if a := p.call("GET", "/api/partner/v1/subscriptions", "", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d %s", a.status, a.body)
	}
	bank, hospital := p.partnerToken("nganhang-a"), p.partnerToken("bv-bachmai")
	a := p.call("POST", "/api/partner/v1/subscriptions", bank, map[string]any{
		"partner_id": "bv-bachmai", "types": []string{"died"}, "mode": "webhook", "url": "https://bank.example/hooks"})
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", a.status, a.body)
	}
	if !strings.Contains(a.body, "nganhang-a") || strings.Contains(a.body, "bv-bachmai") {
		t.Fatalf("a partner subscribes for itself whatever partner_id says: %s", a.body)
	}
	if a := p.call("GET", "/api/partner/v1/subscriptions", bank, nil); !strings.Contains(a.body, "https://bank.example/hooks") {
		t.Fatalf("bank's list: %d %s", a.status, a.body)
	}
	if a := p.call("GET", "/api/partner/v1/subscriptions", hospital, nil); a.status != http.StatusOK || strings.Contains(a.body, "bank.example") {
		t.Fatalf("hospital sees the bank's subscription: %d %s", a.status, a.body)
	}
}
