package verifypage

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func issue(t *testing.T, db *storage.DB) (*document.Store, document.Document) {
	st := document.NewStore(db, nil)
	rs, err := pki.Options{}.InitResults(t.TempDir(), pki.ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	iss := &document.Issuer{Store: st, Cert: rs.Cert, Key: rs.Key(), BaseURL: "https://dancu.example"}
	d, err := iss.Issue(context.Background(), "001190012345", result.Result{
		Kind: result.BirthExtract, Number: "88/TLKS", Unit: "UBND phường Ba Đình", Place: "Hà Nội", Signer: "Chủ tịch",
		Issued: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
		Fields: map[string]string{"name": "Trần Đức Huy", "birth": "01/02/2025", "sex": "Nam", "ethnicity": "Kinh",
			"nationality": "Việt Nam", "birthplace": "Hà Nội", "pin": "001225000123", "registered": "UBND phường Ba Đình",
			"register_date": "10/02/2025", "mother": "Nguyễn Thị Ngọc Ánh"},
	}, "staff:1")
	if err != nil {
		t.Fatal(err)
	}
	return st, d
}

func get(t *testing.T, url string, accept string) (int, string, http.Header) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// TestVerifyPage: with no sign-in, the QR address shows a genuine
// document's minimal data (the name masked, never the PIN or the full
// name), in Vietnamese and English, as a page and as JSON; a wrong code and
// an unknown id answer the same; every check is logged without who.
func TestVerifyPage(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{document.Migrations()}, func(t *testing.T, db *storage.DB) {
		st, d := issue(t, db)
		p, err := New(Deps{Verifier: st})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		p.Mount(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		addr := srv.URL + document.VerifyPath(d.ID, d.VerifyCode)

		status, body, h := get(t, addr, "")
		if status != http.StatusOK || !strings.Contains(body, `id="genuine"`) || !strings.Contains(body, "T*** Đ** H**") ||
			!strings.Contains(body, "Trích lục khai sinh") || !strings.Contains(body, "UBND phường Ba Đình") || !strings.Contains(body, "07/12/2026") {
			t.Errorf("genuine page: %d\n%s", status, body)
		}
		for _, secret := range []string{"Trần Đức Huy", "001225000123", "001190012345", "Ánh"} {
			if strings.Contains(body, secret) {
				t.Errorf("the page shows %q", secret)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Cache-Control") != "no-store" {
			t.Errorf("headers: %v", h)
		}
		if _, en, _ := get(t, addr+"&lang=en", ""); !strings.Contains(en, "Genuine document") || !strings.Contains(en, "Birth certificate extract") {
			t.Errorf("English page:\n%s", en)
		}

		status, body, h = get(t, addr, "application/json")
		var a answer
		if status != http.StatusOK || json.Unmarshal([]byte(body), &a) != nil || !a.Genuine || a.Holder != "T*** Đ** H**" ||
			a.IssueDate != "2026-12-07" || a.Kind != "birth_extract" || a.SHA256 != d.SHA256 || h.Get("Content-Type") != "application/json" {
			t.Errorf("JSON: %d %s", status, body)
		}

		wrong := "AAAAAAAA"
		if wrong == d.VerifyCode {
			wrong = "BBBBBBBB"
		}
		for _, accept := range []string{"", "application/json"} {
			unknown := document.NewID()
			s1, b1, _ := get(t, srv.URL+document.VerifyPath(d.ID, wrong), accept)
			s2, b2, _ := get(t, srv.URL+document.VerifyPath(unknown, d.VerifyCode), accept)
			b1 = strings.ReplaceAll(strings.ReplaceAll(b1, d.ID, "ID"), wrong, "CODE")
			b2 = strings.ReplaceAll(strings.ReplaceAll(b2, unknown, "ID"), d.VerifyCode, "CODE")
			if s1 != http.StatusNotFound || s1 != s2 || b1 != b2 {
				t.Errorf("wrong code and unknown id differ (accept %q): %d %d\n%s\n%s", accept, s1, s2, b1, b2)
			}
			if accept != "" && !strings.Contains(b1, `"code":"document.not_genuine"`) {
				t.Errorf("problem body: %s", b1)
			}
		}

		// The form sends a typed id and code to their check.
		status, _, h = get(t, srv.URL+"/verify?id="+strings.ToLower(d.ID)+"&c="+d.VerifyCode, "")
		if status != http.StatusSeeOther || h.Get("Location") != document.VerifyPath(d.ID, d.VerifyCode) {
			t.Errorf("form redirect: %d %s", status, h.Get("Location"))
		}
		if status, body, _ := get(t, srv.URL+"/verify", ""); status != http.StatusOK || !strings.Contains(body, `id="verify-form"`) {
			t.Errorf("form page: %d", status)
		}

		scans, err := st.Scans(context.Background(), d.ID)
		if err != nil || len(scans) != 3 {
			t.Errorf("logged genuine checks = %d, %v", len(scans), err)
		}
		var n int
		if err := db.R.QueryRow(`SELECT count(*) FROM document_scans`).Scan(&n); err != nil || n != 7 {
			t.Errorf("logged checks = %d, %v", n, err)
		}
	})
}

// TestVerifyLimits: a client that checks too often is refused (429 with
// Retry-After) before any lookup; repeated failures against one id stop
// its checks from every client for the window; a new window allows again.
func TestVerifyLimits(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{document.Migrations()}, func(t *testing.T, db *storage.DB) {
		st, d := issue(t, db)
		now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		p, err := New(Deps{Verifier: st, Now: func() time.Time { return now }, PerClient: 5, PerDocument: 3})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		p.Mount(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		good := srv.URL + document.VerifyPath(d.ID, d.VerifyCode)
		bad := srv.URL + document.VerifyPath(d.ID, "WRONGCOD")
		for i := range 3 {
			if s, _, _ := get(t, bad, "application/json"); s != http.StatusNotFound {
				t.Fatalf("failure %d: %d", i, s)
			}
		}
		// The id has used its failures: even the right code waits.
		s, body, h := get(t, good, "application/json")
		if s != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, "document.verify_limited") {
			t.Errorf("after the id's failures: %d %s", s, body)
		}
		// The client's budget: 5 checks a window, counted before lookup;
		// the sixth, of another id, is refused too.
		if s, _, _ := get(t, srv.URL+document.VerifyPath(document.NewID(), "X"), "application/json"); s != http.StatusNotFound {
			t.Errorf("fifth check: %d", s)
		}
		if s, _, _ := get(t, srv.URL+document.VerifyPath(document.NewID(), "X"), "application/json"); s != http.StatusTooManyRequests {
			t.Errorf("sixth check: %d", s)
		}
		now = now.Add(time.Minute)
		if s, _, _ := get(t, good, "application/json"); s != http.StatusOK {
			t.Errorf("next window: %d", s)
		}
	})
}

func TestMessages(t *testing.T) {
	p, err := New(Deps{Verifier: document.NewStore(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if m := p.kit.Messages.Missing(); len(m) != 0 {
		t.Errorf("missing messages: %v", m)
	}
	if u, err := p.kit.Messages.Unknown(templateFS, "templates/*.html"); err != nil || len(u) != 0 {
		t.Errorf("unknown messages: %v %v", u, err)
	}
}
