package bundle

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
)

// Bundle is one application and its steps.
type Bundle struct {
	Code       string            `json:"code"`
	Kind       string            `json:"kind"`
	OwnerPIN   string            `json:"-"`
	FiledBy    string            `json:"-"`
	SubjectPIN string            `json:"subject_pin,omitempty"`
	Form       map[string]string `json:"form"`
	Status     string            `json:"status"`
	// Advice tells the citizen what to do next when a step was refused.
	Advice   string    `json:"advice,omitempty"`
	Dossier  string    `json:"dossier_code,omitempty"`
	OfferID  string    `json:"offer_id,omitempty"`
	Due      string    `json:"due_date"`
	FiledAt  time.Time `json:"filed_at"`
	Updated  time.Time `json:"updated_at"`
	Steps    []Step    `json:"steps"`
	idemKey  string
	formHash string
}

// Step is the part of a bundle one agency does (its child dossier).
type Step struct {
	Step      string    `json:"step"`
	Seq       int       `json:"seq"`
	Agency    string    `json:"agency"`
	Procedure string    `json:"procedure,omitempty"`
	Partner   string    `json:"partner,omitempty"`
	Province  string    `json:"province_code,omitempty"`
	Commune   string    `json:"commune_code,omitempty"`
	Status    string    `json:"status"`
	Due       string    `json:"due_date"`
	Result    string    `json:"result,omitempty"`
	Note      string    `json:"note,omitempty"`
	Attempts  int       `json:"attempts"`
	DoneCount int       `json:"-"`
	Updated   time.Time `json:"updated_at"`
}

// plan is a step of a kind of bundle: the agency, the catalogue's
// procedure and the legal days from filing.
type plan struct {
	step, agency, procedure, partner string
	days                             int
}

// plans are the steps of each kind, in order. Days are working days from
// the filing (15:00 cut-off): the birth bundle is due in 3 (Decree
// 63/2024), residence and card 2 each; the death bundle's deadlines are
// the old procedure's (death the same day, residence deletion 2) with the
// funeral allowance in 5.
var plans = map[string][]plan{
	Birth: {
		{StepBirth, "Ủy ban nhân dân cấp xã", "HT.KS.01", "", 0},
		{StepResidence, "Công an cấp xã", "CT.TT.01", "", 2},
		{StepInsurance, "Bảo hiểm xã hội", "", PartnerInsurance, 3},
	},
	Death: {
		{StepDeath, "Ủy ban nhân dân cấp xã", "HT.KT.01", "", 0},
		{StepResidence, "Công an cấp xã", "CT.XTT.01", "", 2},
		{StepHousehold, "Công an cấp xã", "", "", 2},
		{StepFuneral, "Sở Lao động - Thương binh và Xã hội", "", PartnerLabour, 5},
	},
}

// bundleDays is the whole bundle's legal time in working days.
var bundleDays = map[string]int{Birth: 3, Death: 5}

func newCode(kind string, now time.Time) string {
	b := make([]byte, 5)
	rand.Read(b)
	prefix := "LTKS"
	if kind == Death {
		prefix = "LTKT"
	}
	return fmt.Sprintf("%s-%s-%s", prefix, civildate.Of(now).String()[2:4]+civildate.Of(now).String()[5:7], hex.EncodeToString(b))
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// insert writes a new bundle, its steps and the first step's event in tx.
func (s *Service) insert(ctx context.Context, tx *sql.Tx, b *Bundle, now time.Time) error {
	k, err := s.d.Calendar.Start(now, bundleDays[b.Kind])
	if err != nil {
		return fmt.Errorf("bundle: due date: %w", err)
	}
	b.Due = k.Due.String()
	form, _ := json.Marshal(b.Form)
	parties := "," + b.OwnerPIN + ","
	for _, k := range []string{"mother_pin", "father_pin"} {
		if v := b.Form[k]; b.Kind == Birth && v != "" && v != b.OwnerPIN {
			parties += v + ","
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO bundles (code, kind, owner_pin, filed_by, subject_pin, form, status, dossier_code, offer_id, parties, idem_key, due_date, filed_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		b.Code, b.Kind, b.OwnerPIN, b.FiledBy, b.SubjectPIN, string(form), InProgress, b.Dossier, b.OfferID, parties, b.idemKey, b.Due, ts(now), ts(now))
	if err != nil {
		return fmt.Errorf("bundle: insert: %w", err)
	}
	for i, p := range plans[b.Kind] {
		k, err := s.d.Calendar.Start(now, p.days)
		if err != nil {
			return fmt.Errorf("bundle: step due date: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO bundle_steps (bundle_code, step, seq, agency, procedure_code, partner_id, province, commune, status, due_date, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			b.Code, p.step, i, p.agency, p.procedure, p.partner, b.Form["province"], b.Form["commune"], Waiting, k.Due.String(), ts(now))
		if err != nil {
			return fmt.Errorf("bundle: insert step: %w", err)
		}
	}
	b.Status, b.FiledAt, b.Updated = InProgress, now.UTC(), now.UTC()
	_, err = events.Enqueue(ctx, tx, Events, events.BundleStepDue, events.BundleStep{Bundle: b.Code, Step: plans[b.Kind][0].step, At: now.UTC()}, now)
	return err
}

const bundleColumns = `code, kind, owner_pin, filed_by, subject_pin, form, status, advice, dossier_code, offer_id, idem_key, due_date, filed_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanBundle(r scanner) (Bundle, error) {
	var b Bundle
	var form, filed, updated string
	if err := r.Scan(&b.Code, &b.Kind, &b.OwnerPIN, &b.FiledBy, &b.SubjectPIN, &form, &b.Status, &b.Advice, &b.Dossier, &b.OfferID, &b.idemKey, &b.Due, &filed, &updated); err != nil {
		return b, err
	}
	b.FiledAt, b.Updated = parseTS(filed), parseTS(updated)
	if err := json.Unmarshal([]byte(form), &b.Form); err != nil {
		return b, fmt.Errorf("bundle %s: form: %w", b.Code, err)
	}
	return b, nil
}

// load reads a bundle with its steps.
func (s *Service) load(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, code string) (Bundle, error) {
	b, err := scanBundle(q.QueryRowContext(ctx, `SELECT `+bundleColumns+` FROM bundles WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("bundle: load: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT step, seq, agency, procedure_code, partner_id, province, commune, status, due_date, result, note, attempts, done_count, updated_at
		FROM bundle_steps WHERE bundle_code = $1 ORDER BY seq`, code)
	if err != nil {
		return b, fmt.Errorf("bundle: steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		var updated string
		if err := rows.Scan(&st.Step, &st.Seq, &st.Agency, &st.Procedure, &st.Partner, &st.Province, &st.Commune, &st.Status, &st.Due, &st.Result, &st.Note, &st.Attempts, &st.DoneCount, &updated); err != nil {
			return b, fmt.Errorf("bundle: steps: %w", err)
		}
		st.Updated = parseTS(updated)
		b.Steps = append(b.Steps, st)
	}
	return b, rows.Err()
}

// Step returns the bundle's step called name.
func (b Bundle) Step(name string) (Step, bool) {
	for _, st := range b.Steps {
		if st.Step == name {
			return st, true
		}
	}
	return Step{}, false
}

// final reports whether a step's state is an end.
func final(status string) bool { return status == Done || status == Refused || status == Skipped }

// conclude moves a step that has not ended to status (done or refused)
// with its result or note, then makes the next step due or ends the
// bundle, all in tx. It reports false when the step had already ended:
// the caller changes nothing more (a redelivery, a duplicate answer).
func (s *Service) conclude(ctx context.Context, tx *sql.Tx, code, step, status, result, note string, now time.Time) (bool, error) {
	done := 0
	if status == Done {
		done = 1
	}
	res, err := tx.ExecContext(ctx, `UPDATE bundle_steps SET status = $1, result = $2, note = $3, done_count = done_count + $4, updated_at = $5
		WHERE bundle_code = $6 AND step = $7 AND status NOT IN ('done', 'refused', 'skipped')`,
		status, result, note, done, ts(now), code, step)
	if err != nil {
		return false, fmt.Errorf("bundle: conclude step: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	b, err := s.load(ctx, tx, code)
	if err != nil {
		return false, err
	}
	// A refused civil status step ends the bundle: the others need it.
	if status == Refused && b.Steps[0].Step == step {
		if _, err := tx.ExecContext(ctx, `UPDATE bundle_steps SET status = $1, updated_at = $2 WHERE bundle_code = $3 AND status = $4`, Skipped, ts(now), code, Waiting); err != nil {
			return false, fmt.Errorf("bundle: skip steps: %w", err)
		}
		return true, s.finish(ctx, tx, code, Rejected, adviceFor(b.Kind, step, note), now)
	}
	for _, st := range b.Steps {
		if st.Status == Waiting {
			_, err := events.Enqueue(ctx, tx, Events, events.BundleStepDue, events.BundleStep{Bundle: code, Step: st.Step, At: now.UTC()}, now)
			return true, err
		}
	}
	for _, st := range b.Steps {
		if !final(st.Status) {
			return true, nil // a step still awaits an answer or a decision
		}
	}
	outcome, advice := Completed, ""
	for _, st := range b.Steps {
		if st.Status == Refused {
			outcome = Partly
			advice += adviceFor(b.Kind, st.Step, st.Note) + " "
		}
	}
	return true, s.finish(ctx, tx, code, outcome, advice, now)
}

func (s *Service) finish(ctx context.Context, tx *sql.Tx, code, status, advice string, now time.Time) error {
	if len(advice) > 0 && advice[len(advice)-1] == ' ' {
		advice = advice[:len(advice)-1]
	}
	_, err := tx.ExecContext(ctx, `UPDATE bundles SET status = $1, advice = $2, updated_at = $3 WHERE code = $4`, status, advice, ts(now), code)
	if err != nil {
		return fmt.Errorf("bundle: finish: %w", err)
	}
	return nil
}

// adviceFor tells the citizen what to do after a refused step: the
// compensation of a saga whose done steps stand (a refused residence or
// card does not undo the birth).
func adviceFor(kind, step, note string) string {
	why := ""
	if note != "" {
		why = " (" + note + ")"
	}
	switch step {
	case StepBirth:
		return "Đăng ký khai sinh không được chấp nhận" + why + ": không bước nào khác được thực hiện; vui lòng kiểm tra lại thông tin và nộp lại hồ sơ, hoặc đến UBND xã."
	case StepDeath:
		return "Đăng ký khai tử không được chấp nhận" + why + ": không bước nào khác được thực hiện; vui lòng kiểm tra lại thông tin và nộp lại hồ sơ, hoặc đến UBND xã."
	case StepResidence:
		if kind == Birth {
			return "Đăng ký thường trú vào hộ đã chọn không được chấp nhận" + why + ": việc khai sinh vẫn có hiệu lực và trẻ thường trú cùng cha, mẹ; nếu cần, nộp thủ tục Đăng ký thường trú (CT.TT.01) tại Công an xã."
		}
		return "Xóa đăng ký thường trú chưa thực hiện được" + why + ": việc khai tử vẫn có hiệu lực; vui lòng liên hệ Công an xã."
	case StepHousehold:
		return "Cập nhật hộ gia đình chưa thực hiện được" + why + ": vui lòng liên hệ Công an xã để xác định chủ hộ mới."
	case StepInsurance:
		return "Bảo hiểm xã hội chưa cấp thẻ bảo hiểm y tế cho trẻ" + why + ": việc khai sinh và thường trú vẫn có hiệu lực; vui lòng mang giấy khai sinh đến cơ quan Bảo hiểm xã hội nơi cư trú để được cấp thẻ."
	case StepFuneral:
		return "Hồ sơ trợ cấp mai táng chưa được chấp nhận" + why + ": việc khai tử vẫn có hiệu lực; vui lòng liên hệ phòng Lao động - Thương binh và Xã hội hoặc UBND xã."
	}
	return "Một bước không được chấp nhận" + why + "."
}
