package servicesweb_test

import (
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestCatalogueAdmin: a national administrator overrides a procedure (fee,
// legal time) and the public API answers the new version at once; a bad
// definition is refused field by field; a province administrator and a
// registrar may not edit; the reset restores the shipped version.
func TestCatalogueAdmin(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := appFixture(t, d)
			base := f.srv.URL
			a := call(t, "GET", base+"/api/v1/procedures/CT.TAT.01", "", nil)
			if a.status != 200 || a.body["fee"].(float64) != 7000 {
				t.Fatalf("shipped: %d %s", a.status, a.raw)
			}
			p := a.body
			p["fee"], p["legal_days"] = 5000, 2
			admin := f.staff(t, "admin")
			for _, who := range []string{"quantri.hanoi", "dangky.badinh"} {
				if x := call(t, "PUT", base+"/api/v1/procedures/CT.TAT.01", f.staff(t, who), p); x.status != 403 {
					t.Fatalf("%s edits: %d %s", who, x.status, x.raw)
				}
			}
			if x := call(t, "PUT", base+"/api/v1/procedures/CT.TAT.01", "", p); x.status != 401 {
				t.Fatalf("anonymous edit: %d", x.status)
			}
			if x := call(t, "PUT", base+"/api/v1/procedures/CT.TAT.01", admin, p); x.status != 200 || x.body["overridden"] != true {
				t.Fatalf("override: %d %s", x.status, x.raw)
			}
			if x := call(t, "GET", base+"/api/v1/procedures/CT.TAT.01", "", nil); x.body["fee"].(float64) != 5000 || x.body["legal_days"].(float64) != 2 {
				t.Fatalf("after override: %s", x.raw)
			}
			bad := map[string]any{}
			for k, v := range p {
				bad[k] = v
			}
			bad["level"], bad["eid_level"] = "district", 3
			if x := call(t, "PUT", base+"/api/v1/procedures/CT.TAT.01", admin, bad); x.status != 422 || !strings.Contains(string(x.raw), `"field":"level"`) || !strings.Contains(string(x.raw), `"field":"eid_level"`) {
				t.Fatalf("bad override: %d %s", x.status, x.raw)
			}
			if x := call(t, "DELETE", base+"/api/v1/procedures/CT.TAT.01", admin, nil); x.status != 204 {
				t.Fatalf("reset: %d %s", x.status, x.raw)
			}
			if x := call(t, "GET", base+"/api/v1/procedures/CT.TAT.01", "", nil); x.body["fee"].(float64) != 7000 {
				t.Fatalf("after reset: %s", x.raw)
			}
			if x := call(t, "GET", base+"/api/v1/procedures/NOPE.1", "", nil); x.status != 404 || x.body["code"] != "procedure.not_found" {
				t.Fatalf("unknown: %d %s", x.status, x.raw)
			}
		})
	}
}
