package document_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

const owner = pin.PIN("001190012345")

func migrations() []storage.Migrations { return []storage.Migrations{document.Migrations()} }

func issuer(t testing.TB, st *document.Store, now func() time.Time) *document.Issuer {
	rs, err := pki.Options{}.InitResults(t.TempDir(), pki.ResultsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &document.Issuer{Store: st, Cert: rs.Cert, Key: rs.Key(), BaseURL: "https://dancu.example/", Now: now}
}

func residence() result.Result {
	return result.Result{
		Kind: result.Residence, Number: "125/XNCT", Unit: "Công an phường Ba Đình", Place: "Hà Nội",
		Signer: "Trưởng Công an phường",
		Fields: map[string]string{
			"name": "Nguyễn Thị Ngọc Ánh", "birth": "12/03/1990", "sex": "Nữ", "pin": string(owner),
			"temporary": "Số 5 ngõ 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
			"from":      "01/12/2026", "to": "01/12/2028",
		},
	}
}

// TestIssueAndVerify: an issued result is stored as the owner's signed PDF
// with its QR address; the public check shows only the minimal data with
// the name masked; a wrong code, an unknown id and a malformed id answer
// the same fault; every check is logged with its time, a failed one
// without naming any document.
func TestIssueAndVerify(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// 23:30 UTC is the next day in Vietnam.
		now := time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC)
		st := document.NewStore(db, func() time.Time { return now })
		iss := issuer(t, st, func() time.Time { return now })
		d, err := iss.Issue(ctx, owner, residence(), "staff:42")
		if err != nil {
			t.Fatal(err)
		}
		if d.VerifyCode == "" || len(d.ID) != 16 || d.IssueDate != (civildate.Date{Year: 2026, Month: 12, Day: 8}) {
			t.Fatalf("issued %+v", d)
		}
		got, err := st.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got.Body, []byte("%PDF-")) || !bytes.Contains(got.Body, []byte("/ETSI.CAdES.detached")) ||
			got.SHA256 != d.SHA256 || got.Size != int64(len(got.Body)) || got.OwnerPIN != owner || got.SignedBy != pki.Fingerprint(iss.Cert) {
			t.Errorf("stored %+v", got)
		}
		if got.VerifyCode != "" {
			t.Error("the code is read back")
		}
		list, err := st.ListByOwner(ctx, owner)
		if err != nil || len(list) != 1 || list[0].ID != d.ID || list[0].Body != nil {
			t.Errorf("ListByOwner = %+v, %v", list, err)
		}
		if len(list) == 1 && list[0].VerifyPath() != document.VerifyPath(d.ID, d.VerifyCode) {
			t.Errorf("VerifyPath = %q", list[0].VerifyPath())
		}
		if other, _ := st.ListByOwner(ctx, "001090099999"); len(other) != 0 {
			t.Errorf("another owner sees %d documents", len(other))
		}

		v, err := st.Verify(ctx, d.ID, strings.ToLower(d.VerifyCode[:4])+"-"+d.VerifyCode[4:])
		if err != nil {
			t.Fatalf("verify with the code as typed: %v", err)
		}
		want := document.Verification{ID: d.ID, Kind: string(result.Residence), Title: "Xác nhận thông tin về cư trú",
			Unit: "Công an phường Ba Đình", IssueDate: d.IssueDate, Holder: "N***** T** N*** Á**", SHA256: d.SHA256}
		if v != want {
			t.Errorf("Verify = %+v, want %+v", v, want)
		}
		wrong := "AAAAAAAA"
		if d.VerifyCode == wrong {
			wrong = "BBBBBBBB"
		}
		for name, c := range map[string][2]string{
			"wrong code":   {d.ID, wrong},
			"no code":      {d.ID, ""},
			"unknown id":   {document.NewID(), d.VerifyCode},
			"malformed id": {"../../etc", d.VerifyCode},
			"empty":        {"", ""},
		} {
			_, err := st.Verify(ctx, c[0], c[1])
			if !errors.Is(err, document.ErrNotGenuine) || err.Error() != document.ErrNotGenuine.Error() {
				t.Errorf("%s: %v", name, err)
			}
		}
		scans, err := st.Scans(ctx, d.ID)
		if err != nil || len(scans) != 1 || !scans[0].Genuine || !scans[0].At.Equal(now) {
			t.Errorf("scans of the document = %+v, %v", scans, err)
		}
		failed, err := st.Scans(ctx, "")
		if err != nil || len(failed) != 5 || failed[0].Genuine {
			t.Errorf("failed scans = %+v, %v", failed, err)
		}

		// Bulk printing lays the stored results out again, unsigned.
		d2, err := iss.Issue(ctx, owner, residence(), "staff:42")
		if err != nil {
			t.Fatal(err)
		}
		bulk, err := st.PrintBulk(ctx, []string{d.ID, d2.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(bulk, []byte("%PDF-")) || bytes.Contains(bulk, []byte("/Sig")) || !bytes.Contains(bulk, []byte("/Count 2")) {
			t.Error("bulk print is not an unsigned two-page PDF")
		}
		if _, err := st.PrintBulk(ctx, []string{d.ID, "NOSUCHDOCUMENT00"}); !errors.Is(err, document.ErrNotFound) {
			t.Errorf("bulk with an unknown id: %v", err)
		}
	})
}

// TestStoreRefuses: bad documents are refused and nothing is stored.
func TestStoreRefuses(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		st := document.NewStore(db, nil)
		ok := document.Document{OwnerPIN: owner, Kind: "paper", Title: "Giấy khai sinh (bản sao)", Body: []byte("%PDF-1.4 x"),
			MediaType: "application/pdf", CreatedBy: "staff:7"}
		for name, c := range map[string]struct {
			edit func(*document.Document)
			want error
		}{
			"too large":  {func(d *document.Document) { d.Body = make([]byte, document.MaxSize+1) }, document.ErrTooLarge},
			"bad owner":  {func(d *document.Document) { d.OwnerPIN = "12345" }, document.ErrInvalid},
			"empty body": {func(d *document.Document) { d.Body = nil }, document.ErrInvalid},
			"no kind":    {func(d *document.Document) { d.Kind = "" }, document.ErrInvalid},
			"no title":   {func(d *document.Document) { d.Title = " " }, document.ErrInvalid},
			"bad UTF-8":  {func(d *document.Document) { d.Title = "\xff" }, document.ErrInvalid},
			"no author":  {func(d *document.Document) { d.CreatedBy = "" }, document.ErrInvalid},
		} {
			d := ok
			c.edit(&d)
			if _, err := st.Store(ctx, d); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		if list, _ := st.ListByOwner(ctx, owner); len(list) != 0 {
			t.Errorf("refused documents stored: %d", len(list))
		}
		d, err := st.Store(ctx, ok)
		if err != nil {
			t.Fatal(err)
		}
		// A document stored without a code is not publicly verifiable.
		if _, err := st.Verify(ctx, d.ID, ""); !errors.Is(err, document.ErrNotGenuine) {
			t.Errorf("a digitized paper verifies: %v", err)
		}
		if _, err := st.Store(ctx, d); err == nil {
			t.Error("the same id stored twice")
		}
		if _, err := st.Get(ctx, "NOSUCHDOCUMENT00"); !errors.Is(err, document.ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}
	})
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"Nguyễn Văn Ánh": "N***** V** Á**",
		"  Lê   Bá  ":    "L* B*",
		"Ư":              "Ư",
		"":               "",
	} {
		if got := document.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkProduce: lay out and sign one result (the server time of the
// last step of a dossier's life; storing is one INSERT beside it).
func BenchmarkProduce(b *testing.B) {
	iss := issuer(b, nil, nil)
	r := residence()
	for b.Loop() {
		if _, _, err := iss.Produce(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue: lay out, sign and store one result (SQLite, or
// PostgreSQL with -postgres set through DANCU_TEST_POSTGRES_URL).
func BenchmarkIssue(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			st := document.NewStore(storagetest.Open(b, d, migrations()), nil)
			iss := issuer(b, st, nil)
			r := residence()
			ctx := context.Background()
			for b.Loop() {
				if _, err := iss.Issue(ctx, owner, r, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPrepareStoreTx: a result prepared outside a transaction is stored in
// the caller's; a rolled-back transaction leaves nothing, not even a
// verifiable id.
func TestPrepareStoreTx(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		st := document.NewStore(db, nil)
		iss := issuer(t, st, nil)
		d, err := iss.Prepare(owner, residence(), "dossier:1")
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("the dossier's transaction fails")
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := st.StoreTx(ctx, tx, d); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := st.Verify(ctx, d.ID, d.VerifyCode); !errors.Is(err, document.ErrNotGenuine) {
			t.Errorf("rolled back result verifies: %v", err)
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { _, err := st.StoreTx(ctx, tx, d); return err }); err != nil {
			t.Fatal(err)
		}
		if v, err := st.Verify(ctx, d.ID, d.VerifyCode); err != nil || v.ID != d.ID {
			t.Errorf("committed result: %+v %v", v, err)
		}
	})
}
