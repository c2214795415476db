package ui

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/page"
)

// AdminDeps are what the administration pages (partners of the data
// exchange, their policies and systems, OpenID clients) are built on.
type AdminDeps struct {
	// Clients is the OpenID provider's client store; without it the
	// administration pages are not mounted.
	Clients *oidcop.Clients
	// Partners is the exchange's partner store; without it only the
	// OpenID client pages are mounted.
	Partners *exchange.Store
	// Usage reports a partner's calls on a day (*exchange.Limits); may be
	// nil, then today's use is not shown.
	Usage PartnerUsage
	// Audit records every change an administrator makes (*audit.Log).
	Audit Recorder
}

// PartnerUsage reports a partner's calls on a day (yyyy-mm-dd, Vietnam
// time).
type PartnerUsage interface {
	Usage(ctx context.Context, partner, day string) (int64, error)
}

// Recorder appends to the audit log and returns once the entry is durable.
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// errAdminOnly refuses the administration pages to registrars and leaders.
var errAdminOnly = fault.New(fault.Forbidden, "admin.only",
	"Chỉ quản trị viên hệ thống mới được dùng chức năng quản trị (đối tác, chính sách chia sẻ dữ liệu, ứng dụng OpenID).",
	"Only system administrators may use the administration pages (partners, data-sharing policies, OpenID clients).")

// mountAdmin registers the administration pages.
func (u *UI) mountAdmin(s func(string, handler)) {
	a := func(pattern string, fn handler) { s(pattern, u.adminOnly(fn)) }
	// Staff pages are a province administrator's too (in its province);
	// the rest is the platform's, national administrators only.
	sa := func(pattern string, fn handler) { s(pattern, u.staffAdmin(fn)) }
	sa("GET /admin", u.adminIndex)
	a("GET /admin/clients", u.clientList)
	a("GET /admin/clients/new", u.clientNew)
	a("POST /admin/clients", u.clientCreate)
	a("GET /admin/clients/{id}", u.clientEdit)
	a("POST /admin/clients/{id}", u.clientUpdate)
	a("POST /admin/clients/{id}/secret", u.clientRotate)
	a("POST /admin/clients/{id}/disable", u.clientDisable(true))
	a("POST /admin/clients/{id}/enable", u.clientDisable(false))
	sa("GET /admin/staff", u.staffList)
	sa("GET /admin/staff/new", u.staffNew)
	sa("POST /admin/staff", u.staffCreate)
	sa("POST /admin/staff/{username}/unlock", u.staffUnlock)
	sa("POST /admin/staff/{username}/disable", u.staffSetDisabled(true))
	sa("POST /admin/staff/{username}/enable", u.staffSetDisabled(false))
	sa("POST /admin/staff/{username}/reset", u.staffReset)
	if u.admin.Partners == nil {
		return
	}
	a("GET /admin/partners", u.partnerList)
	a("GET /admin/partners/new", u.partnerNew)
	a("POST /admin/partners", u.partnerCreate)
	a("GET /admin/partners/{id}", u.partnerShow)
	a("POST /admin/partners/{id}/disable", u.partnerDisable(true))
	a("POST /admin/partners/{id}/enable", u.partnerDisable(false))
	a("GET /admin/partners/{id}/policy", u.policyEdit)
	a("POST /admin/partners/{id}/policy", u.policySave)
	a("GET /admin/partners/{id}/systems/new", u.systemNew)
	a("POST /admin/partners/{id}/systems", u.systemCreate)
	a("POST /admin/partners/{id}/systems/{client}/disable", u.systemDisable(true))
	a("POST /admin/partners/{id}/systems/{client}/enable", u.systemDisable(false))
}

// staffAdmin lets administrators who manage staff through: national and
// province administrators (actor.ManageStaff).
func (u *UI) staffAdmin(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		if !actorOf(s).Can(actor.ManageStaff) {
			u.fail(w, r, errAdminOnly)
			return
		}
		next(w, r, s)
	}
}

// adminOnly lets national administrators through (actor.ManagePlatform).
func (u *UI) adminOnly(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		if !actorOf(s).Can(actor.ManagePlatform) {
			u.fail(w, r, errAdminOnly)
			return
		}
		next(w, r, s)
	}
}

// record writes an administrator's act to the audit chain. Subjects are
// partners and clients, never people.
func (u *UI) record(ctx context.Context, s staff.Session, action, subject, detail string) error {
	if u.admin.Audit == nil {
		return nil
	}
	return u.admin.Audit.Record(ctx, audit.Entry{Actor: actorOf(s).ID, Action: action, Subject: subject, Purpose: "administration", Detail: detail})
}

// Audit actions of the administration pages.
const (
	actPartnerCreated       = "partner.created"
	actPartnerPolicyChanged = "partner.policy_changed"
	actPartnerDisabled      = "partner.disabled"
	actPartnerEnabled       = "partner.enabled"
	actSystemAdded          = "partner.system_added"
	actSystemDisabled       = "partner.system_disabled"
	actSystemEnabled        = "partner.system_enabled"
	actClientRegistered     = "client.registered"
	actClientUpdated        = "client.updated"
	actClientSecretRotated  = "client.secret_rotated"
	actClientDisabled       = "client.disabled"
	actClientEnabled        = "client.enabled"
)

type adminIndexView struct {
	Partners bool
	Platform bool // a national administrator: partners and clients too
	Stay     bool // the partners' lodgings page is mounted (admin_stay.go)
}

func (u *UI) adminIndex(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "admin.title", "")
	v.Nav = "admin"
	v.Page = adminIndexView{Partners: u.admin.Partners != nil, Platform: actorOf(s).Can(actor.ManagePlatform), Stay: u.stay != nil}
	u.render(w, r, http.StatusOK, "admin-index", v)
}

// checkedValues are the values of a group of checkboxes, each once.
func (f *form) checkedValues(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range f.values[name] {
		v = strings.TrimSpace(v)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Has reports whether a checkbox or option with the value is chosen.
func (f *form) Has(name, value string) bool {
	for _, v := range f.values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// lines splits a textarea into its non-empty lines (commas separate too).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// addFault puts a message beside a form field and in the summary.
func addFault(v *view, field, vi, en string) {
	msg := vi
	if v.Lang == page.EN {
		msg = en
	}
	if v.Form != nil && v.Form.known[field] {
		v.Form.errs[field] = append(v.Form.errs[field], msg)
	} else {
		field = ""
	}
	v.Summary = append(v.Summary, summaryItem{Field: field, Message: msg})
}

// groupNumber writes n with dots between thousands, as Vietnamese does
// (English: commas).
func groupNumber(l string, n int64) string {
	sep := "."
	if l == page.EN {
		sep = ","
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
