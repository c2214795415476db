package staff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestAdd runs the ways an administrator adds an account: the scope is
// checked before anything else (a province administrator's request for a
// national administrator or another province's commune is out_of_scope
// even when every other field is wrong too), then the fields.
func TestAdd(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{staff.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := staff.NewStore(db, func() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) })
		if err != nil {
			t.Fatal(err)
		}
		national := actor.Actor{ID: "staff:admin", Role: actor.Admin}
		hanoi := actor.Actor{ID: "staff:quantri.hanoi", Role: actor.Admin, Unit: "01", Province: "01"}
		registrar := actor.Actor{ID: "staff:dangky.hanoi", Role: actor.Registrar, Unit: "01", Province: "01"}
		acc := func(user string, role actor.Role, unit string) staff.Account {
			return staff.Account{Username: user, DisplayName: "Nguyễn Văn An", Role: role, Unit: unit}
		}
		tests := []struct {
			name string
			by   actor.Actor
			a    staff.Account
			want error // nil: created
		}{
			{"province admin adds a desk officer in Ba Đình", hanoi, acc("motcua.badinh", actor.Desk, "00004"), nil},
			{"province admin adds a registrar for the province", hanoi, acc("dangky2.hanoi", actor.Registrar, "01"), nil},
			{"province admin adds a province admin", hanoi, acc("quantri2.hanoi", actor.Admin, "01"), nil},
			{"national admin adds a desk officer in Hồ Chí Minh", national, acc("motcua.hcm", actor.Desk, "25747"), nil},
			{"national admin adds a national admin", national, acc("quantri.tw", actor.Admin, ""), nil},
			{"national admin adds a province admin", national, acc("quantri.hcm", actor.Admin, "79"), nil},
			{"province admin: national admin", hanoi, acc("quantri.tw2", actor.Admin, ""), staff.ErrOutOfScope},
			{"province admin: another province", hanoi, acc("dangky.hcm", actor.Registrar, "79"), staff.ErrOutOfScope},
			{"province admin: another province's commune", hanoi, acc("motcua.hcm2", actor.Desk, "25747"), staff.ErrOutOfScope},
			{"province admin: unknown unit", hanoi, acc("motcua.x", actor.Desk, "99999"), staff.ErrOutOfScope},
			{"province admin: scope before validation", hanoi, staff.Account{Username: "X!", Role: "root", Unit: "79"}, staff.ErrOutOfScope},
			{"province admin: scope before the taken check", hanoi, acc("admin", actor.Registrar, "79"), staff.ErrOutOfScope},
			{"registrar adds nobody", registrar, acc("dangky3.hanoi", actor.Registrar, "01"), staff.ErrOutOfScope},
			{"taken username", hanoi, acc("motcua.badinh", actor.Desk, "00004"), staff.ErrAccountExists},
			{"bad username", national, acc("Ngô Lan", actor.Desk, "00004"), staff.ErrUsername},
			{"short username", national, acc("ab", actor.Desk, "00004"), staff.ErrUsername},
			{"no display name", national, staff.Account{Username: "an.nv", Role: actor.Desk, Unit: "00004"}, staff.ErrDisplayName},
			{"unknown role", national, acc("an.nv", "root", "00004"), staff.ErrRole},
			{"system role", national, acc("an.nv", actor.System, ""), staff.ErrRole},
			{"desk officer without a unit", national, acc("an.nv", actor.Desk, ""), staff.ErrUnit},
			{"unknown commune", national, acc("an.nv", actor.Desk, "99999"), staff.ErrUnit},
			{"pre-2025 district code", national, acc("an.nv", actor.Desk, "001"), staff.ErrUnit},
			{"commune administrator", national, acc("an.nv", actor.Admin, "00004"), staff.ErrAdminUnit},
		}
		for _, tt := range tests {
			pw, err := s.Add(ctx, tt.by, tt.a)
			if tt.want == nil {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
					continue
				}
				if err := staff.CheckPolicy(tt.a.Username, pw); err != nil {
					t.Errorf("%s: temporary password fails the policy: %v", tt.name, err)
				}
				got, err := s.Authenticate(ctx, tt.a.Username, pw)
				if err != nil || !got.MustChangePassword || got.CreatedBy != tt.by.ID || got.Role != tt.a.Role || got.Unit != tt.a.Unit {
					t.Errorf("%s: signed in as %+v, %v", tt.name, got, err)
				}
				continue
			}
			if !hasFault(err, tt.want) {
				t.Errorf("%s: %v, want %s", tt.name, err, fault.As(tt.want).Code)
			}
			if pw != "" {
				t.Errorf("%s: refused but a password was given", tt.name)
			}
		}
		// The province of a commune comes from the catalogue.
		if got, err := s.Get(ctx, national, "motcua.badinh"); err != nil || got.Province != "01" {
			t.Errorf("Ba Đình's officer has province %q", got.Province)
		}
	})
}

// TestAdministerAccount: disable, enable and reset in and out of scope,
// the forced change and its policy, the last sign-in.
func TestAdministerAccount(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{staff.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		s, err := staff.NewStore(db, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		national := actor.Actor{ID: "staff:admin", Role: actor.Admin}
		hanoi := actor.Actor{ID: "staff:quantri.hanoi", Role: actor.Admin, Unit: "01", Province: "01"}
		if err := s.Create(ctx, staff.Account{Username: "quantri.hanoi", DisplayName: "Quản trị Hà Nội", Role: actor.Admin, Unit: "01", Province: "01"}, "mật khẩu quản trị"); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, staff.Account{Username: "admin", DisplayName: "Quản trị", Role: actor.Admin}, "mật khẩu quản trị"); err != nil {
			t.Fatal(err)
		}
		pw, err := s.Add(ctx, hanoi, staff.Account{Username: "motcua.badinh", DisplayName: "Trần Thị Bình", Role: actor.Desk, Unit: "00004"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(ctx, national, staff.Account{Username: "dangky.hcm", DisplayName: "Lê Văn C", Role: actor.Registrar, Unit: "79"}); err != nil {
			t.Fatal(err)
		}
		refusals := []struct {
			name string
			by   actor.Actor
			user string
			want error
		}{
			{"another province's account", hanoi, "dangky.hcm", staff.ErrOutOfScope},
			{"the national administrator", hanoi, "admin", staff.ErrOutOfScope},
			{"an unknown account, for a province administrator", hanoi, "khong.co", staff.ErrOutOfScope},
			{"an unknown account, for a national administrator", national, "khong.co", fault.ErrNotFound},
			{"oneself", hanoi, "quantri.hanoi", staff.ErrSelf},
			{"a desk officer", actor.Actor{ID: "staff:motcua.badinh", Role: actor.Desk, Unit: "00004", Province: "01"}, "motcua.badinh", staff.ErrOutOfScope},
		}
		for _, tt := range refusals {
			if err := s.SetDisabled(ctx, tt.by, tt.user, true); !errors.Is(err, tt.want) {
				t.Errorf("disable %s: %v", tt.name, err)
			}
			if pw, err := s.ResetPassword(ctx, tt.by, tt.user); !errors.Is(err, tt.want) || pw != "" {
				t.Errorf("reset %s: %v", tt.name, err)
			}
		}

		// The forced change: wrong current password, policy, same password.
		a, err := s.Authenticate(ctx, "motcua.badinh", pw)
		if err != nil || !a.MustChangePassword || !a.LastSignIn.Equal(now) {
			t.Fatalf("first sign-in: %+v, %v", a, err)
		}
		changes := []struct {
			current, next string
			want          error
		}{
			{"sai mật khẩu", "một mật khẩu mới dài", staff.ErrWrongPassword},
			{pw, "ngắn", staff.ErrWeakPassword},
			{pw, "aaaaaaaaaaaa", staff.ErrWeakPassword},
			{pw, "xx motcua.badinh xx", staff.ErrPasswordHasUsername},
			{pw, pw, staff.ErrSamePassword},
			{pw, string(make([]byte, 129)), staff.ErrLongPassword},
			{pw, "một mật khẩu mới dài", nil},
		}
		for _, c := range changes {
			if err := s.ChangePassword(ctx, "motcua.badinh", c.current, c.next); !hasFault(err, c.want) && !(c.want == nil && err == nil) {
				t.Errorf("change to %q: %v, want %v", c.next, err, c.want)
			}
		}
		if a, err := s.Authenticate(ctx, "motcua.badinh", "một mật khẩu mới dài"); err != nil || a.MustChangePassword {
			t.Fatalf("after the change: %+v, %v", a, err)
		}

		// Disable ends the session and refuses sign-in; enable restores it.
		tok, _, err := s.StartSession(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetDisabled(ctx, hanoi, "motcua.badinh", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, tok); err == nil {
			t.Error("a disabled account's session lives on")
		}
		if _, err := s.Authenticate(ctx, "motcua.badinh", "một mật khẩu mới dài"); !errors.Is(err, staff.ErrBadCredentials) {
			t.Errorf("disabled account signs in: %v", err)
		}
		if err := s.SetDisabled(ctx, hanoi, "motcua.badinh", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "motcua.badinh", "một mật khẩu mới dài"); err != nil {
			t.Errorf("enabled account: %v", err)
		}

		// Reset: the old password stops working, the new one forces a change.
		tok, _, _ = s.StartSession(ctx, a)
		pw2, err := s.ResetPassword(ctx, hanoi, "motcua.badinh")
		if err != nil || pw2 == "" {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, tok); err == nil {
			t.Error("a reset account's session lives on")
		}
		if _, err := s.Authenticate(ctx, "motcua.badinh", "một mật khẩu mới dài"); err == nil {
			t.Error("the old password works after a reset")
		}
		if a, err := s.Authenticate(ctx, "motcua.badinh", pw2); err != nil || !a.MustChangePassword {
			t.Errorf("after the reset: %+v, %v", a, err)
		}

		// A province administrator lists only its province.
		list, err := s.ListFor(ctx, hanoi)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range list {
			names = append(names, a.Username)
		}
		if len(names) != 2 || names[0] != "motcua.badinh" || names[1] != "quantri.hanoi" {
			t.Errorf("Hà Nội's administrator lists %v", names)
		}
		if _, err := s.ListFor(ctx, actor.Actor{Role: actor.Leader, Unit: "01"}); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("a leader lists staff: %v", err)
		}
		// Guessing the current password through the change form counts
		// as failed sign-ins: after 5 the account is blocked.
		for i := 0; i < 5; i++ {
			if err := s.ChangePassword(ctx, "motcua.badinh", "đoán sai lần nữa", "một mật khẩu khác dài"); !hasFault(err, staff.ErrWrongPassword) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if err := s.ChangePassword(ctx, "motcua.badinh", pw2, "một mật khẩu khác dài"); !errors.Is(err, staff.ErrThrottled) {
			t.Errorf("sixth try after five wrong guesses: %v", err)
		}
		if _, err := s.Unlock(ctx, hanoi, "dangky.hcm"); !errors.Is(err, staff.ErrOutOfScope) {
			t.Errorf("Hà Nội's administrator unlocks an account of Hồ Chí Minh City: %v", err)
		}
	})
}

// hasFault reports whether err is or holds (in a fault.List) the fault
// want.
func hasFault(err, want error) bool {
	if err == nil || want == nil {
		return false
	}
	for _, f := range fault.Faults(err) {
		if errors.Is(f, want) {
			return true
		}
	}
	return false
}
