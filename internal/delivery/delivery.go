// Package delivery tells partner systems about life events of the people they
// have a link with. A partner subscribes to event types either with a webhook
// (signed with HMAC-SHA256 over timestamp + "." + body) or as a JetStream
// consumer of its own subject, dancu.partner.<partner>.<type>.
//
// The path of an event: the register writes it to the transactional outbox,
// internal/events relays it to JetStream (stream DANCU, Nats-Msg-Id = the
// outbox id), the durable consumer Fanout reads it, finds the partners that
// subscribe to its type and are linked to the person (Audience), and inserts
// one delivery row per (event id, subscription) — the primary key makes a
// redelivered message harmless — before it acknowledges the message. Sender
// then delivers the rows per partner, each partner in its own lane with
// bounded concurrency, retrying with exponential backoff and jitter until the
// dead-letter list. Every state is in the database, so a crash loses nothing:
// a sender claims a delivery for one attempt by moving its next attempt time
// a lease ahead, so several nodes share the queue without sending an event
// twice, and a delivery sent but not recorded by a node that died is sent
// again with the same event id when the lease runs out (at least once;
// receivers deduplicate on the id).
package delivery

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"regexp"
	"time"

	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the module's tables.
func Migrations() storage.Migrations {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	return storage.Migrations{Module: "delivery", FS: sub}
}

// Event types a partner can subscribe to, and the subjects they come from.
const (
	TypeBorn        = "born"
	TypeDied        = "died"
	TypeMoved       = "moved"
	TypeNameChanged = "name_changed"
	TypeTemporary   = "temporary_residence"
	TypeCardIssued  = "card_reissued"
)

// Subjects map each subscribable subject to its event type. The subjects and
// their bodies are the contract in internal/events. "card_reissued" is every
// card produced for the person (dancu.card.issued): a partner keeping the
// card's issue date must refresh it.
var Subjects = map[string]string{
	events.PersonBorn.String():        TypeBorn,
	events.PersonDied.String():        TypeDied,
	events.PersonMoved.String():       TypeMoved,
	events.PersonNameChanged.String(): TypeNameChanged,
	events.PersonTemporary.String():   TypeTemporary,
	events.CardIssued.String():        TypeCardIssued,
}

// Types lists the event types in a stable order.
var Types = []string{TypeBorn, TypeDied, TypeMoved, TypeNameChanged, TypeTemporary, TypeCardIssued}

// Modes of a subscription.
const (
	ModeWebhook   = "webhook"
	ModeJetStream = "jetstream"
)

// PartnerSubjectPrefix starts the subject of JetStream-mode deliveries:
// dancu.partner.<partner>.<type>. The partner consumes it with its own
// durable consumer on stream DANCU, filtered on dancu.partner.<partner>.>.
const PartnerSubjectPrefix = events.PartnerSubjectPrefix

// PartnerSubject is the subject a JetStream-mode delivery is published on.
func PartnerSubject(partner, typ string) string {
	return events.PartnerDelivery(partner, typ).String()
}

// Events declares what delivery publishes: the JetStream-mode deliveries.
var Events = events.Publishes("delivery", events.PartnerDeliveries)

// Payload is exactly what a partner receives (events.PartnerEvent): the
// event's stable id, its type, the day the register recorded it, the PIN
// and, for a death, the date of death when the partner's policy allows the
// field "death_date" (ForPolicy). Nothing else from the register: a partner
// reads more through the exchange API under its policy.
type Payload = events.PartnerEvent

// Audience tells which partners have a link with a person (a sector
// identifier, or an earlier verify, lookup or reconciliation).
// (*exchange.Store).Linked satisfies it.
type Audience interface {
	Linked(ctx context.Context, pin string) ([]string, error)
}

// AudienceFunc adapts a function to Audience.
type AudienceFunc func(ctx context.Context, pin string) ([]string, error)

// Linked calls f.
func (f AudienceFunc) Linked(ctx context.Context, pin string) ([]string, error) { return f(ctx, pin) }

// Statuses of a delivery.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
	StatusCancelled = "cancelled"
)

// Delivery is one event for one subscription.
type Delivery struct {
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	PartnerID      string    `json:"partner_id"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	NextAt         time.Time `json:"next_attempt_at"`
	LastStatus     int       `json:"last_status_code"`
	LastError      string    `json:"last_error,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	body    string
	fields  []string // the register fields body discloses, for the audit entry
	byScope bool     // reached by the policy's unit, not by a link (Reaches)
}

// Attempt is one line of a partner's delivery log.
type Attempt struct {
	ID             int64     `json:"id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	PartnerID      string    `json:"partner_id"`
	Attempt        int       `json:"attempt"`
	At             time.Time `json:"at"`
	StatusCode     int       `json:"status_code"`
	LatencyMS      int64     `json:"latency_ms"`
	Outcome        string    `json:"outcome"` // delivered, retry, dead
	Error          string    `json:"error,omitempty"`
}

// Subscription is a partner's standing request for event types.
type Subscription struct {
	ID        string    `json:"id"`
	PartnerID string    `json:"partner_id"`
	Types     []string  `json:"types"`
	Mode      string    `json:"mode"`
	URL       string    `json:"url,omitempty"`
	Subject   string    `json:"subject,omitempty"` // JetStream mode: dancu.partner.<id>.>
	Active    bool      `json:"active"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is the webhook signing secret, set only in the answer that
	// created or rotated it: it is shown once.
	Secret string `json:"secret,omitempty"`
}

var partnerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Validation errors.
var (
	ErrPartnerID = fault.New(fault.Invalid, "delivery.partner_id", "Mã đối tác chỉ gồm chữ thường không dấu, số, '-' và '_' (tối đa 64 ký tự).",
		"A partner id has lower-case letters, digits, '-' and '_' only (at most 64).")
	ErrType = fault.New(fault.Invalid, "delivery.event_type", "Loại sự kiện không hợp lệ (born, died, moved, name_changed, temporary_residence, card_reissued).",
		"Unknown event type (born, died, moved, name_changed, temporary_residence, card_reissued).")
	ErrNoTypes = fault.New(fault.Invalid, "delivery.no_types", "Phải chọn ít nhất một loại sự kiện.", "Choose at least one event type.")
	ErrMode    = fault.New(fault.Invalid, "delivery.mode", "Cách nhận phải là webhook hoặc jetstream.", "The mode must be webhook or jetstream.")
	ErrURL     = fault.New(fault.Invalid, "delivery.url", "Địa chỉ webhook phải là URL https đầy đủ (http chỉ khi chạy thử).",
		"The webhook address must be a full https URL (http only outside production).")
	ErrDuplicateType = fault.New(fault.Conflict, "delivery.duplicate_type", "Đối tác đã đăng ký loại sự kiện này.", "The partner already subscribes to this event type.")
	ErrNotFound      = fault.New(fault.NotFound, "delivery.subscription_not_found", "Không có đăng ký này.", "No such subscription.")
	ErrNotWebhook    = fault.New(fault.Conflict, "delivery.not_webhook", "Đăng ký này không dùng webhook nên không có khoá ký.", "This subscription is not a webhook and has no signing secret.")
	ErrReplayTarget  = fault.New(fault.Invalid, "delivery.replay_target", "Chọn mã sự kiện hoặc tất cả thư chết của một đối tác.", "Give event ids or ask for all dead letters of a partner.")
)

func encodePayload(p Payload) string {
	b, _ := json.Marshal(p) // strings only: cannot fail
	return string(b)
}
