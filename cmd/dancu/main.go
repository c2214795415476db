// Command dancu runs the population register platform: one binary with the
// web server, the database migrations, the synthetic seed and the audit check.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dancu:", err)
		os.Exit(1)
	}
}

const usage = `dancu — national population register platform

Usage:
  dancu serve   [flags]   run the platform (embedded SQLite and NATS by default)
  dancu migrate [flags]   apply database migrations and exit
  dancu seed    [flags]   add a synthetic population (--persons N --seed S)
  dancu seed --partner-copy FILE [--rows N] [--seed S]
                          write a dirty partner copy of a register sample, truth in FILE.truth.csv
  dancu audit verify      check the audit log's hash chain and signed checkpoints
                          (--audit-pubkey KEY, --checkpoints FILE of exported ones)
  dancu audit checkpoints print the stored signed checkpoints as JSON lines
  dancu pki init          create the card PKI (CSCA, document signer) in the database and <data>/pki
  dancu pki rotate-signer issue a new document signer; every node uses it within seconds, old ones verify
  dancu pki rotate-results-signer
                          issue a new signer of results under the platform CA
  dancu oidc rotate-key   a new OpenID signing key for every node; old keys stay published a week
  dancu client add        register an OpenID client: --id ID --grant client_credentials --scopes ...
  dancu staff add|list|disable|enable|reset|unlock
                          staff accounts: add (temporary password shown once), disable, enable,
                          reset a password, lift a sign-in lock (audited as system:cli)
  dancu stay property add|list
                          partners' lodgings (hotel, hospital, dormitory) for stay notifications
  dancu partner add|list|show|policy|client add|disable|enable
                          data-exchange partners, their policies and systems
  dancu deliveries list|replay|log|subscribe
                          life-event deliveries to partners: dead letters, replay, delivery log
  dancu dev cluster       three nodes behind a load balancer, PostgreSQL primary and replica,
                          a NATS JetStream cluster of three, on this machine (--nodes, --addr)
  dancu version           print the version

Run "dancu COMMAND -h" for the flags of a command.
`

// run is main without process globals, so tests can start the whole program.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args[1:], getenv, stdout, stderr)
	case "audit":
		switch {
		case len(args) >= 2 && args[1] == "verify":
			return auditVerify(ctx, args[2:], getenv, stdout, stderr)
		case len(args) >= 2 && args[1] == "checkpoints":
			return auditCheckpoints(ctx, args[2:], getenv, stdout, stderr)
		}
		return fmt.Errorf("usage: dancu audit verify|checkpoints [flags]")
	case "pki":
		return pkiCmd(ctx, args[1:], getenv, stdout, stderr)
	case "oidc":
		return oidcCmd(ctx, args[1:], getenv, stdout, stderr)
	case "deliveries":
		return deliveries(ctx, args[1:], getenv, stdout, stderr)
	case "partner":
		return partnerCmd(ctx, args[1:], getenv, stdout, stderr)
	case "client":
		if len(args) < 2 || args[1] != "add" {
			return fmt.Errorf("usage: dancu client add --id ID [flags]")
		}
		return clientAdd(ctx, args[2:], getenv, stdout, stderr)
	case "staff":
		return staffCmd(ctx, args[1:], getenv, stdout, stderr)
	case "stay":
		return stayCmd(ctx, args[1:], getenv, stdout, stderr)
	case "dev":
		return devCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "dancu", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
