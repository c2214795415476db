package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// stampLayout has a fixed width so that stored times compare as text.
const stampLayout = "2006-01-02T15:04:05.000000000Z"

func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

func parseStamp(s string) time.Time {
	t, _ := time.Parse(stampLayout, s)
	return t
}

// Store holds subscriptions, deliveries and the delivery log.
type Store struct {
	db   *storage.DB
	seal *sealer
	now  func() time.Time
	// egress is where webhooks may go: http:// URLs and internal
	// addresses only in development.
	egress Egress
}

// NewStore returns the store. secret (32+ bytes, the platform's configured
// secret) keys the sealing of webhook secrets; egress says which webhook
// addresses are accepted (and reached, by the Sender using this store).
func NewStore(db *storage.DB, secret []byte, now func() time.Time, egress Egress) (*Store, error) {
	s, err := newSealer(secret)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, seal: s, now: now, egress: egress}, nil
}

// SubscribeInput is a new subscription.
type SubscribeInput struct {
	PartnerID string   `json:"partner_id"`
	Types     []string `json:"types"`
	Mode      string   `json:"mode"`
	URL       string   `json:"url"`
}

// ValidPartnerID reports whether id can name a partner in a NATS subject.
func ValidPartnerID(id string) bool { return partnerIDRE.MatchString(id) }

func (s *Store) validate(in *SubscribeInput) error {
	var problems fault.List
	if !ValidPartnerID(in.PartnerID) {
		problems.Add("partner_id", ErrPartnerID)
	}
	if len(in.Types) == 0 {
		problems.Add("types", ErrNoTypes)
	}
	seen := map[string]bool{}
	types := in.Types[:0:0]
	for _, t := range in.Types {
		t = strings.TrimSpace(t)
		if !slices.Contains(Types, t) {
			problems.Add("types", ErrType)
			break
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	in.Types = types
	switch in.Mode {
	case ModeWebhook:
		u, err := url.Parse(in.URL)
		ok := err == nil && u.Host != "" && u.User == nil && (u.Scheme == "https" || (s.egress.Development && u.Scheme == "http")) && len(in.URL) <= 2000
		if !ok {
			problems.Add("url", ErrURL)
		} else if f := s.egress.checkURL(u); f != nil {
			problems.Add("url", f)
		}
	case ModeJetStream:
		if in.URL != "" {
			problems.Add("url", ErrURL)
		}
	default:
		problems.Add("mode", ErrMode)
	}
	return problems.Err()
}

// Subscribe records a subscription of the partner whose policy is pol. A
// type the policy does not allow is refused first (ErrTypeNotAllowed),
// whoever asks — the partner or an administrator. A webhook subscription
// gets a fresh signing secret, returned in Secret only this once.
func (s *Store) Subscribe(ctx context.Context, by string, pol exchange.Policy, in SubscribeInput) (Subscription, error) {
	if err := checkTypes(pol, in.Types); err != nil {
		return Subscription{}, err
	}
	if err := s.validate(&in); err != nil {
		return Subscription{}, err
	}
	now := s.now()
	sub := Subscription{ID: storage.NewID(), PartnerID: in.PartnerID, Types: in.Types, Mode: in.Mode, URL: in.URL,
		Active: true, CreatedBy: by, CreatedAt: now.UTC()}
	var sealed string
	if in.Mode == ModeWebhook {
		sub.Secret = NewSecret()
		sealed = s.seal.seal(sub.Secret, sub.ID)
	} else {
		sub.Subject = PartnerSubject(in.PartnerID, ">")
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_subscriptions (id, partner_id, mode, url, secret_sealed, active, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)`, sub.ID, sub.PartnerID, sub.Mode, sub.URL, sealed, by, stamp(now)); err != nil {
			return err
		}
		for _, t := range sub.Types {
			_, err := tx.ExecContext(ctx, `INSERT INTO delivery_subscription_types (partner_id, event_type, subscription_id) VALUES ($1, $2, $3)`,
				sub.PartnerID, t, sub.ID)
			if storage.IsUniqueViolation(err) {
				return ErrDuplicateType.WithField("types")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe: %w", err)
	}
	return sub, nil
}

// Subscriptions lists a partner's subscriptions (every partner's when
// partner is empty), active ones first.
func (s *Store) Subscriptions(ctx context.Context, partner string) ([]Subscription, error) {
	q := `SELECT s.id, s.partner_id, s.mode, s.url, s.active, s.created_by, s.created_at, COALESCE(t.event_type, '')
		FROM delivery_subscriptions s LEFT JOIN delivery_subscription_types t ON t.subscription_id = s.id`
	args := []any{}
	if partner != "" {
		q += ` WHERE s.partner_id = $1`
		args = append(args, partner)
	}
	q += ` ORDER BY s.active DESC, s.partner_id, s.created_at, s.id, t.event_type`
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var sub Subscription
		var active int
		var created, typ string
		if err := rows.Scan(&sub.ID, &sub.PartnerID, &sub.Mode, &sub.URL, &active, &sub.CreatedBy, &created, &typ); err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].ID == sub.ID {
			out[n-1].Types = append(out[n-1].Types, typ)
			continue
		}
		sub.Active, sub.CreatedAt = active == 1, parseStamp(created)
		if typ != "" {
			sub.Types = []string{typ}
		}
		if sub.Mode == ModeJetStream {
			sub.Subject = PartnerSubject(sub.PartnerID, ">")
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Unsubscribe ends a subscription; its pending deliveries are cancelled.
// partner, when set, must own it (a partner's own request).
func (s *Store) Unsubscribe(ctx context.Context, partner, id string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		owner, err := s.owner(ctx, tx, partner, id)
		if err != nil {
			return err
		}
		now := stamp(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE delivery_subscriptions SET active = 0, updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_subscription_types WHERE partner_id = $1 AND subscription_id = $2`, owner, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE delivery_queue SET status = $1, updated_at = $2 WHERE subscription_id = $3 AND status IN ($4, $5)`,
			StatusCancelled, now, id, StatusPending, StatusDead)
		return err
	})
}

// RotateSecret gives a webhook subscription a new signing secret, returned
// once. Deliveries from now on are signed with it.
func (s *Store) RotateSecret(ctx context.Context, partner, id string) (string, error) {
	secret := NewSecret()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.owner(ctx, tx, partner, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE delivery_subscriptions SET secret_sealed = $1, updated_at = $2 WHERE id = $3 AND mode = $4 AND active = 1`,
			s.seal.seal(secret, id), stamp(s.now()), id, ModeWebhook)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotWebhook
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("rotate secret: %w", err)
	}
	return secret, nil
}

func (s *Store) owner(ctx context.Context, tx *sql.Tx, partner, id string) (string, error) {
	var owner string
	err := tx.QueryRowContext(ctx, `SELECT partner_id FROM delivery_subscriptions WHERE id = $1`+s.db.ForUpdate(), id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && partner != "" && owner != partner) {
		return "", ErrNotFound.WithField("id")
	}
	return owner, err
}

// target is a subscription to one event type.
type target struct{ subscription, partner string }

// targets returns the active subscriptions to typ.
func (s *Store) targets(ctx context.Context, typ string) ([]target, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT subscription_id, partner_id FROM delivery_subscription_types WHERE event_type = $1`, typ)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", typ, err)
	}
	defer rows.Close()
	var out []target
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.subscription, &t.partner); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

type key struct{ event, subscription string }

// existing returns which of the given deliveries are already queued.
func (s *Store) existing(ctx context.Context, eventIDs []string) (map[key]bool, error) {
	out := map[key]bool{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	ph := make([]string, len(eventIDs))
	args := make([]any, len(eventIDs))
	for i, id := range eventIDs {
		ph[i] = fmt.Sprintf("$%d", i+1)
		args[i] = id
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT event_id, subscription_id FROM delivery_queue WHERE event_id IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read queued deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.event, &k.subscription); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// enqueue inserts deliveries; a row already there (a redelivered event) is
// left as it is. It returns how many rows were new.
func (s *Store) enqueue(ctx context.Context, ds []Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	now := stamp(s.now())
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		const cols = 9
		for start := 0; start < len(ds); start += 500 {
			chunk := ds[start:min(start+500, len(ds))]
			args := make([]any, 0, len(chunk)*cols)
			for _, d := range chunk {
				args = append(args, d.EventID, d.SubscriptionID, d.PartnerID, d.Type, d.body, StatusPending, now, now, now)
			}
			k, err := execCount(ctx, tx, `INSERT INTO delivery_queue (event_id, subscription_id, partner_id, event_type, body, status, next_at, created_at, updated_at)
				VALUES `+s.db.Values(len(chunk), cols)+` ON CONFLICT (event_id, subscription_id) DO NOTHING`, args...)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue deliveries: %w", err)
	}
	return n, nil
}

// job is a due delivery with what it takes to send it.
type job struct {
	Delivery
	mode, url, secret string
}

// claim takes up to limit pending deliveries of partner whose time has
// come, oldest first, for one attempt: their next attempt time moves to
// until, so neither another node nor this one takes them again before the
// outcome is recorded — or, when the node died meanwhile, before the lease
// runs out and they are sent again (at least once).
func (s *Store) claim(ctx context.Context, partner string, now, until time.Time, limit int) ([]job, error) {
	const due = `SELECT q.event_id, q.subscription_id, q.event_type, q.body, q.attempts, s.mode, s.url, s.secret_sealed
		FROM delivery_queue q JOIN delivery_subscriptions s ON s.id = q.subscription_id
		WHERE q.partner_id = $1 AND q.status = $2 AND q.next_at <= $3 AND s.active = 1
		ORDER BY q.next_at, q.event_id LIMIT $4`
	// Most polls find nothing: look before taking the writer.
	var any int
	err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM delivery_queue WHERE partner_id = $1 AND status = $2 AND next_at <= $3 LIMIT 1) AS d`,
		partner, StatusPending, stamp(now)).Scan(&any)
	if err != nil || any == 0 {
		return nil, err
	}
	lock := ""
	if s.db.Dialect == storage.Postgres {
		lock = " FOR UPDATE OF q SKIP LOCKED" // nodes take different rows
	}
	var out []job
	var sealed []string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		out, sealed = out[:0], sealed[:0]
		rows, err := tx.QueryContext(ctx, due+lock, partner, StatusPending, stamp(now), limit)
		if err != nil {
			return err
		}
		var all []job
		for rows.Next() {
			var j job
			var sl string
			if err := rows.Scan(&j.EventID, &j.SubscriptionID, &j.Type, &j.body, &j.Attempts, &j.mode, &j.url, &sl); err != nil {
				rows.Close()
				return err
			}
			j.PartnerID, j.Status, j.NextAt = partner, StatusPending, until
			all = append(all, j)
			sealed = append(sealed, sl)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		kept := sealed[:0]
		for i, j := range all {
			// The condition is checked again under the row lock, so a row
			// another node claimed meanwhile is left to it.
			res, err := tx.ExecContext(ctx, `UPDATE delivery_queue SET next_at = $1 WHERE event_id = $2 AND subscription_id = $3 AND status = $4 AND next_at <= $5`,
				stamp(until), j.EventID, j.SubscriptionID, StatusPending, stamp(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, j)
				kept = append(kept, sealed[i])
			}
		}
		sealed = kept
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	for i := range out {
		if out[i].mode == ModeWebhook && sealed[i] != "" {
			if out[i].secret, err = s.seal.open(sealed[i], out[i].SubscriptionID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// release makes claimed deliveries due again at once: their attempts were
// cut short by a shutdown and never reached an outcome.
func (s *Store) release(ctx context.Context, keys []key, now time.Time) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `UPDATE delivery_queue SET next_at = $1 WHERE event_id = $2 AND subscription_id = $3 AND status = $4`,
				stamp(now), k.event, k.subscription, StatusPending); err != nil {
				return fmt.Errorf("release deliveries: %w", err)
			}
		}
		return nil
	})
}

// result is the outcome of one attempt, to be recorded.
type result struct {
	key
	partner   string
	attempt   int // 1-based number of this attempt
	at        time.Time
	status    int // HTTP status, 0 when none
	latency   time.Duration
	outcome   string // delivered, retry, dead, cancelled
	err       string
	nextAt    time.Time
	queueStat string
}

// record writes a batch of attempt outcomes in one transaction.
func (s *Store) record(ctx context.Context, rs []result) error {
	now := stamp(s.now())
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE delivery_queue SET status = $1, attempts = $2, next_at = $3, last_status = $4, last_error = $5, updated_at = $6
				WHERE event_id = $7 AND subscription_id = $8 AND status = $9`,
				r.queueStat, r.attempt, stamp(r.nextAt), r.status, r.err, now, r.event, r.subscription, StatusPending); err != nil {
				return fmt.Errorf("record delivery: %w", err)
			}
		}
		const cols = 9
		for start := 0; start < len(rs); start += 500 {
			chunk := rs[start:min(start+500, len(rs))]
			args := make([]any, 0, len(chunk)*cols)
			for _, r := range chunk {
				args = append(args, r.event, r.subscription, r.partner, r.attempt, stamp(r.at), r.status, r.latency.Milliseconds(), r.outcome, r.err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (event_id, subscription_id, partner_id, attempt, at, status_code, latency_ms, outcome, error)
				VALUES `+s.db.Values(len(chunk), cols), args...); err != nil {
				return fmt.Errorf("record attempt: %w", err)
			}
		}
		return nil
	})
}

// activePartners lists partners with an active subscription.
func (s *Store) activePartners(ctx context.Context) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT partner_id FROM delivery_subscriptions WHERE active = 1 ORDER BY partner_id`)
	if err != nil {
		return nil, fmt.Errorf("active partners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Filter selects deliveries.
type Filter struct {
	Partner string
	Status  string // empty: any
	EventID string
	Limit   int // default 100, at most 1000
}

// Deliveries lists deliveries, newest first. The rows carry ids and codes,
// no personal data.
func (s *Store) Deliveries(ctx context.Context, f Filter) ([]Delivery, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Partner != "" {
		add("partner_id = $%d", f.Partner)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.EventID != "" {
		add("event_id = $%d", f.EventID)
	}
	q := `SELECT event_id, subscription_id, partner_id, event_type, status, attempts, next_at, last_status, last_error, created_at, updated_at FROM delivery_queue`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, min(limit, 1000))
	q += fmt.Sprintf(" ORDER BY updated_at DESC, event_id LIMIT $%d", len(args))
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var next, created, updated string
		if err := rows.Scan(&d.EventID, &d.SubscriptionID, &d.PartnerID, &d.Type, &d.Status, &d.Attempts, &next, &d.LastStatus, &d.LastError, &created, &updated); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		d.NextAt, d.CreatedAt, d.UpdatedAt = parseStamp(next), parseStamp(created), parseStamp(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Counts returns how many deliveries each status holds, for one partner or
// all.
func (s *Store) Counts(ctx context.Context, partner string) (map[string]int, error) {
	q, args := `SELECT status, count(*) FROM delivery_queue GROUP BY status`, []any{}
	if partner != "" {
		q, args = `SELECT status, count(*) FROM delivery_queue WHERE partner_id = $1 GROUP BY status`, []any{partner}
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Replay puts dead letters back in the queue for a fresh series of attempts:
// those of the given event ids, or with all every dead letter of partner.
// It returns how many it requeued.
func (s *Store) Replay(ctx context.Context, partner string, eventIDs []string, all bool) (int, error) {
	if (all && partner == "") || (!all && len(eventIDs) == 0) {
		return 0, ErrReplayTarget
	}
	now := stamp(s.now())
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		requeue := `UPDATE delivery_queue SET status = $1, attempts = 0, next_at = $2, updated_at = $2
			WHERE status = $3 AND subscription_id IN (SELECT id FROM delivery_subscriptions WHERE active = 1)`
		if all {
			var err error
			n, err = execCount(ctx, tx, requeue+` AND partner_id = $4`, StatusPending, now, StatusDead, partner)
			return err
		}
		for _, id := range eventIDs {
			q, args := requeue+` AND event_id = $4`, []any{StatusPending, now, StatusDead, id}
			if partner != "" {
				q, args = q+` AND partner_id = $5`, append(args, partner)
			}
			k, err := execCount(ctx, tx, q, args...)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay dead letters: %w", err)
	}
	return n, nil
}

// Log returns a partner's delivery log, newest first, with ids below before
// (0: from the newest).
func (s *Store) Log(ctx context.Context, partner string, before int64, limit int) ([]Attempt, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q, args := `SELECT id, event_id, subscription_id, partner_id, attempt, at, status_code, latency_ms, outcome, error
		FROM delivery_attempts WHERE partner_id = $1`, []any{partner}
	if before > 0 {
		q, args = q+` AND id < $2`, append(args, before)
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at string
		if err := rows.Scan(&a.ID, &a.EventID, &a.SubscriptionID, &a.PartnerID, &a.Attempt, &at, &a.StatusCode, &a.LatencyMS, &a.Outcome, &a.Error); err != nil {
			return nil, fmt.Errorf("delivery log: %w", err)
		}
		a.At = parseStamp(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Purge deletes delivered and cancelled deliveries, and log lines, last
// changed before before; pending deliveries and dead letters stay. It
// returns how many deliveries it deleted.
func (s *Store) Purge(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = execCount(ctx, tx, `DELETE FROM delivery_queue WHERE status IN ($1, $2) AND updated_at < $3`, StatusDelivered, StatusCancelled, stamp(before))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE at < $1`, stamp(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	return n, nil
}

// execCount runs a statement in tx and returns how many rows it changed.
func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	k, _ := res.RowsAffected()
	return int(k), nil
}
