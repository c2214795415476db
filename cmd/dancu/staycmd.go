package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/stay"
)

const stayUsage = `usage:
  dancu stay property add --id ID --kind hotel|hospital|dormitory --name "Tên" --partner PARTNER --commune CODE [--address "..."] [flags]
  dancu stay property list [--partner PARTNER] [flags]`

// stayCmd registers and lists partners' properties (hotels, hospitals,
// dormitories) from the shell, as system:cli through the stay service,
// which applies the administrators' page's rules and audits each
// registration: the partner must exist, be enabled, have the policy
// operation "stay" and a scope covering the commune.
func stayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "property" || (args[1] != "add" && args[1] != "list") {
		return fmt.Errorf("%s", stayUsage)
	}
	sub, rest := args[1], args[2:]
	var p stay.Property
	var partner string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&p.PartnerID, "partner", "", "the partner owning the property")
		if sub == "add" {
			fs.StringVar(&p.ID, "id", "", "the property's id, used in the partner API's paths")
			fs.StringVar(&p.Kind, "kind", "", "hotel, hospital or dormitory")
			fs.StringVar(&p.Name, "name", "", "the property's name")
			fs.StringVar(&p.Commune, "commune", "", "the commune's 5-digit code")
			fs.StringVar(&p.Address, "address", "", "street address")
		}
	}
	svc, err := openServices(ctx, "stay property "+sub, rest, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer svc.Close()
	partner = p.PartnerID
	st := stay.New(svc.DB, nil, svc.Audit, svc.Now).WithAuditDB(svc.AuditDB)
	cli := actor.SystemActor("cli")
	units, err := adminunit.Load()
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		rules := stay.PropertyRules{Partners: svc.Partners, Province: func(c string) (string, bool) {
			pr, err := units.CommuneProvince(c, time.Now())
			return pr, err == nil
		}}
		got, err := st.RegisterProperty(ctx, cli, rules, p)
		if err != nil {
			return refused("not registered", err)
		}
		fmt.Fprintf(stdout, "property %s (%s) registered for partner %s in commune %s\n", got.ID, got.Kind, got.PartnerID, communeLabel(units, got.Commune))
	case "list":
		list, err := st.Properties(ctx, cli, partner)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tPARTNER\tCOMMUNE\tNAME")
		for _, p := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Kind, p.PartnerID, communeLabel(units, p.Commune), p.Name)
		}
		return tw.Flush()
	}
	return nil
}

// communeLabel is a commune's name with its code, the code alone when the
// catalogue does not know it.
func communeLabel(units *adminunit.Catalog, code string) string {
	if u, err := units.Commune(code, time.Now()); err == nil {
		return u.Name + " (" + code + ")"
	}
	return code
}
