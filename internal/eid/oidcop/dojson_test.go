package oidcop_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// doJSON sends req with the default client and decodes a JSON answer; an
// answer that is not JSON leaves the map nil, for the caller's assertions
// on the status to speak.
func doJSON(t testing.TB, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}
