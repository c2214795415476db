package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// maxPurposeRows bounds the purpose rows of the policy form (the page has
// no script: it offers the declared purposes and two empty rows).
const maxPurposeRows = 20

// policyFormFields are the fields of the policy form; purpose rows are
// purpose_<i> (row-level messages) with purpose_code_<i> and so on.
func policyFormFields(extra ...string) []string {
	out := append([]string{"operations", "fields", "scope", "rate_per_second", "burst", "daily_quota", "version"}, extra...)
	for i := range maxPurposeRows {
		out = append(out, fmt.Sprintf("purpose_%d", i))
	}
	return out
}

type partnerRow struct {
	P     exchange.Partner
	Kind  string
	Usage string // "1.234 / 5.000.000", or "1.234 / —" without quota
}

func (u *UI) kindName(l string, k exchange.Kind) string {
	if s, ok := u.msgs.Lookup(l, "pkind."+string(k)); ok {
		return s
	}
	return string(k)
}

// usageText is today's calls of a partner against its quota.
func (u *UI) usageText(r *http.Request, l string, p exchange.Partner) (string, error) {
	if u.admin.Usage == nil {
		return "—", nil
	}
	n, err := u.admin.Usage.Usage(r.Context(), p.ID, u.now().In(vietnam).Format(time.DateOnly))
	if err != nil {
		return "", err
	}
	quota := u.tr(l, "admin.quota.none")
	if p.Policy.DailyQuota > 0 {
		quota = groupNumber(l, p.Policy.DailyQuota)
	}
	return groupNumber(l, n) + " / " + quota, nil
}

func (u *UI) partnerList(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "admin.partners.title", "")
	v.Nav = "admin"
	partners, err := u.admin.Partners.Partners(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rows := make([]partnerRow, 0, len(partners))
	for _, p := range partners {
		use, err := u.usageText(r, v.Lang, p)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		rows = append(rows, partnerRow{P: p, Kind: u.kindName(v.Lang, p.Kind), Usage: use})
	}
	v.Page = rows
	u.render(w, r, http.StatusOK, "admin-partners", v)
}

// option is a checkbox or radio button of a form.
type option struct {
	Value, Label, Hint string
}

// policyFormView is what the partner and policy forms receive.
type policyFormView struct {
	Partner    *exchange.Partner // nil on the create form
	Kinds      []option
	Operations []option
	Fields     []option
	Purposes   []purposeRow
	Provinces  []adminunit.Unit
	ScopeName  string
	Stale      bool // the policy changed since the form was opened
}

type purposeRow struct {
	Index, Number                              int // Number counts from 1, for people
	Code, Description, Basis, Citation, Fields string
	Errors                                     []string
}

func (u *UI) policyView(r *http.Request, l string, f *form, p *exchange.Partner) (policyFormView, error) {
	d := policyFormView{Partner: p, Provinces: u.units.Provinces(u.now())}
	for _, k := range exchange.Kinds {
		d.Kinds = append(d.Kinds, option{Value: string(k.Kind), Label: u.kindName(l, k.Kind)})
	}
	for _, op := range exchange.Operations {
		d.Operations = append(d.Operations, option{Value: string(op), Label: u.tr(l, "op."+string(op))})
	}
	for _, fl := range exchange.Fields {
		d.Fields = append(d.Fields, option{Value: fl.Name, Label: or(u.optMessage(l, "pfield."+fl.Name), fl.Vi)})
	}
	schemes, err := u.admin.Partners.Schemes(r.Context())
	if err != nil {
		return d, err
	}
	for _, sc := range schemes {
		d.Fields = append(d.Fields, option{Value: exchange.SectorField(sc.Code), Label: sc.Name})
	}
	// A sector field typed into an older policy stays offered.
	for _, name := range f.checkedValues("fields") {
		if !slices.ContainsFunc(d.Fields, func(o option) bool { return o.Value == name }) {
			d.Fields = append(d.Fields, option{Value: name, Label: exchange.FieldName(name)})
		}
	}
	rows := 3
	for i := range maxPurposeRows {
		if _, ok := f.values[fmt.Sprintf("purpose_code_%d", i)]; ok {
			rows = max(rows, i+1)
		}
	}
	for i := range min(rows, maxPurposeRows) {
		k := func(name string) string { return fmt.Sprintf("purpose_%s_%d", name, i) }
		d.Purposes = append(d.Purposes, purposeRow{Index: i, Number: i + 1, Code: f.Get(k("code")), Description: f.Get(k("description")),
			Basis: or(f.Get(k("basis")), exchange.BasisConsent), Citation: f.Get(k("citation")), Fields: f.Get(k("fields")),
			Errors: f.Errors(fmt.Sprintf("purpose_%d", i))})
	}
	d.ScopeName = u.scopeName(l, f.trim("scope"))
	return d, nil
}

// optMessage is an optional message: "" when the catalogue has none.
func (u *UI) optMessage(l, id string) string { s, _ := u.msgs.Lookup(l, id); return s }

// scopeName names an administrative-unit scope: a province, a commune
// with its province, or the whole country.
func (u *UI) scopeName(l, code string) string {
	now := u.now()
	switch len(code) {
	case 0:
		return u.tr(l, "admin.scope.country")
	case 2:
		if p, err := u.units.Province(code, now); err == nil {
			return p.Name
		}
	case 5:
		if path := u.units.Path(code, now); path != "" {
			return path
		}
	}
	return ""
}

// policyValues fills a form with a policy, for the edit form.
func policyValues(p exchange.Partner) url.Values {
	v := url.Values{}
	for _, op := range p.Policy.Operations {
		v.Add("operations", string(op))
	}
	for _, f := range p.Policy.Fields {
		v.Add("fields", f)
	}
	for i, pu := range p.Policy.Purposes {
		v.Set(fmt.Sprintf("purpose_code_%d", i), pu.Code)
		v.Set(fmt.Sprintf("purpose_description_%d", i), pu.Description)
		v.Set(fmt.Sprintf("purpose_basis_%d", i), pu.Basis)
		v.Set(fmt.Sprintf("purpose_citation_%d", i), pu.Citation)
		v.Set(fmt.Sprintf("purpose_fields_%d", i), strings.Join(pu.Fields, ", "))
	}
	// Two empty rows to declare new purposes.
	for i := len(p.Policy.Purposes); i < min(len(p.Policy.Purposes)+2, maxPurposeRows); i++ {
		v.Set(fmt.Sprintf("purpose_code_%d", i), "")
	}
	v.Set("scope", p.Policy.Scope)
	num := func(x float64) string {
		if x == 0 {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	v.Set("rate_per_second", num(p.Policy.RatePerSecond))
	v.Set("burst", num(float64(p.Policy.Burst)))
	v.Set("daily_quota", num(float64(p.Policy.DailyQuota)))
	v.Set("version", strconv.Itoa(p.Version))
	return v
}

// policyFromForm reads the policy form. Problems only the page can see (a
// number that is not one, a unit code that names no unit) are put on v;
// ok is false then. rename maps the store's purpose indexes to form rows.
func (u *UI) policyFromForm(f *form, v *view) (pol exchange.Policy, rename map[string]string, ok bool) {
	ok = true
	for _, op := range f.checkedValues("operations") {
		pol.Operations = append(pol.Operations, exchange.Operation(op))
	}
	pol.Fields = f.checkedValues("fields")
	rename = map[string]string{"id": "partner_id", "name": "partner_name", "kind": "partner_kind"}
	for i := range maxPurposeRows {
		k := func(name string) string { return strings.TrimSpace(f.Get(fmt.Sprintf("purpose_%s_%d", name, i))) }
		pu := exchange.Purpose{Code: k("code"), Description: k("description"), Basis: k("basis"), Citation: k("citation"), Fields: lines(k("fields"))}
		if pu.Code == "" && pu.Description == "" && pu.Citation == "" && len(pu.Fields) == 0 {
			continue
		}
		rename[fmt.Sprintf("purposes[%d]", len(pol.Purposes))] = fmt.Sprintf("purpose_%d", i)
		pol.Purposes = append(pol.Purposes, pu)
	}
	pol.Scope = f.trim("scope")
	if code := pol.Scope; code != "" {
		var err error
		switch len(code) {
		case 2:
			_, err = u.units.Province(code, u.now())
		case 5:
			_, err = u.units.Commune(code, u.now())
		}
		if err != nil {
			addFault(v, "scope", fmt.Sprintf("Không có tỉnh, thành phố hoặc xã, phường nào mang mã %q.", code),
				fmt.Sprintf("No province or commune has the code %q.", code))
			ok = false
		}
	}
	decimal := func(name string) float64 {
		s := strings.ReplaceAll(strings.ReplaceAll(f.trim(name), " ", ""), ",", ".")
		if s == "" {
			return 0
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || !(x >= 0 && x <= 1e12) { // also refuses NaN
			addFault(v, name, fmt.Sprintf("%s: nhập một số không âm (để trống nếu không giới hạn).", u.tr(page.VI, "f."+name)),
				fmt.Sprintf("%s: enter a number of zero or more (leave empty for no limit).", u.tr(page.EN, "f."+name)))
			ok = false
		}
		return x
	}
	whole := func(name string) int64 {
		s := strings.NewReplacer(" ", "", ".", "", ",", "").Replace(f.trim(name))
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			addFault(v, name, fmt.Sprintf("%s: nhập một số nguyên không âm (để trống nếu không giới hạn).", u.tr(page.VI, "f."+name)),
				fmt.Sprintf("%s: enter a whole number of zero or more (leave empty for no limit).", u.tr(page.EN, "f."+name)))
			ok = false
		}
		return n
	}
	pol.RatePerSecond = decimal("rate_per_second")
	pol.Burst = int(min(whole("burst"), 1<<31-1))
	pol.DailyQuota = whole("daily_quota")
	return pol, rename, ok
}

func (u *UI) partnerNew(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := url.Values{"partner_kind": {string(exchange.KindBank)}}
	for i := range 3 {
		vals.Set(fmt.Sprintf("purpose_code_%d", i), "")
	}
	u.showPartnerNew(w, r, s, http.StatusOK, newForm(vals, policyFormFields("partner_id", "partner_name", "partner_kind")...), nil, nil)
}

func (u *UI) showPartnerNew(w http.ResponseWriter, r *http.Request, s staff.Session, status int, f *form, err error, rename map[string]string) {
	v := u.page(r, &s, "admin.partner.new.title", "/admin/partners/new")
	v.Nav, v.Form = "admin", f
	u.showPolicyForm(w, r, v, status, err, rename, nil, "admin-partner-new")
}

// showPolicyForm renders the create or edit form with err's faults beside
// their fields (v may carry the page's own already).
func (u *UI) showPolicyForm(w http.ResponseWriter, r *http.Request, v *view, status int, err error, rename map[string]string, p *exchange.Partner, tmpl string) {
	stale := false
	if err != nil {
		stale = errors.Is(err, fault.ErrStaleVersion)
		if stale {
			err = errStalePolicy
		}
		if status = u.formFaults(w, r, v, err, rename); status == 0 {
			return
		}
	}
	if len(v.Summary) > 0 && status == http.StatusOK {
		status = http.StatusUnprocessableEntity
	}
	d, derr := u.policyView(r, v.Lang, v.Form, p)
	if derr != nil {
		u.fail(w, r, derr)
		return
	}
	d.Stale = stale
	v.Page = d
	u.render(w, r, status, tmpl, v)
}

// errStalePolicy is the store's stale-version refusal worded for the form.
var errStalePolicy = fault.New(fault.Conflict, "stale_version",
	"Chính sách này đã được người khác thay đổi sau khi bạn mở biểu mẫu, nên chưa được lưu. Những gì bạn nhập vẫn còn bên dưới; hãy mở lại chính sách mới nhất rồi sửa lại.",
	"Someone else changed this policy after you opened the form, so it was not saved. What you typed is kept below; open the latest policy and make your change again.")

func (u *UI) partnerCreate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, policyFormFields("partner_id", "partner_name", "partner_kind")...)
	v := u.page(r, &s, "admin.partner.new.title", "/admin/partners/new")
	v.Nav, v.Form = "admin", f
	pol, rename, ok := u.policyFromForm(f, v)
	if !ok {
		u.showPolicyForm(w, r, v, http.StatusUnprocessableEntity, nil, nil, nil, "admin-partner-new")
		return
	}
	p, err := u.admin.Partners.AddPartner(r.Context(), exchange.Partner{ID: f.trim("partner_id"), Name: f.Get("partner_name"), Kind: exchange.Kind(f.trim("partner_kind")), Policy: pol})
	if err != nil {
		u.showPolicyForm(w, r, v, 0, err, rename, nil, "admin-partner-new")
		return
	}
	if err := u.record(r.Context(), s, actPartnerCreated, "partner:"+p.ID, policyDetail(p)); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/partners/"+url.PathEscape(p.ID)+"?done=created", http.StatusSeeOther)
}

// policyDetail summarises a policy for the audit log (codes only).
func policyDetail(p exchange.Partner) string {
	ops := make([]string, len(p.Policy.Operations))
	for i, o := range p.Policy.Operations {
		ops[i] = string(o)
	}
	purposes := make([]string, len(p.Policy.Purposes))
	for i, pu := range p.Policy.Purposes {
		purposes[i] = pu.Code + ":" + pu.Basis
	}
	return fmt.Sprintf("version=%d operations=%s fields=%s purposes=%s scope=%s rate=%g quota=%d", p.Version,
		strings.Join(ops, ","), strings.Join(p.Policy.Fields, ","), strings.Join(purposes, ","), p.Policy.Scope, p.Policy.RatePerSecond, p.Policy.DailyQuota)
}

// partnerView is the partner's page.
type partnerView struct {
	P         exchange.Partner
	Kind      string
	Usage     string
	Ops       []string
	Fields    []string
	Purposes  []purposeShow
	ScopeName string
	Rate      string
	Quota     string
	Systems   []systemRow
}

type purposeShow struct {
	exchange.Purpose
	FieldNames string
}

type systemRow struct {
	S       exchange.System
	Client  *oidcop.ClientInfo // nil when the client is missing
	Auth    string
	Options []string
}

func (u *UI) partnerShow(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	p, err := u.admin.Partners.Partner(ctx, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "admin.partner.title", "")
	v.Nav, v.Title = "admin", p.Name
	use, err := u.usageText(r, v.Lang, p)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := partnerView{P: p, Kind: u.kindName(v.Lang, p.Kind), Usage: use, ScopeName: u.scopeName(v.Lang, p.Policy.Scope),
		Rate: u.tr(v.Lang, "admin.quota.none"), Quota: u.tr(v.Lang, "admin.quota.none")}
	for _, op := range p.Policy.Operations {
		d.Ops = append(d.Ops, u.tr(v.Lang, "op."+string(op)))
	}
	for _, f := range p.Policy.Fields {
		d.Fields = append(d.Fields, or(u.optMessage(v.Lang, "pfield."+f), exchange.FieldName(f)))
	}
	for _, pu := range p.Policy.Purposes {
		ps := purposeShow{Purpose: pu, FieldNames: u.tr(v.Lang, "admin.purpose.all_fields")}
		if len(pu.Fields) > 0 {
			names := make([]string, len(pu.Fields))
			for i, f := range pu.Fields {
				names[i] = or(u.optMessage(v.Lang, "pfield."+f), exchange.FieldName(f))
			}
			ps.FieldNames = strings.Join(names, ", ")
		}
		d.Purposes = append(d.Purposes, ps)
	}
	if p.Policy.RatePerSecond > 0 {
		d.Rate = fmt.Sprintf("%s/s (burst %s)", strconv.FormatFloat(p.Policy.RatePerSecond, 'f', -1, 64), groupNumber(v.Lang, int64(p.Policy.Burst)))
	}
	if p.Policy.DailyQuota > 0 {
		d.Quota = groupNumber(v.Lang, p.Policy.DailyQuota)
	}
	systems, err := u.admin.Partners.Systems(ctx, p.ID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, sys := range systems {
		row := systemRow{S: sys}
		c, err := u.admin.Clients.Lookup(ctx, sys.ClientID)
		switch {
		case err == nil:
			row.Client = &c
			row.Auth, row.Options = u.clientAuth(v.Lang, c)
		case !errors.Is(err, oidcop.ErrClientNotFound):
			u.fail(w, r, err)
			return
		}
		if sys.CertFingerprint != "" {
			row.Options = append(row.Options, u.tr(v.Lang, "admin.opt.mtls"))
		}
		d.Systems = append(d.Systems, row)
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "policy", "disabled", "enabled", "system_disabled", "system_enabled":
		v.Flash = u.tr(v.Lang, "admin.flash.partner_"+done)
		if done == "policy" {
			v.Flash += " " + strconv.Itoa(p.Version)
		}
	}
	v.Page = d
	u.render(w, r, http.StatusOK, "admin-partner", v)
}

func (u *UI) partnerDisable(disable bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		id := r.PathValue("id")
		if err := u.admin.Partners.SetPartnerDisabled(r.Context(), id, disable); err != nil {
			u.fail(w, r, err)
			return
		}
		action, done := actPartnerEnabled, "enabled"
		if disable {
			action, done = actPartnerDisabled, "disabled"
		}
		if err := u.record(r.Context(), s, action, "partner:"+id, ""); err != nil {
			u.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/admin/partners/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
	}
}

func (u *UI) policyEdit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	p, err := u.admin.Partners.Partner(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "admin.policy.title", "")
	v.Nav, v.Form = "admin", newForm(policyValues(p), policyFormFields()...)
	u.showPolicyForm(w, r, v, http.StatusOK, nil, nil, &p, "admin-policy")
}

func (u *UI) policySave(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	p, err := u.admin.Partners.Partner(ctx, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, policyFormFields()...)
	v := u.page(r, &s, "admin.policy.title", "/admin/partners/"+url.PathEscape(p.ID)+"/policy")
	v.Nav, v.Form = "admin", f
	version, verr := strconv.Atoi(f.trim("version"))
	pol, rename, ok := u.policyFromForm(f, v)
	if verr != nil {
		addFault(v, "", "Biểu mẫu thiếu số phiên bản của chính sách; hãy mở lại trang.", "The form lacks the policy's version; open the page again.")
		ok = false
	}
	if !ok {
		u.showPolicyForm(w, r, v, http.StatusUnprocessableEntity, nil, nil, &p, "admin-policy")
		return
	}
	np, err := u.admin.Partners.SetPolicy(ctx, p.ID, version, pol)
	if err != nil {
		u.showPolicyForm(w, r, v, 0, err, rename, &p, "admin-policy")
		return
	}
	if err := u.record(ctx, s, actPartnerPolicyChanged, "partner:"+np.ID, policyDetail(np)); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/partners/"+url.PathEscape(np.ID)+"?done=policy", http.StatusSeeOther)
}

var systemFields = []string{"client_id", "system_name", "scopes", "redirect_uris", "cert_fingerprint", "auth", "jwks", "require_dpop", "require_par", "dev_mode"}

type systemFormView struct {
	P      exchange.Partner
	Scopes []option
}

func (u *UI) scopeOptions(l string) []option {
	var out []option
	for _, sc := range oidcop.RegistrableScopes() {
		out = append(out, option{Value: sc.Scope, Label: u.tr(l, "scope."+sc.Scope), Hint: strings.Join(sc.Claims, ", ")})
	}
	return out
}

func (u *UI) systemNew(w http.ResponseWriter, r *http.Request, s staff.Session) {
	p, err := u.admin.Partners.Partner(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.showSystemForm(w, r, s, p, http.StatusOK, newForm(url.Values{"auth": {"secret"}}, systemFields...), nil)
}

func (u *UI) showSystemForm(w http.ResponseWriter, r *http.Request, s staff.Session, p exchange.Partner, status int, f *form, err error) {
	v := u.page(r, &s, "admin.system.new.title", "/admin/partners/"+url.PathEscape(p.ID)+"/systems/new")
	v.Nav, v.Form = "admin", f
	if err != nil {
		if status = u.formFaults(w, r, v, err, map[string]string{"secret": "auth", "grant_types": "auth", "id": "client_id", "name": "system_name"}); status == 0 {
			return
		}
	}
	v.Page = systemFormView{P: p, Scopes: u.scopeOptions(v.Lang)}
	u.render(w, r, status, "admin-system-new", v)
}

// secretView is the page that shows a new client secret, once.
type secretView struct {
	ClientID  string
	Secret    string // empty for a client authenticating with its keys
	Partner   *exchange.Partner
	BackURL   string
	PublicKey bool
}

func (u *UI) systemCreate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	p, err := u.admin.Partners.Partner(ctx, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, systemFields...)
	in := exchange.SystemInput{PartnerID: p.ID, ClientID: f.trim("client_id"), Name: f.Get("system_name"), Scopes: f.checkedValues("scopes"),
		RedirectURIs: lines(f.Get("redirect_uris")), CertFingerprint: f.trim("cert_fingerprint"),
		RequireDPoP: f.Has("require_dpop", "1"), RequirePAR: f.Has("require_par", "1"), DevMode: f.Has("dev_mode", "1")}
	if f.Get("auth") == "jwks" {
		in.JWKS = strings.TrimSpace(f.Get("jwks"))
	}
	// Every problem is found before anything is written: the client and
	// the system are two stores.
	var l fault.List
	if in.ClientID != "" && !clientIDRE.MatchString(in.ClientID) {
		l = append(l, fault.Invalidf("client_id", "partner.invalid", "Mã ứng dụng gồm 3–64 chữ thường, chữ số, dấu chấm, gạch dưới hoặc gạch nối.",
			"The client id has 3–64 lower-case letters, digits, dots, underscores or hyphens."))
	}
	if fp := strings.ToLower(strings.ReplaceAll(in.CertFingerprint, ":", "")); fp != "" && !fingerprintRE.MatchString(fp) {
		l = append(l, fault.Invalidf("cert_fingerprint", "partner.invalid", "Dấu vân tay chứng thư là SHA-256 dạng hex (64 ký tự, có thể có dấu hai chấm).",
			"The certificate fingerprint is a SHA-256 in hex (64 characters, colons allowed)."))
	}
	if f.Get("auth") == "jwks" && in.JWKS == "" {
		l = append(l, fault.Invalidf("jwks", "partner.invalid", "Dán bộ khóa công khai (JWKS) của hệ thống, hoặc chọn xác thực bằng khóa bí mật.",
			"Paste the system's public JWK Set, or choose a client secret."))
	}
	probe := oidcop.Client{ID: or(in.ClientID, p.ID+"-system"), Name: p.Name, Purpose: "probe", GrantTypes: []string{oidcop.GrantClientCredentials},
		Scopes: in.Scopes, RedirectURIs: in.RedirectURIs, JWKS: in.JWKS, RequireDPoP: in.RequireDPoP, RequirePAR: in.RequirePAR, DevMode: in.DevMode, MinLevel: 1}
	if len(in.RedirectURIs) > 0 {
		probe.GrantTypes = append(probe.GrantTypes, oidcop.GrantAuthorizationCode)
	}
	if err := oidcop.ValidateClient(probe, in.JWKS == ""); err != nil {
		for _, fe := range fault.Faults(err) {
			if fe.Field != "id" || in.ClientID != "" {
				l = append(l, fe)
			}
		}
	}
	if err := l.Err(); err != nil {
		u.showSystemForm(w, r, s, p, 0, f, err)
		return
	}
	sys, secret, err := u.admin.Partners.NewSystem(ctx, u.admin.Clients, in)
	if errors.Is(err, oidcop.ErrClientExists) {
		err = oidcop.ErrClientExists.WithField("client_id")
	}
	if err != nil {
		u.showSystemForm(w, r, s, p, 0, f, err)
		return
	}
	detail := fmt.Sprintf("client=%s auth=%s dpop=%t par=%t mtls=%t", sys.ClientID, authKind(secret), in.RequireDPoP, in.RequirePAR, sys.CertFingerprint != "")
	if err := u.record(ctx, s, actSystemAdded, "partner:"+p.ID, detail); err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "admin.secret.title", "/admin/partners/"+url.PathEscape(p.ID))
	v.Nav = "admin"
	v.Page = secretView{ClientID: sys.ClientID, Secret: secret, Partner: &p, BackURL: "/admin/partners/" + url.PathEscape(p.ID), PublicKey: secret == ""}
	u.render(w, r, http.StatusCreated, "admin-secret", v)
}

func authKind(secret string) string {
	if secret == "" {
		return "private_key_jwt"
	}
	return "secret"
}

func (u *UI) systemDisable(disable bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		ctx := r.Context()
		id, client := r.PathValue("id"), r.PathValue("client")
		sys, _, err := u.admin.Partners.System(ctx, client)
		if err == nil && sys.PartnerID != id {
			err = exchange.ErrSystemNotFound
		}
		if errors.Is(err, exchange.ErrSystemNotFound) {
			err = fault.ErrNotFound // a page, not an API sign-in refusal
		}
		if err == nil {
			err = u.admin.Partners.SetSystemDisabled(ctx, client, disable)
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		action, done := actSystemEnabled, "system_enabled"
		if disable {
			action, done = actSystemDisabled, "system_disabled"
		}
		if err := u.record(ctx, s, action, "partner:"+id, "client="+client); err != nil {
			u.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/admin/partners/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
	}
}
