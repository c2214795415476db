package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
)

// startAuditCheckpoints signs the audit chain's head now and then with the
// audit key (configured, or in development kept in the data directory) and
// exports each checkpoint: to JetStream always, to a file when configured.
// It runs beside the log: a checkpoint reads the head row and writes one
// row, the audited requests never wait for it.
func (a *App) startAuditCheckpoints(ctx context.Context) error {
	signer, path, err := audit.LoadSigner(a.Config.AuditKey, a.Config.DataDir)
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	if path != "" {
		a.Log.Info("audit checkpoints are signed with a development key kept in the data directory; configure --audit-key in production",
			"path", path, "public_key", signer.PublicHex())
	} else {
		a.Log.Info("audit checkpoints are signed with the configured key", "public_key", signer.PublicHex())
	}
	exports := []audit.ExportFunc{audit.PublishExport(a.Bus)}
	if f := a.Config.AuditCheckpointFile; f != "" {
		exports = append(exports, audit.FileExport(f))
	}
	a.AuditCheckpoints = audit.NewCheckpointer(a.AuditDB, signer, a.Log, a.Now, exports...)
	// One node at a time signs checkpoints: two would sign the same head
	// twice (cluster.go's leases).
	a.startWorker(func() { a.Leases.Hold(ctx, leaseAuditCheckpoint, time.Minute, a.AuditCheckpoints.Run) })
	return nil
}

// finalAuditCheckpoint signs the head once the log is closed, so that a
// stopped platform's log is covered to its last entry.
func (a *App) finalAuditCheckpoint() {
	if a.AuditCheckpoints == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := a.AuditCheckpoints.Checkpoint(ctx); err != nil {
		a.Log.Warn("audit checkpoint at shutdown", "err", err)
	}
}
