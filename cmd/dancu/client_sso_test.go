package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestClientAddLogoutAndOptional registers a relying party with a
// back-channel logout URI, post-logout URIs and an optional scope; an
// optional scope outside --scopes and an http logout URI are refused on
// their fields.
func TestClientAddLogoutAndOptional(t *testing.T) {
	env := map[string]string{"DANCU_DATA": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	base := []string{"client", "add", "--purpose", "Đăng nhập", "--redirect-uri", "https://shop.example.vn/cb", "--scopes", "profile,pin"}
	for _, c := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"registered", []string{"--id", "shop", "--optional-scopes", "pin", "--backchannel-logout-uri", "https://shop.example.vn/bc",
			"--post-logout-uri", "https://shop.example.vn/bye"}, ""},
		{"optional scope not among the scopes", []string{"--id", "shop2", "--optional-scopes", "address"}, "optional_scopes"},
		{"http logout URI", []string{"--id", "shop3", "--backchannel-logout-uri", "http://shop.example.vn/bc"}, "backchannel_logout_uri"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append(append([]string{}, base...), c.args...), getenv, &out, &errOut)
			if c.wantErr == "" {
				if err != nil || !strings.Contains(out.String(), "added") {
					t.Fatalf("add: %v\n%s%s", err, out.String(), errOut.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("want a refusal on %s, got %v", c.wantErr, err)
			}
		})
	}
}
