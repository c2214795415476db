package stay_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// failingAudit refuses every entry, as an audit log that cannot write.
type failingAudit struct{}

func (failingAudit) RecordAll(context.Context, []audit.Entry) error {
	return errors.New("audit log unavailable")
}

// TestNotifyAuditAndEvents on SQLite and PostgreSQL: what a report leaves
// behind is exactly what it stored. Each citizen stored has one stay.notify
// entry naming the host and the reference; a refused guest and a
// duplicate have none. The stored guests are announced once on the stream
// (dancu.stay.arrived; the late one again on dancu.stay.late_report), the
// departure on dancu.stay.departed, with no name or passport number in
// any body. An audit log that cannot write stores nothing.
func TestNotifyAuditAndEvents(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			env := apptest.Start(t, d, 20)
			s := env.App.Stay
			ps := people(t, env, 3)
			h := stay.Host{ID: "ks-song-hong", Kind: stay.Hotel, Name: "Khách sạn Sông Hồng", PartnerID: "ks", Province: "01", Commune: "00004"}
			if err := s.AddHost(ctx, h); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			got := map[string][]events.StayEvent{}
			var raw []string
			done, err := events.Consume(ctx, env.App.Bus, events.Consumer{Name: "stay-test", Handles: []events.Topic{events.StayArrived, events.StayLate, events.StayDeparted}, Batch: 10},
				env.App.Log, func(_ context.Context, batch []events.Msg) error {
					mu.Lock()
					defer mu.Unlock()
					for _, m := range batch {
						for _, sub := range []events.Subject[events.StayEvent]{events.StayArrived, events.StayLate, events.StayDeparted} {
							if ev, ok := events.Decode(sub, m); ok {
								got[sub.String()] = append(got[sub.String()], ev)
								raw = append(raw, string(m.Data))
							}
						}
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			guests := []stay.Guest{
				{Ref: "r1", PIN: ps[0].pin, FullName: ps[0].name, Arrival: now.Add(-time.Second)},
				{Ref: "r2", PIN: ps[1].pin, FullName: "Không Phải Tên", Arrival: now.Add(-time.Second)},
				{Ref: "r3", Passport: "C7654321", Nationality: "fr", FullName: "Marie Curie", BirthDate: "1990-05-06", Arrival: now.Add(-49 * time.Hour)},
			}
			for range 2 { // the second time: duplicates and the same refusal
				if _, err := s.Notify(ctx, "partner:ks", h, guests); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Depart(ctx, h, []stay.Departure{{Ref: "r3", At: now}}); err != nil {
				t.Fatal(err)
			}
			count := func(subject string) int {
				mu.Lock()
				defer mu.Unlock()
				return len(got[subject])
			}
			deadline := time.Now().Add(20 * time.Second)
			for count(events.StayArrived.String()) < 1 || count(events.StayLate.String()) < 1 || count(events.StayDeparted.String()) < 1 {
				if time.Now().After(deadline) {
					t.Fatalf("events: %v", got)
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // room for a wrong second announcement
			mu.Lock()
			arrived, late, left := got[events.StayArrived.String()], got[events.StayLate.String()], got[events.StayDeparted.String()]
			mu.Unlock()
			if len(arrived) != 1 || len(late) != 1 || len(left) != 1 {
				t.Fatalf("announced %d arrivals, %d late reports, %d departures; want one each (the duplicates announce nothing)", len(arrived), len(late), len(left))
			}
			a := arrived[0]
			if a.Host != h.ID || a.Commune != "00004" || a.HostKind != stay.Hotel || len(a.Guests) != 2 {
				t.Fatalf("arrival event %+v", a)
			}
			g1, g3 := a.Guests[0], a.Guests[1]
			if g1.Ref != "r1" || g1.PIN != ps[0].pin || g1.Late || g1.Arrival == nil || g1.Due == nil {
				t.Errorf("citizen in the event: %+v", g1)
			}
			if g3.Ref != "r3" || g3.PIN != "" || g3.Nationality != "FR" || !g3.Late {
				t.Errorf("foreigner in the event: %+v", g3)
			}
			if len(late[0].Guests) != 1 || late[0].Guests[0].Ref != "r3" {
				t.Errorf("late report event: %+v", late[0])
			}
			if len(left[0].Guests) != 1 || left[0].Guests[0].Ref != "r3" || left[0].Guests[0].Departure == nil {
				t.Errorf("departure event: %+v", left[0])
			}
			for _, body := range raw {
				for _, secret := range []string{ps[0].name, "Marie", "C7654321", "full_name", "passport"} {
					if strings.Contains(body, secret) {
						t.Errorf("an event body carries %q: %s", secret, body)
					}
				}
			}
			notified := func(pin string) []audit.Entry {
				es, err := env.App.Audit.BySubject(ctx, "person:"+pin, 50)
				if err != nil {
					t.Fatal(err)
				}
				return slices.DeleteFunc(es, func(e audit.Entry) bool { return e.Action != "stay.notify" })
			}
			if es := notified(ps[0].pin); len(es) != 1 || es[0].Detail != "host ks-song-hong ref r1" || es[0].Actor != "partner:ks" {
				t.Errorf("stay.notify entries of the stored citizen: %+v (want one, naming host and reference)", es)
			}
			if es := notified(ps[1].pin); len(es) != 0 {
				t.Errorf("a refused guest has stay.notify entries: %+v", es)
			}

			// An audit log that cannot write: nothing stored, nothing announced.
			broken := stay.New(env.App.DB, env.App.Registry, failingAudit{}, nil)
			if _, err := broken.Notify(ctx, "partner:ks", h, []stay.Guest{{Ref: "r9", PIN: ps[2].pin, FullName: ps[2].name, Arrival: now}}); err == nil {
				t.Fatal("a report without its audit entries succeeded")
			}
			var n int
			if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM stay_guests WHERE host_id = $1 AND ref = 'r9'`, h.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("a report whose audit failed stored %d rows (%v)", n, err)
			}
			time.Sleep(300 * time.Millisecond)
			if n := count(events.StayArrived.String()); n != 1 {
				t.Errorf("a report whose audit failed was announced (%d arrival events)", n)
			}
			cancel()
			<-done
		})
	}
}
