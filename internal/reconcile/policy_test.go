package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/reconcile/ingest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// testPurpose is the law-based purpose the tests' partners declare.
const testPurpose = "data-cleaning"

// partnerTable is the tests' partner store: id → partner with policy.
type partnerTable map[string]exchange.Partner

func (t partnerTable) Partner(_ context.Context, id string) (exchange.Partner, error) {
	p, ok := t[id]
	if !ok {
		return exchange.Partner{}, exchange.ErrPartnerNotFound
	}
	return p, nil
}

// fullPolicy is a partner allowed to reconcile the whole country with the
// PIN and the status in its report.
func fullPolicy(id string) exchange.Partner {
	return exchange.Partner{ID: id, Name: id, Policy: exchange.Policy{
		Operations: []exchange.Operation{exchange.OpReconcile},
		Fields:     []string{"pin", "full_name", "birth_date", "sex", "permanent_address", "status"},
		Purposes: []exchange.Purpose{
			{Code: testPurpose, Description: "Làm sạch dữ liệu khách hàng", Basis: exchange.BasisLaw, Citation: "Luật thử nghiệm, Điều 1"},
			{Code: "marketing", Description: "Tiếp thị", Basis: exchange.BasisConsent},
			{Code: "names-only", Description: "Đối chiếu họ tên", Basis: exchange.BasisLaw, Citation: "Luật thử nghiệm, Điều 2", Fields: []string{"full_name"}},
		}}}
}

// narrowPolicy is fullPolicy limited to a unit and to the given fields.
func narrowPolicy(id, scope string, fields ...string) exchange.Partner {
	p := fullPolicy(id)
	p.Policy.Scope, p.Policy.Fields = scope, fields
	return p
}

// TestDisclose is the policy filter's table: unit scope, the PIN only with
// "pin", death only with "status", differences only of allowed fields, a
// purpose's own field list narrowing the policy's.
func TestDisclose(t *testing.T) {
	badinh := Place{Province: "01", Commune: "00004"}
	hcm := Place{Province: "79", Commune: "25747"}
	row := Linked{PIN: "001088999001", Dead: true, Place: badinh, Differences: "pin:misspelt;full_name:missing_diacritics;birth_date:swapped_day_month;address:outdated_unit"}
	names := fullPolicy("x").Policy.Purposes[2]
	for _, tc := range []struct {
		name    string
		partner exchange.Partner
		purpose exchange.Purpose
		row     Linked
		want    Disclosure
	}{
		{"whole country, every field", fullPolicy("x"), exchange.Purpose{}, row,
			Disclosure{InScope: true, PIN: row.PIN, Dead: true, Differences: "pin:misspelt;full_name:missing_diacritics;birth_date:swapped_day_month;address:outdated_unit", Fields: []string{"pin", "status"}}},
		{"province scope, person inside", narrowPolicy("x", "01", "pin", "status"), exchange.Purpose{}, row,
			Disclosure{InScope: true, PIN: row.PIN, Dead: true, Differences: "pin:misspelt", Fields: []string{"pin", "status"}}},
		{"commune scope, person inside", narrowPolicy("x", "00004", "full_name"), exchange.Purpose{}, row,
			Disclosure{InScope: true, Differences: "full_name:missing_diacritics"}},
		{"commune scope, person in another province", narrowPolicy("x", "00004", "pin", "full_name", "status"), exchange.Purpose{}, Linked{PIN: row.PIN, Dead: true, Place: hcm, Differences: row.Differences},
			Disclosure{}},
		{"province scope, person in another province", narrowPolicy("x", "79", "pin", "status"), exchange.Purpose{}, row, Disclosure{}},
		{"scoped, person with no known unit", narrowPolicy("x", "01", "pin"), exchange.Purpose{}, Linked{PIN: row.PIN}, Disclosure{}},
		{"no pin field: no PIN", narrowPolicy("x", "", "full_name", "status"), exchange.Purpose{}, row,
			Disclosure{InScope: true, Dead: true, Differences: "full_name:missing_diacritics", Fields: []string{"status"}}},
		{"no status field: not dead", narrowPolicy("x", "", "pin", "birth_date"), exchange.Purpose{}, row,
			Disclosure{InScope: true, PIN: row.PIN, Differences: "pin:misspelt;birth_date:swapped_day_month", Fields: []string{"pin"}}},
		{"purpose narrows to full_name", fullPolicy("x"), names, row,
			Disclosure{InScope: true, Differences: "full_name:missing_diacritics"}},
		{"no person", fullPolicy("x"), exchange.Purpose{}, Linked{}, Disclosure{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Disclose(tc.partner, tc.partner.Policy.FieldsFor(tc.purpose), tc.row)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Disclose = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestUploadPolicy: a job needs reconcile in the partner's policy and a
// declared, law-based purpose; the refusal comes before the file is read
// (an empty file is refused for its purpose, not for being empty) and
// leaves nothing behind.
func TestUploadPolicy(t *testing.T) {
	reg := newRegister(t, 1)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		verifyOnly := fullPolicy("verifier")
		verifyOnly.Policy.Operations = []exchange.Operation{exchange.OpVerify}
		e.partners["verifier"] = verifyOnly
		off := fullPolicy("off")
		off.Disabled = true
		e.partners["off"] = off
		for _, tc := range []struct {
			name, partner, purpose string
			kind                   fault.Kind
			code                   string
		}{
			{"no purpose", "bank-a", "", fault.Invalid, "policy.purpose_required"},
			{"blank purpose", "bank-a", "  ", fault.Invalid, "policy.purpose_required"},
			{"purpose not declared", "bank-a", "credit-scoring", fault.Forbidden, "policy.purpose_not_declared"},
			{"consent-based purpose", "bank-a", "marketing", fault.Forbidden, "reconcile.purpose.consent"},
			{"reconcile not allowed", "verifier", testPurpose, fault.Forbidden, "policy.operation_not_allowed"},
			{"unknown partner", "nobody", testPurpose, fault.Forbidden, "policy.operation_not_allowed"},
			{"disabled partner", "off", testPurpose, fault.Forbidden, "partner.disabled"},
		} {
			_, err := e.svc.Upload(ctx, tc.partner, tc.purpose, "x", "f.csv", strings.NewReader(""), ingest.Options{})
			if f := fault.As(err); f.Kind != tc.kind || f.Code != tc.code {
				t.Errorf("%s: %v (%s), want %s", tc.name, err, f.Code, tc.code)
			}
		}
		var jobs int
		db.R.QueryRow(`SELECT count(*) FROM reconcile_jobs`).Scan(&jobs)
		if jobs != 0 {
			t.Errorf("refused uploads left %d jobs", jobs)
		}
		j, err := e.svc.Upload(ctx, "bank-a", testPurpose, "x", "f.csv", strings.NewReader("ho_ten,ngay_sinh\nAn,1990\n"), ingest.Options{})
		if err != nil || j.Purpose != testPurpose {
			t.Fatalf("declared purpose: %+v %v", j, err)
		}
		// The policy changes before a worker takes the job: nothing is
		// matched, the job fails with the policy's code.
		e.partners["bank-a"] = verifyOnly
		if worked, err := e.svc.NewWorker(e.ix, WorkerOptions{}).RunOnce(ctx); !worked || err != nil {
			t.Fatalf("worker: %v %v", worked, err)
		}
		var rows int
		db.R.QueryRow(`SELECT count(*) FROM reconcile_rows WHERE job_id = $1`, j.ID).Scan(&rows)
		if j, err = e.svc.Job(ctx, "", j.ID); j.State != Failed || j.Failure != "policy.operation_not_allowed" || rows != 0 {
			t.Errorf("job of a partner no longer allowed to reconcile: %+v %v, %d rows", j, err, rows)
		}
	})
}

// scopedRegister is newRegister(n) with every odd person moved to Thủ Dầu
// Một (79/25747) and person 2 dead.
func scopedRegister(t *testing.T, n int) register {
	reg := newRegister(t, n)
	for i := range reg.people {
		if i%2 == 1 {
			reg.people[i].ProvinceCode, reg.people[i].CommuneCode = "79", "25747"
		}
	}
	reg.people[2].Dead = true
	return reg
}

// runJob uploads text for the partner and works the job to its end.
func runJob(t *testing.T, e *env, partner, text string) Job {
	t.Helper()
	ctx := context.Background()
	j, err := e.svc.Upload(ctx, partner, testPurpose, "partner:"+partner, "f.csv", strings.NewReader(text), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if worked, err := e.svc.NewWorker(e.ix, WorkerOptions{Batch: 16}).RunOnce(ctx); !worked || err != nil {
		t.Fatalf("worker: %v %v", worked, err)
	}
	j, err = e.svc.Job(ctx, partner, j.ID)
	if err != nil || j.State != Done {
		t.Fatalf("job: %+v %v", j, err)
	}
	return j
}

// TestJobPolicy runs the same file for a partner allowed the whole
// country with PIN and status, and for one allowed only full_name in Ba
// Đình: the second's counters, review queue and report know nothing of
// the people outside Ba Đình (they read as not found), and its report
// has no PIN and no death; every row naming a person is audited to that
// person under the job's purpose. The report applies the policy as it
// stands at download, and a registrar cannot name a person outside the
// partner's unit.
func TestJobPolicy(t *testing.T) {
	reg := scopedRegister(t, 40)
	ix := reg.index(t)
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		e := newEnv(t, db, reg, ix, &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
		e.partners["commune"] = narrowPolicy("commune", "00004", "full_name")
		text, _ := reg.partnerFile()
		rows := 40 + 6

		full := runJob(t, e, "bank-a", text)
		recs := reportRecords(t, e.svc, "bank-a", full.ID)
		if full.Matched != 40 || full.Ambiguous != 1 || recs[1][4] != reg.people[0].PIN || recs[3][7] != "1" || recs[2][4] != reg.people[1].PIN {
			t.Fatalf("whole-country partner: %+v; rows %v %v %v", full.Progress, recs[1], recs[2], recs[3])
		}

		scoped := runJob(t, e, "commune", text)
		p := scoped.Progress
		// 20 people of Ba Đình; the 20 of Thủ Dầu Một, the twins' row (its
		// only candidate left in Ba Đình is one person: still a review)
		// and the two unknowns.
		if p.Matched != 20 || p.NotFound != 22 || p.Ambiguous != 1 || p.RowsRead != int64(rows) {
			t.Errorf("scoped partner's progress %+v", p)
		}
		// The twin in Thủ Dầu Một is no candidate for this partner: the
		// Hồ Chí Minh City registrar does not see the row.
		if q, _ := e.svc.Queue(ctx, hcm, 50); slices.ContainsFunc(q, func(r Review) bool { return r.JobID == scoped.ID }) {
			t.Errorf("HCM registrar reviews the scoped partner's row: %+v", q)
		}
		if err := e.svc.Decide(ctx, badinh, scoped.ID, 41, reg.twins[0].PIN); err != nil {
			t.Fatalf("decide the Ba Đình twin: %v", err)
		}
		recs = reportRecords(t, e.svc, "commune", scoped.ID)
		if len(recs) != rows+1 {
			t.Fatalf("%d report lines", len(recs))
		}
		notFound := strings.Join(recs[len(recs)-4], ",") // X1: a row naming nobody
		for i, r := range recs[1 : 40+1] {
			line := strings.Join(r, ",")
			if r[4] != "" || r[7] != "" {
				t.Errorf("row %d discloses a PIN or a death: %s", i+1, line)
			}
			if i%2 == 1 {
				// Outside Ba Đình: as a row that names nobody, field for
				// field but row, line and reference.
				if r[3] != "not_found" || strings.Join(r[3:], ",") != strings.Join(strings.Split(notFound, ",")[3:], ",") {
					t.Errorf("row %d of a person outside the unit: %s; a row naming nobody: %s", i+1, line, notFound)
				}
			} else if r[3] != "matched" || r[5] == "" {
				t.Errorf("row %d of a person inside the unit: %s", i+1, line)
			}
			for _, per := range reg.people {
				if strings.Contains(line, per.PIN) {
					t.Errorf("row %d names a PIN: %s", i+1, line)
				}
			}
		}
		if r := recs[41]; r[3] != "matched" || r[4] != "" || r[8] != "decided" {
			t.Errorf("decided twin row: %v", r)
		}
		// Audited: the 20 people of Ba Đình and the decided twin, each to
		// themselves, "only matched" (no field), under the job's purpose.
		rs, err := db.R.QueryContext(ctx, `SELECT subject, purpose, detail FROM audit_log WHERE actor = 'partner:commune' AND action = $1`, ActDisclose)
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for rs.Next() {
			var subject, purpose, detail string
			rs.Scan(&subject, &purpose, &detail)
			subjects = append(subjects, subject)
			if purpose != testPurpose || detail != "job="+scoped.ID+" result=matched" {
				t.Errorf("audit entry %s %q %q", subject, purpose, detail)
			}
		}
		rs.Close()
		if len(subjects) != 21 || !slices.Contains(subjects, "person:"+reg.twins[0].PIN) || slices.Contains(subjects, "person:"+reg.people[1].PIN) {
			t.Errorf("audited subjects %v", subjects)
		}

		// The policy at download time: bank-a narrowed to Hồ Chí Minh City
		// with names only sees its earlier job's Ba Đình rows as not found.
		e.partners["bank-a"] = narrowPolicy("bank-a", "79", "full_name")
		recs = reportRecords(t, e.svc, "bank-a", full.ID)
		if recs[1][3] != "not_found" || recs[2][3] != "matched" || recs[2][4] != "" {
			t.Errorf("report under the narrowed policy: %v / %v", recs[1], recs[2])
		}
		// A registrar cannot name, for the partner, someone it may no
		// longer be told about.
		if err := e.svc.Decide(ctx, badinh, full.ID, 41, reg.twins[0].PIN); !errors.Is(err, ErrPartnerScope) {
			t.Errorf("decision outside the partner's unit: %v", err)
		}
		// A purpose withdrawn from the policy: no report at all.
		withdrawn := fullPolicy("bank-a")
		withdrawn.Policy.Purposes = withdrawn.Policy.Purposes[1:]
		e.partners["bank-a"] = withdrawn
		if err := e.svc.WriteReportCSV(ctx, &strings.Builder{}, "bank-a", full.ID); fault.As(err).Code != "policy.purpose_not_declared" {
			t.Errorf("report for a withdrawn purpose: %v", err)
		}
	})
}
