package eid_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// FuzzOrgInput registers organisations from arbitrary form input: no
// panic; what is accepted has a well-formed code for its kind and a name;
// what is refused is refused with a validation or conflict fault.
func FuzzOrgInput(f *testing.F) {
	db := storagetest.Open(f, storage.SQLite, fullMigrations())
	fx := newFullFixture(f, db)
	ctx := context.Background()
	f.Add("company", "0101234567", "Công ty A")
	f.Add("company", "0101234567-001", "Chi nhánh")
	f.Add("agency", "1012345", "Sở")
	f.Add("agency", "101234５", "Sở") // full-width digit
	f.Add("company", " 0101234567\n", "  ")
	f.Add("club", "", strings.Repeat("x", 300))
	f.Add("company", "0101234568", "Công ty\x00B\xff")
	codes := map[string]*regexp.Regexp{eid.OrgCompany: regexp.MustCompile(`^[0-9]{10}(-[0-9]{3})?$`), eid.OrgAgency: regexp.MustCompile(`^[0-9]{7}$`)}
	f.Fuzz(func(t *testing.T, kind, code, name string) {
		o, err := fx.svc.RegisterOrg(ctx, registrarHN, eid.OrgInput{Kind: kind, Code: code, Name: name, RepresentativePIN: adultPIN})
		if err != nil {
			if k := fault.As(err).Kind; k != fault.Invalid && k != fault.Conflict {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		re := codes[o.Kind]
		if re == nil || !re.MatchString(o.Code) || o.Name == "" || utf8.RuneCountInString(o.Name) > 200 || !utf8.ValidString(o.Name) || strings.IndexFunc(o.Name, unicode.IsControl) >= 0 {
			t.Fatalf("accepted %+v", o)
		}
	})
}
