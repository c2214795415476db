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
		steps := []struct {
			name   string
			do     func() error
			action string
			actor  string
		}{
			{"owner locks", func() error { return f.svc.Lock(ctx, selfActor(otherPIN), otherPIN, "lost-phone") }, eid.ActionLocked, "citizen:" + otherPIN},
			{"registrar unlocks", func() error { return f.svc.Unlock(ctx, registrarHN, otherPIN) }, eid.ActionUnlocked, registrarHN.ID},
			{"registrar resets", func() error { return f.svc.Reset(ctx, registrarHN, otherPIN) }, eid.ActionReset, registrarHN.ID},
			{"registrar revokes", func() error { return f.svc.Revoke(ctx, registrarHN, otherPIN, "fraud") }, eid.ActionRevoked, registrarHN.ID},
			{"death revokes", func() error {
				b, _ := json.Marshal(registry.EventMessage{EventID: "ev-1", PIN: thirdPIN})
				return f.svc.HandleDeath(ctx, b)
			}, eid.ActionRevoked, "system:eid"},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if err := st.do(); err != nil {
					t.Fatal(err)
				}
			})
		}
		history := func(pin string) map[string]string {
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
		other, third := history(otherPIN), history(thirdPIN)
		for _, st := range steps[:4] {
			if other[st.action] != st.actor {
				t.Errorf("%s: audit %s by %q, want %q", st.name, st.action, other[st.action], st.actor)
			}
		}
		if third[eid.ActionRevoked] != "system:eid" {
			t.Errorf("death revocation not audited: %v", third)
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
