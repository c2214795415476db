package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestStayInBrowser, on SQLite and PostgreSQL, in headless Chromium with
// real HTTP: the national administrator registers a hotel in Phường Ba Đình
// as the property of the hotel chain's partner on the lodgings page; the
// hotel uploads its guest list as CSV through the partner API with its own
// client credentials (two citizens arriving today, a foreigner who arrived
// two days ago and is reported late); a household head signs in to the
// portal with the e-ID and reports a guest on /citizen/stay; Ba Đình's
// commune police officer signs in and sees on /stay the guests by name,
// the arrival dates as dd/mm/yyyy, the hotel's name, and the late report
// flagged in its own list. Screenshots go to docs/screenshots/stay-*.png.
func TestStayInBrowser(t *testing.T) {
	bin := needChromium(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 80)
			base := env.Server.URL
			ctx := context.Background()
			shots := string(d) == "sqlite" // one set of pictures for the note

			// The hotel chain is a partner whose policy allows stay
			// notifications in Hà Nội; its system has client credentials.
			if _, err := env.App.Partners.AddPartner(ctx, exchange.Partner{ID: "ks-thudo", Name: "Công ty Khách sạn Thủ Đô", Kind: exchange.KindOther,
				Policy: exchange.Policy{Operations: []exchange.Operation{exchange.OpStay}, Scope: "01", RatePerSecond: 100, Burst: 100,
					Purposes: []exchange.Purpose{{Code: "stay-notification", Description: "Thông báo lưu trú", Basis: exchange.BasisLaw, Citation: "Luật Cư trú số 68/2020/QH14, Điều 30"}}}}); err != nil {
				t.Fatal(err)
			}
			sys, secret, err := env.App.Partners.NewSystem(ctx, env.App.OIDC.Clients(), exchange.SystemInput{PartnerID: "ks-thudo"})
			if err != nil {
				t.Fatal(err)
			}

			// 1. The administrator registers the hotel.
			admin := newBrowser(t, bin)
			admin.openStaffLogin(base)
			admin.signInStaff("admin", "nav-admin")
			admin.step("open the lodgings page from the administration",
				chromedp.Navigate(base+"/admin"),
				chromedp.WaitVisible(chromedp.ID("link-stay-properties")),
				chromedp.Click(chromedp.ID("link-stay-properties")),
				chromedp.WaitVisible(chromedp.ID("property-province")),
			)
			admin.step("choose Hà Nội",
				chromedp.SetValue(chromedp.ID("f-province"), "01"),
				chromedp.Click(chromedp.ID("province-choose")),
				chromedp.WaitVisible(chromedp.ID("property-new")),
			)
			admin.step("fill in the hotel",
				chromedp.SendKeys(chromedp.ID("f-property_name"), "Khách sạn Thủ Đô Ba Đình"),
				chromedp.SetValue(chromedp.ID("f-property_kind"), "hotel"),
				chromedp.SetValue(chromedp.ID("f-property_partner"), "ks-thudo"),
				chromedp.SetValue(chromedp.ID("f-property_commune"), "00004"),
				chromedp.SendKeys(chromedp.ID("f-property_address"), "12 Phan Đình Phùng"),
				chromedp.SendKeys(chromedp.ID("f-property_id"), "ks-thudo-badinh"),
			)
			if shots {
				stayShot(admin, "stay-01-admin-form.png")
			}
			admin.step("register it",
				chromedp.Click(chromedp.ID("property-submit")),
				chromedp.WaitVisible(chromedp.ID("property-done")),
			)
			list := admin.read(chromedp.Text(chromedp.ID("properties")))
			for _, want := range []string{"Khách sạn Thủ Đô Ba Đình", "Khách sạn, nhà nghỉ", "Công ty Khách sạn Thủ Đô", "Phường Ba Đình"} {
				if !strings.Contains(list, want) {
					t.Errorf("the lodgings list lacks %q:\n%s", want, list)
				}
			}
			if shots {
				stayShot(admin, "stay-02-admin-registered.png")
			}

			// 2. The hotel uploads its guest list with its own credentials.
			type person struct{ pin, name string }
			var guests []person
			rows, err := env.App.DB.R.Query(`SELECT pin, full_name FROM persons WHERE status = 'alive' AND perm_commune <> '00004' ORDER BY pin LIMIT 3`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var p person
				rows.Scan(&p.pin, &p.name)
				guests = append(guests, p)
			}
			rows.Close()
			if len(guests) < 3 {
				t.Fatalf("only %d guests from elsewhere", len(guests))
			}
			tok, err := (&clientcredentials.Config{ClientID: sys.ClientID, ClientSecret: secret, TokenURL: base + "/oidc/oauth/token"}).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().In(civildate.Location())
			arrival := now.Add(-10 * time.Minute)
			lateArrival := now.Add(-50 * time.Hour)
			file := "ref,pin,passport,nationality,full_name,birth_date,arrival\n" +
				fmt.Sprintf("p-101,%s,,,%s,,%s\n", guests[0].pin, guests[0].name, arrival.Format("02/01/2006 15:04")) +
				fmt.Sprintf("p-102,%s,,,%s,,%s\n", guests[1].pin, guests[1].name, arrival.Format("02/01/2006 15:04")) +
				fmt.Sprintf("p-103,,X1234567,FRA,Jeanne Dupont,14/07/1985,%s\n", lateArrival.Format("02/01/2006 15:04"))
			req, _ := http.NewRequest(http.MethodPost, base+"/api/partner/v1/stay/properties/ks-thudo-badinh/guests/csv", strings.NewReader(file))
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.Header.Set("Content-Type", "text/csv; charset=utf-8")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var report map[string]any
			json.Unmarshal(raw, &report)
			if resp.StatusCode != http.StatusOK || report["accepted"] != 3.0 || report["refused"] != 0.0 {
				t.Fatalf("guest list upload: %d %s", resp.StatusCode, raw)
			}

			// 3. A household head reports a guest on the portal.
			var head, visitor person
			var headCommune, birth string
			if err := env.App.DB.R.QueryRow(`SELECT pin, full_name, birth_date, perm_commune FROM persons WHERE status = 'alive' AND relation = $1
				AND length(birth_date) = 10 AND birth_date < '2000' AND perm_province = '01' ORDER BY pin LIMIT 1`, registry.RelHead).Scan(&head.pin, &head.name, &birth, &headCommune); err != nil {
				t.Fatalf("no household head in Hà Nội: %v", err)
			}
			if err := env.App.DB.R.QueryRow(`SELECT pin, full_name FROM persons WHERE status = 'alive' AND perm_commune <> $1 AND pin NOT IN ($2, $3, $4)
				ORDER BY pin DESC LIMIT 1`, headCommune, guests[0].pin, guests[1].pin, guests[2].pin).Scan(&visitor.pin, &visitor.name); err != nil {
				t.Fatal(err)
			}
			en, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: head.pin, CardNumber: head.pin, FullName: head.name, BirthDate: birth, Phone: "0912345678"})
			if err != nil {
				t.Fatal(err)
			}
			codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
			if _, err := env.App.EID.CompleteRegistration(ctx, en.ID, codes[len(codes)-1][1], citizenPassword); err != nil {
				t.Fatal(err)
			}
			citizen := newBrowser(t, bin)
			citizen.step("the head signs in to the portal",
				chromedp.Navigate(base+"/citizen/login"),
				chromedp.WaitVisible(chromedp.ID("f-pin")),
				chromedp.SendKeys(chromedp.ID("f-pin"), head.pin),
				chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
				chromedp.Click(chromedp.ID("submit-login")),
				chromedp.WaitNotPresent(chromedp.ID("f-password")),
			)
			citizen.step("open the stay notification and fill it in",
				chromedp.Navigate(base+"/citizen/stay"),
				chromedp.WaitVisible(chromedp.ID("stay-form")),
				chromedp.SendKeys(chromedp.ID("pin"), visitor.pin),
				chromedp.SendKeys(chromedp.ID("full_name"), visitor.name),
				chromedp.SetValue(chromedp.ID("arrival"), arrival.Format("02/01/2006 15:04")),
				chromedp.SendKeys(chromedp.ID("reason"), "thăm người thân"),
			)
			if shots {
				stayShot(citizen, "stay-03-citizen-form.png")
			}
			// The answer page has the form again: wait for its flash, not
			// the form, or the old page is read before the answer arrives.
			citizen.step("send it",
				chromedp.Click(chromedp.CSS(`#stay-form button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.ID("flash")),
			)
			if body := citizen.read(chromedp.Text(chromedp.CSS("body"))); !strings.Contains(body, "Đã nhận thông báo lưu trú") {
				t.Fatalf("the head's report was not received:\n%s", body)
			}

			// 4. The commune police see the guests.
			police := newBrowser(t, bin)
			police.openStaffLogin(base)
			police.signInStaff("dangky.badinh", "nav-stay")
			police.step("open the guests of the ward",
				chromedp.Click(chromedp.ID("nav-stay")),
				chromedp.WaitVisible(chromedp.ID("stay-current")),
			)
			current := police.read(chromedp.Text(chromedp.ID("stay-current")))
			late := police.read(chromedp.Text(chromedp.ID("stay-late")))
			for _, want := range []string{guests[0].name, guests[1].name, "Jeanne Dupont", "Khách sạn Thủ Đô Ba Đình", arrival.Format("02/01/2006"),
				lateArrival.Format("02/01/2006"), "14/07/1985", "Pháp", "Thông báo muộn"} {
				if !strings.Contains(current, want) {
					t.Errorf("the guests staying lack %q:\n%s", want, current)
				}
			}
			if !strings.Contains(late, "Jeanne Dupont") || !strings.Contains(late, "Thông báo muộn") || strings.Contains(late, guests[0].name) {
				t.Errorf("the late reports:\n%s", late)
			}
			if strings.Contains(current, lateArrival.Format("2006-01-02")) || strings.Contains(current, arrival.Format("2006-01-02")) {
				t.Errorf("an ISO date on the police page:\n%s", current)
			}
			if shots {
				stayShot(police, "stay-04-police.png")
			}
			// The head's guest, in the head's commune: Hà Nội's officer
			// reads any ward of the city.
			city := newBrowser(t, bin)
			city.openStaffLogin(base)
			city.signInStaff("dangky.hanoi", "nav-stay")
			city.step("open the guests of the head's ward",
				chromedp.Navigate(base+"/stay?commune="+headCommune),
				chromedp.WaitVisible(chromedp.ID("stay-current")),
			)
			if hh := city.read(chromedp.Text(chromedp.ID("stay-current"))); !strings.Contains(hh, visitor.name) || !strings.Contains(hh, "Hộ "+head.name) {
				t.Errorf("the household's guest is not shown in the head's ward:\n%s", hh)
			}
			if logs := env.Logs.String(); strings.Contains(logs, guests[0].pin) || strings.Contains(logs, "Jeanne Dupont") {
				t.Error("a guest's PIN or name is in the log")
			}
		})
	}
}

// stayShot saves a full-page screenshot into docs/screenshots for the note.
func stayShot(b *browser, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
