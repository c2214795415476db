package events

import (
	"reflect"
	"strings"
	"time"
)

// Subject is a subject of the stream whose messages carry a payload of type
// T. Subjects are only made here, in the catalogue below, so a publisher or
// consumer cannot name a subject without its payload type: Enqueue, Publish
// and On take a Subject[T] and a T, and the compiler checks they agree.
type Subject[T any] struct{ name string }

// String is the subject as the catalogue names it (root "dancu"; the bus maps
// it into its namespace on the wire).
func (s Subject[T]) String() string { return s.name }

// Payload is the type of the messages' body.
func (s Subject[T]) Payload() reflect.Type { return reflect.TypeFor[T]() }

// Topic is a Subject with its payload type erased: what declarations of
// publishers and consumers list.
type Topic interface {
	String() string
	Payload() reflect.Type
}

// Root is the first token of every subject in the catalogue.
const Root = "dancu"

// The catalogue: every subject of the stream and the type of its body.
var (
	// PersonBorn, PersonDied, PersonMoved, PersonNameChanged,
	// PersonTemporary, PersonMarried and PersonDivorced are the register's
	// life events (internal/registry). A marriage or a divorce is one
	// message for each spouse, each naming its own PIN: the spouse is not in
	// the body (consumers read it through the API under their policy).
	PersonBorn        = Subject[LifeEvent]{"dancu.person.born"}
	PersonDied        = Subject[LifeEvent]{"dancu.person.died"}
	PersonMoved       = Subject[LifeEvent]{"dancu.person.moved"}
	PersonNameChanged = Subject[LifeEvent]{"dancu.person.name_changed"}
	PersonTemporary   = Subject[LifeEvent]{"dancu.person.temporary_residence"}
	PersonMarried     = Subject[LifeEvent]{"dancu.person.married"}
	PersonDivorced    = Subject[LifeEvent]{"dancu.person.divorced"}

	// CardIssued and CardRevoked are the card service's events
	// (internal/card/service).
	CardIssued  = Subject[CardEvent]{"dancu.card.issued"}
	CardRevoked = Subject[CardEvent]{"dancu.card.revoked"}

	// AuditCheckpoint carries the signed checkpoints of the audit chain's
	// head (internal/audit), for verifiers outside the platform.
	AuditCheckpoint = Subject[Checkpoint]{"dancu.audit.checkpoint"}

	// PartnerDeliveries is the family of JetStream-mode deliveries,
	// dancu.partner.<partner>.<type> (PartnerDelivery); each partner
	// consumes its own dancu.partner.<partner>.> on the stream.
	PartnerDeliveries = Subject[PartnerEvent]{"dancu.partner.>"}

	// DossierSubmitted … DossierReturned are the online dossiers' life
	// (internal/services): filed, received (paid, or filed without a fee),
	// supplement requested, approved, rejected, result returned.
	DossierSubmitted  = Subject[DossierEvent]{"dancu.dossier.submitted"}
	DossierReceived   = Subject[DossierEvent]{"dancu.dossier.received"}
	DossierSupplement = Subject[DossierEvent]{"dancu.dossier.supplement_requested"}
	DossierApproved   = Subject[DossierEvent]{"dancu.dossier.approved"}
	DossierRejected   = Subject[DossierEvent]{"dancu.dossier.rejected"}
	DossierReturned   = Subject[DossierEvent]{"dancu.dossier.returned"}

	// DossierAssigned and DossierTransferred are the one-stop desk's acts
	// on a dossier (internal/services, Desk): given to an officer, sent to
	// another unit (Unit is then the receiving unit).
	DossierAssigned    = Subject[DossierEvent]{"dancu.dossier.assigned"}
	DossierTransferred = Subject[DossierEvent]{"dancu.dossier.transferred"}

	// EIDActivated is an e-ID account reaching a level (internal/eid):
	// level 1 when its owner completes the registration, level 2 when a
	// registrar activates it at the desk.
	EIDActivated = Subject[EIDEvent]{"dancu.eid.activated"}

	// DeadLetters is the family dancu.dead.<consumer>: the messages a
	// consumer gave up on (Consume), kept with the stream's retention.
	DeadLetters = Subject[DeadLetter]{"dancu.dead.>"}
)

// Catalogue lists every subject (and subject family) of the stream.
func Catalogue() []Topic {
	return []Topic{EIDActivated, PersonBorn, PersonDied, PersonMoved, PersonNameChanged, PersonTemporary, PersonMarried, PersonDivorced,
		CardIssued, CardRevoked, AuditCheckpoint, PartnerDeliveries, DeadLetters,
		DossierSubmitted, DossierReceived, DossierSupplement, DossierApproved, DossierRejected, DossierReturned,
		DossierAssigned, DossierTransferred,
		BundleStepDue, BundleAnswered,
		StayArrived, StayLate, StayDeparted}
}

// PartnerSubjectPrefix starts the subject of JetStream-mode deliveries.
const PartnerSubjectPrefix = "dancu.partner."

// PartnerDelivery is the subject a JetStream-mode delivery of an event of
// type typ is published on for partner: dancu.partner.<partner>.<type>.
func PartnerDelivery(partner, typ string) Subject[PartnerEvent] {
	return Subject[PartnerEvent]{PartnerSubjectPrefix + partner + "." + typ}
}

// deadLetter is the subject of consumer's dead letters.
func deadLetter(consumer string) Subject[DeadLetter] {
	return Subject[DeadLetter]{"dancu.dead." + consumer}
}

// LifeEvent is the body of the dancu.person.* messages. It carries the PIN
// and places but no other personal data: consumers read what their policy
// allows through the API.
type LifeEvent struct {
	EventID   string    `json:"event_id"` // the register's life-event id
	Kind      string    `json:"kind"`
	PIN       string    `json:"pin"`
	Effective string    `json:"effective_date"` // YYYY-MM-DD
	Province  string    `json:"province_code"`
	Commune   string    `json:"commune_code"`
	Recorded  time.Time `json:"recorded_at"`
	// FromProvince and FromCommune are the residence a move left: the unit
	// of origin's systems learn of the departure from them.
	FromProvince string `json:"from_province_code,omitempty"`
	FromCommune  string `json:"from_commune_code,omitempty"`
}

// CardEvent is the body of the dancu.card.* messages: identifiers and codes,
// no other personal data.
type CardEvent struct {
	Serial       string    `json:"serial"`
	PIN          string    `json:"pin"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason,omitempty"`
	SignerSerial string    `json:"signer_serial,omitempty"`
	At           time.Time `json:"at"`
}

// Checkpoint is the body of dancu.audit.checkpoint: the audit chain's head
// signed (audit.Checkpoint is this type with its checks).
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"` // the hash of entry Seq
	At   time.Time `json:"at"`
	Key  string    `json:"key"` // the signer's public key, hex
	Sig  string    `json:"sig"` // Ed25519 signature, base64
}

// PartnerEvent is exactly what a partner receives, by webhook or on
// dancu.partner.<partner>.<type>: the event's stable id (the register's
// life-event id; for card events the outbox message id), its type, the day
// the register recorded it, the PIN and, for a death, the date of death when
// the partner's policy allows it. Nothing else from the register.
type PartnerEvent struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	OccurredOn  string `json:"occurred_on"`
	PIN         string `json:"pin"`
	DateOfDeath string `json:"date_of_death,omitempty"`
}

// DossierEvent is the body of the dancu.dossier.* messages: the dossier's
// code, procedure, receiving unit and state, no personal data (the filer's
// PIN is not in it; consumers read the dossier through the module's API).
type DossierEvent struct {
	Code      string    `json:"code"`
	Procedure string    `json:"procedure"`
	Unit      string    `json:"unit_code"`
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
	// Province and Commune place the receiving unit (Commune empty for a
	// provincial agency); Due is the legal due date (YYYY-MM-DD, empty
	// until the clock starts); Fee is the fee in đồng; Documents counts
	// the dossier's documents and Reused those picked from the filer's
	// electronic store rather than uploaded; Channel is "desk" for a
	// dossier received at the one-stop desk, empty for one filed online.
	// The leaders' indicators (internal/stats) are kept from them.
	Province  string `json:"province_code,omitempty"`
	Commune   string `json:"commune_code,omitempty"`
	Due       string `json:"due_date,omitempty"`
	Fee       int64  `json:"fee,omitempty"`
	Documents int    `json:"documents,omitempty"`
	Reused    int    `json:"reused,omitempty"`
	Channel   string `json:"channel,omitempty"`
}

// EIDEvent is the body of dancu.eid.activated: whose account reached which
// level, and when; nothing else (consumers read the person's unit through
// the register).
type EIDEvent struct {
	PIN   string    `json:"pin"`
	Level int       `json:"level"`
	At    time.Time `json:"at"`
}

// DeadLetter is a message a consumer gave up on, with what it was.
type DeadLetter struct {
	Consumer  string `json:"consumer"`
	Subject   string `json:"subject"`
	ID        string `json:"id"` // the original Nats-Msg-Id
	Delivered int    `json:"delivered"`
	Reason    string `json:"reason"` // "malformed" or "max_deliver"
	Data      []byte `json:"data"`
}

// Matches reports whether subject is in the set pattern names, with NATS
// wildcards: "*" is one token, ">" the rest (one token or more).
func Matches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) || (p != "*" && p != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}

// Overlap reports whether some subject is in both sets a and b.
func Overlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == ">" || bt[i] == ">" {
			return true
		}
		if at[i] != "*" && bt[i] != "*" && at[i] != bt[i] {
			return false
		}
	}
	return len(at) == len(bt)
}
