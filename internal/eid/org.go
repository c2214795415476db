package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// Organisation kinds. A company is known by its tax code (mã số thuế: 10
// digits, or 13 with a "-NNN" branch suffix); an agency by its budget unit
// code (mã đơn vị có quan hệ với ngân sách: 7 digits).
const (
	OrgCompany = "company"
	OrgAgency  = "agency"
)

// Roles of the people who act for an organisation. Representatives are the
// legal representatives (người đại diện theo pháp luật), registered by a
// registrar or admin; the other roles are delegated by a representative.
const (
	RoleRepresentative = "representative"
	RoleManager        = "manager"
	RoleAccountant     = "accountant"
	RoleStaff          = "staff"
)

// DelegableRoles are the roles a representative may delegate.
var DelegableRoles = []string{RoleManager, RoleAccountant, RoleStaff}

// maxDelegation bounds a delegation's lifetime; a longer one is renewed.
const maxDelegation = 5 * 365 * 24 * time.Hour

// Org is an organisation account.
type Org struct {
	ID, Kind, Code, Name string
	Created              time.Time
}

// Membership is one person's right to act for an organisation: as its
// representative or by a delegation with a role and an expiry.
type Membership struct {
	ID        string
	Org       Org
	PIN       string
	Role      string
	GrantedBy string // actor id: "staff:…" for representatives, "citizen:<PIN>" for delegations
	Granted   time.Time
	Expires   time.Time // zero: none (representatives)
	Revoked   time.Time // zero: in force
}

// Active reports whether the membership lets its holder act at now.
func (m Membership) Active(now time.Time) bool {
	return m.Revoked.IsZero() && (m.Expires.IsZero() || now.Before(m.Expires))
}

// OrgInput registers an organisation with its first legal representative.
type OrgInput struct {
	Kind, Code, Name  string
	RepresentativePIN string
}

// Organisation faults.
var (
	ErrOrgKind            = fault.New(fault.Invalid, "eid.org_kind", "Loại tổ chức phải là doanh nghiệp hoặc cơ quan.", "The organisation kind is company or agency.")
	ErrOrgCode            = fault.New(fault.Invalid, "eid.org_code", "Mã số thuế (10 chữ số, hoặc 10 chữ số và -NNN cho chi nhánh) hoặc mã đơn vị quan hệ ngân sách (7 chữ số) không hợp lệ.", "The tax code (10 digits, or 10 digits and -NNN for a branch) or budget unit code (7 digits) is not valid.")
	ErrOrgName            = fault.New(fault.Invalid, "eid.org_name", "Tên tổ chức là bắt buộc, tối đa 200 ký tự.", "The organisation name is required, at most 200 characters.")
	ErrOrgExists          = fault.New(fault.Conflict, "eid.org_exists", "Tổ chức với mã này đã được đăng ký.", "An organisation with this code is already registered.")
	ErrOrgNotFound        = fault.New(fault.NotFound, "eid.org_not_found", "Không tìm thấy tổ chức.", "No such organisation.")
	ErrOrgStaffRequired   = fault.New(fault.Forbidden, "eid.org_staff_required", "Chỉ cán bộ đăng ký hoặc quản trị mới được đăng ký tổ chức và người đại diện.", "Only a registrar or an admin registers organisations and their representatives.")
	ErrRepresentative     = fault.New(fault.Invalid, "eid.org_representative_level2", "Người đại diện theo pháp luật phải có tài khoản định danh điện tử mức 2 đang hoạt động.", "A legal representative must hold an active level-2 electronic ID account.")
	ErrNotRepresentative  = fault.New(fault.Forbidden, "eid.org_not_representative", "Chỉ người đại diện theo pháp luật của tổ chức mới được ủy quyền.", "Only a legal representative of the organisation may delegate.")
	ErrDelegateLevel2     = fault.New(fault.Forbidden, "eid.org_level2_session", "Ủy quyền thay mặt tổ chức cần đăng nhập mức 2 (mật khẩu và mã xác thực, hoặc khóa truy cập).", "Delegating for an organisation needs a level-2 sign-in (password and authenticator code, or a passkey).")
	ErrDelegateRole       = fault.New(fault.Invalid, "eid.org_role", "Vai trò ủy quyền không hợp lệ.", "The delegated role is not valid.")
	ErrDelegateExpiry     = fault.New(fault.Invalid, "eid.org_expiry", "Thời hạn ủy quyền phải sau hôm nay và không quá 5 năm.", "A delegation expires after today and within 5 years.")
	ErrDelegateNoAccount  = fault.New(fault.Invalid, "eid.org_delegate_no_account", "Người được ủy quyền phải có tài khoản định danh điện tử đang hoạt động.", "The delegate must hold an active electronic ID account.")
	ErrDelegateSelf       = fault.New(fault.Invalid, "eid.org_delegate_self", "Không thể tự ủy quyền cho chính mình.", "You cannot delegate to yourself.")
	ErrAlreadyMember      = fault.New(fault.Conflict, "eid.org_already_member", "Người này đang có quyền thay mặt tổ chức; hãy thu hồi trước khi ủy quyền lại.", "This person can already act for the organisation; revoke that first.")
	ErrDelegationNotFound = fault.New(fault.NotFound, "eid.org_delegation_not_found", "Không tìm thấy ủy quyền đang hiệu lực.", "No such delegation in force.")
	ErrNotActing          = fault.New(fault.Forbidden, "eid.org_not_delegated", "Bạn không có quyền thay mặt tổ chức này, hoặc ủy quyền đã hết hạn hay bị thu hồi.", "You may not act for this organisation, or the delegation expired or was revoked.")
)

var (
	taxCodeRE    = regexp.MustCompile(`^[0-9]{10}(-[0-9]{3})?$`)
	budgetCodeRE = regexp.MustCompile(`^[0-9]{7}$`)
)

func checkOrg(in OrgInput) (OrgInput, error) {
	in.Kind, in.Code, in.Name = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Code), strings.Join(strings.Fields(in.Name), " ")
	switch in.Kind {
	case OrgCompany:
		if !taxCodeRE.MatchString(in.Code) {
			return in, ErrOrgCode.WithField("code")
		}
	case OrgAgency:
		if !budgetCodeRE.MatchString(in.Code) {
			return in, ErrOrgCode.WithField("code")
		}
	default:
		return in, ErrOrgKind.WithField("kind")
	}
	// Names come from a form: valid UTF-8 without control characters
	// (PostgreSQL refuses NUL and invalid UTF-8 in text).
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 || !utf8.ValidString(in.Name) || strings.IndexFunc(in.Name, unicode.IsControl) >= 0 {
		return in, ErrOrgName.WithField("name")
	}
	return in, nil
}

// RegisterOrg registers an organisation and its first legal representative,
// a citizen with an active level-2 account. Registrars and admins do it
// after checking the business or agency registration.
func (s *Service) RegisterOrg(ctx context.Context, a actor.Actor, in OrgInput) (Org, error) {
	if a.Role != actor.Registrar && a.Role != actor.Admin {
		return Org{}, ErrOrgStaffRequired
	}
	in, err := checkOrg(in)
	if err != nil {
		return Org{}, err
	}
	pin := strings.TrimSpace(in.RepresentativePIN)
	if err := s.checkRepresentative(ctx, pin); err != nil {
		return Org{}, err
	}
	o := Org{ID: storage.NewID(), Kind: in.Kind, Code: in.Code, Name: in.Name, Created: s.now()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO eid_orgs (id, kind, code, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			o.ID, o.Kind, o.Code, o.Name, a.ID, s.stamp())
		if storage.IsUniqueViolation(err) {
			return ErrOrgExists.WithField("code")
		}
		if err != nil {
			return err
		}
		return s.addMember(ctx, tx, o.ID, pin, RoleRepresentative, a.ID, time.Time{}, ActionRepresentativeAdded)
	})
	if err != nil {
		return Org{}, fmt.Errorf("register organisation: %w", err)
	}
	s.log.Info("eid organisation registered", "code", "eid.org_registered")
	return o, nil
}

// AddRepresentative registers a further legal representative.
func (s *Service) AddRepresentative(ctx context.Context, a actor.Actor, orgID, pin string) error {
	if a.Role != actor.Registrar && a.Role != actor.Admin {
		return ErrOrgStaffRequired
	}
	pin = strings.TrimSpace(pin)
	if _, err := s.Org(ctx, orgID); err != nil {
		return err
	}
	if err := s.checkRepresentative(ctx, pin); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		return s.addMember(ctx, tx, orgID, pin, RoleRepresentative, a.ID, time.Time{}, ActionRepresentativeAdded)
	})
}

func (s *Service) checkRepresentative(ctx context.Context, pin string) error {
	acct, err := s.Account(ctx, pin)
	if errors.Is(err, ErrNoAccount) || (err == nil && (acct.Level < Level2 || acct.Status != StatusActive)) {
		return ErrRepresentative.WithField("representative_pin")
	}
	return err
}

// addMember inserts a membership unless the person already holds one in
// force in the organisation, and audits it under the person.
func (s *Service) addMember(ctx context.Context, tx *sql.Tx, orgID, pin, role, by string, expires time.Time, action string) error {
	now := s.now()
	rows, err := tx.QueryContext(ctx, `SELECT expires_at FROM eid_org_members WHERE org_id = $1 AND pin = $2 AND revoked_at = ''`, orgID, pin)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var exp string
		if err := rows.Scan(&exp); err != nil {
			return err
		}
		if t := parseTime(exp); t.IsZero() || now.Before(t) {
			return ErrAlreadyMember
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	expStr := ""
	if !expires.IsZero() {
		expStr = expires.UTC().Format(time.RFC3339Nano)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO eid_org_members (id, org_id, pin, role, granted_by, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		storage.NewID(), orgID, pin, role, by, s.stamp(), expStr); err != nil {
		return err
	}
	return s.auditTx(ctx, tx, by, action, pin, "org:"+orgID+" role:"+role)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Org returns an organisation.
func (s *Service) Org(ctx context.Context, id string) (Org, error) {
	var o Org
	var created string
	err := s.db.R.QueryRowContext(ctx, `SELECT id, kind, code, name, created_at FROM eid_orgs WHERE id = $1`, id).Scan(&o.ID, &o.Kind, &o.Code, &o.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Org{}, ErrOrgNotFound
	}
	if err != nil {
		return Org{}, fmt.Errorf("load organisation: %w", err)
	}
	o.Created = parseTime(created)
	return o, nil
}

const memberColumns = `m.id, m.pin, m.role, m.granted_by, m.granted_at, m.expires_at, m.revoked_at, o.id, o.kind, o.code, o.name, o.created_at`

func (s *Service) members(ctx context.Context, where string, args ...any) ([]Membership, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+memberColumns+` FROM eid_org_members m JOIN eid_orgs o ON o.id = m.org_id WHERE `+where+` ORDER BY m.granted_at DESC, m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var granted, expires, revoked, created string
		if err := rows.Scan(&m.ID, &m.PIN, &m.Role, &m.GrantedBy, &granted, &expires, &revoked, &m.Org.ID, &m.Org.Kind, &m.Org.Code, &m.Org.Name, &created); err != nil {
			return nil, fmt.Errorf("load memberships: %w", err)
		}
		m.Granted, m.Expires, m.Revoked, m.Org.Created = parseTime(granted), parseTime(expires), parseTime(revoked), parseTime(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Memberships lists the organisations a person may act for now, with the
// role. Callers show it to the person only.
func (s *Service) Memberships(ctx context.Context, pin string) ([]Membership, error) {
	all, err := s.members(ctx, `m.pin = $1 AND m.revoked_at = ''`, pin)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := all[:0]
	for _, m := range all {
		if m.Active(now) {
			out = append(out, m)
		}
	}
	return out, nil
}

// isRepresentative reports whether pin is a representative in force of org.
func (s *Service) isRepresentative(ctx context.Context, orgID, pin string) (bool, error) {
	ms, err := s.members(ctx, `m.org_id = $1 AND m.pin = $2 AND m.role = $3 AND m.revoked_at = ''`, orgID, pin, RoleRepresentative)
	if err != nil {
		return false, err
	}
	now := s.now()
	for _, m := range ms {
		if m.Active(now) {
			return true, nil
		}
	}
	return false, nil
}

// OrgMembers lists everyone who may or could act for an organisation,
// revoked and expired delegations included, for its representatives.
func (s *Service) OrgMembers(ctx context.Context, by Session, orgID string) ([]Membership, error) {
	ok, err := s.isRepresentative(ctx, orgID, by.PIN)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotRepresentative
	}
	return s.members(ctx, `m.org_id = $1`, orgID)
}

// mayDelegate checks that by is a representative of org signed in at level
// 2 on a level-2 account: delegating gives others the power to act for the
// organisation, so it needs the highest assurance.
func (s *Service) mayDelegate(ctx context.Context, by Session, orgID string) error {
	if _, err := s.Org(ctx, orgID); err != nil {
		return err
	}
	ok, err := s.isRepresentative(ctx, orgID, by.PIN)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotRepresentative
	}
	acct, err := s.Account(ctx, by.PIN)
	if err != nil {
		return err
	}
	if acct.Status != StatusActive {
		return ErrNoSession
	}
	if by.Level < Level2 || acct.Level < Level2 {
		return ErrDelegateLevel2
	}
	return nil
}

// Delegate lets another citizen with an e-ID account act for the
// organisation in a role until expires.
func (s *Service) Delegate(ctx context.Context, by Session, orgID, pin, role string, expires time.Time) (Membership, error) {
	if err := s.mayDelegate(ctx, by, orgID); err != nil {
		return Membership{}, err
	}
	pin = strings.TrimSpace(pin)
	if !slices.Contains(DelegableRoles, role) {
		return Membership{}, ErrDelegateRole.WithField("role")
	}
	now := s.now()
	if !expires.After(now) || expires.Sub(now) > maxDelegation {
		return Membership{}, ErrDelegateExpiry.WithField("expires")
	}
	if pin == by.PIN {
		return Membership{}, ErrDelegateSelf.WithField("pin")
	}
	if acct, err := s.Account(ctx, pin); err != nil || acct.Status != StatusActive {
		if err != nil && !errors.Is(err, ErrNoAccount) {
			return Membership{}, err
		}
		return Membership{}, ErrDelegateNoAccount.WithField("pin")
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		return s.addMember(ctx, tx, orgID, pin, role, "citizen:"+by.PIN, expires, ActionDelegationGranted)
	})
	if err != nil {
		return Membership{}, fmt.Errorf("delegate: %w", err)
	}
	s.log.Info("eid delegation granted", "code", "eid.delegation_granted")
	ms, err := s.members(ctx, `m.org_id = $1 AND m.pin = $2 AND m.revoked_at = ''`, orgID, pin)
	if err != nil || len(ms) == 0 {
		return Membership{}, fmt.Errorf("delegate: reload: %w", err)
	}
	return ms[0], nil
}

// RevokeDelegation ends a delegation at once; a representative's own
// membership is not revoked this way (a registrar does that).
func (s *Service) RevokeDelegation(ctx context.Context, by Session, orgID, memberID string) error {
	if err := s.mayDelegate(ctx, by, orgID); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var pin string
		err := tx.QueryRowContext(ctx, `SELECT pin FROM eid_org_members WHERE id = $1 AND org_id = $2 AND role <> $3 AND revoked_at = ''`+s.db.ForUpdate(),
			memberID, orgID, RoleRepresentative).Scan(&pin)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrDelegationNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE eid_org_members SET revoked_at = $1, revoked_by = $2 WHERE id = $3`, s.stamp(), "citizen:"+by.PIN, memberID); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, "citizen:"+by.PIN, ActionDelegationRevoked, pin, "org:"+orgID)
	})
	if err != nil {
		return fmt.Errorf("revoke delegation: %w", err)
	}
	s.log.Info("eid delegation revoked", "code", "eid.delegation_revoked")
	return nil
}

// ActingAs returns the membership a person acts under, if it is theirs and
// in force now and their account is active; otherwise ErrNotActing. The
// OpenID provider calls it when the citizen chooses an organisation and
// again at every token refresh, so a revoked or expired delegation stops
// working at the next refresh.
func (s *Service) ActingAs(ctx context.Context, pin, memberID string) (Membership, error) {
	ms, err := s.members(ctx, `m.id = $1 AND m.pin = $2`, memberID, pin)
	if err != nil {
		return Membership{}, err
	}
	if len(ms) != 1 || !ms[0].Active(s.now()) {
		return Membership{}, ErrNotActing
	}
	if acct, err := s.Account(ctx, pin); err != nil || acct.Status != StatusActive {
		return Membership{}, ErrNotActing
	}
	return ms[0], nil
}
