package stay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
)

// Property is a partner's lodging (hotel, hospital, dormitory) as an
// administrator registers it; the partner then reports its guests through
// the partner API (routes under /stay/properties/{id}).
type Property struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	PartnerID string `json:"partner_id"`
	Commune   string `json:"commune_code"`
	Address   string `json:"address,omitempty"`
	// Province is the commune's, filled in by RegisterProperty.
	Province string `json:"province_code"`
}

// PropertyRules are what registering a property checks against outside
// the stay tables.
type PropertyRules struct {
	// Partners give the owning partner and its policy (*exchange.Store).
	Partners interface {
		Partner(ctx context.Context, id string) (exchange.Partner, error)
	}
	// Province gives the province of a commune that exists today, false
	// for an unknown code (adminunit.Catalog.CommuneProvince).
	Province func(commune string) (string, bool)
}

// Faults of a property's registration; their codes are part of the API.
var (
	ErrPropertyID      = fault.New(fault.Invalid, "stay.property_id", "Mã cơ sở gồm 2–64 chữ thường không dấu, số, '-' và '_', không bắt đầu bằng 'hh-'.", "A property id has 2–64 lower-case letters, digits, '-' and '_', and does not start with 'hh-'.")
	ErrPropertyKind    = fault.New(fault.Invalid, "stay.property_kind", "Loại cơ sở phải là khách sạn, bệnh viện hoặc ký túc xá.", "The kind must be hotel, hospital or dormitory.")
	ErrPropertyName    = fault.New(fault.Invalid, "stay.property_name", "Thiếu tên cơ sở (tối đa 200 ký tự).", "The property's name is missing or longer than 200 characters.")
	ErrPropertyAddress = fault.New(fault.Invalid, "stay.property_address", "Địa chỉ quá dài (tối đa 300 ký tự).", "The address is longer than 300 characters.")
	ErrPropertyCommune = fault.New(fault.Invalid, "stay.property_commune", "Không có xã, phường với mã này.", "No commune has this code.")
	ErrPropertyPartner = fault.New(fault.Invalid, "stay.property_partner", "Không có đối tác này, hoặc đối tác đã bị khoá.", "No such partner, or the partner is disabled.")
	ErrPropertyPolicy  = fault.New(fault.Invalid, "stay.property_policy", "Chính sách của đối tác không cho phép thông báo lưu trú (thao tác 'stay').", "The partner's policy does not allow stay notifications (operation 'stay').")
	ErrPropertyScope   = fault.New(fault.Invalid, "stay.property_scope", "Xã, phường của cơ sở nằm ngoài địa bàn trong chính sách của đối tác.", "The property's commune is outside the partner's policy scope.")
	ErrPropertyTaken   = fault.New(fault.Conflict, "stay.property_taken", "Mã cơ sở này đã dùng cho cơ sở của đối tác khác hoặc một hộ gia đình.", "This id is already used by another partner's property or a household.")
	ErrPropertyAdmin   = fault.New(fault.Forbidden, "stay.property_admin", "Chỉ quản trị viên cấp quốc gia mới đăng ký cơ sở lưu trú của đối tác.", "Only national administrators register partners' properties.")
)

var propertyIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,63}$`)

// mayManage is the one rule of who registers and lists properties: a
// national administrator, or the operator's shell (system:cli).
func mayManage(a actor.Actor) bool {
	return (a.Role == actor.Admin && a.Level() == actor.LevelNational) || a.ID == actor.SystemActor("cli").ID
}

// RegisterProperty registers (or updates) a partner's property for actor
// a. The actor is checked first; then every field, each refusal with its
// field; then the partner: it exists, is enabled, its policy allows the
// operation "stay" and its scope covers the commune — a property the
// partner could never report for is refused here rather than at its first
// report. An id of another partner's property or of a household is
// refused. The registration is audited.
func (s *Service) RegisterProperty(ctx context.Context, a actor.Actor, rules PropertyRules, p Property) (Property, error) {
	if !mayManage(a) {
		return Property{}, ErrPropertyAdmin
	}
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.Join(strings.Fields(p.Name), " ")
	p.Address = strings.Join(strings.Fields(p.Address), " ")
	p.Commune = strings.TrimSpace(p.Commune)
	p.PartnerID = strings.TrimSpace(p.PartnerID)
	var problems fault.List
	if !propertyIDRE.MatchString(p.ID) || strings.HasPrefix(p.ID, "hh-") {
		problems.Add("id", ErrPropertyID)
	}
	switch p.Kind {
	case Hotel, Hospital, Dormitory:
	default:
		problems.Add("kind", ErrPropertyKind)
	}
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 200 || !utf8.ValidString(p.Name) {
		problems.Add("name", ErrPropertyName)
	}
	if utf8.RuneCountInString(p.Address) > 300 || !utf8.ValidString(p.Address) {
		problems.Add("address", ErrPropertyAddress)
	}
	province, ok := "", false
	if len(p.Commune) == 5 {
		province, ok = rules.Province(p.Commune)
	}
	if !ok {
		problems.Add("commune", ErrPropertyCommune)
	}
	partner, err := rules.Partners.Partner(ctx, p.PartnerID)
	switch {
	case p.PartnerID == "" || errors.Is(err, exchange.ErrPartnerNotFound) || (err == nil && partner.Disabled):
		problems.Add("partner_id", ErrPropertyPartner)
	case err != nil:
		return Property{}, fmt.Errorf("property's partner: %w", err)
	case !partner.Policy.Allows(exchange.OpStay):
		problems.Add("partner_id", ErrPropertyPolicy)
	case ok && !(actor.Actor{Unit: partner.Policy.Scope}).Covers(province, p.Commune):
		problems.Add("commune", ErrPropertyScope)
	}
	if err := problems.Err(); err != nil {
		return Property{}, err
	}
	p.Province = province
	old, err := s.host(ctx, p.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Property{}, err
	case old.PartnerID != p.PartnerID:
		return Property{}, ErrPropertyTaken.WithField("id")
	}
	if err := s.AddHost(ctx, Host{ID: p.ID, Kind: p.Kind, Name: p.Name, PartnerID: p.PartnerID, Province: p.Province, Commune: p.Commune, Address: p.Address}); err != nil {
		return Property{}, err
	}
	if err := s.audit.RecordAll(ctx, []audit.Entry{{Actor: a.ID, Action: "stay.property", Subject: "partner:" + p.PartnerID,
		Purpose: "administration", Detail: "property " + p.ID + " kind " + p.Kind + " commune " + p.Commune}}); err != nil {
		return Property{}, fmt.Errorf("audit property: %w", err)
	}
	return p, nil
}

// Properties lists the partners' properties (one partner's when partner
// is set), by partner and id, for actor a (mayManage).
func (s *Service) Properties(ctx context.Context, a actor.Actor, partner string) ([]Property, error) {
	if !mayManage(a) {
		return nil, ErrPropertyAdmin
	}
	q := `SELECT id, kind, name, partner_id, province, commune, address FROM stay_hosts WHERE partner_id <> ''`
	args := []any{}
	if partner != "" {
		q += ` AND partner_id = $1`
		args = append(args, partner)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY partner_id, id LIMIT 5000`, args...)
	if err != nil {
		return nil, fmt.Errorf("list properties: %w", err)
	}
	defer rows.Close()
	var out []Property
	for rows.Next() {
		var p Property
		if err := rows.Scan(&p.ID, &p.Kind, &p.Name, &p.PartnerID, &p.Province, &p.Commune, &p.Address); err != nil {
			return nil, fmt.Errorf("list properties: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
