// Package notify tells citizens what became of their dossiers: when a
// dossier is received, its fee is received, a supplement is requested, it
// is approved or rejected, or its result is returned, the filer finds a
// notification in the portal (GET /api/v1/notifications) and gets a copy
// by SMS and e-mail through gateway interfaces (SMS, Mailer).
//
// Notifications are driven by the services module's dancu.dossier.* events
// on the outbox and JetStream (DossierConsumer), never by in-process calls:
// a dossier committed is notified even if the node that committed it died
// at once. Each event makes one notification (events.FirstReceipt in the
// transaction that writes it). The copies are sent after that transaction
// commits: a node that dies in between leaves the portal notification and
// a copy marked 'pending', not a copy sent twice.
//
// Nothing personal is logged: dossier codes, kinds and fault codes only;
// never a PIN, a phone number, an address or a message text.
package notify

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the module's tables (module "notify").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "notify", FS: storage.Sub(migrationFS, "migrations")}
}

// DossierConsumer turns dossier events into notifications.
var DossierConsumer = events.Consumer{Name: "notify-dossiers", Handles: []events.Topic{events.DossierReceived, events.DossierSupplement,
	events.DossierApproved, events.DossierRejected, events.DossierReturned}, Batch: 20, AckWait: 30 * time.Second}

// Kinds of notification.
const (
	KindReceived           = "received"
	KindPaymentReceived    = "payment_received" // the fee is paid and the dossier received
	KindSupplementReceived = "supplement_received"
	KindSupplement         = "supplement_requested"
	KindApproved           = "approved"
	KindRejected           = "rejected"
	KindReturned           = "result_returned"
)

// States of a copy sent by SMS or e-mail.
const (
	CopyNone    = "none"
	CopyPending = "pending"
	CopySent    = "sent"
	CopyFailed  = "failed"
)

// Dossiers reads a dossier's facts (*services.Service).
type Dossiers interface {
	NoticeOf(ctx context.Context, code string) (services.NoticeFacts, error)
}

// Contacts gives a citizen's own mobile number and e-mail address, "" when
// none (an adapter over the e-ID accounts).
type Contacts interface {
	Contact(ctx context.Context, pin string) (phone, email string, err error)
}

// SMS sends a text message (eid.SMSGateway: the telecom gateway adapter of
// internal/eid/gateway, or DevOutbox).
type SMS interface {
	Send(ctx context.Context, phone, text string) error
}

// Mail is one e-mail.
type Mail struct {
	To, Subject, Body string
}

// Mailer sends e-mail: an SMTP relay outside the machine in production,
// DevOutbox in development.
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}

// Deps are what the service is built from.
type Deps struct {
	DB       *storage.DB
	Dossiers Dossiers
	Contacts Contacts // nil: no copies
	SMS      SMS      // nil: no SMS copies
	Mail     Mailer   // nil: no e-mail copies
	Log      *slog.Logger
	Now      func() time.Time
	// PortalURL is where the citizen reads their dossiers, named in the
	// copies.
	PortalURL string
}

// Service writes and lists notifications.
type Service struct {
	d Deps
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Dossiers == nil || d.Log == nil {
		return nil, errors.New("notify: missing dependency")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// Notification is one message to a citizen.
type Notification struct {
	ID        string        `json:"id"`
	Dossier   string        `json:"dossier"`
	Kind      string        `json:"kind"`
	Title     services.Text `json:"title"`
	Body      services.Text `json:"body"`
	CreatedAt time.Time     `json:"created_at"`
	ReadAt    time.Time     `json:"read_at,omitzero"`
	SMS       string        `json:"sms"`
	Email     string        `json:"email"`
}

// ErrNotFound answers a notification that is not the citizen's.
var ErrNotFound = fault.New(fault.NotFound, "notification.not_found", "Không tìm thấy thông báo.", "No such notification.")

// Start consumes the dossier events until ctx ends; the channel closes when
// reading has stopped.
func (s *Service) Start(ctx context.Context, bus *events.Bus) (<-chan struct{}, error) {
	return events.Consume(ctx, bus, DossierConsumer, s.d.Log, s.Handle)
}

// Handle turns a batch of dossier events into notifications, one by one.
func (s *Service) Handle(ctx context.Context, batch []events.Msg) error {
	for _, m := range batch {
		for _, subj := range []events.Subject[events.DossierEvent]{events.DossierReceived, events.DossierSupplement,
			events.DossierApproved, events.DossierRejected, events.DossierReturned} {
			ev, ok := events.Decode(subj, m)
			if !ok {
				continue
			}
			if err := s.apply(ctx, m.ID, subj, ev); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// apply writes the notification of one event (once per event id), then
// sends its copies.
func (s *Service) apply(ctx context.Context, id string, subj events.Subject[events.DossierEvent], ev events.DossierEvent) error {
	facts, err := s.d.Dossiers.NoticeOf(ctx, ev.Code)
	if errors.Is(err, services.ErrNotFound) {
		// Redelivery would not mend it: a dossier the event names but this
		// database does not hold.
		s.d.Log.Warn("notification for an unknown dossier skipped", "code", "notify.unknown_dossier", "dossier", ev.Code)
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: read dossier: %w", err)
	}
	n := compose(subj, ev, facts)
	n.ID, n.CreatedAt = storage.NewID(), s.d.Now().UTC()
	var phone, email string
	if s.d.Contacts != nil {
		if phone, email, err = s.d.Contacts.Contact(ctx, facts.OwnerPIN); err != nil {
			return fmt.Errorf("notify: contact: %w", err)
		}
	}
	n.SMS, n.Email = CopyNone, CopyNone
	if phone != "" && s.d.SMS != nil {
		n.SMS = CopyPending
	}
	if email != "" && s.d.Mail != nil {
		n.Email = CopyPending
	}
	first := false
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		if first, err = events.FirstReceipt(ctx, tx, "notify_receipts", id, n.CreatedAt); err != nil || !first {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, pin, dossier, kind, title_vi, title_en, body_vi, body_en, created_at, sms, email)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			n.ID, facts.OwnerPIN, n.Dossier, n.Kind, n.Title.VI, n.Title.EN, n.Body.VI, n.Body.EN, stamp(n.CreatedAt), n.SMS, n.Email)
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: write notification: %w", err)
	}
	if !first {
		return nil
	}
	if n.SMS == CopyPending {
		s.copySent(ctx, n.ID, "sms", s.d.SMS.Send(ctx, phone, smsText(n, s.d.PortalURL)))
	}
	if n.Email == CopyPending {
		s.copySent(ctx, n.ID, "email", s.d.Mail.SendMail(ctx, Mail{To: email, Subject: n.Title.VI + " / " + n.Title.EN,
			Body: mailBody(n, s.d.PortalURL)}))
	}
	return nil
}

// copySent records what became of a copy; a failure is logged by code and
// not retried (the portal notification stands).
func (s *Service) copySent(ctx context.Context, id, channel string, err error) {
	state := CopySent
	if err != nil {
		state = CopyFailed
		s.d.Log.Warn("notification copy not sent", "code", "notify.copy_failed", "channel", channel, "err", err)
	}
	col := "sms"
	if channel == "email" {
		col = "email"
	}
	if _, err := s.d.DB.W.ExecContext(ctx, `UPDATE notifications SET `+col+` = $1 WHERE id = $2`, state, id); err != nil {
		s.d.Log.Warn("notification copy state", "code", "notify.copy_state", "err", err)
	}
}

// compose words the notification of an event in Vietnamese and English.
func compose(subj events.Subject[events.DossierEvent], ev events.DossierEvent, f services.NoticeFacts) Notification {
	n := Notification{Dossier: ev.Code}
	name := f.Procedure
	of := func(vi, en string) services.Text {
		return services.Text{VI: fmt.Sprintf(vi, ev.Code, name.VI), EN: fmt.Sprintf(en, ev.Code, name.EN)}
	}
	due := services.Text{}
	if d, err := civildate.Parse(f.Due); err == nil && f.Due != "" {
		due = services.Text{VI: " Hạn giải quyết: " + d.Display() + ".", EN: " Due by " + d.Display() + "."}
	}
	reason := func(t services.Text) services.Text {
		if f.Reason != "" {
			t.VI += " Lý do: " + f.Reason
			t.EN += " Reason: " + f.Reason
		}
		return t
	}
	switch {
	case subj == events.DossierReceived && ev.Status == string(services.InProgress):
		n.Kind, n.Title = KindSupplementReceived, services.Text{VI: "Đã nhận giấy tờ bổ sung", EN: "Supplement received"}
		n.Body = of("Hồ sơ %s (%s) đã nhận giấy tờ bổ sung và tiếp tục được giải quyết.", "Dossier %s (%s) received your supplement and is being handled again.")
	case subj == events.DossierReceived && f.Fee > 0:
		n.Kind, n.Title = KindPaymentReceived, services.Text{VI: "Đã nhận lệ phí", EN: "Fee received"}
		n.Body = of("Đã nhận lệ phí "+vnd(f.Fee)+" đồng; hồ sơ %s (%s) đã được tiếp nhận.", "The fee of "+vnd(f.Fee)+" VND is paid; dossier %s (%s) is received.")
	case subj == events.DossierReceived:
		n.Kind, n.Title = KindReceived, services.Text{VI: "Hồ sơ đã được tiếp nhận", EN: "Dossier received"}
		n.Body = of("Hồ sơ %s (%s) đã được tiếp nhận.", "Dossier %s (%s) is received.")
	case subj == events.DossierSupplement:
		n.Kind, n.Title = KindSupplement, services.Text{VI: "Hồ sơ cần bổ sung", EN: "Supplement requested"}
		n.Body = reason(of("Hồ sơ %s (%s) cần bổ sung giấy tờ; thời hạn giải quyết tạm dừng đến khi bạn bổ sung.", "Dossier %s (%s) needs more documents; its clock is stopped until you supply them."))
		return n
	case subj == events.DossierApproved:
		n.Kind, n.Title = KindApproved, services.Text{VI: "Hồ sơ đã được phê duyệt", EN: "Dossier approved"}
		n.Body = of("Hồ sơ %s (%s) đã được phê duyệt; kết quả sẽ được trả trong kho dữ liệu của bạn.", "Dossier %s (%s) is approved; the result will be returned to your document store.")
	case subj == events.DossierRejected:
		n.Kind, n.Title = KindRejected, services.Text{VI: "Hồ sơ bị từ chối", EN: "Dossier rejected"}
		n.Body = reason(of("Hồ sơ %s (%s) bị từ chối.", "Dossier %s (%s) is rejected."))
		return n
	case subj == events.DossierReturned:
		n.Kind, n.Title = KindReturned, services.Text{VI: "Đã trả kết quả", EN: "Result returned"}
		n.Body = of("Kết quả hồ sơ %s (%s) đã có trong kho dữ liệu của bạn, có chữ ký số và mã QR để kiểm tra.", "The result of dossier %s (%s) is in your document store, signed and with a QR code to check it.")
		return n
	}
	n.Body.VI += due.VI
	n.Body.EN += due.EN
	return n
}

// vnd writes an amount with dots between thousands, as Vietnamese does.
func vnd(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// smsText is the SMS copy: Vietnamese only and without diacritics would
// fit one message, but the gateways take Unicode; the body is short.
func smsText(n Notification, portal string) string {
	t := "DANCU: " + n.Body.VI
	if portal != "" {
		t += " Xem: " + portal
	}
	return t
}

func mailBody(n Notification, portal string) string {
	b := n.Body.VI + "\n\n" + n.Body.EN + "\n"
	if portal != "" {
		b += "\n" + portal + "\n"
	}
	return b
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// List returns the citizen's notifications, newest first (at most limit,
// 1 to 200), and how many are unread.
func (s *Service) List(ctx context.Context, pin string, limit int) ([]Notification, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT id, dossier, kind, title_vi, title_en, body_vi, body_en, created_at, read_at, sms, email
		FROM notifications WHERE pin = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, pin, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("notify: list: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var at, read string
		if err := rows.Scan(&n.ID, &n.Dossier, &n.Kind, &n.Title.VI, &n.Title.EN, &n.Body.VI, &n.Body.EN, &at, &read, &n.SMS, &n.Email); err != nil {
			return nil, 0, fmt.Errorf("notify: list: %w", err)
		}
		n.CreatedAt, n.ReadAt = parseStamp(at), parseStamp(read)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("notify: list: %w", err)
	}
	var unread int
	if err := s.d.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE pin = $1 AND read_at = ''`, pin).Scan(&unread); err != nil {
		return nil, 0, fmt.Errorf("notify: unread: %w", err)
	}
	return out, unread, nil
}

// MarkRead marks one of the citizen's notifications read; another's
// answers as unknown.
func (s *Service) MarkRead(ctx context.Context, pin, id string) error {
	if len(id) > 64 {
		return ErrNotFound
	}
	res, err := s.d.DB.W.ExecContext(ctx, `UPDATE notifications SET read_at = CASE WHEN read_at = '' THEN $1 ELSE read_at END WHERE id = $2 AND pin = $3`,
		stamp(s.d.Now()), id, pin)
	if err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
