package servicesweb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/servicesweb"
)

// appFixture is the platform as the binary builds it (app.Open): the
// services routes, the payment simulator and the callback all mounted by
// the composition root.
func appFixture(t testing.TB, d storage.Dialect) *fixture {
	t.Helper()
	env := apptest.Start(t, d, 60)
	return &fixture{env: env, srv: env.Server, svc: env.App.Services}
}

var tokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)

// payOnPage pays as the citizen's browser does on the simulator's page.
func payOnPage(t testing.TB, payURL string) {
	t.Helper()
	res, err := http.Get(payURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := tokenRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no token on the payment page: %d", res.StatusCode)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = c.PostForm(payURL, url.Values{"token": {string(m[1])}, "action": {"pay"}, "method": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", res.StatusCode)
	}
}

// TestDossierThroughApp: the composition root serves the whole life — a
// temporary-residence dossier with a reused document, paid on the
// simulator's page (its signed callback to the platform), approved by the
// commune's officer, returned with a signed result in the citizen's store
// that the public /verify page confirms, and tracked publicly.
func TestDossierThroughApp(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			ctx := context.Background()
			base := f.srv.URL
			pinA, tok := f.citizen(t, 2)
			prev, err := f.env.App.Documents.Store(ctx, document.Document{OwnerPIN: pin.PIN(pinA), Kind: "digitized:lease", Title: "Hợp đồng thuê nhà",
				Body: cleanPDF, MediaType: "application/pdf", CreatedBy: "staff:test"})
			if err != nil {
				t.Fatal(err)
			}
			a := call(t, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CT.TAT.01", "form": tempForm("00004"),
				"documents": map[string]string{"dwelling_proof": prev.ID}}, "Idempotency-Key", "app-submit-1")
			if a.status != 201 || a.body["pay_url"] == nil {
				t.Fatalf("submit: %d %s", a.status, a.raw)
			}
			code, check := a.body["code"].(string), a.body["check_code"].(string)
			var life time.Duration
			payOnPage(t, a.body["pay_url"].(string))
			deadline := time.Now().Add(10 * time.Second)
			for {
				tr := call(t, "GET", base+"/api/v1/dossiers/track?code="+code+"&check="+check, "", nil)
				if tr.body["status"] == "received" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never received: %s", tr.raw)
				}
				time.Sleep(50 * time.Millisecond)
			}
			officer := f.staff(t, "dangky.badinh")
			for _, step := range []string{"start", "approve", "return"} {
				t0 := time.Now()
				if x := call(t, "POST", base+"/api/v1/desk/dossiers/"+code+"/"+step, officer, nil); x.status != 200 {
					t.Fatalf("%s: %d %s", step, x.status, x.raw)
				}
				life += time.Since(t0)
			}
			// The machine's part of the life, through HTTP: the officer's
			// three acts (the signed PDF included); the submission is timed
			// by BenchmarkSubmit and the payment waits on the payer.
			t.Logf("start+approve+return (signed result) through the API: %v", life)
			x := call(t, "GET", base+"/api/v1/dossiers/"+code, tok, nil)
			resID := x.body["dossier"].(map[string]any)["result_document"].(string)
			res, err := f.env.App.Documents.Get(ctx, resID)
			if err != nil || res.SignedBy == "" {
				t.Fatalf("result: %v", err)
			}
			// The result's QR address answers genuine on the public page.
			layout := res.Layout
			m := regexp.MustCompile(`/verify/[A-Za-z0-9]+\?c=[A-Za-z0-9]+`).FindString(layout)
			if m == "" {
				t.Fatalf("no verify address in the layout")
			}
			req, _ := http.NewRequest("GET", base+m, nil)
			req.Header.Set("Accept", "application/json")
			vr, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			vb, _ := io.ReadAll(vr.Body)
			vr.Body.Close()
			if vr.StatusCode != 200 || strings.Contains(string(vb), pinA) {
				t.Fatalf("verify: %d %s", vr.StatusCode, vb)
			}
			// The issuing unit is named as the paper says it, not by code.
			if !strings.Contains(string(vb), "Công an phường Ba Đình") || strings.Contains(string(vb), "000.04.00") {
				t.Fatalf("verify names the issuer wrongly: %s", vb)
			}
			if tr := call(t, "GET", base+"/track?code="+url.QueryEscape(code)+"&check="+check+"&lang=en", "", nil); tr.status != 200 || !strings.Contains(string(tr.raw), "Result returned") {
				t.Fatalf("track page: %d", tr.status)
			}
		})
	}
}

// BenchmarkSubmit measures online submissions through the API with
// pre-fill and a document reference, 32 callers; it reports submissions/s
// and the p99 latency.
func BenchmarkSubmit(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchSubmit(b, d) })
	}
}

func benchSubmit(b *testing.B, d storage.Dialect) {
	f := appFixture(b, d)
	base := f.srv.URL
	p, tok := f.citizen(b, 3)
	notice, err := f.env.App.Documents.Store(context.Background(), document.Document{OwnerPIN: pin.PIN(p), Kind: "digitized:death_notice", Title: "Giấy báo tử",
		Body: cleanPDF, MediaType: "application/pdf", CreatedBy: "staff:test"})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	// A free procedure with pre-filled locked fields and a required
	// document given by reference to the filer's store (death registration;
	// a fee would add the gateway's round trip, measured by the payment
	// module).
	body := map[string]any{"procedure": "HT.KT.01", "form": map[string]string{"deceased_pin": p, "death_date": time.Now().Format("2006-01-02"),
		"death_place": "Bệnh viện Bạch Mai", "cause": "Bệnh già", "relation": "con"}, "documents": map[string]string{"death_notice": notice.ID}}
	b.SetParallelism(16) // 32 clients on 2 cores: a server under load, not two callers in turn
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			key := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n.Add(1))
			t0 := time.Now()
			a := call(b, "POST", base+"/api/v1/dossiers", tok, body, "Idempotency-Key", key)
			mine = append(mine, time.Since(t0))
			if a.status != 201 {
				b.Errorf("submit: %d %s", a.status, a.raw)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/el.Seconds(), "submits/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(len(lat)), "cpu-µs/op")
	}
}

// BenchmarkTrack measures public tracking lookups through the API.
func BenchmarkTrack(b *testing.B) {
	f := appFixture(b, storage.SQLite)
	base := f.srv.URL
	_, tok := f.citizen(b, 3)
	a := call(b, "POST", base+"/api/v1/dossiers", tok, map[string]any{"procedure": "CC.XN.01", "form": map[string]string{"old_id": "123456789"}}, "Idempotency-Key", "bench-track-1")
	// The lookups come from one client address, which the per-client
	// limit (120 a minute) would refuse: they go to the same handler
	// mounted with that limit out of reach, on a server of their own.
	mux := http.NewServeMux()
	h := &servicesweb.Handler{Services: f.env.App.Services, Citizens: f.env.App.EID, Staff: f.env.App.Staff, Log: f.env.App.Log, BaseURL: base,
		Now: time.Now, TrackLimit: servicesweb.TrackLimit{PerClient: 1 << 40, PerCode: 10, Window: time.Minute}}
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	u := srv.URL + "/api/v1/dossiers/track?code=" + url.QueryEscape(a.body["code"].(string)) + "&check=" + a.body["check_code"].(string)
	b.SetParallelism(16) // 32 clients on 2 cores: a server under load, not two callers in turn
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("track: %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
