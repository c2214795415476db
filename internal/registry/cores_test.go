package registry_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestCoreCache: two nodes on one database, each with its own in-memory
// cores. A node sees its own changes at once, another node's after its
// next poll, and reads the database while its polls are failing.
func TestCoreCache(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := setup(t, db)
		units, err := adminunit.Load()
		if err != nil {
			t.Fatal(err)
		}
		var clock atomic.Int64
		clock.Store(today.UnixNano())
		now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
		log := audit.NewLog(db, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
		t.Cleanup(log.Close)
		a := registry.NewService(db, units, log, now)
		b := registry.NewService(db, units, log, now)
		read := func(pin string) registry.Core {
			t.Helper()
			c, err := a.ReadCoreUnaudited(ctx, admin, pin)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if err := a.PollCache(ctx); err != nil {
			t.Fatal(err)
		}
		if c := read(f.son); c.FullName != "Nguyễn Đức Anh" || c.Status != registry.Alive || c.Permanent.CommuneCode != baDinh {
			t.Fatalf("first read: %+v", c)
		}
		read(f.son)
		if st := a.CoreCacheStats(); st.Misses != 1 || st.Hits != 1 {
			t.Fatalf("a second read of the same person was not served from memory: %+v", st)
		}

		// Another node registers the death: this node drops its copy at
		// its next poll.
		if _, err := b.RegisterDeath(ctx, registrarBaDinh, registry.DeathInput{PIN: f.son, DeathDate: "01/05/2026"}); err != nil {
			t.Fatal(err)
		}
		if err := a.PollCache(ctx); err != nil {
			t.Fatal(err)
		}
		if c := read(f.son); c.Status != registry.Dead {
			t.Fatalf("after the poll the death is not seen: %+v", c)
		}

		// This node's own change is seen by its next read, without waiting.
		read(f.mother)
		if _, err := a.ChangeName(ctx, registrarBaDinh, registry.NameChangeInput{PIN: f.mother, FullName: "Trần Thị Hòa Bình", Date: "04/05/2026", Reason: "Quyết định thay đổi họ tên"}); err != nil {
			t.Fatal(err)
		}
		if c := read(f.mother); c.FullName != "Trần Thị Hòa Bình" {
			t.Fatalf("own change not seen: %+v", c)
		}

		// Polls stop (the clock moves past the freshness limit without
		// one): reads go to the database and see another node's change.
		read(f.far)
		clock.Add(int64(2 * time.Second))
		if _, err := b.ChangeName(ctx, admin, registry.NameChangeInput{PIN: f.far, FullName: "Lê Thị Anh Thư", Date: "04/05/2026", Reason: "Quyết định thay đổi họ tên"}); err != nil {
			t.Fatal(err)
		}
		if c := read(f.far); c.FullName != "Lê Thị Anh Thư" {
			t.Fatalf("a stale cache answered: %+v", c)
		}

		// Scope is checked on every read, cached or not.
		if _, err := a.ReadCoreUnaudited(ctx, registrarBaDinh, f.far); code(err) != "out_of_scope" {
			t.Fatalf("out-of-scope read: %v", err)
		}
	})
}
