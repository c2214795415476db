package partnerapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// stayPolicy is a hotel chain's policy: stay notifications only.
func stayPolicy(scope string) exchange.Policy {
	return exchange.Policy{Operations: []exchange.Operation{exchange.OpStay}, Scope: scope, RatePerSecond: 1e6, Burst: 1e6,
		Purposes: []exchange.Purpose{{Code: "stay-notification", Description: "Thông báo lưu trú", Basis: exchange.BasisLaw, Citation: "Luật Cư trú số 68/2020/QH14, Điều 30"}}}
}

// stayGuest is a resident of the register and the commune of a hotel
// that is not theirs.
func (p *platform) stayGuests(n int) (pins, names []string) {
	p.t.Helper()
	rows, err := p.env.App.DB.R.Query(`SELECT pin, full_name FROM persons WHERE status = 'alive' AND perm_commune <> '00004' ORDER BY pin LIMIT $1`, n)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pin, name string
		rows.Scan(&pin, &name)
		pins, names = append(pins, pin), append(names, name)
	}
	return pins, names
}

func (p *platform) postCSV(path, token, body string) answer {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.env.Server.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	jsonUnmarshal(raw, &a.json)
	return a
}

// TestStayAPI on SQLite and PostgreSQL over real HTTP: a partner without
// the stay operation, another partner's property, an unknown property and
// a property outside the policy's scope are refused alike (403) before the
// body is read; guests are accepted per guest with refusals naming field
// and code; a repeated call is a duplicate; a CSV is reported row by row
// with its lines and a broken file stores nothing; departures are recorded.
func TestStayAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			p := start(t, string(d))
			ctx := context.Background()
			hotel := p.addPartner("ks-hoabinh", stayPolicy(""))
			other := p.addPartner("ks-khac", stayPolicy(""))
			scoped := p.addPartner("ks-tinh", stayPolicy("79"))
			noStay := p.addPartner("ks-khong", exchange.Policy{Operations: []exchange.Operation{exchange.OpVerify}, Fields: []string{"full_name"}})
			for _, h := range []stay.Host{
				{ID: "hb-1", Kind: stay.Hotel, Name: "Khách sạn Hoà Bình", PartnerID: "ks-hoabinh", Province: "01", Commune: "00004"},
				{ID: "tinh-1", Kind: stay.Hotel, Name: "Nhà nghỉ Tỉnh", PartnerID: "ks-tinh", Province: "01", Commune: "00004"},
			} {
				if err := p.env.App.Stay.AddHost(ctx, h); err != nil {
					t.Fatal(err)
				}
			}
			pins, names := p.stayGuests(3)
			now := time.Now().UTC().Add(-time.Minute)
			path := "/api/partner/v1/stay/properties/hb-1/guests"
			body := map[string]any{"guests": []map[string]any{
				{"ref": "a1", "pin": pins[0], "full_name": names[0], "arrival": now},
				{"ref": "a2", "pin": pins[1], "full_name": "Sai Tên", "arrival": now},
				{"ref": "a3", "passport": "X9876543", "nationality": "USA", "full_name": "John Smith", "birth_date": "1980-02-03", "arrival": now.Add(-72 * time.Hour)},
			}}
			for _, c := range []struct {
				name, path, tok string
				status          int
				code            string
			}{
				{"no token", path, "", 401, "auth.token_required"},
				{"no stay operation", path, noStay, 403, "policy.operation_not_allowed"},
				{"another partner's property", path, other, 403, "stay.host"},
				{"unknown property", "/api/partner/v1/stay/properties/none/guests", hotel, 403, "stay.host"},
				{"outside the policy's scope", "/api/partner/v1/stay/properties/tinh-1/guests", scoped, 403, "stay.host"},
			} {
				a := p.call("POST", c.path, c.tok, map[string]any{"guests": "not even a list"})
				if a.status != c.status || a.code() != c.code {
					t.Errorf("%s: %d %s, want %d %s", c.name, a.status, a.code(), c.status, c.code)
				}
			}
			// The stay routes share the partner's rate limit.
			slowPol := stayPolicy("")
			slowPol.RatePerSecond, slowPol.Burst = 0.001, 1
			slow := p.addPartner("ks-cham", slowPol)
			if err := p.env.App.Stay.AddHost(ctx, stay.Host{ID: "cham-1", Kind: stay.Dormitory, Name: "Ký túc xá", PartnerID: "ks-cham", Province: "01", Commune: "00004"}); err != nil {
				t.Fatal(err)
			}
			p.call("POST", "/api/partner/v1/stay/properties/cham-1/departures", slow, map[string]any{"departures": []map[string]any{{"ref": "x", "departed_at": now}}})
			if a := p.call("POST", "/api/partner/v1/stay/properties/cham-1/departures", slow, map[string]any{"departures": []map[string]any{{"ref": "x", "departed_at": now}}}); a.status != 429 || a.header.Get("Retry-After") == "" {
				t.Errorf("over the rate: %d %s", a.status, a.code())
			}
			a := p.call("POST", path, hotel, body)
			if a.status != 200 {
				t.Fatalf("guests: %d %s", a.status, a.body)
			}
			res := a.json["results"].([]any)
			status := func(i int) string { return res[i].(map[string]any)["status"].(string) }
			if status(0) != "accepted" || status(1) != "refused" || status(2) != "accepted" || res[2].(map[string]any)["late"] != true {
				t.Errorf("results: %s", a.body)
			}
			if e := res[1].(map[string]any)["errors"].([]any)[0].(map[string]any); e["field"] != "pin" || e["code"] != "stay.not_in_register" || e["message"] == "" {
				t.Errorf("refusal: %v", e)
			}
			a = p.call("POST", path, hotel, body)
			if res = a.json["results"].([]any); status(0) != "duplicate" || status(2) != "duplicate" {
				t.Errorf("again: %s", a.body)
			}
			if a := p.call("POST", path, hotel, map[string]any{"guests": []any{}}); a.status != 413 || a.code() != "stay.batch" {
				t.Errorf("empty batch: %d %s", a.status, a.code())
			}

			csvPath := path + "/csv"
			file := "ref,pin,full_name,arrival,until\n" +
				fmt.Sprintf("c1,%s,%s,%s,\n", pins[2], names[2], now.In(vnLoc()).Format("02/01/2006 15:04")) +
				fmt.Sprintf("c2,%s,%s,not a time,\n", pins[2], names[2]) +
				fmt.Sprintf("c3,123,%s,%s,\n", names[2], now.Format(time.RFC3339))
			a = p.postCSV(csvPath, hotel, file)
			if a.status != 200 || a.json["accepted"] != 1.0 || a.json["refused"] != 2.0 {
				t.Fatalf("csv: %d %s", a.status, a.body)
			}
			ref := a.json["refusals"].([]any)
			if l0, l1 := ref[0].(map[string]any)["line"], ref[1].(map[string]any)["line"]; l0 != 3.0 || l1 != 4.0 {
				t.Errorf("refused lines %v %v, want 3 4: %s", l0, l1, a.body)
			}
			for _, c := range []struct{ file, code string }{
				{"ref,full_name,arrival\nb1,\"unterminated,x\n", "stay.csv"},
				{"ref,name,arrival\n", "stay.csv_header"},
				{"", "stay.csv_rows"},
			} {
				if a := p.postCSV(csvPath, hotel, c.file); a.code() != c.code {
					t.Errorf("file %q: %d %s, want %s", c.file, a.status, a.body, c.code)
				}
			}
			var n int
			p.env.App.DB.R.QueryRow(`SELECT count(*) FROM stay_guests WHERE host_id = 'hb-1'`).Scan(&n)
			if n != 3 {
				t.Errorf("%d guests stored, want 3", n)
			}
			a = p.call("POST", "/api/partner/v1/stay/properties/hb-1/departures", hotel, map[string]any{"departures": []map[string]any{
				{"ref": "a1", "departed_at": time.Now().UTC()}, {"ref": "zz", "departed_at": time.Now().UTC()}}})
			if res = a.json["results"].([]any); a.status != 200 || status(0) != "accepted" || status(1) != "refused" {
				t.Errorf("departures: %d %s", a.status, a.body)
			}
		})
	}
}

func jsonUnmarshal(b []byte, v any) { _ = json.Unmarshal(b, v) }

func vnLoc() *time.Location { return civildate.Location() }
