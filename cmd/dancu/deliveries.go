package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/fault"
)

const deliveriesUsage = `usage:
  dancu deliveries list      [--partner P] [--status pending|delivered|dead|cancelled] [--limit N]
  dancu deliveries replay    --partner P (--all | --event ID[,ID...])
  dancu deliveries log       --partner P [--limit N]
  dancu deliveries subscribe --partner P --types died,moved,... (--url https://... | --jetstream)`

// deliveries is the operator's view of life-event deliveries to partners.
// It works on the database directly, so it also serves while the platform
// runs: a running server picks replayed deliveries up within seconds.
func deliveries(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", deliveriesUsage)
	}
	var partner, status, events, types, url string
	var limit int
	var all, jetstream bool
	svc, err := openServices(ctx, "deliveries "+args[0], args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&partner, "partner", "", "partner id")
		fs.StringVar(&status, "status", "", "list only deliveries in this status")
		fs.IntVar(&limit, "limit", 100, "at most this many rows")
		fs.StringVar(&events, "event", "", "event ids to replay, comma-separated")
		fs.BoolVar(&all, "all", false, "replay every dead letter of the partner")
		fs.StringVar(&types, "types", "", "event types: "+strings.Join(delivery.Types, ","))
		fs.StringVar(&url, "url", "", "webhook URL")
		fs.BoolVar(&jetstream, "jetstream", false, "deliver on the JetStream subject dancu.partner.<partner>.<type> instead of a webhook")
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	store, err := svc.Deliveries()
	if err != nil {
		return err
	}
	explain := func(err error) error {
		if f := fault.As(err); f.Code != "" && f.Kind != fault.Internal {
			return fmt.Errorf("%s (%s)", f.English, f.Code)
		}
		return err
	}
	switch args[0] {
	case "list":
		ds, err := store.Deliveries(ctx, delivery.Filter{Partner: partner, Status: status, Limit: limit})
		if err != nil {
			return err
		}
		counts, err := store.Counts(ctx, partner)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EVENT\tPARTNER\tTYPE\tSTATUS\tATTEMPTS\tLAST\tUPDATED")
		for _, d := range ds {
			last := d.LastError
			if d.LastStatus != 0 {
				last = fmt.Sprintf("%d %s", d.LastStatus, d.LastError)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.EventID, d.PartnerID, d.Type, d.Status, d.Attempts, last, d.UpdatedAt.Format(time.RFC3339))
		}
		w.Flush()
		fmt.Fprintf(stdout, "totals: pending %d, delivered %d, dead %d, cancelled %d\n",
			counts[delivery.StatusPending], counts[delivery.StatusDelivered], counts[delivery.StatusDead], counts[delivery.StatusCancelled])
		return nil
	case "replay":
		n, err := store.Replay(ctx, partner, split(events), all)
		if err != nil {
			return explain(err)
		}
		if err := recordCLI(ctx, svc.Audit, getenv, "delivery.replay", "partner:"+partner, "requeued="+strconv.Itoa(n)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d dead letters queued again\n", n)
		return nil
	case "log":
		if partner == "" {
			return fmt.Errorf("--partner is required")
		}
		log, err := store.Log(ctx, partner, 0, limit)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "AT\tEVENT\tATTEMPT\tSTATUS\tLATENCY\tOUTCOME\tERROR")
		for _, a := range log {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%dms\t%s\t%s\n", a.At.Format(time.RFC3339), a.EventID, a.Attempt, a.StatusCode, a.LatencyMS, a.Outcome, a.Error)
		}
		return w.Flush()
	case "subscribe":
		in := delivery.SubscribeInput{PartnerID: partner, Types: split(types), Mode: delivery.ModeWebhook, URL: url}
		if jetstream {
			in.Mode = delivery.ModeJetStream
		}
		// The partner's policy bounds the event types, for the operator
		// too.
		p, err := svc.Partners.Partner(ctx, partner)
		if err != nil {
			return fmt.Errorf("partner %q: %w", partner, err)
		}
		sub, err := store.Subscribe(ctx, "system:cli", p.Policy, in)
		if err != nil {
			for _, f := range fault.Faults(err) {
				if f.Code != "" && f.Kind != fault.Internal {
					fmt.Fprintf(stderr, "  %s: %s\n", f.Field, f.English)
				}
			}
			return fmt.Errorf("subscription not added: %w", err)
		}
		if err := recordCLI(ctx, svc.Audit, getenv, "delivery.subscribe", "partner:"+sub.PartnerID, "subscription="+sub.ID+" mode="+sub.Mode+" types="+strings.Join(sub.Types, ",")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscription %s: partner %s, %s, types %s\n", sub.ID, sub.PartnerID, sub.Mode, strings.Join(sub.Types, ","))
		if sub.Secret != "" {
			fmt.Fprintf(stdout, "signing secret (shown only now): %s\n", sub.Secret)
		}
		if sub.Subject != "" {
			fmt.Fprintf(stdout, "consume stream DANCU, subject %s, with a durable consumer of your own\n", sub.Subject)
		}
		return nil
	}
	return fmt.Errorf("%s", deliveriesUsage)
}
