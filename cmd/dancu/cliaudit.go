package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
)

// recordCLI writes an administrative act done on the command line to the
// audit chain, as the web pages and the API do for theirs. The actor is the
// operating-system account that ran dancu: the command line has no sign-in.
func recordCLI(ctx context.Context, auditDB *storage.DB, getenv func(string) string, action, subject, detail string) error {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	l := audit.NewLog(auditDB, time.Now, slog.New(slog.DiscardHandler))
	defer l.Close()
	if err := l.Record(ctx, audit.Entry{Actor: "cli:" + user, Action: action, Subject: subject, Purpose: "administration", Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
