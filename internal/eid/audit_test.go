package eid_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestLifecycleAudited checks that eid's acts on an account are in the
// person's audit history, with who did them, and that the chain holds.
func TestLifecycleAudited(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()
		lockedByOwner := func() error {
			// Unlocking needs a locked account: the step before locked it,
			// or, run alone, the owner locks it here.
			if a, err := f.svc.Account(ctx, otherPIN); err != nil || a.Status == eid.StatusLocked {
				return err
			}
			return f.svc.Lock(ctx, selfActor(otherPIN), otherPIN, "lost-phone")
		}
		steps := []struct {
			name   string
			before func() error
			do     func() error
			pin    string
			action string
			actor  string
		}{
			{"owner locks", nil, func() error { return f.svc.Lock(ctx, selfActor(otherPIN), otherPIN, "lost-phone") }, otherPIN, eid.ActionLocked, "citizen:" + otherPIN},
			{"registrar unlocks", lockedByOwner, func() error { return f.svc.Unlock(ctx, registrarHN, otherPIN) }, otherPIN, eid.ActionUnlocked, registrarHN.ID},
			{"registrar resets", nil, func() error { return f.svc.Reset(ctx, registrarHN, otherPIN) }, otherPIN, eid.ActionReset, registrarHN.ID},
			{"registrar revokes", nil, func() error { return f.svc.Revoke(ctx, registrarHN, otherPIN, "fraud") }, otherPIN, eid.ActionRevoked, registrarHN.ID},
			{"death revokes", nil, func() error {
				b, _ := json.Marshal(registry.EventMessage{EventID: "ev-1", PIN: thirdPIN})
				return f.svc.HandleDeath(ctx, b)
			}, thirdPIN, eid.ActionRevoked, "system:eid"},
		}
		history := func(t *testing.T, pin string) map[string]string {
			es, err := audit.BySubject(ctx, db, "person:"+pin, 50)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, e := range es {
				out[e.Action] = e.Actor
			}
			return out
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if st.before != nil {
					if err := st.before(); err != nil {
						t.Fatal(err)
					}
				}
				if err := st.do(); err != nil {
					t.Fatal(err)
				}
				if h := history(t, st.pin); h[st.action] != st.actor {
					t.Errorf("audit %s by %q, want %q (%v)", st.action, h[st.action], st.actor, h)
				}
			})
		}
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK {
			t.Fatalf("audit chain %+v %v", rep, err)
		}
	})
}

func selfActor(pin string) actor.Actor {
	return actor.Actor{ID: "citizen:" + pin, Role: actor.Role("citizen")}
}
