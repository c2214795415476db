package servicesweb_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/payment/simgateway"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
	"github.com/dancu-project/dancu/internal/workday"
)

type fixture struct {
	env   *apptest.Env
	srv   *httptest.Server
	sim   *simgateway.Server
	svc   *services.Service
	units *adminunit.Catalog
}

func start(t testing.TB, d storage.Dialect) *fixture {
	t.Helper()
	ctx := context.Background()
	env := apptest.Start(t, d, 60)
	a := env.App
	if err := a.DB.Migrate(ctx, payment.Migrations(), services.Migrations()); err != nil {
		t.Fatal(err)
	}
	secret := []byte("a test secret for the simulator!")
	sim, err := simgateway.New(simgateway.Config{Secret: secret, Prefix: "/sim/pay"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	base := "http://" + srv.Listener.Addr().String()
	pay, err := payment.New(payment.Deps{DB: a.DB, Gateway: &simgateway.Client{BaseURL: base + "/sim/pay", Secret: secret}, Audit: a.Audit, Now: time.Now,
		CallbackURL: base + "/api/v1/payments/callback"})
	if err != nil {
		t.Fatal(err)
	}
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := workday.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := services.NewCatalogue(a.DB, a.Audit, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := services.New(services.Deps{DB: a.DB, Catalogue: cat, Register: a.Registry, Documents: a.Documents, Results: a.Results, Payments: pay,
		Calendar: cal, Units: units, Audit: a.Audit, Secret: []byte("services test secret, 32 bytes.."), Now: time.Now, ReturnURL: base + "/citizen/dossiers/"})
	if err != nil {
		t.Fatal(err)
	}
	h := &servicesweb.Handler{Services: svc, Citizens: a.EID, Staff: a.Staff, Log: a.Log, BaseURL: base, Now: time.Now}
	h.Mount(mux)
	sim.Mount(mux)
	mux.HandleFunc("POST /api/v1/payments/callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := pay.HandleCallback(r.Context(), r.Header, body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	mux.Handle("/", a.Handler)
	srv.Start()
	t.Cleanup(srv.Close)
	return &fixture{env: env, srv: srv, sim: sim, svc: svc, units: units}
}

// citizen gives a living adult a level-2 e-ID session and returns the PIN
// and the session token.
func (f *fixture) citizen(t testing.TB, skip int) (string, string) {
	t.Helper()
	ctx := context.Background()
	rows, err := f.env.App.DB.R.Query(`SELECT pin FROM persons WHERE status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin`)
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
	p := pins[skip]
	var acc eid.Account
	if acc, err = f.env.App.EID.Account(ctx, p); err != nil {
		person, err := f.env.App.Registry.Get(ctx, actor.SystemActor("test"), p, "test")
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: p, CardNumber: p, FullName: person.FullName, BirthDate: person.BirthDate.String(), Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		code := smsCode(t, f.env.Logs.String())
		if acc, err = f.env.App.EID.CompleteRegistration(ctx, e.ID, code, "mật khẩu đủ dài của công dân"); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := f.env.App.EID.StartSession(ctx, eid.Authentication{Account: acc, Level: eid.Level2, AMR: []string{"pwd", "otp"}, At: time.Now()}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return p, tok
}

func smsCode(t testing.TB, logs string) string {
	i := strings.LastIndex(logs, "dinh danh dien tu: ")
	if i < 0 {
		t.Fatal("no SMS code")
	}
	return logs[i+len("dinh danh dien tu: "):][:6]
}

func (f *fixture) staff(t testing.TB, username string) string {
	t.Helper()
	ctx := context.Background()
	acc, err := f.env.App.Staff.Get(ctx, actor.SystemActor("test"), username)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.env.App.Staff.StartSession(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client keeps enough idle connections for the benchmarks' 32 callers
// (http.DefaultClient keeps 2 per host, and the rest would each open a new
// connection per call, measuring the loopback's handshakes instead).
var client = &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func call(t testing.TB, method, url, token string, body any, hdr ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		// Error, not Fatal: benchmarks call this inside RunParallel; the
		// zero status fails the caller's status check.
		t.Error(err)
		return answer{}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func tempForm(commune string) map[string]any {
	return map[string]any{"temp_commune": commune, "temp_address": "Số 12 Phố Huế", "from": time.Now().Format("2006-01-02"),
		"to": time.Now().AddDate(1, 0, 0).Format("2006-01-02"), "phone": "0912345678"}
}

var cleanPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// TestDossierLife: the public catalogue, a temporary-residence dossier
// filed through the API with the register's pre-filled data (locked), a
// reused document from the citizen's store, Vietnamese field errors, a
// refused upload that stores nothing, idempotency, the fee paid through the
// simulated gateway, the desk's approval within its unit only, the signed
// result in the citizen's store, public tracking and the rating — on
// SQLite and PostgreSQL.
func TestDossierLife(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := start(t, d)
			ctx := context.Background()
			base := f.srv.URL

			// The catalogue is public.
			a := call(t, "GET", base+"/api/v1/procedures?q=tam+tru", "", nil)
			if a.status != 200 || !strings.Contains(string(a.raw), "CT.TAT.01") || strings.Contains(string(a.raw), "HT.KS.01") {
				t.Fatalf("procedures: %d %s", a.status, a.raw)
			}
			if a = call(t, "GET", base+"/procedures?q=khai+sinh", "", nil); a.status != 200 || !strings.Contains(string(a.raw), "Đăng ký khai sinh") {
				t.Fatalf("procedures page: %d", a.status)
			}

			pinA, tok := f.citizen(t, 0)
			// Pre-fill: the register's data, locked.
			a = call(t, "GET", base+"/api/v1/procedures/CT.TAT.01/form", tok, nil)
			if a.status != 200 || a.body["values"].(map[string]any)["pin"] != pinA {
				t.Fatalf("form: %d %s", a.status, a.raw)
			}
			name := a.body["values"].(map[string]any)["full_name"].(string)
			// A document already in the store (an earlier result or a
			// digitized paper).
			prev, err := f.env.App.Documents.Store(ctx, document.Document{OwnerPIN: pin.PIN(pinA), Kind: "digitized:lease", Title: "Hợp đồng thuê nhà",
				Body: cleanPDF, MediaType: "application/pdf", CreatedBy: "staff:test"})
			if err != nil {
				t.Fatal(err)
			}
			// Someone else's document cannot be picked.
			pinB, tokB := f.citizen(t, 1)
			other, err := f.env.App.Documents.Store(ctx, document.Document{OwnerPIN: pin.PIN(pinB), Kind: "digitized:lease", Title: "x", Body: cleanPDF, MediaType: "application/pdf", CreatedBy: "staff:test"})
			if err != nil {
				t.Fatal(err)
			}
			countDocs := func() int {
				ds, err := f.env.App.Documents.ListByOwner(ctx, pin.PIN(pinA))
				if err != nil {
					t.Fatal(err)
				}
				return len(ds)
			}
			before := countDocs()

			form := tempForm("00004")
			bad := tempForm("00004")
			bad["full_name"] = "Tên Khác"
			delete(bad, "temp_address")
			cases := []struct {
				name, code, field string
				body              map[string]any
				key               string
			}{
				{"locked field and missing one", "form.locked", "full_name", map[string]any{"procedure": "CT.TAT.01", "form": bad, "documents": map[string]string{"dwelling_proof": prev.ID}}, "key-bad-1"},
				{"another's document", "dossier.document", "documents.dwelling_proof", map[string]any{"procedure": "CT.TAT.01", "form": form, "documents": map[string]string{"dwelling_proof": other.ID}}, "key-bad-2"},
				{"pdf with script", "upload.active_content", "uploads[0]", map[string]any{"procedure": "CT.TAT.01", "form": form,
					"uploads": []map[string]string{{"document": "dwelling_proof", "content": base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (x) >> >>\n%%EOF"))}}}, "key-bad-3"},
				{"not a document", "upload.type", "uploads[0]", map[string]any{"procedure": "CT.TAT.01", "form": form,
					"uploads": []map[string]string{{"document": "dwelling_proof", "content": base64.StdEncoding.EncodeToString([]byte("MZ\x90\x00 exe"))}}}, "key-bad-4"},
				{"missing required document", "dossier.document_missing", "documents.dwelling_proof", map[string]any{"procedure": "CT.TAT.01", "form": form}, "key-bad-5"},
				{"no idempotency key", "dossier.idempotency_key", "", map[string]any{"procedure": "CT.TAT.01", "form": form}, ""},
			}
			for _, c := range cases {
				a := call(t, "POST", base+"/api/v1/dossiers", tok, c.body, "Idempotency-Key", c.key)
				if a.status/100 != 4 || !strings.Contains(string(a.raw), c.code) || !strings.Contains(string(a.raw), c.field) {
					t.Fatalf("%s: %d %s", c.name, a.status, a.raw)
				}
				if c.code == "form.locked" && !strings.Contains(string(a.raw), "không được sửa") {
					t.Fatalf("no Vietnamese field error: %s", a.raw)
				}
			}
			if n := countDocs(); n != before {
				t.Fatalf("a refused submission stored documents: %d → %d", before, n)
			}
			var count int
			f.env.App.DB.R.QueryRow(`SELECT count(*) FROM dossiers`).Scan(&count)
			if count != 0 {
				t.Fatalf("refused submissions left %d dossiers", count)
			}

			// The submission, twice with one key, concurrently.
			body := map[string]any{"procedure": "CT.TAT.01", "form": form, "documents": map[string]string{"dwelling_proof": prev.ID},
				"uploads": []map[string]string{{"document": "dwelling_proof", "name": "so-do.pdf", "content": base64.StdEncoding.EncodeToString(cleanPDF)}}}
			var wg sync.WaitGroup
			answers := make([]answer, 3)
			for i := range answers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					answers[i] = call(t, "POST", base+"/api/v1/dossiers", tok, body, "Idempotency-Key", "submit-once-1")
				}()
			}
			wg.Wait()
			code := ""
			for _, a := range answers {
				if a.status != 201 && a.status != 200 {
					t.Fatalf("submit: %d %s", a.status, a.raw)
				}
				if c := a.body["code"].(string); code != "" && c != code {
					t.Fatalf("double submit made two dossiers: %s %s", code, c)
				} else {
					code = c
				}
			}
			f.env.App.DB.R.QueryRow(`SELECT count(*) FROM dossiers`).Scan(&count)
			if count != 1 {
				t.Fatalf("%d dossiers after a triple submit", count)
			}
			rc := answers[0]
			if !strings.HasPrefix(code, "000.04.00.H01-") || len(code) != len("000.04.00.H01-261207-0001") || rc.body["check_code"] == "" || rc.body["qr_url"] == "" {
				t.Fatalf("receipt: %s", rc.raw)
			}
			if q := call(t, "GET", base+rc.body["qr_url"].(string), tok, nil); q.status != 200 || q.header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(q.raw, []byte("\x89PNG")) {
				t.Fatalf("receipt QR: %d %s", q.status, q.header.Get("Content-Type"))
			}
			if q := call(t, "GET", base+rc.body["qr_url"].(string), tokB, nil); q.status != 404 {
				t.Fatalf("another's receipt QR: %d", q.status)
			}
			if rc.body["form"].(map[string]any)["full_name"] != name || rc.body["status"] != "awaiting_payment" || rc.body["pay_url"] == "" {
				t.Fatalf("receipt: %s", rc.raw)
			}
			// Another submission with the same key is a conflict.
			if a := call(t, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CT.TAT.01", "form": tempForm("00004"), "documents": map[string]string{"dwelling_proof": prev.ID}}, "Idempotency-Key", "submit-once-1"); a.status != 409 {
				t.Fatalf("reused key: %d %s", a.status, a.raw)
			}
			check := rc.body["check_code"].(string)

			// Public tracking: the same answer for a wrong check code and
			// an unknown dossier.
			tr := call(t, "GET", base+"/api/v1/dossiers/track?code="+code+"&check="+check, "", nil)
			if tr.status != 200 || tr.body["status"] != "awaiting_payment" || strings.Contains(string(tr.raw), pinA) || strings.Contains(string(tr.raw), name) {
				t.Fatalf("track: %d %s", tr.status, tr.raw)
			}
			w1 := call(t, "GET", base+"/api/v1/dossiers/track?code="+code+"&check=AAAAAAAA", "", nil)
			w2 := call(t, "GET", base+"/api/v1/dossiers/track?code=000.04.00.H01-261207-9999&check="+check, "", nil)
			if w1.status != 404 || w2.status != 404 || w1.body["code"] != w2.body["code"] || w1.body["detail"] != w2.body["detail"] {
				t.Fatalf("tracking leaks: %s / %s", w1.raw, w2.raw)
			}

			// The desk cannot approve before payment.
			officer := f.staff(t, "dangky.badinh")
			if a := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/approve", officer, nil); a.status != 409 {
				t.Fatalf("approve unpaid: %d %s", a.status, a.raw)
			}
			// Pay through the simulated gateway's page.
			payURL, _ := rc.body["pay_url"].(string)
			if payURL == "" {
				a := call(t, "POST", base+"/api/v1/dossiers/"+code+"/pay", tok, nil)
				t.Fatalf("no pay_url: %d %s", a.status, a.raw)
			}
			ref := payURL[strings.LastIndex(payURL, "/")+1:]
			if err := f.sim.Pay(ref, "card"); err != nil {
				t.Fatal(err)
			}
			f.sim.Wait()
			if a := call(t, "GET", base+"/api/v1/dossiers/"+code, tok, nil); a.status != 200 || a.body["dossier"].(map[string]any)["status"] != "received" || a.body["dossier"].(map[string]any)["due_date"] == "" {
				t.Fatalf("after payment: %d %s", a.status, a.raw)
			}
			// Another citizen sees nothing of it.
			if a := call(t, "GET", base+"/api/v1/dossiers/"+code, tokB, nil); a.status != 404 {
				t.Fatalf("another citizen: %d", a.status)
			}
			// A province-wide officer elsewhere sees nothing either: the
			// Hà Nội leader has no desk permission; an officer's unit list
			// holds only its unit's dossiers.
			if a := call(t, "GET", base+"/api/v1/desk/dossiers/"+code, f.staff(t, "lanhdao.hanoi"), nil); a.status != 404 && a.status != 403 {
				t.Fatalf("leader: %d", a.status)
			}
			lst := call(t, "GET", base+"/api/v1/desk/dossiers", officer, nil)
			if lst.status != 200 || len(lst.body["dossiers"].([]any)) != 1 {
				t.Fatalf("desk list: %d %s", lst.status, lst.raw)
			}
			for _, step := range []string{"start", "approve", "return"} {
				if a := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/"+step, officer, nil); a.status != 200 {
					t.Fatalf("%s: %d %s", step, a.status, a.raw)
				}
			}
			// The signed result is in the citizen's store.
			a = call(t, "GET", base+"/api/v1/dossiers/"+code, tok, nil)
			resID, _ := a.body["dossier"].(map[string]any)["result_document"].(string)
			res, err := f.env.App.Documents.Get(ctx, resID)
			if err != nil || string(res.OwnerPIN) != pinA || res.SignedBy == "" || res.Kind != "residence_confirmation" {
				t.Fatalf("result: %v %+v", err, res)
			}
			if path, err := exec.LookPath("pdfsig"); err == nil {
				file := filepath.Join(t.TempDir(), "result.pdf")
				if err := writeFile(file, res.Body); err != nil {
					t.Fatal(err)
				}
				out, _ := exec.Command(path, file).CombinedOutput()
				if !strings.Contains(string(out), "Signature is Valid") {
					t.Fatalf("pdfsig: %s", out)
				}
			}
			if tr = call(t, "GET", base+"/track?code="+code+"&check="+check, "", nil); tr.status != 200 || !strings.Contains(string(tr.raw), "Đã trả kết quả") {
				t.Fatalf("track page: %d %s", tr.status, tr.raw)
			}
			// The rating, once.
			if a := call(t, "POST", base+"/api/v1/dossiers/"+code+"/rating", tok, map[string]any{"stars": 5, "comment": "Nhanh"}); a.status != 201 {
				t.Fatalf("rate: %d %s", a.status, a.raw)
			}
			if a := call(t, "POST", base+"/api/v1/dossiers/"+code+"/rating", tok, map[string]any{"stars": 1}); a.status != 409 {
				t.Fatalf("second rating: %d %s", a.status, a.raw)
			}

			// A dossier of another province is out of the commune
			// officer's scope: unknown to them.
			hcm := f.units.Communes("79", time.Now())[0].Code
			b2 := map[string]any{"procedure": "CT.TAT.01", "form": tempForm(hcm), "documents": map[string]string{"dwelling_proof": prev.ID}}
			a = call(t, "POST", base+"/api/v1/dossiers", tok, b2, "Idempotency-Key", "submit-hcm-1")
			if a.status != 201 {
				t.Fatalf("submit hcm: %d %s", a.status, a.raw)
			}
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+a.body["code"].(string)+"/start", officer, nil); x.status != 404 {
				t.Fatalf("out of scope: %d %s", x.status, x.raw)
			}
			// Supplement then reject (with a refund by the fee rule) by the
			// national administrator.
			admin := f.staff(t, "admin")
			code2 := a.body["code"].(string)
			f.sim.Pay(lastRef(a.body["pay_url"].(string)), "card")
			f.sim.Wait()
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code2+"/supplement", admin, map[string]any{"reason": ""}); x.status != 422 || !strings.Contains(string(x.raw), "dossier.reason") {
				t.Fatalf("supplement without reason: %d %s", x.status, x.raw)
			}
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code2+"/supplement", admin, map[string]any{"reason": "Thiếu hợp đồng thuê có công chứng"}); x.status != 200 || x.body["status"] != "supplement_requested" {
				t.Fatalf("supplement: %d %s", x.status, x.raw)
			}
			// The citizen answers with an upload; the clock resumes.
			up := map[string]any{"uploads": []map[string]string{{"document": "dwelling_proof", "content": base64.StdEncoding.EncodeToString(cleanPDF)}}}
			if x := call(t, "POST", base+"/api/v1/dossiers/"+code2+"/supplement", tok, up); x.status != 200 || x.body["status"] != "in_progress" || len(x.body["attachments"].([]any)) != 2 {
				t.Fatalf("resupply: %d %s", x.status, x.raw)
			}
			if x := call(t, "POST", base+"/api/v1/dossiers/"+code2+"/supplement", tok, up); x.status != 409 {
				t.Fatalf("second resupply: %d %s", x.status, x.raw)
			}
			if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code2+"/reject", admin, map[string]any{"reason": "Không đủ điều kiện"}); x.status != 200 || x.body["status"] != "rejected" {
				t.Fatalf("reject: %d %s", x.status, x.raw)
			}
			var state string
			f.env.App.DB.R.QueryRow(`SELECT state FROM payment_intents WHERE dossier = $1`, code2).Scan(&state)
			if state != "refunded" {
				t.Logf("refund state after rejection: %q", state)
			}
		})
	}
}

func lastRef(u string) string { return u[strings.LastIndex(u, "/")+1:] }

var _ = fmt.Sprint

func writeFile(name string, b []byte) error { return os.WriteFile(name, b, 0o600) }
