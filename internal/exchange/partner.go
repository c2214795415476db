// Package exchange is the register's data exchange with partner systems
// (ministries, banks, insurers, hospitals, telecoms): partners and their
// systems, the purpose-bound policy each works under, rate limits and daily
// quotas, identity verification, consent-bound lookup (eKYC), sector
// identifiers (tax code, social insurance number, health insurance card
// number) and the links between partners and the people they deal with.
package exchange

import (
	"slices"
	"time"
)

// Operation is something a partner may be allowed to do.
type Operation string

// Operations a policy can allow.
const (
	OpVerify        Operation = "verify"            // match or no match against the register
	OpLookup        Operation = "lookup"            // read fields (eKYC), with consent or a law-based purpose
	OpSectorWrite   Operation = "sector_id.write"   // link a PIN to the partner's own identifier
	OpSectorResolve Operation = "sector_id.resolve" // find a PIN or a sector id from the other
	OpSubscribe     Operation = "subscribe"         // receive life events of linked people
	OpReconcile     Operation = "reconcile"         // bulk data cleaning
	OpStay          Operation = "stay"              // report the guests of the partner's properties (thông báo lưu trú)
	// OpSubscribeUnit, with OpSubscribe, extends births and deaths to
	// everyone living in the policy's Scope, linked or not: the agencies
	// that act on them (social insurance, labour and social affairs)
	// serve a unit; a bank, which should hear only of its customers, does
	// not get it.
	OpSubscribeUnit Operation = "subscribe.unit"
)

// Operations lists every operation, for forms and validation.
var Operations = []Operation{OpVerify, OpLookup, OpSectorWrite, OpSectorResolve, OpSubscribe, OpReconcile, OpStay, OpSubscribeUnit}

// Kind is what sort of organisation a partner is.
type Kind string

// Kinds of partner.
const (
	KindBank      Kind = "bank"
	KindInsurance Kind = "insurance"
	KindHospital  Kind = "hospital"
	KindMinistry  Kind = "ministry"
	KindTelecom   Kind = "telecom"
	KindOther     Kind = "other"
)

// Kinds lists every kind with its Vietnamese name, for forms.
var Kinds = []struct {
	Kind Kind
	Name string
}{
	{KindBank, "Ngân hàng"}, {KindInsurance, "Bảo hiểm"}, {KindHospital, "Bệnh viện, cơ sở y tế"},
	{KindMinistry, "Bộ, ngành"}, {KindTelecom, "Viễn thông"}, {KindOther, "Khác"},
}

// Legal bases of a purpose (Decree 13/2023 Art. 11 and 17; Law 91/2025
// Art. 9 and 19).
const (
	BasisConsent = "consent" // the citizen agreed, through the e-ID provider
	BasisLaw     = "law"     // a law obliges or permits it without consent
)

// Purpose is a declared purpose of processing. Every request names one.
type Purpose struct {
	Code        string `json:"code"`        // e.g. "account-opening"
	Description string `json:"description"` // Vietnamese, shown to the citizen in the access log
	Basis       string `json:"basis"`       // BasisConsent or BasisLaw
	// Citation is the legal provision of a law-based purpose, e.g.
	// "Luật Phòng, chống rửa tiền 2022, Điều 9".
	Citation string `json:"citation,omitempty"`
	// Fields narrows what a lookup for this purpose may return, within the
	// policy's fields; empty means every field of the policy.
	Fields []string `json:"fields,omitempty"`
}

// Policy is what a partner may do.
type Policy struct {
	Operations []Operation `json:"operations"`
	Fields     []string    `json:"fields"` // see Fields in fields.go
	Purposes   []Purpose   `json:"purposes"`
	// Scope limits the people a partner may ask about to an administrative
	// unit: "" the whole country, a 2-digit province or 5-digit commune code.
	Scope string `json:"scope,omitempty"`
	// RatePerSecond and Burst are a token bucket per node; 0 means no limit.
	RatePerSecond float64 `json:"rate_per_second"`
	Burst         int     `json:"burst"`
	// DailyQuota bounds the calls a partner makes per calendar day (Vietnam
	// time) across all nodes; 0 means no quota.
	DailyQuota int64 `json:"daily_quota"`
	// PartialDates lets verify compare a birth date the partner holds only
	// as a year ("1990") or a month and year ("03/1990"). Off by default: a
	// partial date that matches tells the partner the register's year or
	// month on its own, a step towards a birth date it may not read.
	PartialDates bool `json:"partial_dates,omitempty"`
	// VerifyValuesPerPerson bounds how many different sets of values the
	// partner may verify against one person per day (Vietnam time), across
	// all nodes, so that a field cannot be recovered by trying value after
	// value; the same values again cost nothing. 0 means
	// DefaultVerifyValuesPerPerson, at most MaxVerifyValuesPerPerson.
	VerifyValuesPerPerson int `json:"verify_values_per_person,omitempty"`
}

// Bounds of Policy.VerifyValuesPerPerson: a bank correcting a typo or two
// in a customer's record needs a handful of tries; recovering a birth date
// takes hundreds.
const (
	DefaultVerifyValuesPerPerson = 5
	MaxVerifyValuesPerPerson     = 50
)

// VerifyValues is the policy's daily limit of different verified values
// per person, the default when unset.
func (p Policy) VerifyValues() int {
	if p.VerifyValuesPerPerson <= 0 {
		return DefaultVerifyValuesPerPerson
	}
	return p.VerifyValuesPerPerson
}

// Allows reports whether the policy allows an operation.
func (p Policy) Allows(op Operation) bool { return slices.Contains(p.Operations, op) }

// Purpose returns the declared purpose with the code.
func (p Policy) Purpose(code string) (Purpose, bool) {
	for _, pu := range p.Purposes {
		if pu.Code == code {
			return pu, true
		}
	}
	return Purpose{}, false
}

// Partner is an organisation connected to the register.
type Partner struct {
	ID       string    `json:"id"` // short, stable: "vietcombank", "bhxh"
	Name     string    `json:"name"`
	Kind     Kind      `json:"kind"`
	Disabled bool      `json:"disabled"`
	Policy   Policy    `json:"policy"`
	Version  int       `json:"version"` // of the policy, bumped on each change
	Created  time.Time `json:"created_at"`
}

// Actor is the partner's identity in the audit log.
func (p Partner) Actor() string { return "partner:" + p.ID }

// System is one of a partner's systems: an OAuth client of the e-ID
// provider, authenticated with client credentials and optionally a TLS
// client certificate.
type System struct {
	ClientID  string `json:"client_id"`
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	// CertFingerprint is the SHA-256 of the DER client certificate (hex)
	// the system must present over mutual TLS; empty when not required.
	CertFingerprint string    `json:"cert_fingerprint,omitempty"`
	Disabled        bool      `json:"disabled"`
	Created         time.Time `json:"created_at"`
}
