package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
)

const partnerUsage = `usage:
  dancu partner add --id ID --name NAME --kind bank|insurance|hospital|ministry|telecom|other [policy flags]
  dancu partner list
  dancu partner show --id ID
  dancu partner policy --id ID [policy flags]      replace the policy (flags not given keep their value)
  dancu partner client add --partner ID [--client-id ID] [--name NAME] [--cert-fingerprint SHA256]
                           [--redirect-uri URI,...] [--scopes profile,address,pin]
  dancu partner disable|enable --id ID [--client CLIENT_ID]
  dancu partner simulate bhxh|ldtbxh --server URL --client-secret S [--delay D --refuse R --duplicate R]
policy flags: --policy FILE.json | --operations verify,lookup,... --fields full_name,... --scope UNIT
  --rate N --burst N --quota N --purpose 'code|consent|Mô tả' --purpose 'code|law|Mô tả|Điều luật'
`

// partnerCmd manages data-exchange partners, their policies and systems.
func partnerCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, partnerUsage)
		return errors.New("no partner command given")
	}
	switch args[0] {
	case "add", "policy":
		return partnerPolicy(ctx, args[0], args[1:], getenv, stdout, stderr)
	case "list":
		return partnerList(ctx, args[1:], getenv, stdout, stderr)
	case "show":
		return partnerShow(ctx, args[1:], getenv, stdout, stderr)
	case "client":
		if len(args) < 2 || args[1] != "add" {
			return errors.New("usage: dancu partner client add --partner ID [flags]")
		}
		return partnerClientAdd(ctx, args[2:], getenv, stdout, stderr)
	case "disable", "enable":
		return partnerDisable(ctx, args[0] == "disable", args[1:], getenv, stdout, stderr)
	case "simulate":
		return partnerSimulate(ctx, args[1:], getenv, stdout, stderr)
	}
	fmt.Fprint(stderr, partnerUsage)
	return fmt.Errorf("unknown partner command %q", args[0])
}

// purposeFlags collects repeated --purpose values.
type purposeFlags []exchange.Purpose

func (p *purposeFlags) String() string { return fmt.Sprint(len(*p)) }
func (p *purposeFlags) Set(v string) error {
	parts := strings.Split(v, "|")
	if len(parts) < 3 {
		return errors.New("a purpose is code|consent|description or code|law|description|citation")
	}
	pu := exchange.Purpose{Code: strings.TrimSpace(parts[0]), Basis: strings.TrimSpace(parts[1]), Description: strings.TrimSpace(parts[2])}
	if len(parts) > 3 {
		pu.Citation = strings.TrimSpace(parts[3])
	}
	*p = append(*p, pu)
	return nil
}

// explain turns a fault list into one readable error for the terminal.
func explain(what string, err error) error {
	var lines []string
	for _, f := range fault.Faults(err) {
		if f.Kind == fault.Internal {
			return fmt.Errorf("%s: %w", what, err)
		}
		s := f.Message + " / " + f.English
		if f.Field != "" {
			s = f.Field + ": " + s
		}
		lines = append(lines, s)
	}
	return fmt.Errorf("%s:\n  %s", what, strings.Join(lines, "\n  "))
}

func partnerPolicy(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var p exchange.Partner
	var kind, file, ops, fields, scope string
	var rate float64
	var burst int
	var quota int64
	var purposes purposeFlags
	set := map[string]bool{}
	cfg, err := parseConfig("partner "+verb, args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&p.ID, "id", "", "partner id: 2–40 lower-case letters, digits, hyphens")
		if verb == "add" {
			fs.StringVar(&p.Name, "name", "", "organisation name")
			fs.StringVar(&kind, "kind", "other", "bank, insurance, hospital, ministry, telecom or other")
		}
		fs.StringVar(&file, "policy", "", "JSON file with the whole policy (see dancu partner show)")
		fs.StringVar(&ops, "operations", "", "allowed operations, comma-separated: verify, lookup, sector_id.write, sector_id.resolve, subscribe, reconcile")
		fs.StringVar(&fields, "fields", "", "allowed fields, comma-separated: pin, full_name, birth_date, sex, permanent_address, ..., sector_id.<scheme>")
		fs.StringVar(&scope, "scope", "", "administrative unit: 2-digit province or 5-digit commune code; empty for the whole country")
		fs.Float64Var(&rate, "rate", 0, "requests per second per node (0: no limit)")
		fs.IntVar(&burst, "burst", 0, "token-bucket burst (default: one second's rate)")
		fs.Int64Var(&quota, "quota", 0, "calls per day, all nodes together (0: no quota)")
		fs.Var(&purposes, "purpose", "declared purpose, repeatable: 'code|consent|description' or 'code|law|description|citation'")
	})
	if err != nil {
		return err
	}
	flagSet(args, set)
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	store := svc.Partners
	version := 0
	if verb == "policy" {
		cur, err := store.Partner(ctx, p.ID)
		if err != nil {
			return explain("partner "+p.ID, err)
		}
		p, version = cur, cur.Version
	}
	pol := &p.Policy
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		*pol = exchange.Policy{}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(pol); err != nil {
			return fmt.Errorf("--policy %s: %w", file, err)
		}
	}
	if set["operations"] {
		pol.Operations = nil
		for _, o := range split(ops) {
			pol.Operations = append(pol.Operations, exchange.Operation(o))
		}
	}
	if set["fields"] {
		pol.Fields = split(fields)
	}
	if set["scope"] {
		pol.Scope = scope
	}
	if set["rate"] {
		pol.RatePerSecond = rate
	}
	if set["burst"] {
		pol.Burst = burst
	}
	if set["quota"] {
		pol.DailyQuota = quota
	}
	if len(purposes) > 0 {
		pol.Purposes = purposes
	}
	if verb == "add" {
		p.Kind = exchange.Kind(kind)
		if _, err := store.AddPartner(ctx, p); err != nil {
			return explain("partner not added", err)
		}
		if err := recordCLI(ctx, svc.Audit, getenv, "partner.created", "partner:"+p.ID, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "partner %s added; add a system with: dancu partner client add --partner %s\n", p.ID, p.ID)
		return nil
	}
	np, err := store.SetPolicy(ctx, p.ID, version, *pol)
	if err != nil {
		return explain("policy not changed", err)
	}
	if err := recordCLI(ctx, svc.Audit, getenv, "partner.policy_changed", "partner:"+np.ID, fmt.Sprintf("version=%d", np.Version)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "policy of %s is now version %d (other nodes apply it within %s)\n", np.ID, np.Version, exchange.SystemCacheTTL)
	return nil
}

// flagSet records which flags the command line gave, so "policy" changes
// only those.
func flagSet(args []string, set map[string]bool) {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		set[name] = true
	}
}

func partnerList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, err := openServices(ctx, "partner list", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer svc.Close()
	partners, err := svc.Partners.Partners(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tOPERATIONS\tSTATE")
	for _, p := range partners {
		state := "active"
		if p.Disabled {
			state = "disabled"
		}
		ops := make([]string, len(p.Policy.Operations))
		for i, o := range p.Policy.Operations {
			ops[i] = string(o)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Kind, strings.Join(ops, ","), state)
	}
	return tw.Flush()
}

func partnerShow(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var id string
	svc, err := openServices(ctx, "partner show", args, getenv, stderr, func(fs *flag.FlagSet) { fs.StringVar(&id, "id", "", "partner id") })
	if err != nil {
		return err
	}
	defer svc.Close()
	store := svc.Partners
	p, err := store.Partner(ctx, id)
	if err != nil {
		return explain("partner "+id, err)
	}
	systems, err := store.Systems(ctx, id)
	if err != nil {
		return err
	}
	out := struct {
		exchange.Partner
		Systems []exchange.System `json:"systems"`
	}{p, systems}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func partnerClientAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var in exchange.SystemInput
	var redirects, scopes string
	svc, err := openServices(ctx, "partner client add", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in.PartnerID, "partner", "", "partner id")
		fs.StringVar(&in.ClientID, "client-id", "", "client id (default: <partner>-<n>)")
		fs.StringVar(&in.Name, "name", "", "system name (default: the partner's)")
		fs.StringVar(&in.CertFingerprint, "cert-fingerprint", "", "SHA-256 of the TLS client certificate (hex) the system must present; empty: none")
		fs.StringVar(&redirects, "redirect-uri", "", "redirect URIs, comma-separated: also registers the authorization-code grant, for consent tokens")
		fs.StringVar(&scopes, "scopes", "", "scopes the client may ask citizens for: profile, address, pin")
		fs.BoolVar(&in.DevMode, "dev", false, "allow http redirect URIs (development only)")
	})
	if err != nil {
		return err
	}
	in.RedirectURIs, in.Scopes = split(redirects), split(scopes)
	defer svc.Close()
	sys, secret, err := svc.Partners.NewSystem(ctx, svc.Clients, in)
	if err != nil {
		return explain("system not added", err)
	}
	if err := recordCLI(ctx, svc.Audit, getenv, "partner.system_added", "partner:"+sys.PartnerID, "client="+sys.ClientID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "system %s of partner %s added\nclient id:     %s\nclient secret: %s   (shown only now)\n", sys.Name, sys.PartnerID, sys.ClientID, secret)
	return nil
}

func partnerDisable(ctx context.Context, disable bool, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var id, client string
	svc, err := openServices(ctx, "partner disable", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "partner id")
		fs.StringVar(&client, "client", "", "only this system (client id)")
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	store := svc.Partners
	what := "partner " + id
	if client != "" {
		err, what = store.SetSystemDisabled(ctx, client, disable), "system "+client
	} else {
		err = store.SetPartnerDisabled(ctx, id, disable)
	}
	if err != nil {
		return explain(what, err)
	}
	state := "enabled"
	if disable {
		state = "disabled"
	}
	action, subject := "partner."+state, "partner:"+id
	if client != "" {
		action, subject = "partner.system_"+state, "client:"+client
	}
	if err := recordCLI(ctx, svc.Audit, getenv, action, subject, ""); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s (other nodes apply it within %s)\n", what, state, exchange.SystemCacheTTL)
	return nil
}
