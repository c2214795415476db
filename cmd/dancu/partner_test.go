package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/platform"
)

// The partner commands: add, change the policy (a limit that is not a
// number is refused and changes nothing), add a system (secret shown once),
// disable; every change is in the audit chain under the operator's account.
func TestPartnerCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := func(k string) string {
		if k == "USER" {
			return "tuan.nv"
		}
		return ""
	}
	cli := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"partner"}, append(args, "--data", dir)...), env, &out, &errb)
		return out.String() + errb.String(), err
	}
	steps := []struct {
		args    []string
		fails   bool
		printed string
	}{
		{[]string{"add", "--id", "bank-x", "--name", "Ngân hàng X", "--kind", "bank", "--operations", "verify",
			"--fields", "pin,full_name,birth_date", "--purpose", "kyc|law|Nhận biết khách hàng|Luật Phòng, chống rửa tiền 2022"}, false, "partner bank-x added"},
		{[]string{"policy", "--id", "bank-x", "--rate", "NaN"}, true, "rate_per_second"},
		{[]string{"policy", "--id", "bank-x", "--rate", "25", "--quota", "1000"}, false, "now version 2"},
		{[]string{"client", "add", "--partner", "bank-x"}, false, "(shown only now)"},
		{[]string{"show", "--id", "bank-x"}, false, `"rate_per_second": 25`},
		{[]string{"disable", "--id", "bank-x"}, false, "partner bank-x disabled"},
	}
	for _, s := range steps {
		out, err := cli(s.args...)
		if err != nil {
			out += err.Error()
		}
		if (err != nil) != s.fails || !strings.Contains(out, s.printed) {
			t.Fatalf("partner %s: err %v, want failure %v, output:\n%s", strings.Join(s.args, " "), err, s.fails, out)
		}
	}

	db, auditDB, err := app.OpenStores(ctx, platform.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.CloseStores(db, auditDB)
	entries, err := audit.BySubject(ctx, auditDB, "partner:bank-x", 10)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		if e.Actor != "cli:tuan.nv" {
			t.Errorf("%s recorded as %q", e.Action, e.Actor)
		}
		acts = append(acts, e.Action)
	}
	got := strings.Join(acts, " ")
	for _, want := range []string{"partner.created", "partner.policy_changed", "partner.system_added", "partner.disabled"} {
		if strings.Count(got, want) != 1 {
			t.Errorf("audit of bank-x: %q, want %s once", got, want)
		}
	}
}
