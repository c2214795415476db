package stay_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func vn(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, civildate.Location())
}

// TestDue: before 23:00 the report is due at 23:00 the same day; at or
// after 23:00, by 08:00 the next day (Vietnam time, whatever the zone of
// the input).
func TestDue(t *testing.T) {
	for _, c := range []struct{ arrival, due time.Time }{
		{vn(2026, 3, 1, 0, 5), vn(2026, 3, 1, 23, 0)},
		{vn(2026, 3, 1, 22, 59), vn(2026, 3, 1, 23, 0)},
		{vn(2026, 3, 1, 23, 0), vn(2026, 3, 2, 8, 0)},
		{vn(2026, 12, 31, 23, 30), vn(2027, 1, 1, 8, 0)},
		{time.Date(2026, 3, 1, 16, 30, 0, 0, time.UTC), vn(2026, 3, 2, 8, 0)}, // 23:30 in Hà Nội
	} {
		if got := stay.Due(c.arrival); !got.Equal(c.due) {
			t.Errorf("Due(%v) = %v, want %v", c.arrival, got, c.due)
		}
	}
}

type guestPerson struct{ pin, name, province, commune string }

func people(t *testing.T, env *apptest.Env, n int) []guestPerson {
	t.Helper()
	rows, err := env.App.DB.R.Query(`SELECT pin, full_name, perm_province, perm_commune FROM persons WHERE status = 'alive' ORDER BY pin LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []guestPerson
	for rows.Next() {
		var p guestPerson
		if err := rows.Scan(&p.pin, &p.name, &p.province, &p.commune); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) < n {
		t.Fatalf("only %d people", len(out))
	}
	return out
}

// TestNotify on SQLite and PostgreSQL: a hotel reports citizens (PIN with
// the register's name) and a foreigner; wrong names, bad fields and a
// reference repeated in one call are refused per guest with their field;
// a late report is stored and flagged; the same guest again is a duplicate
// and nothing is stored twice; a used reference for another guest is
// refused; a stay planned for 60 days offers temporary residence for the
// citizen; departures are recorded; the commune's registrar sees the
// guests, each one audited, and a leader or another commune is refused.
func TestNotify(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 60)
			s := env.App.Stay
			ps := people(t, env, 4)
			// The hotel is in a commune none of the first guests lives in.
			commune, province := "00004", "01"
			for _, p := range ps {
				if p.commune == commune {
					t.Skip("guest lives in the hotel's commune")
				}
			}
			h := stay.Host{ID: "ks-hoa-binh", Kind: stay.Hotel, Name: "Khách sạn Hoà Bình", PartnerID: "nganhang-a", Province: province, Commune: commune}
			if err := s.AddHost(ctx, h); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			guests := []stay.Guest{
				{Ref: "r1", PIN: ps[0].pin, FullName: ps[0].name, Arrival: now.Add(-time.Second)},
				{Ref: "r2", PIN: ps[1].pin, FullName: "Không Phải Tên", Arrival: now.Add(-time.Second)},
				{Ref: "r3", Passport: "C1234567", Nationality: "FR", FullName: "Marie Curie", BirthDate: "1990-05-06", Arrival: now.Add(-49 * time.Hour)},
				{Ref: "r4", Passport: "C1", Nationality: "F1", FullName: "X", BirthDate: "2099-01-01", Arrival: now.Add(time.Hour)},
				{Ref: "r5", PIN: ps[2].pin, FullName: ps[2].name, Arrival: now.Add(-time.Minute), Until: civildate.Of(now.AddDate(0, 0, 60)).String(), Reason: "công tác"},
				{Ref: "r1", PIN: ps[3].pin, FullName: ps[3].name, Arrival: now.Add(-time.Second)},
				{Ref: "r6", PIN: ps[3].pin, QR: "x", FullName: ps[3].name, Arrival: now},
			}
			out, err := s.Notify(ctx, "partner:nganhang-a", h, guests)
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				status string
				fields []string
			}{
				{stay.Accepted, nil},
				{stay.Refused, []string{"pin"}},
				{stay.Accepted, nil},
				{stay.Refused, []string{"passport", "nationality", "birth_date", "arrival"}},
				{stay.Accepted, nil},
				{stay.Refused, []string{"ref"}},
				{stay.Refused, []string{"pin"}},
			}
			for i, w := range want {
				o := out[i]
				if o.Status != w.status {
					t.Errorf("guest %d: %s %v, want %s", i, o.Status, o.Errors, w.status)
				}
				var fields []string
				for _, e := range o.Errors {
					fields = append(fields, e.Field)
					if e.Message == "" || e.Code == "" {
						t.Errorf("guest %d: fault without message: %+v", i, e)
					}
				}
				if len(fields) != len(w.fields) {
					t.Errorf("guest %d: fields %v, want %v", i, fields, w.fields)
				}
				for j := range fields {
					if j < len(w.fields) && fields[j] != w.fields[j] {
						t.Errorf("guest %d: fields %v, want %v", i, fields, w.fields)
					}
				}
			}
			if out[0].Late || !out[2].Late {
				t.Errorf("late flags: r1 %v, r3 %v; want false, true", out[0].Late, out[2].Late)
			}
			if out[0].Offer || !out[4].Offer || out[2].Offer {
				t.Errorf("offers: r1 %v r5 %v r3 %v; want only r5", out[0].Offer, out[4].Offer, out[2].Offer)
			}
			// The same guests again: duplicates, nothing new; r1 reused for another guest: refused.
			again, err := s.Notify(ctx, "partner:nganhang-a", h, []stay.Guest{guests[0], guests[2]})
			if err != nil {
				t.Fatal(err)
			}
			reused, err := s.Notify(ctx, "partner:nganhang-a", h, []stay.Guest{{Ref: "r1", PIN: ps[3].pin, FullName: ps[3].name, Arrival: now.Add(-time.Second)}})
			if err != nil {
				t.Fatal(err)
			}
			again = append(again, reused...)
			if again[0].Status != stay.Duplicate || again[1].Status != stay.Duplicate || again[2].Status != stay.Refused || again[2].Errors[0].Code != "stay.ref_reused" {
				t.Errorf("again: %+v", again)
			}
			var n int
			if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM stay_guests WHERE host_id = $1`, h.ID).Scan(&n); err != nil || n != 3 {
				t.Errorf("stored %d guests (%v), want 3", n, err)
			}
			offers, err := s.Offers(ctx, ps[2].pin)
			if err != nil || len(offers) != 1 || offers[0].Commune != commune {
				t.Errorf("offers of r5's guest: %+v %v", offers, err)
			}
			deps, err := s.Depart(ctx, h, []stay.Departure{{Ref: "r3", At: now}, {Ref: "nope", At: now}, {Ref: "r1", At: now.Add(-time.Hour)}})
			if err != nil {
				t.Fatal(err)
			}
			if deps[0].Status != stay.Accepted || deps[1].Errors[0].Code != "stay.unknown_guest" || deps[2].Errors[0].Code != "stay.departed_at" {
				t.Errorf("departures: %+v", deps)
			}

			police := actor.Actor{ID: "staff:cand.xa", Role: actor.Registrar, Unit: commune, Province: province}
			v, err := s.Unit(ctx, police, province, commune)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Current) != 2 || len(v.Late) != 1 || v.Late[0].Ref != "r3" || v.Current[0].HostName != h.Name {
				t.Errorf("view: current %d late %d: %+v", len(v.Current), len(v.Late), v)
			}
			es, err := env.App.Audit.BySubject(ctx, "person:"+ps[0].pin, 10)
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]bool{}
			for _, e := range es {
				actions[e.Action+" "+e.Actor] = true
			}
			if !actions["stay.notify partner:nganhang-a"] || !actions["stay.read staff:cand.xa"] {
				t.Errorf("audit of guest: %v", actions)
			}
			for _, a := range []actor.Actor{
				{ID: "staff:leader", Role: actor.Leader, Unit: commune, Province: province},
				{ID: "staff:other", Role: actor.Registrar, Unit: "00007", Province: province},
			} {
				if _, err := s.Unit(ctx, a, province, commune); err != stay.ErrScope {
					t.Errorf("%s read the unit: %v", a.ID, err)
				}
			}
			// r1's guest has stayed 31 days without a planned end: the daily
			// sweep offers temporary residence once; the foreigner gets none.
			if _, err := env.App.DB.W.Exec(`UPDATE stay_guests SET arrival = arrival - 31*86400 WHERE host_id = $1 AND ref IN ('r1', 'r3')`, h.ID); err != nil {
				t.Fatal(err)
			}
			for i, want := range []int{1, 0} {
				if n, err := s.SweepOffers(ctx); err != nil || n != want {
					t.Errorf("sweep %d: %d offers (%v), want %d", i, n, err, want)
				}
			}
			if offers, err := s.Offers(ctx, ps[0].pin); err != nil || len(offers) != 1 || offers[0].To.Time().Sub(offers[0].From.Time()) < 700*24*time.Hour {
				t.Errorf("offers of r1's guest: %+v %v", offers, err)
			}
			if v, err := s.Unit(ctx, police, province, commune); err != nil || len(v.Long) != 1 || v.Long[0].Ref != "r1" || v.Long[0].Days < 30 {
				t.Errorf("long stays: %+v %v", v.Long, err)
			}
			// A property is its partner's, inside the policy's scope.
			if _, err := s.PartnerHost(ctx, "nganhang-a", "", h.ID); err != nil {
				t.Errorf("own property: %v", err)
			}
			for _, c := range []struct{ partner, scope, id string }{{"bhxh", "", h.ID}, {"nganhang-a", "79", h.ID}, {"nganhang-a", "", "none"}} {
				if _, err := s.PartnerHost(ctx, c.partner, c.scope, c.id); err != stay.ErrHost {
					t.Errorf("PartnerHost(%v) = %v, want stay.host", c, err)
				}
			}
		})
	}
}

// TestNotifyQR: a guest named by the card's QR text is checked like a PIN
// (the QR's PIN with the register's name), and a QR naming someone else
// than the register's holder of its PIN is refused.
func TestNotifyQR(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			env := apptest.Start(t, d, 20)
			var p guestPerson
			var birth, sex string
			if err := env.App.DB.R.QueryRow(`SELECT pin, full_name, birth_date, sex FROM persons WHERE status = 'alive' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).
				Scan(&p.pin, &p.name, &birth, &sex); err != nil {
				t.Fatal(err)
			}
			b, _ := civildate.Parse(birth)
			text := func(name string) string {
				s, err := qr.Format(qr.Payload{PIN: pin.PIN(p.pin), Name: name, Birth: b, Sex: sex[0], Address: "Hà Nội", Issue: civildate.Date{Year: 2024, Month: 1, Day: 2}})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			h := stay.Host{ID: "nha-nghi", Kind: stay.Hotel, Name: "Nhà nghỉ", PartnerID: "p", Province: "01", Commune: "00004"}
			if err := env.App.Stay.AddHost(ctx, h); err != nil {
				t.Fatal(err)
			}
			out, err := env.App.Stay.Notify(ctx, "partner:p", h, []stay.Guest{
				{Ref: "q1", QR: text(p.name), Arrival: time.Now()},
				{Ref: "q2", QR: text("Người Khác Hẳn"), Arrival: time.Now()},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Status != stay.Accepted || out[1].Status != stay.Refused || out[1].Errors[0].Code != "stay.not_in_register" {
				t.Errorf("QR guests: %+v", out)
			}
		})
	}
}
