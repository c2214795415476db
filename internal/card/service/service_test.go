package service_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

const (
	baDinh  = "00004"
	hcm     = "26740"
	provHN  = "01"
	provHCM = "79"
)

var (
	registrarBaDinh = actor.Actor{ID: "staff:badinh", Role: actor.Registrar, Unit: baDinh, Province: provHN}
	registrarHCM    = actor.Actor{ID: "staff:hcm", Role: actor.Registrar, Unit: provHCM, Province: provHCM}
	leaderHN        = actor.Actor{ID: "staff:leader", Role: actor.Leader, Unit: provHN, Province: provHN}
)

type fixture struct {
	db                 *storage.DB
	reg                *registry.Service
	svc                *service.Service
	pkiDir             string
	adult, teen, child string
}

func migrations() []storage.Migrations {
	return []storage.Migrations{audit.Migrations(), registry.Migrations(), service.Migrations()}
}

// pkiOptions date the CSCA and signers ten days before the test's today,
// inside a document signer's 90-day key usage period.
var pkiOptions = pki.Options{Now: func() time.Time { return today.AddDate(0, 0, -10) }}

func setup(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return today }
	log := audit.NewLog(db, now, slog.New(slog.NewTextHandler(t.Output(), nil)))
	t.Cleanup(log.Close)
	f := &fixture{db: db, reg: registry.NewService(db, units, log, now), pkiDir: t.TempDir()}
	if _, err := pkiOptions.Init(f.pkiDir); err != nil {
		t.Fatal(err)
	}
	f.svc = service.New(db, f.reg, log, f.pkiDir, now)
	l, err := registry.NewLoader(ctx, db, log, actor.SystemActor("test"), today)
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(prov string, year int, sex byte) string {
		p, err := l.AllocatePIN(prov, year, sex)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.adult, f.teen, f.child = alloc("001", 1980, 'M'), alloc("001", 2015, 'F'), alloc("001", 2023, 'M')
	home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh, Detail: "Số 5 phố Quán Thánh"}
	if err := l.Household(ctx, registry.Household{ID: "HH-1", HeadPIN: f.adult, Address: home}); err != nil {
		t.Fatal(err)
	}
	d := func(s string) civildate.Date { v, _ := civildate.Parse(s); return v }
	for _, p := range []registry.Person{
		{PIN: f.adult, FullName: "Nguyễn Văn Đạt", BirthDate: d("1980-03-12"), Sex: "M", Ethnicity: "01", Nationality: "VNM", Permanent: home, HouseholdID: "HH-1", Relation: registry.RelHead},
		{PIN: f.teen, FullName: "Nguyễn Thị Mai", BirthDate: d("2015-07-01"), Sex: "F", Ethnicity: "01", Nationality: "VNM", Permanent: home, HouseholdID: "HH-1", Relation: registry.RelChild},
		{PIN: f.child, FullName: "Nguyễn Đức Bảo", BirthDate: d("2023-01-20"), Sex: "M", Ethnicity: "01", Nationality: "VNM", Permanent: home, HouseholdID: "HH-1", Relation: registry.RelChild},
	} {
		if err := l.Person(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func code(err error) string {
	var out []string
	for _, f := range fault.Faults(err) {
		out = append(out, f.Code)
	}
	return strings.Join(out, ",")
}

func count(t *testing.T, db *storage.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// issued runs a card from application to hand-over.
func (f *fixture) issued(t *testing.T, pinText string) service.Card {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.Apply(ctx, registrarBaDinh, pinText)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, actor.Actor, string) (service.Card, error){f.svc.Approve, f.svc.Produce, f.svc.HandOver} {
		if c, err = step(ctx, registrarBaDinh, c.Serial); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func check(rep *service.Report, code string) service.CheckView {
	for _, c := range rep.Checks {
		if c.Code == code {
			return c
		}
	}
	return service.CheckView{}
}

func TestLifecycle(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c, err := f.svc.Apply(ctx, registrarBaDinh, f.adult)
		if err != nil || c.Status != service.Applied || c.Version != 1 {
			t.Fatalf("apply: %+v %v", c, err)
		}
		if _, err := f.svc.Apply(ctx, registrarBaDinh, f.adult); !errors.Is(err, service.ErrOpenApplication) {
			t.Fatalf("second application: %v", err)
		}
		if _, err := f.svc.Produce(ctx, registrarBaDinh, c.Serial); !errors.Is(err, service.ErrTransition) {
			t.Fatalf("produce before approval: %v", err)
		}
		if c, err = f.svc.Approve(ctx, registrarBaDinh, c.Serial); err != nil || c.Status != service.Approved {
			t.Fatalf("approve: %+v %v", c, err)
		}
		if c, err = f.svc.Produce(ctx, registrarBaDinh, c.Serial); err != nil {
			t.Fatal(err)
		}
		// Born 1980, issued 2026 at 46: the next threshold is 60 (Art. 21).
		if c.Status != service.Produced || c.IssueDate != "2026-05-04" || c.ExpiryDate != "2040-03-12" || c.SignerSerial == "" || c.MRZ == "" || c.PhotoRef == "" {
			t.Fatalf("produced card: %+v", c)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox WHERE subject = 'dancu.card.issued'`); n != 1 {
			t.Fatalf("issued events: %d", n)
		}
		chip, err := f.svc.Chip(ctx, registrarBaDinh, c.Serial)
		if err != nil || len(chip.DataGroups) < 4 || len(chip.SOD) == 0 {
			t.Fatalf("chip: %v %d", err, len(chip.DataGroups))
		}
		rep, err := f.svc.Verify(ctx, &registrarBaDinh, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
		if err != nil || !rep.OK || !rep.Compared || check(rep, "compare").Status != "pass" || check(rep, "card.register").Status != "pass" {
			t.Fatalf("verify fresh card: %v %+v", err, rep)
		}
		// Rendered images: each one an audited read of the holder's record.
		for kind, magic := range map[string]string{service.RenderFront: "\x89PNG", service.RenderBack: "\x89PNG", service.RenderPreview: "%PDF-1.4"} {
			b, err := f.svc.Render(ctx, registrarBaDinh, c.Serial, kind)
			if err != nil || !bytes.HasPrefix(b, []byte(magic)) {
				t.Fatalf("render %s: %v", kind, err)
			}
			if n := count(t, db, `SELECT count(*) FROM audit_log WHERE purpose = $1 AND subject = $2`, "card-"+kind, "person:"+f.adult); n != 1 {
				t.Fatalf("render %s: %d audited reads", kind, n)
			}
		}
		if _, err := f.svc.Render(ctx, registrarBaDinh, c.Serial, "mrz"); !errors.Is(err, service.ErrRenderKind) {
			t.Fatalf("render unknown kind: %v", err)
		}
		if c, err = f.svc.HandOver(ctx, registrarBaDinh, c.Serial); err != nil || c.Status != service.HandedOver {
			t.Fatalf("hand over: %v", err)
		}
		if _, err := f.svc.Apply(ctx, registrarBaDinh, f.adult); !errors.Is(err, service.ErrActiveCard) {
			t.Fatalf("application beside a valid card: %v", err)
		}
		if c, err = f.svc.ReportLost(ctx, registrarBaDinh, c.Serial); err != nil || c.Status != service.Lost {
			t.Fatalf("report lost: %v", err)
		}
		rep, _ = f.svc.Verify(ctx, nil, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
		if rep.OK || check(rep, "card.revoked").Status != "fail" || check(rep, "card.register").Message != "Thẻ đã bị báo mất." || rep.Compared {
			t.Fatalf("verify lost card: %+v", rep)
		}
		fresh, err := f.svc.Reissue(ctx, registrarBaDinh, c.Serial)
		if err != nil || fresh.Replaces != c.Serial || fresh.Status != service.Applied {
			t.Fatalf("reissue: %+v %v", fresh, err)
		}
		for _, step := range []func(context.Context, actor.Actor, string) (service.Card, error){f.svc.Approve, f.svc.Produce} {
			if fresh, err = step(ctx, registrarBaDinh, fresh.Serial); err != nil {
				t.Fatal(err)
			}
		}
		chip2, _ := f.svc.Chip(ctx, registrarBaDinh, fresh.Serial)
		// Same PIN, same card number: the new card verifies, the old does not.
		if rep, _ = f.svc.Verify(ctx, &registrarBaDinh, service.VerifyInput{DataGroups: chip2.DataGroups, SOD: chip2.SOD}); !rep.OK {
			t.Fatalf("verify reissued card: %+v", rep)
		}
		if rep, _ = f.svc.Verify(ctx, nil, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD}); rep.OK || rep.CardStatus != service.Replaced {
			t.Fatalf("verify replaced card: %+v", rep)
		}
		cards, hist, err := f.svc.Cards(ctx, registrarBaDinh, f.adult)
		if err != nil || len(cards) != 2 || len(hist) != 9 { // 6 steps of the first card, 3 of the second
			t.Fatalf("history: %d cards, %d entries, %v", len(cards), len(hist), err)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox WHERE subject = 'dancu.card.revoked'`); n != 2 { // lost, replaced
			t.Fatalf("revoked events: %d", n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action LIKE 'card.%' AND subject = $1`, "person:"+f.adult); n != 9 {
			t.Fatalf("card audit entries: %d", n)
		}
	})
}

func TestRevokeAndRules(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c := f.issued(t, f.adult)
		for _, tc := range []struct {
			name string
			run  func() error
			want string
		}{
			{"bad reason", func() error { _, err := f.svc.Revoke(ctx, registrarBaDinh, c.Serial, "boredom"); return err }, "card.reason"},
			{"unknown card", func() error { _, err := f.svc.Approve(ctx, registrarBaDinh, "NOPE"); return err }, "card.not_found"},
			{"out of scope", func() error { _, err := f.svc.Revoke(ctx, registrarHCM, c.Serial, service.ReasonLoss); return err }, "out_of_scope"},
			{"leader may not", func() error { _, err := f.svc.Apply(ctx, leaderHN, f.teen); return err }, "forbidden"},
			{"hand over twice", func() error { _, err := f.svc.HandOver(ctx, registrarBaDinh, c.Serial); return err }, "card.bad_transition"},
			{"bad pin", func() error { _, err := f.svc.Apply(ctx, registrarBaDinh, "12345"); return err }, "pin."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := count(t, db, `SELECT count(*) FROM card_history`)
				if err := tc.run(); err == nil || !strings.Contains(code(err), tc.want) {
					t.Fatalf("got %v, want %s", err, tc.want)
				}
				if after := count(t, db, `SELECT count(*) FROM card_history`); after != before {
					t.Fatal("a refused step wrote history")
				}
			})
		}
		r, err := f.svc.Revoke(ctx, registrarBaDinh, c.Serial, service.ReasonDeath)
		if err != nil || r.Status != service.Revoked || r.Reason != service.ReasonDeath {
			t.Fatalf("revoke: %+v %v", r, err)
		}
		chip, _ := f.svc.Chip(ctx, registrarBaDinh, c.Serial)
		rep, _ := f.svc.Verify(ctx, nil, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD})
		if rep.OK || !strings.HasPrefix(check(rep, "card.register").Message, "Thẻ đã bị thu hồi") || !strings.HasPrefix(check(rep, "card.revoked").Message, "Thẻ đã bị thu hồi") {
			t.Fatalf("revoked card: %+v", rep)
		}
		// Children: optional under 14, possible from birth; under 6 no photo.
		kid := f.issued(t, f.child)
		if kid.PhotoRef != "" || kid.FingerprintRef == "" {
			t.Fatalf("child card: %+v", kid)
		}
		// Death revokes every card still in force, once; a malformed event
		// is dropped.
		for _, msg := range []string{"{", `{"pin": "1"}`, `{"event_id": "x"}`} {
			if n, err := f.svc.HandleDeath(ctx, []byte(msg)); n != 0 || err != nil {
				t.Fatalf("malformed death event %q: %d %v", msg, n, err)
			}
		}
		f.issued(t, f.teen)
		for want := range []int{1, 0} {
			n, err := f.svc.RevokeForDeath(ctx, f.teen)
			if err != nil || n != 1-want {
				t.Fatalf("revoke for death: %d %v", n, err)
			}
		}
	})
}

func TestVerifyBadInput(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		c := f.issued(t, f.adult)
		chip, err := f.svc.Chip(ctx, registrarBaDinh, c.Serial)
		if err != nil {
			t.Fatal(err)
		}
		// A card signed by a signer of another CSCA.
		otherDir := t.TempDir()
		if _, err := pkiOptions.Init(otherDir); err != nil {
			t.Fatal(err)
		}
		other := service.New(db, f.reg, audit.NewLog(db, time.Now, slog.New(slog.DiscardHandler)), otherDir, func() time.Time { return today })
		c2, _ := other.Apply(ctx, registrarBaDinh, f.teen)
		other.Approve(ctx, registrarBaDinh, c2.Serial)
		c2, err = other.Produce(ctx, registrarBaDinh, c2.Serial)
		if err != nil {
			t.Fatal(err)
		}
		foreign, _ := other.Chip(ctx, registrarBaDinh, c2.Serial)

		dgs := func(edit func(m map[int][]byte)) map[int][]byte {
			m := map[int][]byte{}
			for k, v := range chip.DataGroups {
				m[k] = v
			}
			edit(m)
			return m
		}
		for _, tc := range []struct {
			name     string
			in       service.VerifyInput
			wantErr  string
			wantFail string
		}{
			{"nothing", service.VerifyInput{}, "card.verify.input", ""},
			{"both", service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD, QR: c.QR}, "card.verify.input", ""},
			{"no sod", service.VerifyInput{DataGroups: chip.DataGroups}, "card.chip.invalid", ""},
			{"dg 0", service.VerifyInput{DataGroups: dgs(func(m map[int][]byte) { m[0] = []byte{1} }), SOD: chip.SOD}, "card.chip.invalid", ""},
			{"empty dg", service.VerifyInput{DataGroups: dgs(func(m map[int][]byte) { m[13] = nil }), SOD: chip.SOD}, "card.chip.invalid", ""},
			{"truncated dg13", service.VerifyInput{DataGroups: dgs(func(m map[int][]byte) { m[13] = m[13][:len(m[13])/2] }), SOD: chip.SOD}, "", "dg13.hash"},
			{"swapped dg1 dg13", service.VerifyInput{DataGroups: dgs(func(m map[int][]byte) { m[1], m[13] = m[13], m[1] }), SOD: chip.SOD}, "", "dg1.hash"},
			{"truncated sod", service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD[:len(chip.SOD)-7]}, "", "sod.parse"},
			{"unknown signer", service.VerifyInput{DataGroups: foreign.DataGroups, SOD: foreign.SOD}, "", "ds.chain"},
			{"bad qr", service.VerifyInput{QR: "khong|phai|qr"}, "", "qr.parse"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := count(t, db, `SELECT count(*) FROM card_history`) + count(t, db, `SELECT count(*) FROM outbox`)
				rep, err := f.svc.Verify(ctx, &registrarBaDinh, tc.in)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(code(err), tc.wantErr) {
						t.Fatalf("got %v, want %s", err, tc.wantErr)
					}
				} else if err != nil || rep.OK || check(rep, tc.wantFail).Status != "fail" {
					t.Fatalf("got %v %+v, want failed %s", err, rep, tc.wantFail)
				}
				if after := count(t, db, `SELECT count(*) FROM card_history`) + count(t, db, `SELECT count(*) FROM outbox`); after != before {
					t.Fatal("verification wrote something")
				}
			})
		}
		// QR: compared for staff, only parsed for the public.
		rep, err := f.svc.Verify(ctx, &registrarBaDinh, service.VerifyInput{QR: c.QR})
		if err != nil || !rep.OK || !rep.Compared || check(rep, "qr.unsigned").Status != "warn" {
			t.Fatalf("qr staff: %v %+v", err, rep)
		}
		rep, err = f.svc.Verify(ctx, nil, service.VerifyInput{QR: c.QR})
		if err != nil || !rep.OK || rep.Compared || check(rep, "compare").Status != "skip" || check(rep, "card.register").Status != "pass" {
			t.Fatalf("qr public: %v %+v", err, rep)
		}
	})
}

// TestRotateSigner: cards signed before a rotation still verify; new cards
// carry the new signer.
func TestRotateSigner(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		old := f.issued(t, f.adult)
		if _, err := pkiOptions.RotateSigner(f.pkiDir); err != nil {
			t.Fatal(err)
		}
		fresh := f.issued(t, f.teen)
		if fresh.SignerSerial == old.SignerSerial {
			t.Fatal("new card signed by the old signer")
		}
		for _, c := range []service.Card{old, fresh} {
			chip, _ := f.svc.Chip(ctx, registrarBaDinh, c.Serial)
			if rep, err := f.svc.Verify(ctx, nil, service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD}); err != nil || !rep.OK {
				t.Fatalf("verify %s: %v %+v", c.Serial, err, rep)
			}
		}
		if ml, err := f.svc.MasterList(); err != nil || len(ml) == 0 {
			t.Fatalf("master list: %v", err)
		}
		if crl, err := f.svc.CRL(); err != nil || len(crl) == 0 {
			t.Fatalf("crl: %v", err)
		}
	})
}

// TestSignerUsagePeriod: a document signer past its 90-day key usage period
// signs no more cards; after a rotation production resumes.
func TestSignerUsagePeriod(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := setup(t, db)
		ctx := context.Background()
		later := today.AddDate(0, 4, 0)
		log := audit.NewLog(db, time.Now, slog.New(slog.DiscardHandler))
		t.Cleanup(log.Close)
		svc := service.New(db, f.reg, log, f.pkiDir, func() time.Time { return later })
		c, err := svc.Apply(ctx, registrarBaDinh, f.adult)
		if err == nil {
			c, err = svc.Approve(ctx, registrarBaDinh, c.Serial)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Produce(ctx, registrarBaDinh, c.Serial); !errors.Is(err, service.ErrSignerExpired) {
			t.Fatalf("produce with an expired signer: %v", err)
		}
		if _, err := (pki.Options{Now: func() time.Time { return later }}).RotateSigner(f.pkiDir); err != nil {
			t.Fatal(err)
		}
		if c, err = svc.Produce(ctx, registrarBaDinh, c.Serial); err != nil || c.Status != service.Produced {
			t.Fatalf("produce after rotation: %+v %v", c, err)
		}
	})
}

// BenchmarkVerifyChip is a full chip verification through the service on
// SQLite: card lookup by SOD hash, trust store, passive authentication, no
// register comparison.
func BenchmarkVerifyChip(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	ctx := context.Background()
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return today }
	log := audit.NewLog(db, now, slog.New(slog.DiscardHandler))
	b.Cleanup(log.Close)
	reg := registry.NewService(db, units, log, now)
	dir := b.TempDir()
	if _, err := pkiOptions.Init(dir); err != nil {
		b.Fatal(err)
	}
	svc := service.New(db, reg, log, dir, now)
	l, _ := registry.NewLoader(ctx, db, log, actor.SystemActor("bench"), today)
	p, _ := l.AllocatePIN("001", 1980, 'M')
	home := registry.Address{ProvinceCode: provHN, CommuneCode: baDinh}
	l.Household(ctx, registry.Household{ID: "HH-B", HeadPIN: p, Address: home})
	bd, _ := civildate.Parse("1980-03-12")
	person := registry.Person{PIN: p, FullName: "Nguyễn Văn Đạt", BirthDate: bd, Sex: "M", Ethnicity: "01", Nationality: "VNM", Permanent: home, HouseholdID: "HH-B", Relation: registry.RelHead}
	l.Person(ctx, &person)
	if err := l.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	c, err := svc.Apply(ctx, registrarBaDinh, p)
	if err == nil {
		_, err = svc.Approve(ctx, registrarBaDinh, c.Serial)
	}
	if err == nil {
		_, err = svc.Produce(ctx, registrarBaDinh, c.Serial)
	}
	if err != nil {
		b.Fatal(err)
	}
	chip, _ := svc.Chip(ctx, registrarBaDinh, c.Serial)
	in := service.VerifyInput{DataGroups: chip.DataGroups, SOD: chip.SOD}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rep, err := svc.Verify(ctx, nil, in)
			if err != nil || !rep.OK {
				// Fatal would end only this goroutine (FailNow outside
				// the benchmark's own).
				b.Errorf("verify: %+v %v", rep, err)
				return
			}
		}
	})
}
