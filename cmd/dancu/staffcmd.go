package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/fault"
)

// staffCmd lifts the sign-in lock of a staff account from the shell, for
// when no administrator can sign in (the administrator's own account is
// the one locked): "dancu staff unlock USERNAME [flags]". The act is
// audited with the actor system:cli.
func staffCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "unlock" || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("usage: dancu staff unlock USERNAME [flags]")
	}
	username := args[1]
	cfg, err := parseConfig("staff unlock", args[2:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	// The counters are keyed with the e-ID secret, as the server keys them.
	st, err := svc.Staff()
	if err != nil {
		return err
	}
	was, err := st.Unlock(ctx, actor.SystemActor("cli"), username)
	if err != nil {
		if f := fault.As(err); f.Kind != fault.Internal {
			return fmt.Errorf("not unlocked: %s", f.English)
		}
		return err
	}
	if was {
		fmt.Fprintf(stdout, "staff account %s unlocked\n", username)
	} else {
		fmt.Fprintf(stdout, "staff account %s was not blocked or locked; its failure count is cleared\n", username)
	}
	return nil
}
