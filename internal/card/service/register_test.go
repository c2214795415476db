package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/lds"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// registerSize is how many persons TestCardForEveryone seeds: 1,000 by
// default (with the edge cases added, every age from 0 to 110 and partial
// birth dates), 100,000 for the full check of issue 15 with
//
//	DANCU_CARD_REGISTER=100000 go test -run TestCardForEveryone -timeout 2h ./internal/card/service/
//
// and fewer under -short.
func registerSize(t *testing.T) int {
	if s := os.Getenv("DANCU_CARD_REGISTER"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("DANCU_CARD_REGISTER=%q is not a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 200
	}
	return 1000
}

// TestCardForEveryone seeds a register and issues a card to every living
// person in it through the desk's lifecycle (apply, approve, produce) as a
// national registrar: nobody is refused, whatever their age or however
// little of their birth date is known. Each card's MRZ is then checked by
// td1Check, written from ICAO Doc 9303 Parts 3 and 5 without the code of
// package mrz, against the register; the QR and DG13 are compared with the
// register too, so the three agree.
func TestCardForEveryone(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		if d == storage.Postgres && os.Getenv("DANCU_TEST_POSTGRES_URL") == "" {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			if d == storage.Postgres && os.Getenv("DANCU_CARD_REGISTER") == "" && !testing.Short() {
				// The full size on SQLite is enough to cover the data; on
				// PostgreSQL the same path runs on a smaller register.
				t.Setenv("DANCU_CARD_REGISTER", "300")
			}
			everyone(t, storagetest.Open(t, d, migrations()))
		})
	}
}

func everyone(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 17, 30, 0, 0, time.UTC) // 00:30 ICT on 8 December
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return at }
	log := audit.NewLog(db, now, slog.New(slog.DiscardHandler))
	t.Cleanup(log.Close)
	reg := registry.NewService(db, units, log, now)
	dir := t.TempDir()
	if _, err := (pki.Options{Now: func() time.Time { return at.AddDate(0, 0, -1) }}).Init(dir); err != nil {
		t.Fatal(err)
	}
	svc := service.New(db, reg, log, dir, now)
	n := registerSize(t)
	if _, err := seed.Run(ctx, db, log, units, seed.Options{Persons: n, Seed: 15, Today: at}); err != nil {
		t.Fatal(err)
	}
	addEdgeCases(t, db, log, at)
	rows, err := db.R.QueryContext(ctx, `SELECT pin FROM persons WHERE status = 'alive' ORDER BY pin`)
	if err != nil {
		t.Fatal(err)
	}
	var pins []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		pins = append(pins, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	national := actor.Actor{ID: "staff:national", Role: actor.Registrar}
	ethnic := map[string]string{}
	for _, e := range registry.Ethnicities() {
		ethnic[e.Code] = e.Name
	}
	ages := map[int]bool{}
	partial, lifetime, failures := 0, 0, 0
	fail := func(p registry.Person, format string, args ...any) {
		failures++
		if failures <= 30 {
			t.Errorf("%s (%s, born %s): %s", p.PIN, p.FullName, p.BirthDate, fmt.Sprintf(format, args...))
		}
	}
	for _, pinText := range pins {
		p, err := reg.Get(ctx, national, pinText, "test")
		if err != nil {
			t.Fatal(err)
		}
		c, err := svc.Apply(ctx, national, pinText)
		for _, step := range []func(context.Context, actor.Actor, string) (service.Card, error){svc.Approve, svc.Produce} {
			if err != nil {
				break
			}
			c, err = step(ctx, national, c.Serial)
		}
		if err != nil {
			fail(p, "no card: %v", err)
			continue
		}
		ages[ageOn(p.BirthDate, civildate.Of(at))] = true
		if p.BirthDate.Partial() {
			partial++
		}
		if c.Lifetime {
			lifetime++
		}
		if msg := td1Check(c.MRZ, p, c); msg != "" {
			fail(p, "MRZ %q: %s", c.MRZ, msg)
		}
		q, err := qr.Parse(c.QR)
		if err != nil {
			fail(p, "QR %q: %v", c.QR, err)
			continue
		}
		if q.PIN.String() != p.PIN || q.Name != p.FullName || q.Birth != p.BirthDate || q.Address != p.Permanent.Text || q.Issue.String() != c.IssueDate {
			fail(p, "QR %+v differs from the register", q)
		}
		chip, err := svc.Chip(ctx, national, c.Serial)
		if err != nil {
			t.Fatal(err)
		}
		g, err := lds.ParseDG13(chip.DataGroups[13])
		if err != nil {
			fail(p, "DG13: %v", err)
			continue
		}
		religion := p.Religion
		if religion == "" {
			religion = "Không"
		}
		if g.PIN != p.PIN || g.FullName != p.FullName || g.Birth != p.BirthDate.Display() || g.Ethnicity != ethnic[p.Ethnicity] ||
			g.Religion != religion || g.BirthPlace == "" || g.Address != p.Permanent.Text || g.Issue != dmy(c.IssueDate) ||
			(c.Lifetime && g.Expiry != "Không thời hạn") || (!c.Lifetime && g.Expiry != dmy(c.ExpiryDate)) {
			fail(p, "DG13 %+v differs from the register or the card", g)
		}
		if (p.FatherPIN != "") != (g.Father != "") || (p.MotherPIN != "") != (g.Mother != "") {
			fail(p, "DG13 parents %q, %q; register father %q, mother %q", g.Father, g.Mother, p.FatherPIN, p.MotherPIN)
		}
	}
	if failures > 0 {
		t.Fatalf("%d of %d persons failed", failures, len(pins))
	}
	for age := 0; age <= 110; age++ {
		if !ages[age] {
			t.Errorf("no card issued to a person aged %d: the register does not cover every age", age)
		}
	}
	if partial == 0 || lifetime == 0 {
		t.Errorf("partial birth dates %d, lifetime cards %d: want some of each", partial, lifetime)
	}
	t.Logf("%d cards: %d partial birth dates, %d lifetime, ages 0–%d", len(pins), partial, lifetime, maxKey(ages))
}

// addEdgeCases adds to the seeded register the persons a card is hardest
// for: partial birth dates, 29 February, birthdays that decide the expiry
// on the test's day (8 December in Vietnam), the very old, names with
// apostrophes and hyphens, long names that must be truncated.
func addEdgeCases(t *testing.T, db *storage.DB, rec registry.Recorder, at time.Time) {
	ctx := context.Background()
	l, err := registry.NewLoader(ctx, db, rec, actor.SystemActor("test"), at)
	if err != nil {
		t.Fatal(err)
	}
	home := registry.Address{ProvinceCode: "01", CommuneCode: "00004", Detail: "Số 1 phố Hàng Bông"}
	cases := []struct{ name, birth, sex, eth string }{
		{"Hoàng Văn Năm", "1948", "M", "01"},
		{"Lò Thị Tháng", "1952-03", "F", "03"},
		{"Siu H'Mai", "1939", "F", "10"},
		{"Ksor H'Lan Ê-ban", "1961-11", "F", "12"},
		{"Nguyễn-Trần Thị Mai", "2000-02-29", "F", "01"},
		{"Nguyễn Hoàng Bảo Minh Khuê Phương Thảo", "2003-12-08", "F", "01"},
		{"Tôn Nữ Thị Hoàng Lan Phương Khánh Linh Ngọc Diệp", "1988-12-08", "F", "01"},
		{"Lê A B C D E F G H I J K L M N O P Thu", "1968-12-08", "M", "01"},
		{"Phạm Văn Trăm", "1921-06-01", "M", "01"},
		{"Đinh Thị Sơ Sinh", "2026-12-07", "F", "01"},
	}
	// One person of every age from 0 to 110, so every age is covered
	// whatever the seeded register holds.
	today := civildate.Of(at)
	for age := 0; age <= 110; age++ {
		b := time.Date(today.Year-age, time.Month(today.Month), today.Day, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -age%300)
		sex := []string{"M", "F"}[age%2]
		cases = append(cases, struct{ name, birth, sex, eth string }{fmt.Sprintf("Trần Văn Tuổi %c", 'A'+rune(age%26)), b.Format(time.DateOnly), sex, "01"})
	}
	for i, c := range cases {
		b, err := civildate.Parse(c.birth)
		if err != nil {
			t.Fatal(err)
		}
		pinText, err := l.AllocatePIN("001", b.Year, c.sex[0])
		if err != nil {
			t.Fatal(err)
		}
		hh := fmt.Sprintf("HH-EDGE-%d", i)
		if err := l.Household(ctx, registry.Household{ID: hh, HeadPIN: pinText, Address: home}); err != nil {
			t.Fatal(err)
		}
		p := registry.Person{PIN: pinText, FullName: c.name, BirthDate: b, Sex: c.sex, Ethnicity: c.eth, Nationality: "VNM",
			Permanent: home, HouseholdID: hh, Relation: registry.RelHead}
		if err := l.Person(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func ageOn(b, d civildate.Date) int {
	e := b.Earliest()
	n := d.Year - e.Year()
	if d.Month < int(e.Month()) || (d.Month == int(e.Month()) && d.Day < e.Day()) {
		n--
	}
	return n
}

func maxKey(m map[int]bool) int {
	out := 0
	for k := range m {
		out = max(out, k)
	}
	return out
}

// dmy turns ISO yyyy-mm-dd into dd/mm/yyyy.
func dmy(iso string) string {
	if len(iso) != 10 {
		return iso
	}
	return iso[8:10] + "/" + iso[5:7] + "/" + iso[:4]
}

// td1Check verifies a TD1 MRZ as ICAO Doc 9303 Part 5 lays it out and Part
// 3 computes check digits (§4.9: weights 7, 3, 1 repeating, 0–9 as
// themselves, A–Z as 10–35, the filler as 0, the sum modulo 10), and
// compares what it carries with the register record and the card. It is
// written independently of package mrz and returns "" when all is right.
func td1Check(mrzText string, p registry.Person, c service.Card) string {
	lines := strings.Split(mrzText, "\n")
	if len(lines) != 3 {
		return "not three lines"
	}
	for i, l := range lines {
		if len(l) != 30 {
			return fmt.Sprintf("line %d has %d characters", i+1, len(l))
		}
		for _, r := range l {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '<') {
				return fmt.Sprintf("line %d holds %q", i+1, r)
			}
		}
	}
	l1, l2, l3 := lines[0], lines[1], lines[2]
	// Positions are 1-based in the standard; s(l, a, b) is positions a..b.
	s := func(l string, a, b int) string { return l[a-1 : b] }
	digit := func(l string, pos int, over string, what string) string {
		got := l[pos-1]
		if got < '0' || got > '9' {
			return fmt.Sprintf("%s check digit %q is not a digit", what, got)
		}
		if want := icaoCheck(over); got != want {
			return fmt.Sprintf("%s check digit %c, computed %c", what, got, want)
		}
		return ""
	}
	if s(l1, 1, 2) != "ID" || s(l1, 3, 5) != "VNM" || s(l2, 16, 18) != "VNM" {
		return "document code, issuing state or nationality"
	}
	if s(l1, 6, 14) != p.PIN[3:] {
		return "document number is not the PIN's last nine digits"
	}
	if s(l1, 16, 29) != p.PIN+"<<" {
		return "optional data is not the PIN"
	}
	for _, m := range []string{
		digit(l1, 15, s(l1, 6, 14), "document number"),
		digit(l1, 30, s(l1, 16, 29), "optional data (national)"),
		digit(l2, 7, s(l2, 1, 6), "date of birth"),
		digit(l2, 15, s(l2, 9, 14), "date of expiry"),
		digit(l2, 30, s(l1, 6, 30)+s(l2, 1, 7)+s(l2, 9, 15)+s(l2, 19, 29), "composite"),
	} {
		if m != "" {
			return m
		}
	}
	// Date of birth: YYMMDD, an unknown month or day as fillers (Part 3).
	b := p.BirthDate
	want := fmt.Sprintf("%02d", b.Year%100)
	if b.Month == 0 {
		want += "<<<<"
	} else if b.Day == 0 {
		want += fmt.Sprintf("%02d<<", b.Month)
	} else {
		want += fmt.Sprintf("%02d%02d", b.Month, b.Day)
	}
	if s(l2, 1, 6) != want {
		return fmt.Sprintf("date of birth %s, register %s", s(l2, 1, 6), b)
	}
	if sex := s(l2, 8, 8); sex != p.Sex {
		return fmt.Sprintf("sex %s, register %s", sex, p.Sex)
	}
	if c.Lifetime {
		if s(l2, 9, 14) != "<<<<<<" {
			return "a lifetime card with an expiry date"
		}
	} else if e := c.ExpiryDate; len(e) != 10 || s(l2, 9, 14) != e[2:4]+e[5:7]+e[8:10] {
		return fmt.Sprintf("expiry %s, card %s", s(l2, 9, 14), e)
	}
	if s(l2, 19, 29) != strings.Repeat("<", 11) {
		return "line 2 optional data is not empty"
	}
	return nameCheck(l3, p.FullName)
}

func icaoCheck(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		v := 0
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		}
		sum += v * [3]int{7, 3, 1}[i%3]
	}
	return byte('0' + sum%10)
}

// nameCheck compares the name field with the register's name as ICAO 9303-3
// writes it: the surname, "<<", the other names separated by "<";
// diacritics removed (Đ as D), apostrophes omitted, hyphens as fillers. A
// name that fits is written whole; a longer one is truncated — each name
// component shown is a leading part of the register's, in order, the
// surname kept, and a cut field ends with a letter.
func nameCheck(field, name string) string {
	var comps [][]string
	for _, w := range strings.Fields(name) {
		var parts []string
		for _, h := range strings.Split(w, "-") {
			var b strings.Builder
			for _, r := range norm.NFD.String(h) {
				switch {
				case r == 'đ' || r == 'Đ':
					b.WriteByte('D')
				case unicode.Is(unicode.Mn, r), r == '\'', r == '’':
				case r < 128 && unicode.IsLetter(r):
					b.WriteRune(unicode.ToUpper(r))
				}
			}
			if b.Len() > 0 {
				parts = append(parts, b.String())
			}
		}
		if len(parts) > 0 {
			comps = append(comps, parts)
		}
	}
	if len(comps) == 0 {
		return "register name has no letters"
	}
	primary := strings.Join(comps[0], "<")
	var secondary []string
	for _, c := range comps[1:] {
		secondary = append(secondary, c...)
	}
	full := primary
	if len(secondary) > 0 {
		full += "<<" + strings.Join(secondary, "<")
	}
	if len(full) <= 30 {
		if want := full + strings.Repeat("<", 30-len(full)); field != want {
			return fmt.Sprintf("name %q, want %q", field, want)
		}
		return ""
	}
	got := strings.TrimRight(field, "<")
	sur, given, _ := strings.Cut(got, "<<")
	if sur != primary && !(len(sur) >= 27 && strings.HasPrefix(primary, sur)) {
		return fmt.Sprintf("truncated name %q lost the surname %q", field, primary)
	}
	j := 0
	for _, g := range strings.Split(given, "<") {
		for j < len(secondary) && !strings.HasPrefix(secondary[j], g) {
			j++
		}
		if g == "" || j == len(secondary) {
			return fmt.Sprintf("truncated name %q: %q is no part of %v", field, g, secondary)
		}
		j++
	}
	// A name shortened without being cut at position 30 may only abbreviate
	// components, never drop one.
	if len(got) < 30 && len(strings.Split(given, "<")) != len(secondary) {
		return fmt.Sprintf("truncated name %q drops names of %v without filling the field", field, secondary)
	}
	return ""
}

// TestTD1CheckCatches shows the independent checker fails on what it must:
// the published sample passes, and each alteration is caught.
func TestTD1CheckCatches(t *testing.T) {
	const l1, l2, l3 = "IDVNM0930470641001093047064<<2", "9301054M3301052VNM<<<<<<<<<<<8", "UNG<<HOANG<HIEP<<<<<<<<<<<<<<<"
	p := registry.Person{PIN: "001093047064", FullName: "Ưng Hoàng Hiệp", BirthDate: civildate.Date{Year: 1993, Month: 1, Day: 5}, Sex: "M"}
	c := service.Card{ExpiryDate: "2033-01-05"}
	if m := td1Check(l1+"\n"+l2+"\n"+l3, p, c); m != "" {
		t.Fatalf("sample rejected: %s", m)
	}
	set := func(l string, pos int, ch string) string { return l[:pos-1] + ch + l[pos:] }
	lifetime := service.Card{Lifetime: true}
	lt2 := "9301054M<<<<<<<VNM<<<<<<<<<<<"
	lt2 += string(icaoCheck(l1[5:30] + lt2[0:7] + lt2[8:15] + lt2[18:29]))
	for name, tc := range map[string]struct {
		mrz  string
		card service.Card
	}{
		"document check":      {set(l1, 15, "2") + "\n" + l2 + "\n" + l3, c},
		"composite check":     {l1 + "\n" + set(l2, 30, "9") + "\n" + l3, c},
		"birth":               {l1 + "\n" + set(l2, 6, "6") + "\n" + l3, c},
		"expiry vs card":      {l1 + "\n" + l2 + "\n" + l3, service.Card{ExpiryDate: "2034-01-05"}},
		"filler check digit":  {l1 + "\n" + lt2 + "\n" + l3, lifetime},
		"apostrophe as <":     {l1 + "\n" + l2 + "\n" + "UNG<<HOANG<HI<EP<<<<<<<<<<<<<<", c},
		"given name dropped":  {l1 + "\n" + l2 + "\n" + "UNG<<HOANG<<<<<<<<<<<<<<<<<<<<", c},
		"lowercase character": {l1 + "\n" + l2 + "\n" + "UNG<<HOANG<HIEp<<<<<<<<<<<<<<<", c},
	} {
		if m := td1Check(tc.mrz, p, tc.card); m == "" {
			t.Errorf("%s: not caught", name)
		}
	}
	lt2ok := strings.Replace(lt2[:29], "<<<<<<<VNM", "<<<<<<0VNM", 1)
	lt2ok += string(icaoCheck(l1[5:30] + lt2ok[0:7] + lt2ok[8:15] + lt2ok[18:29]))
	if m := td1Check(l1+"\n"+lt2ok+"\n"+l3, p, lifetime); m != "" {
		t.Errorf("lifetime MRZ with check digit 0 rejected: %s", m)
	}
}

// TestNameCheckTruncation: the checker accepts the standard's truncations and
// refuses a dropped or invented name component.
func TestNameCheckTruncation(t *testing.T) {
	const long = "Nguyễn Hoàng Bảo Minh Khuê Phương Thảo"
	for field, ok := range map[string]bool{
		"NGUYEN<<H<B<M<KHUE<PHUONG<THAO": true,  // middle names as initials
		"NGUYEN<<H<B<M<K<P<THAO<<<<<<<<": true,  // more initials than needed
		"NGUYEN<<HOANG<BAO<MINH<KHUE<PH": true,  // cut at 30 with a letter
		"NGUYEN<<HOANG<THAO<<<<<<<<<<<<": false, // names dropped, field not full
		"NGUYEN<<HOANG<BAO<MINH<KHUE<X<": false, // not a part of the name
		"TRAN<<H<B<M<KHUE<PHUONG<THAO<<": false, // surname lost
	} {
		if got := nameCheck(field, long); (got == "") != ok {
			t.Errorf("nameCheck(%q) = %q, want ok=%v", field, got, ok)
		}
	}
}
