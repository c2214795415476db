package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
)

const staffUsage = `usage:
  dancu staff add --username U --name "Họ Tên" --role registrar|desk|leader|admin [--unit CODE] [flags]
  dancu staff list [flags]
  dancu staff disable USERNAME [flags]
  dancu staff enable USERNAME [flags]
  dancu staff reset USERNAME [flags]
  dancu staff unlock USERNAME [flags]`

// staffCmd is the operator's staff administration from the shell: add,
// list, disable, enable, reset a password and lift a sign-in lock (for
// when no administrator can sign in). It acts as system:cli through the
// staff store, which audits every act as the pages and the API do; a
// temporary password (add, reset) is printed once to stdout and must be
// changed at the next sign-in.
func staffCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", staffUsage)
	}
	sub, rest := args[0], args[1:]
	var username string
	switch sub {
	case "disable", "enable", "reset", "unlock":
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			return fmt.Errorf("usage: dancu staff %s USERNAME [flags]", sub)
		}
		username, rest = rest[0], rest[1:]
	case "add", "list":
	default:
		return fmt.Errorf("%s", staffUsage)
	}
	var acc staff.Account
	var role string
	extra := func(fs *flag.FlagSet) {}
	if sub == "add" {
		extra = func(fs *flag.FlagSet) {
			fs.StringVar(&acc.Username, "username", "", "username (a-z, 0-9, . - _)")
			fs.StringVar(&acc.DisplayName, "name", "", "display name")
			fs.StringVar(&role, "role", "", "registrar, desk, leader or admin")
			fs.StringVar(&acc.Unit, "unit", "", "province (2 digits) or commune (5 digits); empty: national (administrators only)")
		}
	}
	svc, err := openServices(ctx, "staff "+sub, rest, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer svc.Close()
	// The counters are keyed with the e-ID secret, as the server keys them.
	st, err := svc.Staff()
	if err != nil {
		return err
	}
	cli := actor.SystemActor("cli")
	switch sub {
	case "add":
		acc.Role = actor.Role(role)
		pw, err := st.Add(ctx, cli, acc)
		if err != nil {
			return refused("not added", err)
		}
		fmt.Fprintf(stdout, "staff account %s added (%s)\ntemporary password: %s\nit is shown only this once and must be changed at the first sign-in\n", acc.Username, role, pw)
	case "list":
		list, err := st.ListFor(ctx, cli)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tUNIT\tSTATE\tLAST SIGN-IN\tNAME")
		for _, a := range list {
			state := "active"
			switch {
			case a.Disabled:
				state = "disabled"
			case a.MustChangePassword:
				state = "password change pending"
			}
			last := "never"
			if !a.LastSignIn.IsZero() {
				last = a.LastSignIn.UTC().Format(time.RFC3339)
			}
			unit := a.Unit
			if unit == "" {
				unit = "national"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Username, a.Role, unit, state, last, a.DisplayName)
		}
		return tw.Flush()
	case "disable", "enable":
		if err := st.SetDisabled(ctx, cli, username, sub == "disable"); err != nil {
			return refused("not changed", err)
		}
		fmt.Fprintf(stdout, "staff account %s %sd\n", username, sub)
	case "reset":
		pw, err := st.ResetPassword(ctx, cli, username)
		if err != nil {
			return refused("not reset", err)
		}
		fmt.Fprintf(stdout, "password of %s reset\ntemporary password: %s\nit is shown only this once and must be changed at the next sign-in\n", username, pw)
	case "unlock":
		was, err := st.Unlock(ctx, cli, username)
		if err != nil {
			return refused("not unlocked", err)
		}
		if was {
			fmt.Fprintf(stdout, "staff account %s unlocked\n", username)
		} else {
			fmt.Fprintf(stdout, "staff account %s was not blocked or locked; its failure count is cleared\n", username)
		}
	}
	return nil
}

// refused turns a domain fault into the operator's message (every field's
// for a form's several faults); a failure of ours stays as it is.
func refused(what string, err error) error {
	fs := fault.Faults(err)
	if fs[0].Kind == fault.Internal {
		return err
	}
	msgs := make([]string, 0, len(fs))
	for _, f := range fs {
		m := f.English
		if f.Field != "" {
			m = f.Field + ": " + m
		}
		msgs = append(msgs, m)
	}
	return fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))
}
