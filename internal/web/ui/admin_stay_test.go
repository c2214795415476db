package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/page/pagetest"
)

// TestStayPropertiesPage on SQLite and PostgreSQL: a national
// administrator finds the lodgings page from the administration's index,
// chooses Hà Nội, registers a hotel in Phường Ba Đình for the partner whose
// policy allows stay notifications (a bank without the operation is not
// offered), and sees it listed by names — kind, partner, commune; a
// missing name and a commune outside the partner's scope are shown next
// to their fields in Vietnamese and store nothing; a registrar may not
// open the page. The partner may then report for the hotel.
func TestStayPropertiesPage(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 20)
			ctx := t.Context()
			if _, err := env.App.Partners.AddPartner(ctx, exchange.Partner{ID: "ks-hn", Name: "Công ty Khách sạn Thủ Đô", Kind: exchange.KindOther,
				Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpStay}, Scope: "01"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.App.Partners.AddPartner(ctx, exchange.Partner{ID: "nh-x", Name: "Ngân hàng Không Lưu Trú", Kind: exchange.KindBank,
				Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"pin"}}}); err != nil {
				t.Fatal(err)
			}
			c := signInStaff(t, env, "admin")
			if p := c.do(http.MethodGet, "/admin", nil); !strings.Contains(p.body, `id="link-stay-properties"`) {
				t.Fatalf("no link to the lodgings page on the administration's index")
			}
			p := c.do(http.MethodGet, "/admin/stay-properties", nil)
			if p.status != http.StatusOK || !strings.Contains(p.body, "Chưa có cơ sở nào") {
				t.Fatalf("empty list: %d", p.status)
			}
			p = c.do(http.MethodGet, "/admin/stay-properties?province=01", nil)
			if !strings.Contains(p.body, "Công ty Khách sạn Thủ Đô") || strings.Contains(p.body, "Ngân hàng Không Lưu Trú") || !strings.Contains(p.body, "Phường Ba Đình") {
				t.Fatalf("the form offers the wrong partners or no communes:\n%s", p.body)
			}
			csrf := c.token(p)
			form := func(name, commune, province string) url.Values {
				return url.Values{"csrf": {csrf}, "province": {province}, "property_name": {name}, "property_kind": {"hotel"}, "property_partner": {"ks-hn"},
					"property_commune": {commune}, "property_address": {"12 Phan Đình Phùng"}, "property_id": {"ks-thu-do-1"}}
			}
			bad := c.do(http.MethodPost, "/admin/stay-properties", form("", "00004", "01"))
			if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "Thiếu tên cơ sở") {
				t.Fatalf("missing name: %d", bad.status)
			}
			out := c.do(http.MethodPost, "/admin/stay-properties", form("Khách sạn Đà Nẵng", "20194", "48"))
			if out.status != http.StatusUnprocessableEntity || !strings.Contains(out.body, "nằm ngoài địa bàn") {
				t.Fatalf("commune outside the scope: %d", out.status)
			}
			ok := c.do(http.MethodPost, "/admin/stay-properties", form("Khách sạn Thủ Đô", "00004", "01"))
			if ok.status != http.StatusSeeOther {
				t.Fatalf("register: %d\n%s", ok.status, ok.body)
			}
			list := c.do(http.MethodGet, "/admin/stay-properties?done=ks-thu-do-1", nil)
			pagetest.SpeaksToPeople(t, "lodgings", list.body, "Khách sạn Thủ Đô", "Khách sạn, nhà nghỉ", "Công ty Khách sạn Thủ Đô", "Phường Ba Đình", "Đã đăng ký cơ sở")
			if strings.Contains(list.body, "Khách sạn Đà Nẵng") {
				t.Errorf("a refused lodging is listed")
			}
			if _, err := env.App.Stay.PartnerHost(ctx, "ks-hn", "01", "ks-thu-do-1"); err != nil {
				t.Errorf("the partner's own lodging: %v", err)
			}
			ps, err := env.App.Stay.Properties(ctx, actor.SystemActor("cli"), "")
			if err != nil || len(ps) != 1 {
				t.Errorf("stored lodgings %+v (%v), want the one", ps, err)
			}
			if p := signInStaff(t, env, "dangky.hanoi").do(http.MethodGet, "/admin/stay-properties", nil); p.status != http.StatusForbidden {
				t.Errorf("a registrar opens the lodgings page: %d", p.status)
			}
		})
	}
}
