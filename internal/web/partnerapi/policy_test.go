package partnerapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

// card is the health insurance card number bhxh links to the person.
const card = "DN4010123456789"

var lawCheck = exchange.Purpose{Code: "check", Description: "Kiểm tra", Basis: exchange.BasisLaw, Citation: "Luật X, Điều 1"}

// TestPartnerPolicyHolds: the partner's policy holds on every operation
// (fields, dates, probing, scope before anything else, consent), links
// and counts are durable when the answer leaves, nothing is disclosed when
// the audit log cannot be written, and certificate- and DPoP-bound
// credentials are refused without their proof.
func TestPartnerPolicyHolds(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			p := start(t, string(d))
			if a := p.call("PUT", partnerapi.Prefix+"/sector-ids/health_insurance_card", p.partnerToken("bhxh"),
				map[string]any{"pin": p.person.PIN, "value": card, "purpose": "health-insurance"}); a.status != 200 {
				t.Fatalf("bhxh links the card: %d %s", a.status, a.body)
			}
			t.Run("verify fields", p.testVerifyFields)
			t.Run("verify dates", p.testVerifyDates)
			t.Run("verify probing", p.testVerifyProbing)
			t.Run("durable links and counts", p.testDurable)
			t.Run("scope first", p.testScopeFirst)
			t.Run("resolve consent", p.testResolveConsent)
			t.Run("audit down", p.testAuditDown)
			t.Run("mTLS", p.testMTLS)
			t.Run("DPoP", p.testDPoP)
			if logs := p.env.Logs.String(); strings.Contains(logs, p.person.PIN) || strings.Contains(logs, p.person.FullName) {
				t.Fatal("personal data in the logs")
			}
		})
	}
}

func (p *platform) verify(tok string, in map[string]any) answer {
	p.t.Helper()
	if _, ok := in["pin"]; !ok {
		in["pin"] = p.person.PIN
	}
	if _, ok := in["purpose"]; !ok {
		in["purpose"] = "check"
	}
	return p.call("POST", partnerapi.Prefix+"/verify", tok, in)
}

func (p *platform) testVerifyFields(t *testing.T) {
	per := p.person
	nameOnly := p.addPartner("chi-ten", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name"},
		Purposes: []exchange.Purpose{lawCheck, {Code: "narrow", Description: "Hẹp", Basis: exchange.BasisLaw, Citation: "Luật Y, Điều 2", Fields: []string{"full_name"}}}})
	if a := p.verify(nameOnly, map[string]any{"full_name": per.FullName}); a.status != 200 || a.json["result"] != "match" || a.json["deceased"] != nil {
		t.Fatalf("an allowed field: %d %s", a.status, a.body)
	}
	wide := p.addPartner("ten-ngay", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "birth_date"},
		Purposes: []exchange.Purpose{{Code: "narrow", Description: "Hẹp", Basis: exchange.BasisLaw, Citation: "Luật Y, Điều 2", Fields: []string{"full_name"}}}})
	for _, tc := range []struct {
		name, tok string
		in        map[string]any
		field     string
	}{
		{"birth date outside the policy", nameOnly, map[string]any{"full_name": per.FullName, "birth_date": per.BirthDate.String()}, "birth_date"},
		{"address outside the policy", nameOnly, map[string]any{"full_name": per.FullName, "address": "Hà Nội"}, "permanent_address"},
		{"birth date alone outside the policy", nameOnly, map[string]any{"birth_date": "01/01/1990"}, "birth_date"},
		{"birth date outside the purpose's fields", wide, map[string]any{"full_name": per.FullName, "birth_date": per.BirthDate.String(), "purpose": "narrow"}, "birth_date"},
	} {
		a := p.verify(tc.tok, tc.in)
		if a.status != http.StatusForbidden || a.code() != "policy.field_not_allowed" || !strings.Contains(a.json["detail"].(string), tc.field) {
			t.Errorf("%s: %d %s, want 403 policy.field_not_allowed naming %s", tc.name, a.status, a.body, tc.field)
		}
		if strings.Contains(a.body, "match") {
			t.Errorf("%s: a refusal tells the result: %s", tc.name, a.body)
		}
	}
}

func (p *platform) testVerifyDates(t *testing.T) {
	per := p.person
	pol := exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "birth_date"}, Purposes: []exchange.Purpose{lawCheck}}
	full := p.addPartner("ngay-du", pol)
	for _, bad := range []string{"garbage", "31/02/2000", "29/02/2001", "2000-13-45", "00/00/1990", "32/01/1990"} {
		a := p.verify(full, map[string]any{"full_name": per.FullName, "birth_date": bad})
		errs, _ := a.json["errors"].([]any)
		if a.status != http.StatusUnprocessableEntity || len(errs) != 1 || errs[0].(map[string]any)["field"] != "birth_date" ||
			errs[0].(map[string]any)["code"] != "exchange.birth_date_invalid" {
			t.Errorf("birth date %q: %d %s, want 422 on birth_date", bad, a.status, a.body)
		}
	}
	// Day and month written the other way round is a date, reported as a swap.
	if bd := per.BirthDate; bd.Day > 12 {
		swapped := time.Date(bd.Year, time.Month(bd.Month), bd.Day, 0, 0, 0, 0, time.UTC).Format("01/02/2006")
		if a := p.verify(full, map[string]any{"full_name": per.FullName, "birth_date": swapped}); a.status != 200 || a.json["result"] != "no_match" {
			t.Errorf("swapped day and month: %d %s", a.status, a.body)
		}
	}
	year := per.BirthDate.Year
	for _, partial := range []string{strconv.Itoa(year), "03/" + strconv.Itoa(year)} {
		if a := p.verify(full, map[string]any{"full_name": per.FullName, "birth_date": partial}); a.status != http.StatusForbidden || a.code() != "policy.partial_date_not_allowed" {
			t.Errorf("partial date %q without the policy's leave: %d %s", partial, a.status, a.body)
		}
	}
	pol.PartialDates = true
	partial := p.addPartner("ngay-thieu", pol)
	if a := p.verify(partial, map[string]any{"full_name": per.FullName, "birth_date": strconv.Itoa(year)}); a.status != 200 || a.json["result"] != "match" {
		t.Errorf("the year where partial dates are allowed: %d %s", a.status, a.body)
	}
	if a := p.verify(partial, map[string]any{"full_name": per.FullName, "birth_date": strconv.Itoa(year - 7)}); a.status != 200 || a.json["result"] != "no_match" {
		t.Errorf("another year where partial dates are allowed: %d %s", a.status, a.body)
	}
}

// testVerifyProbing replays the attack of issue 13: a partner that holds a
// person's name tries one birth date after another. The default policy
// stops it after DefaultVerifyValuesPerPerson different dates, every call
// after is 429 and audited, and the bound is in the database: another
// node (or this one restarted) refuses too.
func (p *platform) testVerifyProbing(t *testing.T) {
	per := p.person
	tok := p.addPartner("do-tim", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "birth_date"}, Purposes: []exchange.Purpose{lawCheck}})
	born := time.Date(per.BirthDate.Year, time.Month(per.BirthDate.Month), per.BirthDate.Day, 0, 0, 0, 0, time.UTC)
	var tries []string
	for i := 32; i >= 1; i-- {
		tries = append(tries, born.AddDate(0, 0, -i).Format("02/01/2006"))
	}
	tries = append(tries, born.Format("02/01/2006")) // the 33rd call would have found it
	before := p.auditCount(exchange.ActionRefused, "partner:do-tim")
	answered, refused := 0, 0
	for i, d := range tries {
		a := p.verify(tok, map[string]any{"full_name": per.FullName, "birth_date": d})
		switch {
		case a.status == 200 && i < exchange.DefaultVerifyValuesPerPerson:
			answered++
			if a.json["result"] != "no_match" {
				t.Errorf("try %d: %s", i, a.body)
			}
		case a.status == http.StatusTooManyRequests && a.code() == "policy.verify_values_exhausted" && a.header.Get("Retry-After") != "":
			refused++
		default:
			t.Fatalf("try %d (%s): %d %s", i, d, a.status, a.body)
		}
	}
	if answered != exchange.DefaultVerifyValuesPerPerson || refused != len(tries)-answered {
		t.Errorf("%d answered, %d refused", answered, refused)
	}
	if n := p.auditCount(exchange.ActionRefused, "partner:do-tim") - before; n != refused {
		t.Errorf("%d refusals in the person's access log, want %d", n, refused)
	}
	// The same values again cost nothing.
	if a := p.verify(tok, map[string]any{"full_name": per.FullName, "birth_date": tries[0]}); a.status != 200 {
		t.Errorf("values tried before: %d %s", a.status, a.body)
	}
	// Another node, or this one after a restart, has the count.
	other := exchange.NewProbes(p.env.App.DB, time.Now)
	if err := other.Admit(context.Background(), "do-tim", per.PIN, "another-digest", exchange.DefaultVerifyValuesPerPerson); err == nil {
		t.Error("a fresh limiter on the same database admitted a new value beyond the limit")
	}
	// The policy sets its own bound.
	two := p.addPartner("hai-lan", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name"}, Purposes: []exchange.Purpose{lawCheck},
		VerifyValuesPerPerson: 2})
	for i, name := range []string{"A", "B", "C"} {
		a := p.verify(two, map[string]any{"full_name": "Nguyễn Văn " + name})
		if want := map[bool]int{true: 200, false: 429}[i < 2]; a.status != want {
			t.Errorf("policy bound 2, value %d: %d %s", i+1, a.status, a.body)
		}
	}
}

// testDurable: the link a matching verify makes and the quota count of
// every call are committed before the answer leaves (read back at once,
// with no flush and no wait), so a kill -9 right after an answer loses
// neither; a verify that does not match makes no link.
func (p *platform) testDurable(t *testing.T) {
	per := p.person
	tok := p.addPartner("ben-vung", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "birth_date"},
		Purposes: []exchange.Purpose{lawCheck}, DailyQuota: 100})
	ctx := context.Background()
	db := p.env.App.DB
	links := func() int {
		var n int
		if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM exchange_links WHERE pin = $1 AND partner_id = 'ben-vung'`, per.PIN).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	calls := func() int64 {
		var n int64
		day := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		err := db.R.QueryRowContext(ctx, `SELECT calls FROM exchange_usage WHERE partner_id = 'ben-vung' AND day = $1`, day).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		return n
	}
	if a := p.verify(tok, map[string]any{"full_name": "Hoàng Thị Không Khớp", "birth_date": per.BirthDate.String()}); a.status != 200 || a.json["result"] != "no_match" {
		t.Fatalf("wrong name: %d %s", a.status, a.body)
	}
	if n := links(); n != 0 {
		t.Error("a verify that did not match linked the partner to the person")
	}
	if n := calls(); n != 1 {
		t.Errorf("%d calls in the table right after the answer, want 1", n)
	}
	if a := p.verify(tok, map[string]any{"full_name": per.FullName, "birth_date": per.BirthDate.String()}); a.status != 200 || a.json["result"] != "match" {
		t.Fatalf("right values: %d %s", a.status, a.body)
	}
	if n := links(); n != 1 {
		t.Error("the link of a matching verify is not in the database when the answer leaves")
	}
	if n := calls(); n != 2 {
		t.Errorf("%d calls in the table right after the answer, want 2", n)
	}
}

// testScopeFirst: a partner whose policy covers one province asks about a
// person of another, in every operation, with requests that are also
// wrong in other ways. Every answer is the same out_of_scope refusal, so
// nothing is learnt about the person, and every refusal is in the person's
// access log.
func (p *platform) testScopeFirst(t *testing.T) {
	ctx := context.Background()
	per := p.person
	scope := "79"
	if per.Permanent.ProvinceCode == scope {
		scope = "01"
	}
	tok := p.addPartner("pham-vi", exchange.Policy{
		Operations: []exchange.Operation{exchange.OpVerify, exchange.OpLookup, exchange.OpSectorWrite, exchange.OpSectorResolve},
		Fields:     []string{"pin", "full_name", "birth_date", "sector_id.health_insurance_card", "sector_id.pham_vi_no"},
		Purposes:   []exchange.Purpose{lawCheck, {Code: "dong-y", Description: "Theo đồng ý", Basis: exchange.BasisConsent}},
		Scope:      scope})
	if err := p.env.App.Partners.AddScheme(ctx, exchange.Scheme{Code: "pham_vi_no", Name: "Mã của đối tác", OwnerID: "pham-vi", Pattern: `[0-9]{6}`}); err != nil {
		t.Fatal(err)
	}
	pin := per.PIN
	const sv = partnerapi.Prefix + "/sector-ids/"
	type req struct {
		name, path string
		body       map[string]any
		headers    []string
	}
	ops := []struct {
		op       string
		method   string
		requests []req
	}{
		{"verify", "POST", []req{
			{"valid", "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "purpose": "check"}, nil},
			{"not a date", "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "birth_date": "31/02/2000", "purpose": "check"}, nil},
			{"undeclared purpose", "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "purpose": "marketing"}, nil},
			{"field outside the policy", "/verify", map[string]any{"pin": pin, "address": "Hà Nội", "purpose": "check"}, nil},
			{"nothing to compare", "/verify", map[string]any{"pin": pin, "purpose": "check"}, nil},
			{"partial date", "/verify", map[string]any{"pin": pin, "birth_date": "1990", "purpose": "check"}, nil},
			{"a PIN of no one", "/verify", map[string]any{"pin": pin[:6] + "999998", "full_name": per.FullName, "purpose": "check"}, nil},
		}},
		{"lookup", "POST", []req{
			{"valid", "/lookup", map[string]any{"pin": pin, "fields": []string{"full_name"}, "purpose": "check"}, nil},
			{"field outside the policy", "/lookup", map[string]any{"pin": pin, "fields": []string{"ethnicity"}, "purpose": "check"}, nil},
			{"no fields", "/lookup", map[string]any{"pin": pin, "fields": []string{}, "purpose": "check"}, nil},
			{"undeclared purpose", "/lookup", map[string]any{"pin": pin, "fields": []string{"full_name"}, "purpose": "marketing"}, nil},
			{"consent purpose without consent", "/lookup", map[string]any{"pin": pin, "fields": []string{"full_name"}, "purpose": "dong-y"}, nil},
			{"garbage consent", "/lookup", map[string]any{"pin": pin, "fields": []string{"full_name"}, "purpose": "dong-y"}, []string{partnerapi.ConsentHeader, "x.y.z"}},
		}},
		{"sector id write", "PUT", []req{
			{"valid", sv + "pham_vi_no", map[string]any{"pin": pin, "value": "123456", "purpose": "check"}, nil},
			{"malformed value", sv + "pham_vi_no", map[string]any{"pin": pin, "value": "x", "purpose": "check"}, nil},
			{"undeclared purpose", sv + "pham_vi_no", map[string]any{"pin": pin, "value": "123456", "purpose": "marketing"}, nil},
			{"scheme of another partner", sv + "health_insurance_card", map[string]any{"pin": pin, "value": card, "purpose": "check"}, nil},
			{"unknown scheme", sv + "no_such_scheme", map[string]any{"pin": pin, "value": "1", "purpose": "check"}, nil},
		}},
		{"resolve by PIN", "POST", []req{
			{"valid", sv + "health_insurance_card/resolve", map[string]any{"pin": pin, "purpose": "check"}, nil},
			{"undeclared purpose", sv + "health_insurance_card/resolve", map[string]any{"pin": pin, "purpose": "marketing"}, nil},
			{"unknown scheme", sv + "no_such_scheme/resolve", map[string]any{"pin": pin, "purpose": "check"}, nil},
			{"PIN and value", sv + "health_insurance_card/resolve", map[string]any{"pin": pin, "value": card, "purpose": "check"}, nil},
			{"consent purpose without consent", sv + "health_insurance_card/resolve", map[string]any{"pin": pin, "purpose": "dong-y"}, nil},
		}},
		{"resolve by value", "POST", []req{
			{"valid", sv + "health_insurance_card/resolve", map[string]any{"value": card, "purpose": "check"}, nil},
			{"consent purpose without consent", sv + "health_insurance_card/resolve", map[string]any{"value": card, "purpose": "dong-y"}, nil},
			{"garbage consent", sv + "health_insurance_card/resolve", map[string]any{"value": card, "purpose": "dong-y"}, []string{partnerapi.ConsentHeader, "x.y.z"}},
		}},
	}
	before := p.auditCount(exchange.ActionRefused, "partner:pham-vi")
	n := 0
	for _, op := range ops {
		var first answer
		for i, rq := range op.requests {
			path := rq.path
			if !strings.HasPrefix(path, partnerapi.Prefix) {
				path = partnerapi.Prefix + path
			}
			a := p.call(op.method, path, tok, rq.body, rq.headers...)
			if rq.body["pin"] == nil || rq.body["pin"] == pin {
				n++ // a refusal in the person's log
			}
			if a.status != http.StatusForbidden || a.code() != "policy.out_of_scope" {
				t.Errorf("%s, %s: %d %s, want 403 policy.out_of_scope", op.op, rq.name, a.status, a.body)
			}
			if strings.Contains(a.body, per.FullName) || strings.Contains(a.body, card) {
				t.Errorf("%s, %s: discloses: %s", op.op, rq.name, a.body)
			}
			// Bodies differ only by the path they name (instance).
			a.body = strings.ReplaceAll(a.body, path, "")
			if i == 0 {
				first = a
			} else if a.body != first.body {
				t.Errorf("%s, %s: answers %s, unlike %s", op.op, rq.name, a.body, first.body)
			}
		}
	}
	if got := p.auditCount(exchange.ActionRefused, "partner:pham-vi") - before; got != n {
		t.Errorf("%d refusals in the person's access log, want %d", got, n)
	}
	// Nothing was written.
	if ids, err := p.env.App.Partners.SectorIDs(ctx, pin); err != nil || len(ids) != 1 {
		t.Errorf("sector ids after refused writes: %v %v", ids, err)
	}
}

// testResolveConsent: resolving a sector identifier under a consent-based
// purpose needs the citizen's consent as a lookup does, checked by the
// same rule: the token must be the citizen's, issued to this partner, and
// cover the PIN it releases.
func (p *platform) testResolveConsent(t *testing.T) {
	per := p.person
	tok := p.addPartner("tra-the", exchange.Policy{Operations: []exchange.Operation{exchange.OpSectorResolve},
		Fields:   []string{"pin", "sector_id.health_insurance_card"},
		Purposes: []exchange.Purpose{{Code: "dang-ky", Description: "Đăng ký khám", Basis: exchange.BasisConsent}}})
	resolve := func(body map[string]any, headers ...string) answer {
		body["purpose"] = "dang-ky"
		return p.call("POST", partnerapi.Prefix+"/sector-ids/health_insurance_card/resolve", tok, body, headers...)
	}
	profile := p.consentToken("tra-the", per.PIN, "profile")
	other := p.consentToken("tra-the", p.citizens[1].PIN, "pin")
	pinConsent := p.consentToken("tra-the", per.PIN, "pin")
	bankConsent := p.consentToken("nganhang-a", per.PIN, "pin")
	for _, tc := range []struct {
		name    string
		body    map[string]any
		headers []string
		code    string
	}{
		{"by value without consent", map[string]any{"value": card}, nil, "consent.required"},
		{"by value, consent not covering the PIN", map[string]any{"value": card}, []string{partnerapi.ConsentHeader, profile}, "consent.required"},
		{"by value, another citizen's consent", map[string]any{"value": card}, []string{partnerapi.ConsentHeader, other}, "consent.invalid"},
		{"by value, another partner's consent", map[string]any{"value": card}, []string{partnerapi.ConsentHeader, bankConsent}, "consent.invalid"},
		{"by value, garbage consent", map[string]any{"value": card}, []string{partnerapi.ConsentHeader, "x.y.z"}, "consent.invalid"},
		{"by PIN: no consent scope covers a sector id", map[string]any{"pin": per.PIN}, []string{partnerapi.ConsentHeader, pinConsent}, "consent.required"},
	} {
		a := resolve(tc.body, tc.headers...)
		if a.status != http.StatusForbidden || a.code() != tc.code || strings.Contains(a.body, per.PIN) {
			t.Errorf("%s: %d %s, want 403 %s", tc.name, a.status, a.body, tc.code)
		}
	}
	if a := resolve(map[string]any{"value": card}, partnerapi.ConsentHeader, pinConsent); a.status != 200 || a.json["pin"] != per.PIN {
		t.Errorf("by value with the citizen's consent: %d %s", a.status, a.body)
	}
}

// brokenAudit is an audit log whose store fails every write.
type brokenAudit struct{}

func (brokenAudit) Record(context.Context, audit.Entry) error { return errors.New("audit store down") }

// testAuditDown runs the partner API over an exchange whose audit log
// cannot be written: every branch that would answer about a person
// (verify's match, not found, scope and probing refusals; lookup; sector
// id write; resolve both ways) answers 500 with nothing of the person and
// writes nothing.
func (p *platform) testAuditDown(t *testing.T) {
	ctx := context.Background()
	per := p.person
	app := p.env.App
	broken := exchange.NewService(exchange.Deps{Store: app.Partners, Register: app.Registry, Audit: brokenAudit{}, Units: app.Units})
	api := &partnerapi.API{Tokens: app.OIDC, Binding: app.OIDC, PublicURL: p.env.Server.URL, Partners: app.Partners, Exchange: broken}
	mux := http.NewServeMux()
	api.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	verifier := exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name", "birth_date"}, Purposes: []exchange.Purpose{lawCheck}}
	fresh := p.addPartner("kiem-toan", verifier)
	bank, bhxh, hospital := p.partnerToken("nganhang-a"), p.partnerToken("bhxh"), p.partnerToken("bv-bachmai")
	// Its own partners, so the subtest stands alone: one scoped to another
	// province, one that has used up its distinct values for the person on
	// the working API.
	other := verifier
	other.Scope = "79"
	if per.Permanent.ProvinceCode == other.Scope {
		other.Scope = "01"
	}
	scoped := p.addPartner("kiem-toan-pham-vi", other)
	probed := p.addPartner("kiem-toan-do-tim", verifier)
	born := time.Date(per.BirthDate.Year, time.Month(per.BirthDate.Month), per.BirthDate.Day, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= exchange.DefaultVerifyValuesPerPerson; i++ {
		if a := p.verify(probed, map[string]any{"full_name": per.FullName, "birth_date": born.AddDate(0, 0, -i).Format("02/01/2006")}); a.status != 200 {
			t.Fatalf("probe %d: %d %s", i, a.status, a.body)
		}
	}
	pin := per.PIN
	sv := partnerapi.Prefix + "/sector-ids/health_insurance_card"
	for _, tc := range []struct {
		name, tok, method, path string
		body                    map[string]any
	}{
		{"verify, match", fresh, "POST", partnerapi.Prefix + "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "birth_date": per.BirthDate.String(), "purpose": "check"}},
		{"verify, not found", fresh, "POST", partnerapi.Prefix + "/verify", map[string]any{"pin": pin[:6] + "999998", "full_name": per.FullName, "purpose": "check"}},
		{"verify, out of scope", scoped, "POST", partnerapi.Prefix + "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "purpose": "check"}},
		{"verify, too many values", probed, "POST", partnerapi.Prefix + "/verify", map[string]any{"pin": pin, "full_name": per.FullName, "birth_date": "01/01/1901", "purpose": "check"}},
		{"lookup", bank, "POST", partnerapi.Prefix + "/lookup", map[string]any{"pin": pin, "fields": []string{"full_name", "birth_date"}, "purpose": "aml-cdd"}},
		{"sector id write", bhxh, "PUT", sv, map[string]any{"pin": pin, "value": "DN4010999999999", "purpose": "health-insurance"}},
		{"resolve by PIN", hospital, "POST", sv + "/resolve", map[string]any{"pin": pin, "purpose": "insured-treatment"}},
		{"resolve by value", bhxh, "POST", sv + "/resolve", map[string]any{"value": card, "purpose": "health-insurance"}},
	} {
		a := p.callAt(http.DefaultClient, srv.URL, tc.method, tc.path, tc.tok, tc.body)
		if a.status != http.StatusInternalServerError || a.json["code"] == nil {
			t.Errorf("%s: %d %s, want a 500 problem", tc.name, a.status, a.body)
		}
		for _, secret := range []string{per.FullName, per.BirthDate.String(), card, "match", "not_found", "out_of_scope", "DN4010999999999"} {
			if strings.Contains(a.body, secret) {
				t.Errorf("%s: the answer holds %q though the audit failed: %s", tc.name, secret, a.body)
			}
		}
		if tc.name == "resolve by value" && strings.Contains(a.body, pin) {
			t.Errorf("%s: the PIN in the answer: %s", tc.name, a.body)
		}
	}
	if ids, err := app.Partners.SectorIDs(ctx, pin); err != nil || len(ids) != 1 || ids[0].Value != card {
		t.Errorf("sector ids after an unaudited write: %v %v", ids, err)
	}
	if linked, _ := app.Partners.Linked(ctx, pin); strings.Contains(strings.Join(linked, ","), "kiem-toan") {
		t.Error("an unaudited verify linked the partner")
	}
}

// clientCert is a self-signed TLS client certificate and its SHA-256
// fingerprint.
func clientCert(t *testing.T, name string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, hex.EncodeToString(sum[:])
}

// testMTLS: a system registered with a client certificate (its SHA-256
// fingerprint, RFC 8705 §2.1's self-signed binding) is refused without a
// certificate, with another one and over plain HTTP, even with a valid
// access token; with its own it is answered.
func (p *platform) testMTLS(t *testing.T) {
	ctx := context.Background()
	mine, fp := clientCert(t, "he-thong-mtls")
	stranger, _ := clientCert(t, "ke-la")
	if _, err := p.env.App.Partners.AddPartner(ctx, exchange.Partner{ID: "mtls", Name: "Đối tác mTLS", Kind: exchange.KindBank,
		Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name"}, Purposes: []exchange.Purpose{lawCheck}}}); err != nil {
		t.Fatal(err)
	}
	sys, secret, err := p.env.App.Partners.NewSystem(ctx, p.env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: "mtls", CertFingerprint: fp})
	if err != nil {
		t.Fatal(err)
	}
	tok := p.token(sys.ClientID, secret)
	srv := httptest.NewUnstartedServer(p.env.Server.Config.Handler)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	client := func(certs ...tls.Certificate) *http.Client {
		c := srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = certs
		c.Transport = tr
		return c
	}
	body := map[string]any{"pin": p.person.PIN, "full_name": p.person.FullName, "purpose": "check"}
	for _, tc := range []struct {
		name   string
		client *http.Client
		base   string
	}{
		{"plain HTTP", http.DefaultClient, p.env.Server.URL},
		{"TLS without a certificate", client(), srv.URL},
		{"TLS with another certificate", client(stranger), srv.URL},
	} {
		a := p.callAt(tc.client, tc.base, "POST", partnerapi.Prefix+"/verify", tok, body)
		if a.status != http.StatusUnauthorized || a.code() != "partner.certificate_required" || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s, want 401 partner.certificate_required", tc.name, a.status, a.body)
		}
	}
	if a := p.callAt(client(mine), srv.URL, "POST", partnerapi.Prefix+"/verify", tok, body); a.status != 200 || a.json["result"] != "match" {
		t.Errorf("with its certificate: %d %s", a.status, a.body)
	}
}

// dpopKey is a client's DPoP key.
type dpopKey struct {
	key *ecdsa.PrivateKey
}

func newDPoPKey(t *testing.T) dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{k}
}

// proof is a DPoP proof (RFC 9449 §4.2); token, when given, is hashed
// into ath for a resource request.
func (k dpopKey) proof(t *testing.T, method, target, token string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := map[string]any{"jti": hex.EncodeToString(jti), "htm": method, "htu": target, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testDPoP: a system that must bind its tokens by DPoP gets a token bound
// to its key; the partner API answers it only with a fresh proof of that
// key, and refuses it as a bearer token, without a proof, with a proof of
// another key or a replayed proof, each time with a DPoP challenge.
func (p *platform) testDPoP(t *testing.T) {
	ctx := context.Background()
	if _, err := p.env.App.Partners.AddPartner(ctx, exchange.Partner{ID: "dpop", Name: "Đối tác DPoP", Kind: exchange.KindBank,
		Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name"}, Purposes: []exchange.Purpose{lawCheck}}}); err != nil {
		t.Fatal(err)
	}
	sys, secret, err := p.env.App.Partners.NewSystem(ctx, p.env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: "dpop", RequireDPoP: true})
	if err != nil {
		t.Fatal(err)
	}
	key, thief := newDPoPKey(t), newDPoPKey(t)
	req, _ := http.NewRequest("POST", p.tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", key.proof(t, "POST", p.tokenURL, ""))
	req.SetBasicAuth(sys.ClientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.EqualFold(tr.TokenType, "DPoP") {
		t.Fatalf("DPoP token: %d %+v", resp.StatusCode, tr)
	}
	target := p.env.Server.URL + partnerapi.Prefix + "/verify"
	body := map[string]any{"pin": p.person.PIN, "full_name": p.person.FullName, "purpose": "check"}
	send := func(auth string, proofs ...string) answer {
		t.Helper()
		headers := []string{"Authorization", auth}
		for _, pr := range proofs {
			headers = append(headers, "DPoP", pr)
		}
		return p.call("POST", partnerapi.Prefix+"/verify", "", body, headers...)
	}
	good := key.proof(t, "POST", target, tr.AccessToken)
	if a := send("DPoP "+tr.AccessToken, good); a.status != 200 || a.json["result"] != "match" {
		t.Fatalf("with its proof: %d %s", a.status, a.body)
	}
	for _, tc := range []struct {
		name   string
		auth   string
		proofs []string
	}{
		{"as a bearer token", "Bearer " + tr.AccessToken, nil},
		{"without a proof", "DPoP " + tr.AccessToken, nil},
		{"with another key's proof", "DPoP " + tr.AccessToken, []string{thief.proof(t, "POST", target, tr.AccessToken)}},
		{"with a replayed proof", "DPoP " + tr.AccessToken, []string{good}},
		{"with a proof for another URL", "DPoP " + tr.AccessToken, []string{key.proof(t, "POST", p.env.Server.URL+partnerapi.Prefix+"/lookup", tr.AccessToken)}},
	} {
		a := send(tc.auth, tc.proofs...)
		challenges := strings.Join(a.header.Values("WWW-Authenticate"), "; ")
		if a.status != http.StatusUnauthorized || a.code() != "auth.dpop_invalid" || !strings.Contains(challenges, "DPoP ") {
			t.Errorf("%s: %d %s (WWW-Authenticate %q), want 401 auth.dpop_invalid with a DPoP challenge", tc.name, a.status, a.body, challenges)
		}
		if strings.Contains(a.body, "match") {
			t.Errorf("%s: answered: %s", tc.name, a.body)
		}
	}
}
