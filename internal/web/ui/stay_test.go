package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestStayPage on SQLite and PostgreSQL: Ba Đình's registrar sees the
// guests a hotel of the ward reported — names, the hotel's name, birth
// dates as dd/mm/yyyy, a foreigner's nationality by name, the late report
// in its own list — and each guest shown is audited to them; Hà Nội's
// registrar may read the ward, a leader and another province's ward are
// refused.
func TestStayPage(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 60)
			ctx := context.Background()
			h := stay.Host{ID: "ks-badinh", Kind: stay.Hotel, Name: "Khách sạn Ba Đình Xanh", PartnerID: "ks", Province: "01", Commune: "00004"}
			if err := env.App.Stay.AddHost(ctx, h); err != nil {
				t.Fatal(err)
			}
			var pin, name string
			if err := env.App.DB.R.QueryRow(`SELECT pin, full_name FROM persons WHERE status = 'alive' ORDER BY pin LIMIT 1`).Scan(&pin, &name); err != nil {
				t.Fatal(err)
			}
			out, err := env.App.Stay.Notify(ctx, "partner:ks", h, []stay.Guest{
				{Ref: "1", PIN: pin, FullName: name, Arrival: time.Now().Add(-time.Minute)},
				{Ref: "2", Passport: "P7654321", Nationality: "FRA", FullName: "Jeanne Dupont", BirthDate: "1985-07-14", Arrival: time.Now().Add(-50 * time.Hour)},
			})
			if err != nil || out[0].Status != stay.Accepted || out[1].Status != stay.Accepted {
				t.Fatalf("notify: %+v %v", out, err)
			}
			c := signInStaff(t, env, "dangky.badinh")
			p := c.do(http.MethodGet, "/stay", nil)
			if p.status != http.StatusOK {
				t.Fatalf("/stay: %d", p.status)
			}
			late := p.body[strings.Index(p.body, `id="stay-late"`):]
			late = late[:strings.Index(late, "</section>")]
			for _, want := range []string{name, "Jeanne Dupont", h.Name, "14/07/1985", "Pháp", "Khách đang lưu trú"} {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if !strings.Contains(late, "Jeanne Dupont") || strings.Contains(late, name) {
				t.Errorf("late list: %s", late)
			}
			es, err := env.App.Audit.BySubject(ctx, "person:"+pin, 10)
			if err != nil {
				t.Fatal(err)
			}
			read := false
			for _, e := range es {
				read = read || e.Action == "stay.read" && e.Actor == "staff:dangky.badinh"
			}
			if !read {
				t.Errorf("the read of %s is not audited: %+v", pin, es)
			}
			if p := signInStaff(t, env, "dangky.hanoi").do(http.MethodGet, "/stay?commune=00004", nil); p.status != http.StatusOK || !strings.Contains(p.body, "Jeanne Dupont") {
				t.Errorf("Hà Nội's registrar: %d", p.status)
			}
			for _, c := range []struct{ user, path string }{{"lanhdao.hanoi", "/stay?commune=00004"}, {"dangky.hanoi", "/stay?commune=26734"}, {"dangky.badinh", "/stay?commune=00007"}} {
				if p := signInStaff(t, env, c.user).do(http.MethodGet, c.path, nil); p.status != http.StatusForbidden || strings.Contains(p.body, "Jeanne") {
					t.Errorf("%s %s: %d", c.user, c.path, p.status)
				}
			}
		})
	}
}
