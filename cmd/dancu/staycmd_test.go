package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestStayPropertyCommands: the operator registers a hotel for a partner
// whose policy has the operation "stay" with "dancu stay property add";
// list shows it with its commune's name; a partner without the operation,
// a commune outside the partner's scope, an unknown commune and a missing
// name are refused with the field named, and nothing of them is listed.
func TestStayPropertyCommands(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	cli(t, env, "partner", "add", "--id", "ks-hanoi", "--name", "Khách sạn Hà Nội", "--kind", "other", "--operations", "stay", "--scope", "01")
	cli(t, env, "partner", "add", "--id", "ngan-hang", "--name", "Ngân hàng", "--kind", "bank", "--operations", "verify", "--fields", "pin")
	out := cli(t, env, "stay", "property", "add", "--id", "ks-hanoi-1", "--kind", "hotel", "--name", "Khách sạn Hồ Gươm", "--partner", "ks-hanoi",
		"--commune", "00004", "--address", "1 Hàng Khay")
	if !strings.Contains(out, "property ks-hanoi-1 (hotel) registered for partner ks-hanoi") || !strings.Contains(out, "(00004)") {
		t.Fatalf("add: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--id", "nh-1", "--kind", "hotel", "--name", "Nhà khách", "--partner", "ngan-hang", "--commune", "00004"}, "partner_id: The partner's policy does not allow stay notifications"},
		{[]string{"--id", "ks-dn", "--kind", "hotel", "--name", "Khách sạn Đà Nẵng", "--partner", "ks-hanoi", "--commune", "20194"}, "commune: The property's commune is outside the partner's policy scope"},
		{[]string{"--id", "ks-x", "--kind", "hotel", "--name", "X", "--partner", "ks-hanoi", "--commune", "99999"}, "commune: No commune has this code"},
		{[]string{"--id", "ks-y", "--kind", "motel", "--partner", "ks-hanoi", "--commune", "00004"}, "name: The property's name is missing"},
		{[]string{"--id", "hh-1", "--kind", "hotel", "--name", "Y", "--partner", "ks-hanoi", "--commune", "00004"}, "id: A property id"},
	} {
		var o, e bytes.Buffer
		err := run(context.Background(), append([]string{"stay", "property", "add"}, c.args...), func(k string) string { return env[k] }, &o, &e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	list := cli(t, env, "stay", "property", "list")
	if !strings.Contains(list, "ks-hanoi-1") || !strings.Contains(list, "Khách sạn Hồ Gươm") || strings.Contains(list, "nh-1") || strings.Contains(list, "ks-dn") {
		t.Fatalf("list:\n%s", list)
	}
	if other := cli(t, env, "stay", "property", "list", "--partner", "ngan-hang"); strings.Contains(other, "ks-hanoi-1") {
		t.Fatalf("list of another partner:\n%s", other)
	}
	var o, e bytes.Buffer
	if err := run(context.Background(), []string{"stay", "property"}, func(k string) string { return env[k] }, &o, &e); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no subcommand: %v", err)
	}
}
