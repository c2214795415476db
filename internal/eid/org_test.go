package eid_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestOrganisationRegistration(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()
		admin := actor.Actor{ID: "staff:admin", Role: actor.Admin}
		cases := []struct {
			name  string
			actor actor.Actor
			in    eid.OrgInput
			want  error
		}{
			{"leader may not", leaderHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty A", RepresentativePIN: adultPIN}, eid.ErrOrgStaffRequired},
			{"bad tax code", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "01012345", Name: "Công ty A", RepresentativePIN: adultPIN}, eid.ErrOrgCode},
			{"bad unit code", registrarHN, eid.OrgInput{Kind: eid.OrgAgency, Code: "0101234567", Name: "Sở A", RepresentativePIN: adultPIN}, eid.ErrOrgCode},
			{"unknown kind", registrarHN, eid.OrgInput{Kind: "club", Code: "0101234567", Name: "A", RepresentativePIN: adultPIN}, eid.ErrOrgKind},
			{"no name", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "  ", RepresentativePIN: adultPIN}, eid.ErrOrgName},
			{"level-1 representative", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty A", RepresentativePIN: otherPIN}, eid.ErrRepresentative},
			{"representative without account", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty A", RepresentativePIN: farPIN}, eid.ErrRepresentative},
			{"registrar registers a company", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty  TNHH A", RepresentativePIN: adultPIN}, nil},
			{"branch tax code", admin, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567-001", Name: "Chi nhánh A", RepresentativePIN: adultPIN}, nil},
			{"admin registers an agency", admin, eid.OrgInput{Kind: eid.OrgAgency, Code: "1012345", Name: "Sở Tư pháp", RepresentativePIN: adultPIN}, nil},
			{"same code twice", registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty B", RepresentativePIN: adultPIN}, eid.ErrOrgExists},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if errors.Is(tc.want, eid.ErrOrgExists) {
					// The code is taken by the case before; run alone,
					// this case takes it first.
					if _, err := f.svc.RegisterOrg(ctx, registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: tc.in.Code, Name: "Công ty A", RepresentativePIN: adultPIN}); err != nil && !errors.Is(err, eid.ErrOrgExists) {
						t.Fatal(err)
					}
				}
				o, err := f.svc.RegisterOrg(ctx, tc.actor, tc.in)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if err != nil {
					return
				}
				// The representative acts for the organisation, its name
				// with the spaces folded.
				ms, err := f.svc.Memberships(ctx, tc.in.RepresentativePIN)
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(ms, func(m eid.Membership) bool { return m.Org.ID == o.ID })
				if i < 0 || ms[i].Role != eid.RoleRepresentative || ms[i].Org.Name != strings.Join(strings.Fields(tc.in.Name), " ") {
					t.Fatalf("memberships %+v, want the representative of %+v", ms, o)
				}
			})
		}
	})
}

func TestDelegation(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()
		org, err := f.svc.RegisterOrg(ctx, registrarHN, eid.OrgInput{Kind: eid.OrgCompany, Code: "0101234567", Name: "Công ty A", RepresentativePIN: adultPIN})
		if err != nil {
			t.Fatal(err)
		}
		rep2, rep1 := session(adultPIN, eid.Level2), session(adultPIN, eid.Level1)
		month := today.Add(30 * 24 * time.Hour)
		cases := []struct {
			name    string
			by      eid.Session
			pin     string
			role    string
			expires time.Time
			want    error
		}{
			{"representative signed in at level 1", rep1, otherPIN, eid.RoleAccountant, month, eid.ErrDelegateLevel2},
			{"a citizen who is not a representative", session(thirdPIN, eid.Level2), otherPIN, eid.RoleAccountant, month, eid.ErrNotRepresentative},
			{"unknown role", rep2, otherPIN, "owner", month, eid.ErrDelegateRole},
			{"expiry in the past", rep2, otherPIN, eid.RoleAccountant, today.Add(-time.Hour), eid.ErrDelegateExpiry},
			{"expiry beyond 5 years", rep2, otherPIN, eid.RoleAccountant, today.AddDate(6, 0, 0), eid.ErrDelegateExpiry},
			{"to oneself", rep2, adultPIN, eid.RoleAccountant, month, eid.ErrDelegateSelf},
			{"to a person without an account", rep2, farPIN, eid.RoleAccountant, month, eid.ErrDelegateNoAccount},
			{"level-2 representative delegates", rep2, otherPIN, eid.RoleAccountant, month, nil},
			{"twice", rep2, otherPIN, eid.RoleStaff, month, eid.ErrAlreadyMember},
			{"short delegation", rep2, thirdPIN, eid.RoleStaff, today.Add(time.Hour), nil},
		}
		// ensure makes a delegation the case before made, when a case runs
		// alone.
		ensure := func(t *testing.T, pin, role string, expires time.Time) {
			t.Helper()
			if _, err := f.svc.Delegate(ctx, rep2, org.ID, pin, role, expires); err != nil && !errors.Is(err, eid.ErrAlreadyMember) {
				t.Fatal(err)
			}
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if errors.Is(tc.want, eid.ErrAlreadyMember) {
					ensure(t, tc.pin, eid.RoleAccountant, month)
				}
				_, err := f.svc.Delegate(ctx, tc.by, org.ID, tc.pin, tc.role, tc.expires)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			})
		}
		t.Run("acting, expiry and revocation", func(t *testing.T) {
			ensure(t, otherPIN, eid.RoleAccountant, month)
			ensure(t, thirdPIN, eid.RoleStaff, today.Add(time.Hour))
			acting := func(pin string) (eid.Membership, error) {
				ms, err := f.svc.Memberships(ctx, pin)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) != 1 {
					return eid.Membership{}, eid.ErrNotActing
				}
				return f.svc.ActingAs(ctx, pin, ms[0].ID)
			}
			m, err := acting(otherPIN)
			if err != nil || m.Role != eid.RoleAccountant || m.Org.ID != org.ID || m.GrantedBy != "citizen:"+adultPIN {
				t.Fatalf("delegate acts: %+v %v", m, err)
			}
			// A citizen cannot act under someone else's delegation.
			if _, err := f.svc.ActingAs(ctx, thirdPIN, m.ID); !errors.Is(err, eid.ErrNotActing) {
				t.Fatalf("acting under another's delegation: %v", err)
			}
			short, err := acting(thirdPIN)
			if err != nil {
				t.Fatal(err)
			}
			// Expiry: after two hours the short delegation is gone.
			f.clock.Add(2 * time.Hour)
			if _, err := f.svc.ActingAs(ctx, thirdPIN, short.ID); !errors.Is(err, eid.ErrNotActing) {
				t.Fatalf("expired delegation: %v", err)
			}
			// Revocation: only a level-2 representative; then it stops at once.
			if err := f.svc.RevokeDelegation(ctx, session(otherPIN, eid.Level2), org.ID, m.ID); !errors.Is(err, eid.ErrNotRepresentative) {
				t.Fatalf("delegate revokes: %v", err)
			}
			if err := f.svc.RevokeDelegation(ctx, rep1, org.ID, m.ID); !errors.Is(err, eid.ErrDelegateLevel2) {
				t.Fatalf("level-1 revoke: %v", err)
			}
			if err := f.svc.RevokeDelegation(ctx, rep2, org.ID, m.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.RevokeDelegation(ctx, rep2, org.ID, m.ID); !errors.Is(err, eid.ErrDelegationNotFound) {
				t.Fatalf("second revoke: %v", err)
			}
			if _, err := f.svc.ActingAs(ctx, otherPIN, m.ID); !errors.Is(err, eid.ErrNotActing) {
				t.Fatalf("revoked delegation: %v", err)
			}
			// The history keeps both rows for the representative.
			all, err := f.svc.OrgMembers(ctx, rep1, org.ID)
			if err != nil || len(all) != 3 {
				t.Fatalf("members %+v %v", all, err)
			}
			if _, err := f.svc.OrgMembers(ctx, session(otherPIN, eid.Level2), org.ID); !errors.Is(err, eid.ErrNotRepresentative) {
				t.Fatalf("a delegate lists members: %v", err)
			}
			// The delegate's history shows grant and revocation.
			entries, err := audit.BySubject(ctx, db, "person:"+otherPIN, 20)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range entries {
				if e.Actor == "citizen:"+adultPIN {
					seen[e.Action] = true
				}
			}
			if !seen[eid.ActionDelegationGranted] || !seen[eid.ActionDelegationRevoked] {
				t.Fatalf("audit of the delegate: %+v", entries)
			}
		})
	})
}
