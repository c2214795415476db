package api_test

import (
	"reflect"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/stats"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestUnitStatsAPI: GET /api/v1/stats/units/{code} answers the dashboard's
// figures (the unit and its units below) to Hà Nội's leader for Hà Nội and
// its communes; another province and the nation are 403 whether the code
// exists or not; a national administrator reads the nation, and an unknown
// code is then 404; no sign-in is 401.
func TestUnitStatsAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			anon := &client{t: t, base: env.Server.URL}
			anon.expectProblem("GET", "/api/v1/stats/units/01", nil, 401, "unauthenticated")
			leader := anon.signIn("lanhdao.hanoi")
			var got struct {
				Unit     stats.Figures   `json:"unit"`
				Children []stats.Figures `json:"children"`
			}
			if st := leader.do("GET", "/api/v1/stats/units/01", nil, &got); st != 200 {
				t.Fatalf("status %d", st)
			}
			self, kids, err := env.App.Stats.Unit(t.Context(), "01")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Unit, self) || !reflect.DeepEqual(got.Children, kids) || got.Unit.Name != "Thành phố Hà Nội" || len(kids) == 0 {
				t.Errorf("API %+v, service %+v", got.Unit, self)
			}
			got.Children = nil
			if st := leader.do("GET", "/api/v1/stats/units/"+kids[0].Code, nil, &got); st != 200 || got.Unit.Code != kids[0].Code || len(got.Children) != 0 {
				t.Errorf("commune: %d %+v", st, got)
			}
			for _, code := range []string{"79", "VN", "99", "00000"} {
				leader.expectProblem("GET", "/api/v1/stats/units/"+code, nil, 403, "forbidden")
			}
			admin := anon.signIn("admin")
			var nation struct {
				Unit     stats.Figures   `json:"unit"`
				Children []stats.Figures `json:"children"`
			}
			if st := admin.do("GET", "/api/v1/stats/units/VN", nil, &nation); st != 200 || nation.Unit.Living != int64(sumLiving(nation.Children)) || len(nation.Children) != 34 {
				t.Errorf("nation: %d, %d living, %d provinces", st, nation.Unit.Living, len(nation.Children))
			}
			admin.expectProblem("GET", "/api/v1/stats/units/99", nil, 404, "unit.not_found")
		})
	}
}

func sumLiving(fs []stats.Figures) (n int) {
	for _, f := range fs {
		n += int(f.Living)
	}
	return n
}

// TestUnitIndexAPI: the service index, the what-if and the early warning
// of Hà Nội answer its leader with what the stats service computes (the
// communes ranked, peers among the 34 provinces, empty lists rather than
// null), and the same scope rule refuses another province before the code
// is looked at.
func TestUnitIndexAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 100)
			leader := (&client{t: t, base: env.Server.URL}).signIn("lanhdao.hanoi")
			var idx struct {
				Unit     stats.UnitDossiers   `json:"unit"`
				Children []stats.UnitDossiers `json:"children"`
				Peers    []stats.UnitDossiers `json:"peers"`
			}
			if st := leader.do("GET", "/api/v1/stats/units/01/index", nil, &idx); st != 200 {
				t.Fatalf("index: %d", st)
			}
			self, kids, err := env.App.Stats.DossierFigures(t.Context(), "01")
			if err != nil {
				t.Fatal(err)
			}
			if idx.Unit.Name != "Thành phố Hà Nội" || len(idx.Unit.Index.Groups) != 5 || !reflect.DeepEqual(idx.Unit.Dossiers, self.Dossiers) ||
				len(idx.Children) != len(kids) || len(idx.Peers) != 34 {
				t.Errorf("index: %+v (%d children, %d peers)", idx.Unit, len(idx.Children), len(idx.Peers))
			}
			var w struct {
				Dossiers []stats.OpenDossier `json:"dossiers"`
				AllGain  *float64            `json:"all_gain"`
			}
			if st := leader.do("GET", "/api/v1/stats/units/01/what-if", nil, &w); st != 200 || w.Dossiers == nil || w.AllGain == nil {
				t.Errorf("what-if: %d %+v", st, w)
			}
			w.Dossiers = nil
			if st := leader.do("GET", "/api/v1/stats/units/01/early-warning", nil, &w); st != 200 || w.Dossiers == nil {
				t.Errorf("early warning: %d %+v", st, w)
			}
			for _, path := range []string{"/api/v1/stats/units/79/index", "/api/v1/stats/units/99/what-if", "/api/v1/stats/units/VN/early-warning"} {
				leader.expectProblem("GET", path, nil, 403, "forbidden")
			}
		})
	}
}
