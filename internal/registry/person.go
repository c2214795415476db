// Package registry is the national population register (Cơ sở dữ liệu quốc
// gia về dân cư): persons, households, residence, life events and the
// allocation of personal identification numbers. Every change is versioned
// (who, when, why) and audited, and emits its life event through the outbox.
package registry

import (
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
)

// Person statuses.
const (
	Alive = "alive"
	Dead  = "dead"
)

// Residence kinds.
const (
	Permanent = "permanent" // thường trú
	Temporary = "temporary" // tạm trú
)

// Relations to the household head most often used; the register accepts any
// non-empty text, as the official code list is not settled.
const (
	RelHead   = "Chủ hộ"
	RelChild  = "Con"
	RelGrand  = "Cháu"
	RelSpouse = "Vợ/Chồng"
)

// Address is a place in the administrative-unit catalogue plus free text.
type Address struct {
	ProvinceCode string `json:"province_code"`
	CommuneCode  string `json:"commune_code"`
	Detail       string `json:"detail,omitempty"`
	// Text is the full address for display, filled on read.
	Text string `json:"text,omitempty"`
}

// TempResidence is a registered temporary residence (tạm trú), at most two
// years at a time.
type TempResidence struct {
	Address
	From civildate.Date `json:"from"`
	To   civildate.Date `json:"to"`
}

// SectorIDs are slots for identifiers other agencies own.
type SectorIDs struct {
	TaxCode           string `json:"tax_code,omitempty"`
	SocialInsuranceNo string `json:"social_insurance_no,omitempty"`
}

// Person is one record of the register.
type Person struct {
	PIN          string         `json:"pin"`
	FullName     string         `json:"full_name"`
	OtherNames   string         `json:"other_names,omitempty"`
	BirthDate    civildate.Date `json:"birth_date"`
	Sex          string         `json:"sex"` // "M" or "F"
	Ethnicity    string         `json:"ethnicity"`
	Religion     string         `json:"religion,omitempty"`
	Nationality  string         `json:"nationality"`
	Birthplace   Address        `json:"birthplace"`
	Hometown     string         `json:"hometown,omitempty"`
	Permanent    Address        `json:"permanent_residence"`
	PermSince    civildate.Date `json:"permanent_since,omitzero"`
	Temporary    *TempResidence `json:"temporary_residence,omitempty"`
	HouseholdID  string         `json:"household_id,omitempty"`
	Relation     string         `json:"relation_to_head,omitempty"`
	FatherPIN    string         `json:"father_pin,omitempty"`
	MotherPIN    string         `json:"mother_pin,omitempty"`
	SpousePIN    string         `json:"spouse_pin,omitempty"`
	Status       string         `json:"status"`
	DeathDate    civildate.Date `json:"death_date,omitzero"`
	SectorIDs    SectorIDs      `json:"sector_ids"`
	Version      int            `json:"version"`
	UpdatedAt    time.Time      `json:"updated_at"`
	UpdatedBy    string         `json:"updated_by"`
	UpdateReason string         `json:"update_reason,omitempty"`
	// BirthFlags are what the registrar confirmed when the birth was
	// registered (BirthTwin, BirthMotherAge, BirthInterval), shown to staff.
	BirthFlags []string `json:"birth_flags,omitempty"`
}

// Summary is a search result row: enough to pick the right person.
type Summary struct {
	PIN       string         `json:"pin"`
	FullName  string         `json:"full_name"`
	BirthDate civildate.Date `json:"birth_date"`
	Sex       string         `json:"sex"`
	Permanent Address        `json:"permanent_residence"`
	Status    string         `json:"status"`
}

// Household is a registered household (hộ gia đình).
type Household struct {
	ID      string    `json:"id"`
	HeadPIN string    `json:"head_pin"`
	Address Address   `json:"address"`
	Members []Member  `json:"members"`
	Created time.Time `json:"created_at"`
	// Heads is who headed the household when, newest first; empty for a
	// household loaded in bulk whose head never changed.
	Heads []HeadPeriod `json:"heads,omitempty"`
}

// Member is one person in a household.
type Member struct {
	PIN       string         `json:"pin"`
	FullName  string         `json:"full_name"`
	BirthDate civildate.Date `json:"birth_date"`
	Sex       string         `json:"sex"`
	Relation  string         `json:"relation_to_head"`
	Status    string         `json:"status"`
}

// Residence is one entry of a person's residence history.
type Residence struct {
	Kind    string         `json:"kind"`
	Address Address        `json:"address"`
	From    civildate.Date `json:"from"`
	To      civildate.Date `json:"to,omitzero"`
	EventID string         `json:"event_id,omitempty"`
}

// Life event kinds; also the suffix of their outbox subjects.
const (
	EventBirth      = "birth"
	EventDeath      = "death"
	EventMove       = "move"
	EventNameChange = "name_change"
	EventTemporary  = "temporary_residence"
	EventMarriage   = "marriage"
	EventDivorce    = "divorce"
)

// LifeEvent is a registered birth, death, move, name change, temporary
// residence, marriage or divorce.
type LifeEvent struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	PIN       string         `json:"pin"`
	Effective civildate.Date `json:"effective_date"`
	Registrar string         `json:"registrar"`
	Reason    string         `json:"reason,omitempty"`
	Recorded  time.Time      `json:"recorded_at"`
	// From is the residence a move or a temporary residence replaced, so
	// the unit left sees the departure (Departures).
	From *Address `json:"from,omitempty"`
	// Evidence is what an arrival from outside the registrar's unit was
	// registered on: "application:<id>" or "card_qr:<PIN>/<issue date>".
	Evidence string `json:"evidence,omitempty"`
	// OtherPIN is the spouse a marriage or divorce names.
	OtherPIN string `json:"spouse_pin,omitempty"`
}

// Version is one state of a person in their history.
type Version struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Reason  string    `json:"reason"`
	Person  Person    `json:"person"`
}
