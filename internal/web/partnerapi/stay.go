package partnerapi

import (
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/stay"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/problem"
)

func (a *API) stayRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/stay/properties/{property}/guests", exchange.OpStay, a.stayGuests},
		{"POST", Prefix + "/stay/properties/{property}/guests/csv", exchange.OpStay, a.stayCSV},
		{"POST", Prefix + "/stay/properties/{property}/departures", exchange.OpStay, a.stayDepartures},
	}
}

// stayHost is the scope rule of every stay route, before the body is
// read: the property is the calling partner's and inside its policy's
// unit; any other (or unknown) property is refused alike.
func (a *API) stayHost(r *http.Request) (stay.Host, string, error) {
	c, _ := CallerFrom(r.Context())
	h, err := a.Stay.PartnerHost(r.Context(), c.Partner.ID, c.Partner.Policy.Scope, r.PathValue("property"))
	return h, "partner:" + c.Partner.ID, err
}

// outcomeView is one guest's or departure's outcome in an answer.
type outcomeView struct {
	Line   int                  `json:"line,omitempty"`
	Ref    string               `json:"ref"`
	Status string               `json:"status"`
	Late   bool                 `json:"late,omitempty"`
	Due    *time.Time           `json:"due,omitempty"`
	Offer  bool                 `json:"temporary_residence_offered,omitempty"`
	Errors []problem.FieldError `json:"errors,omitempty"`
}

func viewOutcome(line int, o stay.Outcome) outcomeView {
	v := outcomeView{Line: line, Ref: o.Ref, Status: o.Status, Late: o.Late, Due: o.Due, Offer: o.Offer}
	for _, e := range o.Errors {
		v.Errors = append(v.Errors, problem.FieldError{Field: e.Field, Code: e.Code, Message: e.Message, English: e.English})
	}
	return v
}

type stayResults struct {
	Results []outcomeView `json:"results"`
}

func views(out []stay.Outcome) stayResults {
	res := stayResults{Results: make([]outcomeView, len(out))}
	for i, o := range out {
		res.Results[i] = viewOutcome(0, o)
	}
	return res
}

// stayBody bounds a JSON batch: 500 guests of about 400 bytes.
const stayBody = 512 << 10

func (a *API) stayGuests(w http.ResponseWriter, r *http.Request) error {
	h, who, err := a.stayHost(r)
	if err != nil {
		return err
	}
	var in struct {
		Guests []stay.Guest `json:"guests"`
	}
	if err := Decode(w, r, &in, stayBody); err != nil {
		return err
	}
	if len(in.Guests) == 0 || len(in.Guests) > stay.MaxBatch {
		return stay.ErrBatch
	}
	out, err := a.Stay.Notify(r.Context(), who, h, in.Guests)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, views(out))
}

func (a *API) stayDepartures(w http.ResponseWriter, r *http.Request) error {
	h, _, err := a.stayHost(r)
	if err != nil {
		return err
	}
	var in struct {
		Departures []stay.Departure `json:"departures"`
	}
	if err := Decode(w, r, &in, stayBody); err != nil {
		return err
	}
	if len(in.Departures) == 0 || len(in.Departures) > stay.MaxBatch {
		return stay.ErrBatch
	}
	out, err := a.Stay.Depart(r.Context(), h, in.Departures)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, views(out))
}

// stayCSVMax bounds a guest list file: 200,000 rows of about 300 bytes.
const stayCSVMax = 64 << 20

var errStayCSVType = fault.New(fault.Invalid, "stay.csv_type", "Tệp phải có kiểu text/csv.", "The file must be sent as text/csv.")

// stayCSV reads a guest list file as it streams in (stay.NotifyCSV: a file
// that cannot be read to its end stores nothing).
func (a *API) stayCSV(w http.ResponseWriter, r *http.Request) error {
	h, who, err := a.stayHost(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		return errStayCSVType
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(5 * time.Minute))
	rc.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	rep, err := a.Stay.NotifyCSV(r.Context(), who, h, http.MaxBytesReader(w, r.Body, stayCSVMax))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return stay.ErrRows
		}
		return err
	}
	v := struct {
		stay.Report
		Refusals []outcomeView `json:"refusals"`
	}{Report: rep, Refusals: []outcomeView{}}
	for _, ro := range rep.Refusals {
		v.Refusals = append(v.Refusals, viewOutcome(ro.Line, ro.Outcome))
	}
	return jsonbody.Write(w, http.StatusOK, v)
}
