// Package payment takes dossier fees without cash. A dossier that owes a fee
// gets a payment intent: an amount in VND (an integer), the dossier's code,
// the payer, and a state that moves
//
//	created → pending → paid → refunded
//	                  ↘ failed
//	                  ↘ expired (→ paid, when the money arrives late)
//
// through a Gateway (a bank or wallet; payment/simgateway stands in for
// them in development and tests). The browser goes to the gateway's payment
// page; the gateway's signed callback moves the intent. Callbacks are
// idempotent: one already applied (same event id) or one that repeats the
// intent's state changes nothing; a forged, altered or contradictory one is
// refused with a stable code and audited. A paid intent gets a receipt.
// Reconcile compares the gateway's statement of a day with the intents and
// lists every mismatch. Rejected refunds a paid fee when the fee's rule says
// so.
//
// How the dossier module uses it:
//
//	svc, _ := payment.New(payment.Deps{DB: db, Gateway: gw, Audit: auditLog, Now: time.Now, CallbackURL: base + "/api/v1/payments/callback"})
//	in, err := svc.Create(ctx, payment.Request{Dossier: code, Amount: 50000, Payer: "citizen:" + pin, Description: "Lệ phí đăng ký tạm trú", ReturnURL: portalURL})
//	// redirect the browser to in.PayURL; on return, show svc.Get(ctx, in.ID)
//	// the callback route (POST, no session, no CSRF: the signature is the proof):
//	in, err := svc.HandleCallback(ctx, r.Header, body) // answer 200 on nil, the fault's problem otherwise
//	rec, err := svc.Receipt(ctx, in.ID)                 // for the dossier's receipt
//	in, refunded, err := svc.Rejected(ctx, code, payment.FeeRule{RefundOnRejection: true}, "staff:"+officer)
//	n, err := svc.Expire(ctx)                           // a periodic job
//	rep, err := svc.Reconcile(ctx, day)                  // a daily job, for the day before
//
// The package owns its tables (migrations/); other modules use this API.
package payment

import (
	"context"
	"embed"
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the module's tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "payment", FS: storage.Sub(migrationFS, "migrations")}
}

// State is where an intent stands.
type State string

// States of an intent.
const (
	Created  State = "created"  // recorded, the gateway not yet asked
	Pending  State = "pending"  // the gateway has it; the payer is on its page
	Paid     State = "paid"     // the gateway confirmed the money
	Failed   State = "failed"   // the gateway refused, or the dossier was closed first
	Expired  State = "expired"  // not paid in time
	Refunded State = "refunded" // paid, then paid back
)

// Intent is a fee to pay for one dossier.
type Intent struct {
	ID           string    `json:"id"`
	Dossier      string    `json:"dossier"`
	Amount       int64     `json:"amount"` // VND
	Payer        string    `json:"payer"`  // the account that pays, e.g. "citizen:<pin>"; never logged
	Description  string    `json:"description"`
	State        State     `json:"state"`
	Gateway      string    `json:"gateway"`
	GatewayRef   string    `json:"gateway_ref,omitempty"`
	PayURL       string    `json:"pay_url,omitempty"` // where to send the browser while pending
	Method       string    `json:"method,omitempty"`  // how it was paid: card, bank transfer, wallet, QR
	FailReason   string    `json:"fail_reason,omitempty"`
	ReceiptNo    string    `json:"receipt_no,omitempty"`
	RefundRef    string    `json:"refund_ref,omitempty"`
	RefundReason string    `json:"refund_reason,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	PaidAt       time.Time `json:"paid_at,omitzero"`
	RefundedAt   time.Time `json:"refunded_at,omitzero"`
}

// Receipt is the proof of a payment given to the payer (biên lai).
type Receipt struct {
	Number     string    `json:"number"`
	IntentID   string    `json:"intent_id"`
	Dossier    string    `json:"dossier"`
	Amount     int64     `json:"amount"` // VND
	PaidAt     time.Time `json:"paid_at"`
	Method     string    `json:"method"`
	Gateway    string    `json:"gateway"`
	GatewayRef string    `json:"gateway_ref"`
	Refunded   bool      `json:"refunded"`
}

// Gateway is a payment provider as the platform sees it.
type Gateway interface {
	// Name identifies the gateway in intents, callbacks and statements.
	Name() string
	// Create registers a payment and returns the gateway's reference and
	// the page to send the payer to. The intent id is the idempotency key:
	// asking twice for one intent returns the same payment.
	Create(ctx context.Context, p CreateRequest) (GatewayPayment, error)
	// VerifyCallback checks a callback's signature and freshness and reads
	// it. It refuses anything it cannot vouch for.
	VerifyCallback(header http.Header, body []byte, now time.Time) (Callback, error)
	// Statement lists the gateway's movements of a day (Vietnam's date).
	Statement(ctx context.Context, day civildate.Date) ([]StatementLine, error)
	// Refund pays a payment back; the payment's reference is the
	// idempotency key.
	Refund(ctx context.Context, r RefundRequest) (GatewayRefund, error)
}

// CreateRequest is what a gateway is asked to collect.
type CreateRequest struct {
	IntentID    string
	Amount      int64
	Description string
	ReturnURL   string // where the gateway sends the browser back
	CallbackURL string // where the gateway posts its signed callback
	ExpiresAt   time.Time
}

// GatewayPayment is the gateway's answer to CreateRequest.
type GatewayPayment struct {
	Ref    string
	PayURL string
}

// Callback statuses.
const (
	CallbackPaid   = "paid"
	CallbackFailed = "failed"
)

// Callback is a verified gateway notice about one payment.
type Callback struct {
	EventID  string    // unique per notice; a resend keeps it
	Ref      string    // the gateway's payment reference
	IntentID string    // the intent the payment was created for
	Status   string    // CallbackPaid or CallbackFailed
	Amount   int64     // VND
	Method   string    // card, bank transfer, wallet, QR
	Reason   string    // why it failed
	At       time.Time // when the gateway settled it
}

// Kinds of statement line.
const (
	LinePayment = "payment"
	LineRefund  = "refund"
)

// StatementLine is one movement in a gateway's daily statement.
type StatementLine struct {
	Kind     string    `json:"kind"` // LinePayment or LineRefund
	Ref      string    `json:"ref"`  // the payment's reference (a refund names the payment it pays back)
	IntentID string    `json:"intent_id"`
	Amount   int64     `json:"amount"`
	At       time.Time `json:"at"`
}

// RefundRequest asks a gateway to pay a payment back.
type RefundRequest struct {
	Ref    string
	Amount int64
	Reason string
}

// GatewayRefund is the gateway's answer to a refund.
type GatewayRefund struct {
	Ref string
	At  time.Time
}

// Recorder appends to the audit log and returns once the entry is durable
// (*audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Faults. Their codes are part of the API.
var (
	ErrAmount          = fault.New(fault.Invalid, "payment.amount", "Số tiền phải là số nguyên dương (đồng), tối đa 1.000.000.000.000.", "The amount must be a positive whole number of đồng, at most 1,000,000,000,000.")
	ErrDossier         = fault.New(fault.Invalid, "payment.dossier", "Mã hồ sơ không hợp lệ.", "The dossier code is not valid.")
	ErrPayer           = fault.New(fault.Invalid, "payment.payer", "Thiếu người nộp tiền.", "The payer is missing.")
	ErrText            = fault.New(fault.Invalid, "payment.text", "Nội dung quá dài hoặc có ký tự không hợp lệ.", "The text is too long or holds invalid characters.")
	ErrAlreadyPaid     = fault.New(fault.Conflict, "payment.already_paid", "Hồ sơ này đã được thanh toán.", "This dossier has already been paid.")
	ErrAmountChanged   = fault.New(fault.Conflict, "payment.amount_changed", "Hồ sơ đang có một khoản thanh toán với số tiền khác.", "The dossier already has a payment under way for another amount.")
	ErrNotFound        = fault.New(fault.NotFound, "payment.not_found", "Không tìm thấy khoản thanh toán.", "No such payment.")
	ErrNoReceipt       = fault.New(fault.NotFound, "payment.no_receipt", "Khoản thanh toán chưa hoàn tất nên chưa có biên lai.", "The payment is not complete, so there is no receipt.")
	ErrNotPaid         = fault.New(fault.Conflict, "payment.not_paid", "Khoản thanh toán chưa được trả nên không thể hoàn tiền.", "The payment was not made, so it cannot be refunded.")
	ErrGateway         = fault.New(fault.Internal, "payment.gateway_unavailable", "Cổng thanh toán không phản hồi, vui lòng thử lại sau.", "The payment gateway did not answer; try again later.")
	ErrCallbackForged  = fault.New(fault.Forbidden, "payment.callback_forged", "Thông báo thanh toán không có chữ ký hợp lệ.", "The payment callback is not validly signed.")
	ErrCallbackUnknown = fault.New(fault.NotFound, "payment.callback_unknown", "Thông báo thanh toán cho một khoản không tồn tại.", "The payment callback names no known payment.")
	ErrCallbackDiffers = fault.New(fault.Conflict, "payment.callback_mismatch", "Thông báo thanh toán không khớp với khoản thanh toán.", "The payment callback does not match the payment.")
	ErrCallbackState   = fault.New(fault.Conflict, "payment.callback_state", "Thông báo thanh toán mâu thuẫn với trạng thái hiện tại.", "The payment callback contradicts the payment's state.")
)

// Deps are what the service is built from.
type Deps struct {
	DB          *storage.DB
	Gateway     Gateway
	Audit       Recorder
	Now         func() time.Time
	CallbackURL string        // the platform's callback route, given to the gateway
	TTL         time.Duration // how long an intent may stay unpaid; 0: 30 minutes
}

// Service runs payment intents.
type Service struct {
	db          *storage.DB
	gw          Gateway
	audit       Recorder
	now         func() time.Time
	callbackURL string
	ttl         time.Duration
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Gateway == nil || d.Audit == nil || d.Now == nil {
		return nil, fault.New(fault.Internal, "payment.deps", "Cấu hình thanh toán thiếu.", "payment: DB, Gateway, Audit and Now are required.")
	}
	ttl := d.TTL
	if ttl <= 0 {
		ttl = 30 * time.Minute
	}
	return &Service{db: d.DB, gw: d.Gateway, audit: d.Audit, now: d.Now, callbackURL: d.CallbackURL, ttl: ttl}, nil
}
