package events

import "time"

// StayArrived, StayLate and StayDeparted are the stay notifications
// (internal/stay): the guests a host reported (one message per stored
// chunk of up to 500, written in the transaction that stores them), those
// of them reported after the deadline (the same guests again, for a
// consumer that only follows late reports), and departures. The bodies
// name the host, its unit and each guest by PIN or, for a foreigner, by
// nationality alone: no names, no passport numbers (a consumer reads the
// rest under its own rule).
var (
	StayArrived  = Subject[StayEvent]{"dancu.stay.arrived"}
	StayLate     = Subject[StayEvent]{"dancu.stay.late_report"}
	StayDeparted = Subject[StayEvent]{"dancu.stay.departed"}
)

// StayEvent is the body of the dancu.stay.* messages.
type StayEvent struct {
	Host     string      `json:"host_id"`
	HostKind string      `json:"host_kind"` // household, hotel, hospital, dormitory
	Province string      `json:"province_code"`
	Commune  string      `json:"commune_code"`
	Guests   []StayGuest `json:"guests"`
	At       time.Time   `json:"at"` // when the platform recorded the report
}

// StayGuest is one guest of a StayEvent: the host's reference, the PIN of
// a citizen or the nationality of a foreigner, the arrival with its
// deadline and whether the report was late, or the departure.
type StayGuest struct {
	Ref         string     `json:"ref"`
	PIN         string     `json:"pin,omitempty"`
	Nationality string     `json:"nationality,omitempty"`
	Arrival     *time.Time `json:"arrival,omitempty"`
	Due         *time.Time `json:"due,omitempty"`
	Late        bool       `json:"late,omitempty"`
	Departure   *time.Time `json:"departed_at,omitempty"`
}
