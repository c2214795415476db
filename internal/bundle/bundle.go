// Package bundle runs the inter-agency bundles of Decree 63/2024 (liên
// thông): one application by a citizen (or the desk) that becomes one
// parent record and one step per agency — the commune's civil status, the
// commune police's residence, the social-insurance agency's card, the
// labour and social-affairs agency's funeral allowance — each with its own
// deadline in working days. The steps are a saga over events: a step is
// run when its dancu.bundle.step_due message arrives (written to the outbox
// in the transaction that made it due), and a partner agency's answer
// arrives through the partner API as a dancu.bundle.answered message. Every
// step is idempotent: a redelivered message, a duplicated answer or a
// restart finds the step's state and changes nothing twice.
//
// The module also makes proactive offers: when the register records a
// birth or a death by any route, the people concerned (the parents; the
// spouse and the household head) see the follow-on bundle filled in, and
// nothing is filed until they confirm it, within the legal window.
package bundle

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/workday"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the module's tables (module "bundle").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "bundle", FS: storage.Sub(migrationFS, "migrations")}
}

// Events declares what the module publishes.
var Events = events.Publishes("bundle", events.BundleStepDue, events.BundleAnswered)

// SagaConsumer runs the steps and applies the partners' answers.
var SagaConsumer = events.Consumer{Name: "bundle-saga", Handles: []events.Topic{events.BundleStepDue, events.BundleAnswered}, Batch: 16}

// OfferConsumer makes the proactive offers from the register's births and
// deaths, whatever route recorded them.
var OfferConsumer = events.Consumer{Name: "bundle-offers", Handles: []events.Topic{events.PersonBorn, events.PersonDied}, Batch: 16}

// Kinds of bundle.
const (
	Birth = "birth" // khai sinh + thường trú + thẻ BHYT (under 6)
	Death = "death" // khai tử + xóa thường trú + hộ + trợ cấp mai táng
)

// Steps.
const (
	StepBirth     = "birth"     // the commune registers the birth: PIN, household
	StepResidence = "residence" // the commune police: permanent residence (or its deletion)
	StepInsurance = "insurance" // BHXH: the child's health-insurance card
	StepDeath     = "death"     // the commune registers the death
	StepHousehold = "household" // the household without the deceased, its head
	StepFuneral   = "funeral"   // the labour and social-affairs agency: funeral allowance
)

// Step states.
const (
	Waiting = "waiting" // not yet due
	Running = "running" // due, being done
	Review  = "review"  // an officer of the agency decides
	Sent    = "sent"    // sent to the partner agency, its answer awaited
	Done    = "done"
	Refused = "refused"
	Skipped = "skipped" // not run: an earlier step it needs was refused
)

// Bundle states.
const (
	InProgress = "in_progress"
	Completed  = "completed"
	// Partly: the bundle ended with a step refused after the civil status
	// step was done; the citizen is told what to do next.
	Partly = "completed_partly"
	// Rejected: the civil status step itself was refused; nothing else ran.
	Rejected = "rejected"
)

// Partners of the steps: the sample social-insurance partner and the
// labour and social-affairs partner.
const (
	PartnerInsurance = "bhxh"
	PartnerLabour    = "ldtbxh"
	// SchemeInsurance is the sector identifier the health-insurance card
	// number is stored as.
	SchemeInsurance = "health_insurance_card"
	// PurposeInsurance and PurposeFuneral are the partners' declared
	// purposes the steps are sent and answered under.
	PurposeInsurance = "health-insurance"
	PurposeFuneral   = "funeral-allowance"
)

// Legal windows of the filing (Luật Hộ tịch 2014 Art. 15 and 33): a birth
// within 60 days, a death within 15 days. An offer expires with them.
const (
	BirthWindowDays = 60
	DeathWindowDays = 15
)

// Faults. Their codes are part of the API.
var (
	ErrNotFound   = fault.New(fault.NotFound, "bundle.not_found", "Không tìm thấy hồ sơ liên thông.", "No such bundle.")
	ErrLevel      = fault.New(fault.Forbidden, "bundle.eid_level", "Hồ sơ liên thông cần tài khoản định danh điện tử mức độ 2.", "A bundle needs a level-2 electronic identity.")
	ErrIdemKey    = fault.New(fault.Invalid, "bundle.idempotency_key", "Thiếu hoặc sai khóa chống gửi trùng.", "The idempotency key is missing or malformed.")
	ErrIdemReuse  = fault.New(fault.Conflict, "bundle.idempotency_reused", "Khóa chống gửi trùng đã được dùng cho một hồ sơ khác.", "The idempotency key was used for another application.")
	ErrWindow     = fault.New(fault.Invalid, "bundle.window", "Đã quá thời hạn đăng ký theo quy định (khai sinh 60 ngày, khai tử 15 ngày): vui lòng đến UBND xã để đăng ký quá hạn.", "The legal window has passed (60 days for a birth, 15 for a death): register late at the commune office.")
	ErrOffer      = fault.New(fault.NotFound, "bundle.offer_not_found", "Không tìm thấy đề nghị này, hoặc đề nghị đã hết hạn.", "No such offer, or it has expired.")
	ErrOfferTaken = fault.New(fault.Conflict, "bundle.offer_confirmed", "Đề nghị này đã được xác nhận.", "This offer has already been confirmed.")
	ErrStep       = fault.New(fault.NotFound, "bundle.step_not_found", "Không có bước này, hoặc bước không gửi cho đơn vị của bạn.", "No such step, or the step was not sent to your agency.")
	ErrAnswer     = fault.New(fault.Invalid, "bundle.answer", "Câu trả lời không hợp lệ: outcome là \"accepted\" (kèm value) hoặc \"refused\" (kèm reason).", "The answer is not valid: outcome is \"accepted\" (with value) or \"refused\" (with reason).")
	ErrState      = fault.New(fault.Conflict, "bundle.state", "Bước này không ở trạng thái chờ quyết định.", "The step is not awaiting a decision.")
	ErrEndpoint   = fault.New(fault.Invalid, "bundle.endpoint", "Địa chỉ nhận (url) phải là https:// (hoặc http:// ngoài môi trường vận hành), tối đa 500 ký tự.", "The url must be https:// (or http:// outside production), at most 500 characters.")
	ErrForbidden  = fault.New(fault.Forbidden, "bundle.forbidden", "Bạn không có quyền xem hoặc xử lý hồ sơ liên thông của đơn vị này.", "You may not see or handle this unit's bundles.")
)

// Register is what the saga asks of the register (*registry.Service).
type Register interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
	Search(ctx context.Context, a actor.Actor, q registry.Query) (registry.Page, error)
	RegisterBirth(ctx context.Context, a actor.Actor, in registry.BirthInput) (registry.Person, error)
	RegisterDeath(ctx context.Context, a actor.Actor, in registry.DeathInput) (registry.Person, error)
	RegisterMove(ctx context.Context, a actor.Actor, in registry.MoveInput) (registry.Person, error)
	Household(ctx context.Context, a actor.Actor, id string) (registry.Household, error)
	Marriages(ctx context.Context, a actor.Actor, pin string) ([]registry.Marriage, error)
	History(ctx context.Context, a actor.Actor, pin string) ([]registry.Version, error)
}

// Dossiers files and decides the civil status step's dossier
// (*services.Service).
type Dossiers interface {
	Submit(ctx context.Context, f services.Filer, r services.SubmitRequest) (services.Receipt, error)
	Act(ctx context.Context, a actor.Actor, code, action, reason string) (services.Dossier, error)
}

// Partners finds a partner and writes its sector identifiers
// (*exchange.Store and *exchange.Service).
type Partners interface {
	Partner(ctx context.Context, id string) (exchange.Partner, error)
}

// Sectors stores a partner's answer as the person's sector identifier
// (*exchange.Service: the partner's scope, scheme ownership and audit).
type Sectors interface {
	WriteSectorID(ctx context.Context, p exchange.Partner, scheme string, in exchange.SectorInput) (exchange.SectorID, error)
}

// Recorder writes audit entries (*audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Deps are what the service is built from.
type Deps struct {
	DB       *storage.DB
	Register Register
	Dossiers Dossiers // nil: bundles are only confirmed from offers
	Partners Partners
	Sectors  Sectors
	Audit    Recorder
	Calendar *workday.Calendar
	// Client sends the steps to the partners' endpoints (delivery.NewClient:
	// the webhooks' egress rule).
	Client *http.Client
	// AnswerURL is the partner API's base the steps tell partners to
	// answer to (…/api/partner/v1).
	AnswerURL  string
	Production bool
	Log        *slog.Logger
	Now        func() time.Time
}

// Service runs bundles.
type Service struct {
	d   Deps
	sys actor.Actor
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Register == nil || d.Partners == nil || d.Sectors == nil || d.Audit == nil || d.Calendar == nil {
		return nil, errors.New("bundle: missing dependency")
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d, sys: actor.SystemActor("bundle")}, nil
}

// Start runs the saga's and the offers' consumers until ctx ends.
func (s *Service) Start(ctx context.Context, bus *events.Bus) ([]<-chan struct{}, error) {
	saga, err := events.Consume(ctx, bus, SagaConsumer, s.d.Log, s.handleSaga)
	if err != nil {
		return nil, err
	}
	offers, err := events.Consume(ctx, bus, OfferConsumer, s.d.Log, s.handleOffers)
	if err != nil {
		return nil, err
	}
	return []<-chan struct{}{saga, offers}, nil
}
