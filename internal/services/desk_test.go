package services_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// A minimal PDF and PNG, as a scanner would give them.
var (
	scanPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	scanPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	evilPDF = []byte("%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n")
)

type deskFixture struct {
	desk         *services.Desk
	svc          *services.Service
	env          *apptest.Env
	badinh       actor.Actor // registrar of Phường Ba Đình (00004, Hà Nội)
	motcua       actor.Actor // desk officer of Ba Đình
	other        actor.Actor // desk officer of another commune of Hà Nội
	leader       actor.Actor // Hà Nội's leader: no desk permission
	otherCommune string
}

func account(t testing.TB, st *staff.Store, username string) actor.Actor {
	t.Helper()
	acc, err := st.Get(context.Background(), actor.SystemActor("test"), username)
	if err != nil {
		t.Fatal(err)
	}
	return acc.Actor()
}

func newDeskFixture(t testing.TB, env *apptest.Env) *deskFixture {
	t.Helper()
	ctx := context.Background()
	a := env.App
	// Another commune of Hà Nội than Ba Đình.
	var other string
	for _, u := range a.Units.Communes("01", time.Now()) {
		if u.Code != "00004" {
			other = u.Code
			break
		}
	}
	for _, acc := range []staff.Account{
		{Username: "motcua.badinh", DisplayName: "Cán bộ một cửa Ba Đình", Role: actor.Desk, Unit: "00004", Province: "01"},
		{Username: "motcua.khac", DisplayName: "Cán bộ một cửa xã khác", Role: actor.Desk, Unit: other, Province: "01"},
	} {
		if err := a.Staff.Create(ctx, acc, apptest.Password); err != nil {
			t.Fatal(err)
		}
	}
	desk, err := services.NewDesk(a.Services, services.DeskDeps{
		Cards: func(ctx context.Context, p, serial string) (bool, error) { return serial == "CARD-"+p, nil },
		Officers: func(ctx context.Context) ([]actor.Actor, error) {
			accs, err := a.Staff.List(ctx)
			var out []actor.Actor
			for _, acc := range accs {
				out = append(out, acc.Actor())
			}
			return out, err
		},
		UnitName: func(code string) (string, bool) {
			if u, err := a.Units.Commune(code, time.Now()); err == nil && len(code) == 5 {
				return u.Name, true
			}
			if u, err := a.Units.Province(code, time.Now()); err == nil && len(code) == 2 {
				return u.Name, true
			}
			return "", false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &deskFixture{desk: desk, svc: a.Services, env: env, otherCommune: other,
		badinh: account(t, a.Staff, "dangky.badinh"), motcua: account(t, a.Staff, "motcua.badinh"),
		other: account(t, a.Staff, "motcua.khac"), leader: account(t, a.Staff, "lanhdao.hanoi")}
}

// citizen is a living adult of the register with a full date of birth.
func citizen(t testing.TB, env *apptest.Env, skip int) registry.Person {
	t.Helper()
	ctx := context.Background()
	rows, err := env.App.DB.R.QueryContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin`)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		pins = append(pins, p)
	}
	rows.Close()
	p, err := env.App.Registry.Get(ctx, actor.SystemActor("test"), pins[skip], "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cardQR is the text of the person's card QR code.
func cardQR(t testing.TB, p registry.Person, name string) string {
	t.Helper()
	s, err := qr.Format(qr.Payload{PIN: pin.PIN(p.PIN), Name: name, Birth: p.BirthDate, Sex: p.Sex[0], Address: "Hà Nội", Issue: civildate.Of(time.Now().AddDate(-1, 0, 0))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func code(err error) string {
	if f := fault.As(err); f != nil && err != nil {
		return f.Code
	}
	return ""
}

var birthForm = map[string]string{"relation": "father", "child_name": "Nguyễn Minh An", "child_birth_date": civildate.Of(time.Now().AddDate(0, 0, -10)).String(),
	"child_sex": "M", "birthplace": "Bệnh viện Phụ sản Hà Nội", "ethnicity": "Kinh"}

// TestDeskIntake: the officer identifies the citizen by the card's QR (or
// PIN and card serial), gets the form pre-filled from the register, and
// receives a paper dossier with channel desk and themselves as the
// receiving officer; each wrong identification and a form fault are
// refused with their code and write nothing; a second press answers the
// same dossier.
func TestDeskIntake(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 40)
			f := newDeskFixture(t, env)
			ctx := context.Background()
			p := citizen(t, env, 3)
			good := cardQR(t, p, p.FullName)

			_, who, vals, err := f.desk.IntakeForm(ctx, f.badinh, "HT.KS.01", services.Citizen{QR: good})
			if err != nil {
				t.Fatal(err)
			}
			if who.PIN != p.PIN || vals["declarant_name"] != p.FullName || vals["declarant_pin"] != p.PIN {
				t.Fatalf("pre-filled %v for %s", vals, p.FullName)
			}
			count := func() int {
				var n int
				env.App.DB.R.QueryRowContext(ctx, `SELECT count(*) FROM dossiers`).Scan(&n)
				return n
			}
			refused := []struct {
				name string
				by   actor.Actor
				c    services.Citizen
				proc string
				form map[string]string
				want string
			}{
				{"leader has no desk", f.leader, services.Citizen{QR: "nonsense"}, "HT.KS.01", birthForm, "services.forbidden"},
				{"QR of another name", f.badinh, services.Citizen{QR: cardQR(t, p, "Trần Văn Giả")}, "HT.KS.01", birthForm, "desk.qr_mismatch"},
				{"QR not a card's", f.badinh, services.Citizen{QR: "xin chào"}, "HT.KS.01", birthForm, "card.qr.field_count"},
				{"two identifications", f.badinh, services.Citizen{QR: good, PIN: p.PIN, Serial: "CARD-" + p.PIN}, "HT.KS.01", birthForm, "desk.identity"},
				{"none", f.badinh, services.Citizen{}, "HT.KS.01", birthForm, "desk.identity"},
				{"card of nobody", f.badinh, services.Citizen{PIN: p.PIN, Serial: "CARD-000000000000"}, "HT.KS.01", birthForm, "desk.card"},
				{"unknown procedure", f.badinh, services.Citizen{QR: good}, "XX.00", birthForm, "procedure.not_found"},
				{"form fault", f.badinh, services.Citizen{QR: good}, "HT.KS.01", map[string]string{"relation": "father"}, "form.required"},
				{"locked field", f.badinh, services.Citizen{QR: good}, "HT.KS.01", map[string]string{"declarant_name": "Người Khác"}, "form.locked"},
			}
			for i, c := range refused {
				before := count()
				_, err := f.desk.Intake(ctx, c.by, services.IntakeRequest{Procedure: c.proc, Citizen: c.c, Form: c.form, IdempotencyKey: fmt.Sprintf("refused-%d", i)})
				if err == nil || !slices.ContainsFunc(fault.Faults(err), func(f *fault.Error) bool { return f.Code == c.want }) {
					t.Errorf("%s: %v, want %s", c.name, err, c.want)
				}
				if count() != before {
					t.Errorf("%s: a refused intake wrote a dossier", c.name)
				}
			}

			rc, err := f.desk.Intake(ctx, f.badinh, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: services.Citizen{QR: good}, Form: birthForm, IdempotencyKey: "intake-key-1"})
			if err != nil {
				t.Fatal(err)
			}
			if rc.Status != services.Received || rc.Commune != "00004" || rc.Province != "01" || rc.Due == "" || rc.CheckCode == "" || !strings.HasPrefix(rc.Code, "000.04.00.H01-") {
				t.Fatalf("receipt %+v", rc)
			}
			again, err := f.desk.Intake(ctx, f.badinh, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: services.Citizen{QR: good}, Form: birthForm, IdempotencyKey: "intake-key-1"})
			if err != nil || again.Code != rc.Code || !again.Replayed {
				t.Fatalf("second press: %v %+v", err, again)
			}
			det, err := f.desk.Detail(ctx, f.motcua, rc.Code)
			if err != nil {
				t.Fatal(err)
			}
			if det.Channel != services.ChannelDesk || det.ReceivedBy != "staff:dangky.badinh" || det.Form["child_name"] != "Nguyễn Minh An" {
				t.Fatalf("detail %+v", det.DeskDossier)
			}
			// The events say it came in at the desk, so the dashboards
			// count it there and not as online.
			for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
				u, _, err := env.App.Stats.DossierFigures(ctx, "00004")
				if err != nil {
					t.Fatal(err)
				}
				if u.Dossiers.Desk == 1 && u.Dossiers.Online == 0 {
					break
				}
				if time.Since(start) > 10*time.Second {
					t.Fatalf("commune's dossier figures %+v, want one received at the desk", u.Dossiers)
				}
			}
			// By PIN and card serial: the card check decides.
			rc2, err := f.desk.Intake(ctx, f.motcua, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: services.Citizen{PIN: p.PIN, Serial: "CARD-" + p.PIN}, Form: birthForm, IdempotencyKey: "intake-key-2"})
			if err != nil || rc2.Code == rc.Code {
				t.Fatalf("by card serial: %v %+v", err, rc2)
			}
			// The citizen's own list shows the paper dossier.
			mine, err := f.svc.ListMine(ctx, services.Filer{PIN: p.PIN, Level: 2})
			if err != nil || !slices.ContainsFunc(mine, func(d services.Dossier) bool { return d.Code == rc.Code }) {
				t.Fatalf("citizen's dossiers: %v %v", err, mine)
			}
		})
	}
}

// TestDeskDigitize: a scan is classified by the procedure's documents,
// checked like an online upload, stored in the citizen's document store
// with a signed record (officer, time, SHA-256) that verifies, and reused
// by the citizen's later online dossier; a refused file stores nothing.
func TestDeskDigitize(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 40)
			f := newDeskFixture(t, env)
			ctx := context.Background()
			p := citizen(t, env, 5)
			rc, err := f.desk.Intake(ctx, f.motcua, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: services.Citizen{QR: cardQR(t, p, p.FullName)}, Form: birthForm, IdempotencyKey: "digitize-1"})
			if err != nil {
				t.Fatal(err)
			}
			docs := func() int {
				ds, err := env.App.Documents.ListByOwner(ctx, pin.PIN(p.PIN))
				if err != nil {
					t.Fatal(err)
				}
				return len(ds)
			}
			refused := []struct {
				name     string
				by       actor.Actor
				doc      string
				body     []byte
				wantCode string
			}{
				{"out of scope", f.other, "birth_certificate", scanPDF, "dossier.not_found"},
				{"not a document of the procedure", f.motcua, "passport", scanPDF, "dossier.document_code"},
				{"proven by the register", f.motcua, "marriage_proof", scanPDF, "dossier.document_code"},
				{"a PDF with a script", f.motcua, "birth_certificate", evilPDF, "upload.active_content"},
				{"not a document", f.motcua, "birth_certificate", []byte("MZ\x90\x00 an executable"), "upload.type"},
				{"empty", f.motcua, "birth_certificate", nil, "upload.empty"},
				{"too large", f.motcua, "birth_certificate", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, services.MaxUpload)...), "upload.too_large"},
			}
			for _, c := range refused {
				before := docs()
				if _, err := f.desk.Digitize(ctx, c.by, rc.Code, c.doc, "scan", c.body); code(err) != c.wantCode {
					t.Errorf("%s: %v, want %s", c.name, err, c.wantCode)
				}
				if docs() != before {
					t.Errorf("%s: a refused file was stored", c.name)
				}
			}
			g, err := f.desk.Digitize(ctx, f.motcua, rc.Code, "birth_certificate", "giay-chung-sinh.pdf", scanPDF)
			if err != nil {
				t.Fatal(err)
			}
			if g.Officer != "staff:motcua.badinh" || len(g.SHA256) != 64 || g.Signature == "" || g.Signer == "" {
				t.Fatalf("record %+v", g)
			}
			if err := f.desk.VerifyDigitization(g, scanPDF); err != nil {
				t.Fatalf("the record does not verify: %v", err)
			}
			changed := append([]byte{}, scanPDF...)
			changed[10] ^= 1
			if err := f.desk.VerifyDigitization(g, changed); !errors.Is(err, services.ErrDigitization) {
				t.Fatalf("an altered scan verifies: %v", err)
			}
			forged := g
			forged.Officer = "staff:someone.else"
			if err := f.desk.VerifyDigitization(forged, scanPDF); !errors.Is(err, services.ErrDigitization) {
				t.Fatalf("a changed record verifies: %v", err)
			}
			if _, err := f.desk.Digitize(ctx, f.motcua, rc.Code, "birth_certificate", "trang-2.png", scanPNG); err != nil {
				t.Fatal(err)
			}
			stored, err := env.App.Documents.Get(ctx, g.DocumentID)
			if err != nil || string(stored.OwnerPIN) != p.PIN || stored.Kind != "scan:birth_certificate" || !bytes.Equal(stored.Body, scanPDF) || stored.SHA256 != g.SHA256 {
				t.Fatalf("stored %v %+v", err, stored)
			}
			det, err := f.desk.Detail(ctx, f.motcua, rc.Code)
			if err != nil || len(det.Documents) != 2 || det.Documents[0].Digitized == nil || !det.Documents[0].Verified || det.Documents[1].MediaType != "image/png" {
				t.Fatalf("detail documents %v %+v", err, det.Documents)
			}
			// The citizen reuses the digitized paper online.
			on, err := f.svc.Submit(ctx, services.Filer{PIN: p.PIN, Level: 2}, services.SubmitRequest{Procedure: "HT.KS.01", Form: birthForm,
				Documents: map[string]string{"birth_certificate": g.DocumentID}, IdempotencyKey: "online-reuse-1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(on.Attachments) != 1 || on.Attachments[0].ID != g.DocumentID || !on.Attachments[0].Reused {
				t.Fatalf("online attachments %+v", on.Attachments)
			}
		})
	}
}

// TestDeskWorkflow: assignment within the unit (the scope rule decides who
// may be given the dossier), comments listed with author and time,
// transfer (the receiving unit's officers see it, the sending unit no
// longer acts), the officer's steps to the returned result, and the
// citizen's history without the desk's internal acts.
func TestDeskWorkflow(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 40)
			f := newDeskFixture(t, env)
			ctx := context.Background()
			p := citizen(t, env, 7)
			qrText := cardQR(t, p, p.FullName)
			intake := func(key string) services.Receipt {
				rc, err := f.desk.Intake(ctx, f.badinh, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: services.Citizen{QR: qrText}, Form: birthForm, IdempotencyKey: key})
				if err != nil {
					t.Fatal(err)
				}
				return rc
			}
			rc := intake("workflow-1")

			assign := []struct {
				name    string
				by      actor.Actor
				officer string
				want    string
			}{
				{"officer of another commune", f.badinh, f.other.ID, "desk.assignee"},
				{"leader without desk permission", f.badinh, f.leader.ID, "desk.assignee"},
				{"unknown account", f.badinh, "staff:nobody", "desk.assignee"},
				{"by an officer out of scope", f.other, f.motcua.ID, "dossier.not_found"},
				{"by the leader", f.leader, f.motcua.ID, "dossier.not_found"},
				{"within the unit", f.badinh, f.motcua.ID, ""},
			}
			for _, c := range assign {
				if _, err := f.desk.Assign(ctx, c.by, rc.Code, c.officer); code(err) != c.want {
					t.Errorf("assign %s: %v, want %q", c.name, err, c.want)
				}
			}
			mine, err := f.desk.Queue(ctx, f.motcua, services.QueueFilter{Mine: true})
			if err != nil || len(mine) != 1 || mine[0].Code != rc.Code || mine[0].Assignee != f.motcua.ID {
				t.Fatalf("assigned to me: %v %+v", err, mine)
			}
			if none, _ := f.desk.Queue(ctx, f.badinh, services.QueueFilter{Mine: true}); len(none) != 0 {
				t.Fatalf("the registrar has %d assigned", len(none))
			}
			if _, err := f.desk.Queue(ctx, f.leader, services.QueueFilter{}); code(err) != "services.forbidden" {
				t.Fatalf("leader's queue: %v", err)
			}

			for _, c := range []struct{ body, want string }{{"", "desk.comment"}, {strings.Repeat("x", 1001), "desk.comment"}, {"bad \x1b text", "desk.comment"}, {"Đã gọi điện hẹn công dân bổ sung bản sao.", ""}} {
				if _, err := f.desk.Comment(ctx, f.motcua, rc.Code, c.body); code(err) != c.want {
					t.Errorf("comment %q: %v, want %q", c.body, err, c.want)
				}
			}
			if _, err := f.desk.Comment(ctx, f.other, rc.Code, "ngoài phạm vi"); code(err) != "dossier.not_found" {
				t.Errorf("comment out of scope: %v", err)
			}

			for _, step := range []string{services.ActStart, services.ActApprove, services.ActReturn} {
				if _, err := f.desk.Act(ctx, f.motcua, rc.Code, step, ""); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			det, err := f.desk.Detail(ctx, f.motcua, rc.Code)
			if err != nil {
				t.Fatal(err)
			}
			if det.Status != services.Returned || det.Result == "" || len(det.Comments) != 1 || det.Comments[0].Author != f.motcua.ID || det.Comments[0].At.IsZero() {
				t.Fatalf("after return: %+v comments %+v", det.DeskDossier, det.Comments)
			}
			var notes []string
			for _, h := range det.History {
				notes = append(notes, h.Note)
			}
			if !slices.Contains(notes, "assigned:"+f.motcua.ID) || !slices.Contains(notes, "comment") || !slices.Contains(notes, "desk") {
				t.Fatalf("desk history notes %q", notes)
			}
			hist, err := f.svc.HistoryOf(ctx, services.Filer{PIN: p.PIN, Level: 2}, rc.Code)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hist {
				if strings.HasPrefix(h.Note, "assigned") || h.Note == "comment" {
					t.Fatalf("the citizen sees an internal note: %+v", hist)
				}
			}
			if _, err := f.desk.Transfer(ctx, f.badinh, rc.Code, f.otherCommune, ""); code(err) != "dossier.state" {
				t.Fatalf("transfer of a returned dossier: %v", err)
			}

			// Transfer a second dossier to the other commune.
			rc2 := intake("workflow-2")
			if _, err := f.desk.Assign(ctx, f.badinh, rc2.Code, f.motcua.ID); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ unit, want string }{{"99999", "desk.transfer_unit"}, {"01", "desk.transfer_unit"}, {"00004", "desk.same_unit"}, {"x", "desk.transfer_unit"}} {
				if _, err := f.desk.Transfer(ctx, f.badinh, rc2.Code, c.unit, ""); code(err) != c.want {
					t.Errorf("transfer to %q: %v, want %s", c.unit, err, c.want)
				}
			}
			moved, err := f.desk.Transfer(ctx, f.badinh, rc2.Code, f.otherCommune, "Công dân cư trú tại xã khác")
			if err != nil {
				t.Fatal(err)
			}
			if moved.Commune != f.otherCommune || moved.Assignee != "" || moved.Code != rc2.Code {
				t.Fatalf("transferred %+v", moved)
			}
			if _, err := f.desk.Detail(ctx, f.badinh, rc2.Code); code(err) != "dossier.not_found" {
				t.Fatalf("the sending unit still reads it: %v", err)
			}
			if _, err := f.desk.Act(ctx, f.motcua, rc2.Code, services.ActStart, ""); code(err) != "dossier.not_found" {
				t.Fatalf("the sending unit still acts: %v", err)
			}
			theirs, err := f.desk.Queue(ctx, f.other, services.QueueFilter{})
			if err != nil || !slices.ContainsFunc(theirs, func(d services.DeskDossier) bool { return d.Code == rc2.Code }) {
				t.Fatalf("receiving unit's queue: %v %+v", err, theirs)
			}
			if _, err := f.desk.Act(ctx, f.other, rc2.Code, services.ActStart, ""); err != nil {
				t.Fatalf("the receiving unit acts: %v", err)
			}
			det2, err := f.desk.Detail(ctx, f.other, rc2.Code)
			if err != nil || len(det2.Comments) != 1 || det2.Comments[0].Body != "Công dân cư trú tại xã khác" {
				t.Fatalf("transfer note: %v %+v", err, det2.Comments)
			}
			// Each act is in the audit log under the officer.
			var n int
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action IN ('dossier.transfer', 'dossier.assign', 'dossier.intake')`).Scan(&n)
			if n < 5 {
				t.Errorf("%d audit entries of the registrar's desk acts", n)
			}
		})
	}
}
