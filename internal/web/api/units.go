package api

import (
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

var errUnknownUnit = fault.New(fault.NotFound, "unit.not_found", "Không có đơn vị hành chính với mã này vào ngày đã chọn.", "No administrative unit has this code on that day.")

// unitJSON is a unit as the API shows it.
type unitJSON struct {
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	Kind         string     `json:"kind"`
	Level        string     `json:"level"`
	ProvinceCode string     `json:"province_code,omitempty"`
	DistrictCode string     `json:"district_code,omitempty"`
	ValidFrom    string     `json:"valid_from,omitempty"`
	ValidTo      string     `json:"valid_to,omitempty"`
	Path         string     `json:"path,omitempty"`
	Current      []unitJSON `json:"current,omitempty"`
}

func toJSON(u adminunit.Unit) unitJSON {
	out := unitJSON{Code: u.Code, Name: u.Name, Kind: u.Kind, Level: string(u.Level), ProvinceCode: u.ProvinceCode, DistrictCode: u.DistrictCode}
	if !u.ValidFrom.IsZero() {
		out.ValidFrom = u.ValidFrom.Format(time.DateOnly)
	}
	if !u.ValidTo.IsZero() {
		out.ValidTo = u.ValidTo.Format(time.DateOnly)
	}
	return out
}

func list(us []adminunit.Unit) []unitJSON {
	out := make([]unitJSON, len(us))
	for i, u := range us {
		out[i] = toJSON(u)
	}
	return out
}

// on reads the ?on= date; the default is today.
func (a *API) on(r *http.Request) (time.Time, error) {
	s := r.URL.Query().Get("on")
	if s == "" {
		return a.Now(), nil
	}
	d, err := civildate.Parse(s)
	if err != nil {
		return time.Time{}, fault.As(err).WithField("on")
	}
	return d.Earliest(), nil
}

func (a *API) provinces(w http.ResponseWriter, r *http.Request) error {
	on, err := a.on(r)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": list(a.Units.Provinces(on))})
}

func (a *API) communes(w http.ResponseWriter, r *http.Request) error {
	on, err := a.on(r)
	if err != nil {
		return err
	}
	if _, err := a.Units.Province(r.PathValue("code"), on); err != nil {
		return errUnknownUnit.WithField("code").Wrap(err)
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": list(a.Units.Communes(r.PathValue("code"), on))})
}

// commune shows a commune as it was on the day, and the unit(s) in force now
// that an address recorded then belongs to.
func (a *API) commune(w http.ResponseWriter, r *http.Request) error {
	on, err := a.on(r)
	if err != nil {
		return err
	}
	u, err := a.Units.Commune(r.PathValue("code"), on)
	if err != nil {
		return errUnknownUnit.WithField("code").Wrap(err)
	}
	out := toJSON(u)
	out.Path = a.Units.Path(u.Code, on)
	if cur, err := a.Units.Current(u.Code, on); err == nil {
		for _, c := range cur {
			j := toJSON(c)
			j.Path = a.Units.Path(c.Code, a.Now())
			out.Current = append(out.Current, j)
		}
	}
	return jsonbody.Write(w, http.StatusOK, out)
}

var errEmptyUnitQuery = fault.New(fault.Invalid, "unit.query_required", "Nhập tên xã/phường để tìm.", "Enter a commune name to search.")

func (a *API) searchUnits(w http.ResponseWriter, r *http.Request) error {
	on, err := a.on(r)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("q")
	if q == "" || len(q) > 100 {
		return errEmptyUnitQuery.WithField("q")
	}
	limit := intParam(r, "limit")
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	items := list(a.Units.Search(q, on, limit))
	for i := range items {
		items[i].Path = a.Units.Path(items[i].Code, on)
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": items})
}
