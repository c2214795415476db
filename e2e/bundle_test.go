package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/bundle"
	"github.com/dancu-project/dancu/internal/bundle/partnersim"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestBundleInBrowser, on SQLite and PostgreSQL, in headless Chromium with
// real HTTP and the partner simulators as the social-insurance and labour
// agencies: a mother signs in at level 2 and files the birth bundle on
// /citizen/bundles with the hospital's birth certificate; the insurance
// simulator answers the card step through the partner API; she sees every
// step done, and the register has the child with a PIN, in her household,
// with permanent residence and the health-insurance card number as the
// bhxh sector identifier. Then a registrar records a man's death at the
// desk, and his wife's portal offers the death bundle filled in with his
// name; she confirms it in one step and sees its steps done, the funeral
// allowance answered by the labour agency. Screenshots go to
// docs/screenshots/bundle-*.png.
func TestBundleInBrowser(t *testing.T) {
	bin := needChromium(t)
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			base := env.Server.URL
			ctx := context.Background()
			shots := string(d) == "sqlite"
			simulate(t, env)

			// 1. The mother files the birth bundle online.
			var mother eidCitizen
			err := env.App.DB.R.QueryRow(`SELECT m.pin, m.full_name, m.birth_date FROM persons m WHERE m.status = 'alive' AND m.sex = 'F' AND m.household_id != ''
				AND m.birth_date BETWEEN '1987-01-01' AND '1999-12-31' AND length(m.birth_date) = 10
				AND NOT EXISTS (SELECT 1 FROM persons c WHERE c.mother_pin = m.pin AND c.birth_date > '2025-01-01') ORDER BY m.pin LIMIT 1`).Scan(&mother.pin, &mother.name, &mother.birth)
			if err != nil {
				t.Fatal(err)
			}
			level2(t, env, &mother)
			cert := filepath.Join(t.TempDir(), "giay-chung-sinh.png")
			if err := os.WriteFile(cert, pngBytes(t), 0o644); err != nil {
				t.Fatal(err)
			}
			born := civildate.Of(time.Now().AddDate(0, 0, -2))
			b := newBrowser(t, bin)
			signInLevel2(b, base, &mother)
			b.step("open the birth bundle form",
				chromedp.Navigate(base+"/citizen/bundles"),
				chromedp.WaitVisible(chromedp.ID("new-birth")),
				chromedp.Click(chromedp.ID("new-birth")),
				chromedp.WaitVisible(chromedp.ID("birth-form")),
			)
			// The browser's own checks aside, the server answers each field.
			b.read(chromedp.Evaluate[string](`['child_name','child_birth_date','birthplace'].forEach(id => document.getElementById(id).removeAttribute('required')); 'ok'`))
			b.step("submit it empty: field errors in Vietnamese",
				chromedp.Click(chromedp.ID("submit")),
				chromedp.WaitVisible(chromedp.ID("child_name-error")),
			)
			if got := b.text("child_name-error"); !strings.Contains(got, "Nhập họ, chữ đệm và tên của trẻ") {
				t.Errorf("child name error %q", got)
			}
			if got := b.text("birth_certificate-error"); !strings.Contains(got, "giấy chứng sinh") {
				t.Errorf("certificate error %q", got)
			}
			b.step("fill in the form",
				chromedp.SendKeys(chromedp.ID("child_name"), "Trần Thị Bảo Ngọc"),
				chromedp.SendKeys(chromedp.ID("child_birth_date"), born.Display()),
				chromedp.SetValue(chromedp.ID("child_sex"), "F"),
				chromedp.SendKeys(chromedp.ID("birthplace"), "Bệnh viện Phụ sản Hà Nội"),
				chromedp.SetUploadFiles(`#birth_certificate`, []string{cert}),
			)
			if shots {
				b.shot("../../docs/screenshots/bundle-01-birth-form.png")
			}
			b.step("file it",
				chromedp.Click(chromedp.ID("submit")),
				chromedp.WaitVisible(chromedp.ID("bundle-code")),
			)
			code := b.text("bundle-code")
			if shots {
				b.shot("../../docs/screenshots/bundle-02-birth-filed.png")
			}
			bd := waitBundle(t, env, mother.pin, code)
			if bd.Status != bundle.Completed {
				t.Fatalf("birth bundle ended %s: %+v", bd.Status, bd.Steps)
			}
			b.step("the mother sees every step done",
				chromedp.Navigate(base+"/citizen/bundles/"+code),
				chromedp.WaitVisible(chromedp.ID("steps")),
			)
			steps := b.text("steps")
			for _, want := range []string{"Đăng ký khai sinh", "Đăng ký thường trú", "Cấp thẻ bảo hiểm y tế", "Bảo hiểm xã hội", "Mã thẻ bảo hiểm y tế: TE1" + bd.SubjectPIN, bd.SubjectPIN} {
				if !strings.Contains(steps, want) {
					t.Errorf("steps lack %q:\n%s", want, steps)
				}
			}
			if strings.Count(steps, "Đã xong") != 3 || b.text("bundle-status") != "Hoàn thành" {
				t.Errorf("steps not all done (%s):\n%s", b.text("bundle-status"), steps)
			}
			if shots {
				b.shot("../../docs/screenshots/bundle-03-birth-completed.png")
			}
			child, err := env.App.Registry.Get(ctx, actor.SystemActor("e2e"), bd.SubjectPIN, "e2e")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := env.App.Registry.Get(ctx, actor.SystemActor("e2e"), mother.pin, "e2e")
			if child.FullName != "Trần Thị Bảo Ngọc" || child.MotherPIN != mother.pin || child.HouseholdID != m.HouseholdID || child.Permanent.CommuneCode != m.Permanent.CommuneCode {
				t.Errorf("child in the register: %+v", child)
			}
			ids, _ := env.App.Partners.SectorIDs(ctx, child.PIN)
			if len(ids) != 1 || ids[0].Scheme != "health_insurance_card" || ids[0].Value != "TE1"+child.PIN {
				t.Errorf("sector ids %+v", ids)
			}

			// 2. A death at the desk; the widow's portal offers the bundle.
			var husband, wife string
			if err := env.App.DB.R.QueryRow(`SELECT a.pin, a.spouse_pin FROM persons a JOIN persons w ON w.pin = a.spouse_pin WHERE a.status = 'alive' AND w.status = 'alive'
				AND a.sex = 'M' AND a.household_id != '' AND length(w.birth_date) = 10 AND w.pin != $1 ORDER BY a.pin LIMIT 1`, mother.pin).Scan(&husband, &wife); err != nil {
				t.Fatal(err)
			}
			h, _ := env.App.Registry.Get(ctx, actor.SystemActor("e2e"), husband, "e2e")
			widow := eidCitizen{pin: wife}
			if err := env.App.DB.R.QueryRow(`SELECT full_name, birth_date FROM persons WHERE pin = $1`, wife).Scan(&widow.name, &widow.birth); err != nil {
				t.Fatal(err)
			}
			level2(t, env, &widow)
			died := civildate.Of(time.Now().AddDate(0, 0, -1))
			if _, err := env.App.Registry.RegisterDeath(ctx, actor.Actor{ID: "staff:e2e.registrar", Role: actor.Registrar}, registry.DeathInput{PIN: husband, DeathDate: died.String(), Reason: "Khai tử tại bộ phận một cửa"}); err != nil {
				t.Fatal(err)
			}
			w := newBrowser(t, bin)
			signInLevel2(w, base, &widow)
			deadline := time.Now().Add(30 * time.Second)
			for {
				w.step("open the bundles page", chromedp.Navigate(base+"/citizen/bundles"), chromedp.WaitVisible(chromedp.ID("new-birth")))
				if strings.Contains(w.read(chromedp.Text(chromedp.CSS("body"))), h.FullName) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no offer for the widow:\n%s", w.read(chromedp.Text(chromedp.CSS("body"))))
				}
				time.Sleep(500 * time.Millisecond)
			}
			offer := w.text("offers")
			for _, want := range []string{"Xóa đăng ký thường trú, cập nhật hộ gia đình và trợ cấp mai táng", h.FullName, died.Display(), "Vợ hoặc chồng",
				civildate.Of(died.Time().AddDate(0, 0, 15)).Display()} {
				if !strings.Contains(offer, want) {
					t.Errorf("offer lacks %q:\n%s", want, offer)
				}
			}
			if shots {
				w.shot("../../docs/screenshots/bundle-04-death-offer.png")
			}
			w.step("confirm it in one step",
				chromedp.Click(chromedp.CSS(".confirm-offer")),
				chromedp.WaitVisible(chromedp.ID("bundle-code")),
			)
			dcode := w.text("bundle-code")
			dd := waitBundle(t, env, wife, dcode)
			if dd.Status != bundle.Completed {
				t.Fatalf("death bundle ended %s: %+v", dd.Status, dd.Steps)
			}
			w.step("the widow sees the steps", chromedp.Navigate(base+"/citizen/bundles/"+dcode), chromedp.WaitVisible(chromedp.ID("steps")))
			dsteps := w.text("steps")
			for _, want := range []string{"Đăng ký khai tử", "Đã xóa đăng ký thường trú", "Cập nhật hộ gia đình", "Quyết định trợ cấp mai táng số", "Sở Lao động - Thương binh và Xã hội"} {
				if !strings.Contains(dsteps, want) {
					t.Errorf("death steps lack %q:\n%s", want, dsteps)
				}
			}
			if strings.Count(dsteps, "Đã xong") != 4 {
				t.Errorf("death steps not all done:\n%s", dsteps)
			}
			if shots {
				w.shot("../../docs/screenshots/bundle-05-death-completed.png")
			}
		})
	}
}

// simulate runs the social-insurance and labour agencies as partner
// simulators over real HTTP, registered through the partner API.
func simulate(t *testing.T, env *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	creds, err := env.App.BootstrapPartners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range creds {
		if c.PartnerID != bundle.PartnerInsurance && c.PartnerID != bundle.PartnerLabour {
			continue
		}
		sim := partnersim.New(partnersim.Config{Server: env.Server.URL, ClientID: c.ClientID, Secret: c.Secret, Delay: 200 * time.Millisecond})
		srv := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); srv.Close() })
		if err := sim.Discover(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sim.Register(ctx, srv.URL+"/dancu-steps"); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d simulated partners", n)
	}
}

// level2 gives the citizen an e-ID account at level 2 with an
// authenticator app (as newCitizen, for a chosen person).
func level2(t *testing.T, env *apptest.Env, c *eidCitizen) {
	t.Helper()
	ctx := context.Background()
	e, err := env.App.EID.StartRegistration(ctx, eid.RegistrationInput{PIN: c.pin, CardNumber: c.pin, FullName: c.name, BirthDate: c.birth, Phone: "0987654321"})
	if err != nil {
		t.Fatal(err)
	}
	codes := smsCodeRE.FindAllStringSubmatch(env.Logs.String(), -1)
	if _, err := env.App.EID.CompleteRegistration(ctx, e.ID, codes[len(codes)-1][1], citizenPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.EID.Activate(ctx, actor.Actor{ID: "staff:e2e.registrar", Role: actor.Registrar}, c.pin); err != nil {
		t.Fatal(err)
	}
	en, err := env.App.EID.EnrolTOTP(ctx, c.pin)
	if err != nil {
		t.Fatal(err)
	}
	c.totp, c.step = en.Secret, time.Now().Unix()/30
	if err := env.App.EID.ConfirmTOTP(ctx, c.pin, totp(t, c.totp, c.step)); err != nil {
		t.Fatal(err)
	}
}

func signInLevel2(b *browser, base string, c *eidCitizen) {
	b.step("sign in to the portal at level 2",
		chromedp.Navigate(base+"/citizen/login"),
		chromedp.WaitVisible(chromedp.ID("f-pin")),
		chromedp.SendKeys(chromedp.ID("f-pin"), c.pin),
		chromedp.SendKeys(chromedp.ID("f-password"), citizenPassword),
		chromedp.SendKeys(chromedp.ID("f-totp"), c.nextCode(b.t)),
		chromedp.Click(chromedp.ID("submit-login")),
		chromedp.WaitNotPresent(chromedp.ID("f-password")),
	)
}

func waitBundle(t *testing.T, env *apptest.Env, pin, code string) bundle.Bundle {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := env.App.Bundles.Get(context.Background(), pin, code)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != bundle.InProgress || time.Now().After(deadline) {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pngBytes(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var _ = fmt.Sprint
