package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestCheckBirthDate: what verify accepts as a birth date. A date that is
// no date is a field error, not a quiet "different"; partial dates only
// with the policy's leave.
func TestCheckBirthDate(t *testing.T) {
	tests := []struct {
		in      string
		partial bool
		want    string // "" accepted, else the fault code
	}{
		{"05/09/1990", false, ""},
		{"1990-09-05", false, ""},
		{"05091990", false, ""},
		{"12/25/1990", false, ""}, // month first: read as a swap
		{"29/02/2000", false, ""},
		{"garbage", false, "exchange.birth_date_invalid"},
		{"31/02/2000", false, "exchange.birth_date_invalid"},
		{"29/02/2001", false, "exchange.birth_date_invalid"},
		{"31/04/1990", false, "exchange.birth_date_invalid"},
		{"25/13/1990", false, "exchange.birth_date_invalid"},
		{"13/31/1990", false, "exchange.birth_date_invalid"}, // neither way round
		{"30/31/1990", false, "exchange.birth_date_invalid"},
		{"05/09/1700", false, "exchange.birth_date_invalid"},
		{"1990", false, "policy.partial_date_not_allowed"},
		{"09/1990", false, "policy.partial_date_not_allowed"},
		{"1990", true, ""},
		{"09/1990", true, ""},
		{"13/1990", true, "exchange.birth_date_invalid"},
	}
	for _, tc := range tests {
		_, err := checkBirthDate(tc.in, Policy{PartialDates: tc.partial})
		got := ""
		if err != nil {
			got = fault.As(err).Code
		}
		if got != tc.want {
			t.Errorf("%q (partial %t): %q, want %q", tc.in, tc.partial, got, tc.want)
		}
	}
}

// TestLinkerConcurrent: links added by concurrent calls are all in the
// table when each add returns, and a link written before costs nothing.
func TestLinkerConcurrent(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{storage.OwnMigrations(), Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		l := newLinker(NewStore(db, time.Now))
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Go(func() {
				k := Link{PIN: fmt.Sprintf("0010900%05d", i%30), PartnerID: "bank-a", Via: "verify"}
				if err := l.add(ctx, k); err != nil {
					t.Error(err)
					return
				}
				var n int
				db.R.QueryRowContext(ctx, `SELECT count(*) FROM exchange_links WHERE pin = $1 AND partner_id = 'bank-a'`, k.PIN).Scan(&n)
				if n != 1 {
					t.Errorf("link %s not in the table when add returned", k.PIN)
				}
			})
		}
		wg.Wait()
		var n int
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM exchange_links`).Scan(&n)
		if n != 30 {
			t.Errorf("%d links, want 30", n)
		}
	})
}

// TestProbeDigestStable: the digest of a verify's values is the one
// earlier versions wrote (fmt's "%04d-%02d-%02d" date among them), so
// values a partner tried today before an upgrade are not counted as new
// after it; case, spacing and date format do not make values new.
func TestProbeDigestStable(t *testing.T) {
	old := func(in VerifyInput, d match.RawDate) string {
		h := sha256.New()
		for _, v := range []string{
			strings.Join(strings.Fields(strings.ToLower(in.FullName)), " "),
			fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day),
			strings.Join(strings.Fields(strings.ToLower(in.Address)), " "),
			strings.TrimSpace(in.CardNumber),
		} {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	cases := []struct {
		in VerifyInput
		d  match.RawDate
	}{
		{VerifyInput{FullName: "Nguyễn Văn An"}, match.RawDate{Year: 1990, Month: 9, Day: 5}},
		{VerifyInput{FullName: "  NGUYỄN   văn AN ", Address: "Số 1, Hà Nội", CardNumber: " 001090000001 "}, match.RawDate{Year: 1990, Month: 12, Day: 25}},
		{VerifyInput{}, match.RawDate{}},
		{VerifyInput{FullName: "Lê Thị B"}, match.RawDate{Year: 1990}},
		{VerifyInput{FullName: "x"}, match.RawDate{Year: 12345, Month: 1, Day: 2}},
	}
	for _, c := range cases {
		if got, want := probeDigest(c.in, c.d), old(c.in, c.d); got != want {
			t.Errorf("%+v %+v: digest %s, earlier versions %s", c.in, c.d, got, want)
		}
	}
	a := probeDigest(VerifyInput{FullName: "Nguyễn Văn An"}, match.RawDate{Year: 1990, Month: 9, Day: 5})
	if b := probeDigest(VerifyInput{FullName: " nguyễn  VĂN an"}, match.RawDate{Year: 1990, Month: 9, Day: 5}); a != b {
		t.Error("the same name in another case and spacing is a new value")
	}
}
