package oidcop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

type activeAccounts struct{}

func (activeAccounts) SignIn(context.Context, eid.SignInInput) (eid.Authentication, error) {
	return eid.Authentication{}, errors.New("unused")
}
func (activeAccounts) AccountBySubject(_ context.Context, s string) (eid.Account, error) {
	return eid.Account{Subject: s, Status: eid.StatusActive, Level: eid.Level2}, nil
}

// The token store itself refuses a level-1 authorization for a level-2
// client, whatever the login page did: defence in depth.
func TestTokenStoreRefusesLowerLevel(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{eid.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := &opStorage{db: db, clients: NewClients(db, time.Now), accounts: activeAccounts{}, now: time.Now, accessTTL: time.Minute, refreshTTL: time.Hour}
		if err := s.clients.Add(ctx, Client{ID: "bank", Secret: strings.Repeat("s", 32), Name: "B", Purpose: "p", RedirectURIs: []string{"https://b/cb"},
			GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}, MinLevel: eid.Level2}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			level eid.Level
			ok    bool
		}{{0, false}, {eid.Level1, false}, {eid.Level2, true}}
		// Each exchange claims its request's code (storage.go), so each
		// gets a stored request of its own.
		request := func() *authRequest {
			id := storage.NewID()
			if _, err := db.W.ExecContext(ctx, `INSERT INTO eid_oidc_auth_requests (id, client_id, request, created_at) VALUES ($1, 'bank', '{}', $2)`, id, stamp(time.Now())); err != nil {
				t.Fatal(err)
			}
			return &authRequest{ID: id, ClientID: "bank", Subject: "sub"}
		}
		for _, c := range cases {
			req := request()
			req.Level = c.level
			_, _, err := s.CreateAccessToken(ctx, req)
			if (err == nil) != c.ok {
				t.Errorf("level %d: %v", c.level, err)
			}
			req = request()
			req.Level = c.level
			_, _, _, err = s.CreateAccessAndRefreshTokens(ctx, req, "")
			if (err == nil) != c.ok {
				t.Errorf("level %d with refresh: %v", c.level, err)
			}
			var oe *oidc.Error
			if err != nil && !errors.As(err, &oe) {
				t.Errorf("level %d: not a protocol error: %v", c.level, err)
			}
		}
	})
}
