package services

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dancu-project/dancu/internal/idempotency"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/workday"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the module's tables (module "services").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "services", FS: storage.Sub(migrationFS, "migrations")}
}

// Events declares what the module publishes.
var Events = events.Publishes("services", events.DossierSubmitted, events.DossierReceived, events.DossierSupplement,
	events.DossierApproved, events.DossierRejected, events.DossierReturned)

// Status is where a dossier stands.
type Status string

// Statuses. A dossier with a fee waits for payment before it is received
// (and its legal clock starts): the fee is part of a complete dossier.
const (
	AwaitingPayment Status = "awaiting_payment"
	Received        Status = "received"
	InProgress      Status = "in_progress"
	Supplement      Status = "supplement_requested"
	Approved        Status = "approved"
	Rejected        Status = "rejected"
	Returned        Status = "returned"
)

// Faults of dossiers. Their codes are part of the API.
var (
	ErrNotFound      = fault.New(fault.NotFound, "dossier.not_found", "Không tìm thấy hồ sơ.", "No such dossier.")
	ErrTrackNotFound = fault.New(fault.NotFound, "dossier.track_not_found", "Không tìm thấy hồ sơ: mã hồ sơ hoặc mã tra cứu không đúng.", "No dossier found: the dossier code or the check code is wrong.")
	ErrLevel         = fault.New(fault.Forbidden, "dossier.eid_level", "Thủ tục này cần tài khoản định danh điện tử mức độ 2.", "This procedure needs a level-2 electronic identity.")
	ErrIdemKey       = fault.New(fault.Invalid, "dossier.idempotency_key", "Thiếu hoặc sai khóa chống gửi trùng (Idempotency-Key).", "The Idempotency-Key is missing or malformed.")
	ErrIdemReuse     = fault.New(fault.Conflict, "dossier.idempotency_reused", "Khóa chống gửi trùng đã được dùng cho một hồ sơ khác.", "The Idempotency-Key was used for another submission.")
	ErrDocument      = fault.New(fault.Invalid, "dossier.document", "Giấy tờ được chọn không có trong kho dữ liệu của bạn.", "The chosen document is not in your document store.")
	ErrDocumentCode  = fault.New(fault.Invalid, "dossier.document_code", "Giấy tờ đính kèm không thuộc thành phần hồ sơ của thủ tục.", "The attachment answers no document of the procedure.")
	ErrState         = fault.New(fault.Conflict, "dossier.state", "Trạng thái hiện tại của hồ sơ không cho phép thao tác này.", "The dossier's state does not allow this.")
	ErrReason        = fault.New(fault.Invalid, "dossier.reason", "Vui lòng nêu lý do (tối đa 1000 ký tự).", "Give a reason (at most 1000 characters).")
	ErrNoFee         = fault.New(fault.Conflict, "dossier.no_fee", "Hồ sơ không phải nộp lệ phí hoặc đã nộp.", "The dossier owes no fee or has paid it.")
	ErrRating        = fault.New(fault.Invalid, "dossier.rating", "Đánh giá phải từ 1 đến 5 sao, nhận xét tối đa 1000 ký tự.", "A rating is 1 to 5 stars with a comment of at most 1000 characters.")
	ErrRated         = fault.New(fault.Conflict, "dossier.rated", "Hồ sơ này đã được đánh giá.", "This dossier has already been rated.")
	ErrUnit          = fault.New(fault.Invalid, "dossier.unit", "Không xác định được đơn vị tiếp nhận hồ sơ.", "The receiving unit cannot be determined.")
)

// Register reads the filer's own record (*registry.Service); the read is
// audited by the register under the filer's own identity.
type Register interface {
	Get(ctx context.Context, a actor.Actor, pin, purpose string) (registry.Person, error)
}

// Payments runs dossier fees (*payment.Service).
type Payments interface {
	Create(ctx context.Context, r payment.Request) (payment.Intent, error)
	ByDossier(ctx context.Context, dossier string) ([]payment.Intent, error)
	Rejected(ctx context.Context, dossier string, rule payment.FeeRule, by string) (payment.Intent, bool, error)
}

// Deps are what the service is built from.
type Deps struct {
	DB        *storage.DB
	Catalogue *Catalogue
	Register  Register
	Documents *document.Store
	Results   *document.Issuer
	Payments  Payments // nil: fees cannot be paid (every fee dossier waits)
	Calendar  *workday.Calendar
	Units     Units
	Audit     Recorder
	Orgs      Orgs // nil: nobody files for an organisation
	// Secret keys the check codes (HMAC of the dossier code), from
	// configuration: a replayed submission answers the same check code
	// without the code being stored.
	Secret []byte
	Now    func() time.Time
	// ReturnURL is where the payment gateway sends the filer back, with
	// the dossier code appended (the portal's dossier page).
	ReturnURL string
}

// Service runs dossiers.
type Service struct {
	d Deps
	// prepared is set once the hot write statements are prepared on the
	// write pool (prepareWrites): on SQLite parsing a statement costs about
	// as much as running it, and a submission runs five.
	prepared sync.Once
}

// The statements every submission runs, prepared once (storage.DB's
// ReadStmt, PrepareWrites and TxStmt).
const (
	sqlInsertDossier = `INSERT INTO dossiers (code, procedure_code, owner_pin, unit_code, province_code, commune_code, status, form, attachments, fee,
			clock, due_date, submitted_at, received_at, updated_at, idem_key, request_hash, org_id, org_kind, org_code, org_name, org_role)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`
	sqlNextCode = `INSERT INTO dossier_sequences (unit_code, day, n) VALUES ($1, $2, 1)
		ON CONFLICT (unit_code, day) DO UPDATE SET n = dossier_sequences.n + 1 RETURNING n`
	sqlHistory = `INSERT INTO dossier_history (code, at, actor, status, note) VALUES ($1, $2, $3, $4, $5)`
	sqlReplay  = `SELECT code, request_hash FROM dossiers WHERE owner_pin = $1 AND idem_key = $2`
)

// prepareWrites prepares the submission's writes on the write pool, once,
// outside any transaction; a failure leaves TxStmt preparing them per
// transaction.
func (s *Service) prepareWrites(ctx context.Context) {
	s.prepared.Do(func() {
		_ = s.d.DB.PrepareWrites(ctx, sqlInsertDossier, sqlNextCode, sqlHistory)
	})
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Catalogue == nil || d.Register == nil || d.Documents == nil || d.Calendar == nil || d.Audit == nil {
		return nil, errors.New("services: missing dependency")
	}
	if len(d.Secret) < 16 {
		return nil, errors.New("services: secret too short")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// Catalogue is the service's procedure catalogue.
func (s *Service) Catalogue() *Catalogue { return s.d.Catalogue }

// Filer is the signed-in citizen filing or following a dossier.
type Filer struct {
	PIN   string
	Level int // the e-ID level of the session
}

func (f Filer) actor() actor.Actor {
	return actor.Actor{ID: "citizen:" + f.PIN, Name: "citizen", Role: actor.Role("citizen")}
}

// SubmitRequest is an online submission.
type SubmitRequest struct {
	Procedure      string
	Form           map[string]string // what the filer declares
	Documents      map[string]string // procedure document code → id in the filer's document store
	Uploads        []Upload
	IdempotencyKey string
	// Organisation is the id of the organisation the dossier is filed for
	// ("" for the filer themself); the filer must act for it (Orgs).
	Organisation string
}

// Attachment is a document of a dossier.
type Attachment struct {
	Document string `json:"document"` // the procedure's document code
	ID       string `json:"id"`       // the document store's id
	Reused   bool   `json:"reused"`   // picked from the store rather than uploaded
	SHA256   string `json:"sha256"`
}

// Dossier is a filed dossier.
type Dossier struct {
	Code      string `json:"code"`
	Procedure string `json:"procedure"`
	OwnerPIN  string `json:"-"`
	Unit      string `json:"unit_code"`
	Province  string `json:"province_code"`
	Commune   string `json:"commune_code,omitempty"`
	Status    Status `json:"status"`
	// Organisation is who the dossier is filed for when not the filer
	// themself; FiledBy is then the natural person who filed it.
	Organisation *Organisation `json:"organisation,omitempty"`
	FiledBy      string        `json:"filed_by,omitempty"`
	// Channel is how the dossier came in: ChannelOnline or ChannelDesk.
	Channel     string            `json:"channel"`
	Form        map[string]string `json:"form"`
	Attachments []Attachment      `json:"attachments"`
	Fee         int64             `json:"fee"`
	Clock       *workday.Clock    `json:"clock,omitempty"`
	Due         string            `json:"due_date,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Result      string            `json:"result_document,omitempty"`
	SubmittedAt time.Time         `json:"submitted_at"`
	ReceivedAt  time.Time         `json:"received_at,omitzero"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Receipt is what the filer gets back (giấy tiếp nhận hồ sơ).
type Receipt struct {
	Dossier
	CheckCode string `json:"check_code"`
	PayURL    string `json:"pay_url,omitempty"`
	Replayed  bool   `json:"-"`
}

// checkCode is the dossier's second factor for public tracking: 8 symbols of
// HMAC-SHA256(secret, code).
func (s *Service) checkCode(code string) string {
	m := hmac.New(sha256.New, s.d.Secret)
	m.Write([]byte("dossier-check:" + code))
	return base32.StdEncoding.EncodeToString(m.Sum(nil))[:8]
}

// Prefill is what the register asserts about p, by prefill source.
func Prefill(p registry.Person) map[string]string {
	m := map[string]string{
		FromFullName:  p.FullName,
		FromPIN:       p.PIN,
		FromSex:       p.Sex,
		FromNational:  p.Nationality,
		FromEthnicity: p.Ethnicity,
		FromPermanent: addressText(p.Permanent),
	}
	if !p.BirthDate.IsZero() && !p.BirthDate.Partial() {
		m[FromBirthDate] = p.BirthDate.String()
	}
	if p.Temporary != nil {
		m[FromTemporary] = addressText(p.Temporary.Address)
	}
	return m
}

func addressText(a registry.Address) string {
	if a.Text != "" {
		return a.Text
	}
	return strings.TrimSpace(strings.Join([]string{a.Detail, a.CommuneCode, a.ProvinceCode}, ", "))
}

// Form returns the procedure's form as the filer sees it before filing:
// each pre-filled field with the register's value.
func (s *Service) Form(ctx context.Context, f Filer, code string) (Procedure, map[string]string, error) {
	return s.FormFor(ctx, f, code, "")
}

// procedureFor is the one place that says whether the filer may file under
// the procedure: it exists, is on, and the session's e-ID level suffices.
func (s *Service) procedureFor(ctx context.Context, f Filer, code string) (Procedure, error) {
	p, err := s.d.Catalogue.Get(ctx, code)
	if err != nil {
		return Procedure{}, err
	}
	if p.Disabled {
		return Procedure{}, ErrProcedureNotFound
	}
	if f.Level < p.EIDLevel {
		return Procedure{}, ErrLevel
	}
	return p, nil
}

func requestHash(r SubmitRequest) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		P string
		F map[string]string
		D map[string]string
		O string `json:",omitempty"`
	}{r.Procedure, r.Form, r.Documents, r.Organisation})
	h.Write(b)
	for _, u := range r.Uploads {
		sum := sha256.Sum256(u.Body)
		fmt.Fprintf(h, "|%s|%x", u.Document, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Submit files a dossier: the level and procedure first, then the
// idempotency key (a replay answers the dossier already filed), then the
// form against the register, the documents and the uploads; only when all
// of it holds is anything written, in one transaction (the dossier, its
// uploaded documents, its history and its event). A fee opens a payment
// intent after the commit; its failure leaves the dossier waiting for
// payment, and Pay retries.
func (s *Service) Submit(ctx context.Context, f Filer, r SubmitRequest) (Receipt, error) {
	org, err := s.actFor(ctx, f, r.Organisation)
	if err != nil {
		return Receipt{}, err
	}
	p, err := s.procedureFor(ctx, f, r.Procedure)
	if err != nil {
		return Receipt{}, err
	}
	if org != nil && !p.Organisations {
		return Receipt{}, ErrOrgProcedure
	}
	if !idempotency.ValidKey(r.IdempotencyKey) {
		return Receipt{}, ErrIdemKey
	}
	hash := requestHash(r)
	if rc, ok, err := s.replay(ctx, f, r.IdempotencyKey, hash); err != nil || ok {
		return rc, err
	}
	person, err := s.d.Register.Get(ctx, f.actor(), f.PIN, "dossier-prefill")
	if err != nil {
		return Receipt{}, err
	}
	now := s.d.Now()
	form, err := ValidateForm(p, r.Form, orgPrefill(Prefill(person), org), s.d.Units, now)
	if err != nil {
		return Receipt{}, err
	}
	atts, docs, err := s.attachments(ctx, f, p, r)
	if err != nil {
		return Receipt{}, err
	}
	province, commune := person.Permanent.ProvinceCode, person.Permanent.CommuneCode
	if p.UnitField != "" {
		commune = form[p.UnitField]
		if province, err = s.d.Units.CommuneProvince(commune, now); err != nil {
			return Receipt{}, ErrUnit
		}
	}
	if p.Level == "province" {
		commune = ""
	}
	if province == "" || (p.Level == "commune" && commune == "") {
		return Receipt{}, ErrUnit
	}
	unit := UnitCode(province, commune)
	s.prepareWrites(ctx)
	d := Dossier{Channel: ChannelOnline, Procedure: p.Code, OwnerPIN: f.PIN, Unit: unit, Province: province, Commune: commune, Form: form,
		Fee: p.Fee, SubmittedAt: now.UTC(), UpdatedAt: now.UTC(), Status: AwaitingPayment, Organisation: org}
	if org != nil {
		d.FiledBy = f.PIN
	}
	if p.Fee == 0 {
		d.Status = Received
	}
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		code, err := s.nextCode(ctx, tx, unit, now)
		if err != nil {
			return err
		}
		d.Code = code
		off := len(atts) - len(docs) // uploads follow the reused documents
		for i, doc := range docs {
			stored, err := s.d.Documents.StoreTx(ctx, tx, doc)
			if err != nil {
				return err
			}
			atts[off+i].ID, atts[off+i].SHA256 = stored.ID, stored.SHA256
		}
		d.Attachments = atts
		if d.Status == Received {
			if err := s.receive(&d, p.LegalDays, now); err != nil {
				return err
			}
		}
		formJSON, _ := json.Marshal(d.Form)
		attJSON, _ := json.Marshal(d.Attachments)
		var o Organisation
		if org != nil {
			o = *org
		}
		ins, err := s.d.DB.TxStmt(ctx, tx, sqlInsertDossier)
		if err != nil {
			return fmt.Errorf("services: insert dossier: %w", err)
		}
		_, err = ins.ExecContext(ctx,
			d.Code, d.Procedure, d.OwnerPIN, d.Unit, d.Province, d.Commune, string(d.Status), string(formJSON), string(attJSON), d.Fee,
			clockText(d.Clock), d.Due, ts(d.SubmittedAt), ts(d.ReceivedAt), ts(d.UpdatedAt), r.IdempotencyKey, hash, o.ID, o.Kind, o.Code, o.Name, o.Role)
		if err != nil {
			return fmt.Errorf("services: insert dossier: %w", err)
		}
		if err := s.history(ctx, tx, d.Code, f.actor().ID, d.Status, "", now); err != nil {
			return err
		}
		if _, err := events.Enqueue(ctx, tx, Events, events.DossierSubmitted, s.event(d, now), now); err != nil {
			return err
		}
		if d.Status == Received {
			_, err = events.Enqueue(ctx, tx, Events, events.DossierReceived, s.event(d, now), now)
		}
		return err
	})
	if err != nil {
		// A concurrent submission with the same key won the insert.
		if rc, ok, rerr := s.replay(ctx, f, r.IdempotencyKey, hash); rerr == nil && ok {
			return rc, nil
		}
		return Receipt{}, err
	}
	// The filer's own act is recorded in the dossier's history (in the
	// transaction above); the audit log holds the register's read of their
	// record and every officer's act on the dossier.
	rc := Receipt{Dossier: d, CheckCode: s.checkCode(d.Code)}
	if d.Status == AwaitingPayment && s.d.Payments != nil {
		if in, err := s.pay(ctx, p, d); err == nil {
			rc.PayURL = in.PayURL
		}
	}
	return rc, nil
}

func (s *Service) replay(ctx context.Context, f Filer, key, hash string) (Receipt, bool, error) {
	var code, h string
	st, err := s.d.DB.ReadStmt(ctx, sqlReplay)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("services: idempotency lookup: %w", err)
	}
	err = st.QueryRowContext(ctx, f.PIN, key).Scan(&code, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, fmt.Errorf("services: idempotency lookup: %w", err)
	}
	if h != hash {
		return Receipt{}, true, ErrIdemReuse
	}
	d, err := s.load(ctx, code)
	if err != nil {
		return Receipt{}, true, err
	}
	rc := Receipt{Dossier: d, CheckCode: s.checkCode(code), Replayed: true}
	if d.Status == AwaitingPayment && s.d.Payments != nil {
		if p, err := s.d.Catalogue.Get(ctx, d.Procedure); err == nil {
			if in, err := s.pay(ctx, p, d); err == nil {
				rc.PayURL = in.PayURL
			}
		}
	}
	return rc, true, nil
}

// attachments checks the documents picked from the store (the filer's own,
// else the same fault as a missing one) and the uploads (sniffed), and that
// every required document the register does not prove is given.
func (s *Service) attachments(ctx context.Context, f Filer, p Procedure, r SubmitRequest) ([]Attachment, []document.Document, error) {
	if len(r.Uploads) > MaxUploads || len(r.Documents) > MaxUploads {
		return nil, nil, ErrUploadCount
	}
	asked := map[string]Document{}
	for _, d := range p.Documents {
		if d.Asked() {
			asked[d.Code] = d
		}
	}
	var atts []Attachment
	have := map[string]bool{}
	codes := make([]string, 0, len(r.Documents))
	for c := range r.Documents {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		if _, ok := asked[c]; !ok {
			return nil, nil, ErrDocumentCode.WithField("documents." + c)
		}
		doc, err := s.d.Documents.Get(ctx, r.Documents[c])
		if err != nil || string(doc.OwnerPIN) != f.PIN {
			return nil, nil, ErrDocument.WithField("documents." + c)
		}
		atts = append(atts, Attachment{Document: c, ID: doc.ID, Reused: true, SHA256: doc.SHA256})
		have[c] = true
	}
	var docs []document.Document
	for i, u := range r.Uploads {
		field := fmt.Sprintf("uploads[%d]", i)
		if _, ok := asked[u.Document]; !ok {
			return nil, nil, ErrDocumentCode.WithField(field)
		}
		mt, err := Sniff(u.Body)
		if err != nil {
			return nil, nil, fault.As(err).WithField(field)
		}
		title := asked[u.Document].Name.VI
		docs = append(docs, document.Document{OwnerPIN: pin.PIN(f.PIN), Kind: "upload:" + u.Document, Title: title, Body: u.Body,
			MediaType: mt, CreatedBy: f.actor().ID, IssueDate: civildate.Today(s.d.Now())})
		have[u.Document] = true
	}
	// The uploads' attachments follow the reused ones, in order; ids are
	// filled once stored.
	for _, u := range r.Uploads {
		atts = append(atts, Attachment{Document: u.Document})
	}
	var l fault.List
	for _, d := range p.Documents {
		if d.Asked() && d.Required && !have[d.Code] {
			l.Add("documents."+d.Code, ferr("documents."+d.Code, "dossier.document_missing", "Thiếu giấy tờ bắt buộc: "+d.Name.VI+".", "A required document is missing: "+d.Name.EN+"."))
		}
	}
	if err := l.Err(); err != nil {
		return nil, nil, err
	}
	return atts, docs, nil
}

// UnitCode is the receiving agency's code in the V1V2V3.Z1Z2.Y1Y2.MX1X2
// layout of the dossier code (Circular 01/2018/TT-VPCP Art. 19, with unit
// codes after QCVN 102:2016/BTTTT, read right to left from the top level):
//
//   - MX1X2: "H" and the 2-digit province code of the 2025 map (level 1,
//     the province);
//   - Y1Y2: "00", level 2 — districts were abolished on 1/7/2025;
//   - V1V2V3.Z1Z2: the 5-digit commune code split 3 + 2 for a commune unit
//     (levels 3–4), "000.00" for a provincial agency.
//
// So commune 00004 of province 01 receives as "000.04.00.H01" and the
// provincial police of 01 as "000.00.00.H01".
func UnitCode(province, commune string) string {
	v, z := "000", "00"
	if len(commune) == 5 {
		v, z = commune[:3], commune[3:]
	}
	return v + "." + z + ".00.H" + province
}

// nextCode is UnitCode-YYMMDD-XXXX: the receipt day (Vietnam's) and the
// unit's sequence number of that day, from 0001 (more digits past 9999).
func (s *Service) nextCode(ctx context.Context, tx *sql.Tx, unit string, now time.Time) (string, error) {
	day := civildate.Of(now.In(civildate.Location()))
	var n int
	st, err := s.d.DB.TxStmt(ctx, tx, sqlNextCode)
	if err != nil {
		return "", fmt.Errorf("services: dossier sequence: %w", err)
	}
	err = st.QueryRowContext(ctx, unit, day.String()).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("services: dossier sequence: %w", err)
	}
	return fmt.Sprintf("%s-%02d%02d%02d-%04d", unit, day.Year%100, day.Month, day.Day, n), nil
}

// receive starts the legal clock: the dossier is complete (paid, or
// without a fee).
//
// The legal time is passed in, read before any transaction: a read of the
// catalogue inside one would ask the pool for a second connection while
// holding the first, which starves the pool under load on PostgreSQL.
func (s *Service) receive(d *Dossier, legalDays int, now time.Time) error {
	k, err := s.d.Calendar.Start(now, legalDays)
	if err != nil {
		return err
	}
	d.Status, d.Clock, d.Due, d.ReceivedAt = Received, &k, k.Due.String(), now.UTC()
	return nil
}

func clockText(k *workday.Clock) string {
	if k == nil {
		return ""
	}
	b, _ := json.Marshal(k)
	return string(b)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func (s *Service) event(d Dossier, now time.Time) events.DossierEvent {
	return events.DossierEvent{Code: d.Code, Procedure: d.Procedure, Unit: d.Unit, Status: string(d.Status), At: now.UTC(), Channel: d.Channel,
		Province: d.Province, Commune: d.Commune, Due: d.Due, Fee: d.Fee, Documents: len(d.Attachments), Reused: len(slices.DeleteFunc(slices.Clone(d.Attachments), func(a Attachment) bool { return !a.Reused }))}
}

func (s *Service) history(ctx context.Context, tx *sql.Tx, code, who string, st Status, note string, now time.Time) error {
	ins, err := s.d.DB.TxStmt(ctx, tx, sqlHistory)
	if err == nil {
		_, err = ins.ExecContext(ctx, code, ts(now), who, string(st), note)
	}
	if err != nil {
		return fmt.Errorf("services: dossier history: %w", err)
	}
	return nil
}

const dossierColumns = `code, procedure_code, owner_pin, unit_code, province_code, commune_code, status, form, attachments, fee, clock, due_date,
	reason, result_document, submitted_at, received_at, updated_at, org_id, org_kind, org_code, org_name, org_role, channel`

type scanner interface{ Scan(...any) error }

func scanDossier(r scanner) (Dossier, error) {
	var d Dossier
	var st, form, atts, clock, sub, rec, upd string
	var o Organisation
	err := r.Scan(&d.Code, &d.Procedure, &d.OwnerPIN, &d.Unit, &d.Province, &d.Commune, &st, &form, &atts, &d.Fee, &clock, &d.Due,
		&d.Reason, &d.Result, &sub, &rec, &upd, &o.ID, &o.Kind, &o.Code, &o.Name, &o.Role, &d.Channel)
	if err != nil {
		return Dossier{}, err
	}
	if o.ID != "" {
		d.Organisation, d.FiledBy = &o, d.OwnerPIN
	}
	d.Status = Status(st)
	_ = json.Unmarshal([]byte(form), &d.Form)
	_ = json.Unmarshal([]byte(atts), &d.Attachments)
	if clock != "" {
		var k workday.Clock
		if json.Unmarshal([]byte(clock), &k) == nil {
			d.Clock = &k
		}
	}
	d.SubmittedAt, d.ReceivedAt, d.UpdatedAt = parseTS(sub), parseTS(rec), parseTS(upd)
	return d, nil
}

func (s *Service) load(ctx context.Context, code string) (Dossier, error) {
	if len(code) > 40 {
		return Dossier{}, ErrNotFound
	}
	st, err := s.d.DB.ReadStmt(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE code = $1`)
	if err != nil {
		return Dossier{}, fmt.Errorf("services: load dossier: %w", err)
	}
	d, err := scanDossier(st.QueryRowContext(ctx, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Dossier{}, ErrNotFound
	}
	if err != nil {
		return Dossier{}, fmt.Errorf("services: load dossier: %w", err)
	}
	return d, nil
}

// Mine returns one of the filer's dossiers (another's answers as unknown),
// after bringing its payment up to date.
func (s *Service) Mine(ctx context.Context, f Filer, code string) (Dossier, error) {
	d, err := s.load(ctx, code)
	if err != nil || d.OwnerPIN != f.PIN {
		return Dossier{}, ErrNotFound
	}
	return s.syncPayment(ctx, d)
}

// ListMine lists the filer's dossiers, newest first.
func (s *Service) ListMine(ctx context.Context, f Filer) ([]Dossier, error) {
	return s.list(ctx, `WHERE owner_pin = $1 ORDER BY submitted_at DESC, code DESC LIMIT 200`, f.PIN)
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Dossier, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT `+dossierColumns+` FROM dossiers `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("services: list dossiers: %w", err)
	}
	defer rows.Close()
	var out []Dossier
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, fmt.Errorf("services: list dossiers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Pay opens (or reopens) the payment of one of the filer's dossiers and
// returns the page to send the browser to.
func (s *Service) Pay(ctx context.Context, f Filer, code string) (payment.Intent, error) {
	d, err := s.Mine(ctx, f, code)
	if err != nil {
		return payment.Intent{}, err
	}
	if d.Status != AwaitingPayment || s.d.Payments == nil {
		return payment.Intent{}, ErrNoFee
	}
	p, err := s.d.Catalogue.Get(ctx, d.Procedure)
	if err != nil {
		return payment.Intent{}, err
	}
	return s.pay(ctx, p, d)
}

func (s *Service) pay(ctx context.Context, p Procedure, d Dossier) (payment.Intent, error) {
	ret := s.d.ReturnURL
	if ret != "" {
		ret += d.Code
	}
	return s.d.Payments.Create(ctx, payment.Request{Dossier: d.Code, Amount: d.Fee, Payer: "citizen:" + d.OwnerPIN,
		Description: "Lệ phí " + lower(p.Name.VI), ReturnURL: ret})
}

// syncPayment moves a dossier waiting for its fee to received once the
// payment module has a paid intent for it: the payment module owns the
// money, this module only asks (on every read, so a late callback is seen
// the next time anyone looks).
func (s *Service) syncPayment(ctx context.Context, d Dossier) (Dossier, error) {
	if d.Status != AwaitingPayment || s.d.Payments == nil {
		return d, nil
	}
	ins, err := s.d.Payments.ByDossier(ctx, d.Code)
	if err != nil {
		return d, err
	}
	if !slices.ContainsFunc(ins, func(in payment.Intent) bool { return in.State == payment.Paid && in.Amount == d.Fee }) {
		return d, nil
	}
	p, err := s.d.Catalogue.Get(ctx, d.Procedure)
	if err != nil {
		return d, err
	}
	now := s.d.Now()
	return s.transition(ctx, d.Code, "system:payment", []Status{AwaitingPayment}, func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error) {
		return events.DossierReceived, "paid", s.receive(d, p.LegalDays, now)
	})
}

// transition changes a dossier under a row lock: it must be in one of from;
// change sets the new state and names the event.
func (s *Service) transition(ctx context.Context, code, who string, from []Status,
	change func(tx *sql.Tx, d *Dossier) (events.Subject[events.DossierEvent], string, error)) (Dossier, error) {
	var out Dossier
	now := s.d.Now()
	err := s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := scanDossier(tx.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE code = $1`+s.d.DB.ForUpdate(), code))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("services: load dossier: %w", err)
		}
		if !slices.Contains(from, d.Status) {
			return ErrState
		}
		subject, note, err := change(tx, &d)
		if err != nil {
			return err
		}
		d.UpdatedAt = now.UTC()
		_, err = tx.ExecContext(ctx, `UPDATE dossiers SET status = $1, clock = $2, due_date = $3, reason = $4, result_document = $5,
			received_at = $6, updated_at = $7 WHERE code = $8`,
			string(d.Status), clockText(d.Clock), d.Due, d.Reason, d.Result, ts(d.ReceivedAt), ts(d.UpdatedAt), d.Code)
		if err != nil {
			return fmt.Errorf("services: update dossier: %w", err)
		}
		if err := s.history(ctx, tx, d.Code, who, d.Status, note, now); err != nil {
			return err
		}
		if subject.String() != "" {
			if _, err := events.Enqueue(ctx, tx, Events, subject, s.event(d, now), now); err != nil {
				return err
			}
		}
		out = d
		return nil
	})
	return out, err
}

// ErrTextInvalid refuses control characters and overlong text.
func checkReason(s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if (required && s == "") || utf8.RuneCountInString(s) > 1000 || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\x1b") {
		return "", ErrReason
	}
	return s, nil
}

// Signer fingerprint helper kept here so the returned document says who
// signed it exactly as document.Issuer.Issue does.
func signerOf(i *document.Issuer) string { return pki.Fingerprint(i.Cert) }

var _ = result.Generic
