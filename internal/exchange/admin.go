package exchange

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcclient"
)

// Clients registers OAuth clients with the e-ID provider (the provider's
// client store, *oidcclient.Clients, which exchange does not import).
type Clients interface {
	Add(ctx context.Context, c oidcclient.Client) error
}

// SystemInput registers a new system of a partner.
type SystemInput struct {
	PartnerID string
	ClientID  string // empty: "<partner>-<n>"
	Name      string
	// Scopes the client may ask for; a system that also signs citizens in
	// for consent (authorization code) lists "profile", "address", "pin".
	Scopes []string
	// RedirectURIs, when given, also register the authorization-code grant
	// so the partner's web or mobile app obtains consent tokens.
	RedirectURIs    []string
	CertFingerprint string
	DevMode         bool // http redirect URIs, for trials only
	// JWKS, when given, is the system's public JWK Set: it authenticates
	// with private_key_jwt and no secret is made.
	JWKS        string
	RequirePAR  bool // authorization requests must be pushed first (RFC 9126)
	RequireDPoP bool // tokens must be bound to a key by DPoP (RFC 9449)
}

var clientID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// NewSystem creates an OAuth client for a partner with a fresh secret,
// shown once to the operator, and records it as the partner's system.
func (s *Store) NewSystem(ctx context.Context, clients Clients, in SystemInput) (System, string, error) {
	p, err := s.Partner(ctx, in.PartnerID)
	if err != nil {
		return System{}, "", err
	}
	if in.ClientID == "" {
		systems, err := s.Systems(ctx, p.ID)
		if err != nil {
			return System{}, "", err
		}
		in.ClientID = fmt.Sprintf("%s-%d", p.ID, len(systems)+1)
	}
	if !clientID.MatchString(in.ClientID) {
		return System{}, "", ErrPartnerInvalid.WithField("client_id")
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = p.Name
	}
	// Checked before the client is registered, so a bad fingerprint leaves
	// no client without its system behind.
	if fp := normFingerprint(in.CertFingerprint); fp != "" && !fingerprint.MatchString(fp) {
		return System{}, "", ErrPartnerInvalid.WithField("cert_fingerprint")
	}
	secret := ""
	if in.JWKS == "" {
		secret = oidcclient.NewSecret()
	}
	grants := []string{oidcclient.GrantClientCredentials}
	if len(in.RedirectURIs) > 0 {
		grants = append(grants, oidcclient.GrantAuthorizationCode)
	}
	purpose := "Trao đổi dữ liệu dân cư với " + p.Name
	if len(p.Policy.Purposes) > 0 {
		purpose = p.Policy.Purposes[0].Description
	}
	if err := clients.Add(ctx, oidcclient.Client{ID: in.ClientID, Secret: secret, Name: p.Name, Purpose: purpose, GrantTypes: grants,
		Scopes: in.Scopes, RedirectURIs: in.RedirectURIs, MinLevel: eid.Level1, DevMode: in.DevMode,
		JWKS: in.JWKS, RequirePAR: in.RequirePAR, RequireDPoP: in.RequireDPoP}); err != nil {
		return System{}, "", err
	}
	sys, err := s.AddSystem(ctx, System{ClientID: in.ClientID, PartnerID: p.ID, Name: in.Name, CertFingerprint: in.CertFingerprint})
	if err != nil {
		return System{}, "", err
	}
	return sys, secret, nil
}

// SampleCredential is a bootstrap partner system's client credentials.
type SampleCredential struct {
	PartnerID, PartnerName, ClientID, Secret string
}

// Samples are the partners a fresh platform starts with, to try the
// partner API: a bank, the social-insurance agency (owner of the health
// insurance card and social insurance number schemes), a hospital and the
// labour and social-affairs agency (the funeral allowance).
func Samples() []Partner {
	basic := []string{"pin", "full_name", "birth_date", "sex", "permanent_address"}
	return []Partner{
		{ID: "nganhang-a", Name: "Ngân hàng TMCP Mẫu A", Kind: KindBank, Policy: Policy{
			Operations: []Operation{OpVerify, OpLookup, OpSectorResolve, OpSubscribe, OpReconcile},
			Fields:     append(append([]string{}, basic...), "status"),
			Purposes: []Purpose{
				{Code: "account-opening", Description: "Mở tài khoản thanh toán (định danh khách hàng điện tử - eKYC)", Basis: BasisConsent},
				{Code: "aml-cdd", Description: "Nhận biết và cập nhật thông tin khách hàng (phòng, chống rửa tiền)", Basis: BasisLaw,
					Citation: "Luật Phòng, chống rửa tiền số 14/2022/QH15, Điều 9 và 10", Fields: []string{"full_name", "birth_date", "status"}},
			},
			RatePerSecond: 5000, Burst: 5000, DailyQuota: 5_000_000}},
		{ID: "bhxh", Name: "Bảo hiểm xã hội Việt Nam", Kind: KindInsurance, Policy: Policy{
			Operations: []Operation{OpVerify, OpLookup, OpSectorWrite, OpSectorResolve, OpSubscribe, OpReconcile},
			Fields:     append(append([]string{}, basic...), "status", "death_date", "sector_id.health_insurance_card", "sector_id.social_insurance_no"),
			Purposes: []Purpose{
				{Code: "health-insurance", Description: "Cấp, gia hạn thẻ bảo hiểm y tế và giải quyết chế độ bảo hiểm", Basis: BasisLaw,
					Citation: "Luật Bảo hiểm y tế số 25/2008/QH12 (sửa đổi 2024), Điều 16; Nghị định 13/2023/NĐ-CP, Điều 17"},
			},
			RatePerSecond: 5000, Burst: 5000}},
		{ID: "bv-bachmai", Name: "Bệnh viện Bạch Mai", Kind: KindHospital, Policy: Policy{
			Operations: []Operation{OpVerify, OpLookup, OpSectorResolve, OpSubscribe},
			Fields:     []string{"full_name", "birth_date", "sex", "permanent_address", "sector_id.health_insurance_card"},
			Purposes: []Purpose{
				{Code: "insured-treatment", Description: "Khám bệnh, chữa bệnh có bảo hiểm y tế (kiểm tra thẻ bảo hiểm y tế)", Basis: BasisLaw,
					Citation: "Luật Bảo hiểm y tế số 25/2008/QH12, Điều 28", Fields: []string{"full_name", "birth_date", "sex", "sector_id.health_insurance_card"}},
				{Code: "patient-registration", Description: "Đăng ký khám bệnh trực tuyến", Basis: BasisConsent},
			},
			RatePerSecond: 1000, Burst: 1000, DailyQuota: 1_000_000}},
		// The labour and social-affairs agency pays the funeral allowance
		// of the death bundle (liên thông, Decree 63/2024).
		{ID: "ldtbxh", Name: "Sở Lao động - Thương binh và Xã hội (mẫu)", Kind: KindMinistry, Policy: Policy{
			Operations: []Operation{OpVerify, OpSubscribe},
			Fields:     append(append([]string{}, basic...), "status", "death_date"),
			Purposes: []Purpose{
				{Code: "funeral-allowance", Description: "Giải quyết trợ cấp mai táng phí (hồ sơ liên thông khai tử)", Basis: BasisLaw,
					Citation: "Nghị định 63/2024/NĐ-CP; Nghị định 20/2021/NĐ-CP, Điều 11"},
			},
			RatePerSecond: 1000, Burst: 1000}},
	}
}

// SampleSchemes are the sector identifier schemes of the samples.
func SampleSchemes() []Scheme {
	return []Scheme{
		{Code: "health_insurance_card", Name: "Mã thẻ bảo hiểm y tế", OwnerID: "bhxh", Pattern: `[A-Z]{2}[0-9]{13}`},
		{Code: "social_insurance_no", Name: "Mã số bảo hiểm xã hội", OwnerID: "bhxh", Pattern: `[0-9]{10}`},
	}
}

// Bootstrap creates the sample partners, their schemes and one system each
// when there is no partner yet, and returns the systems' credentials.
func (s *Store) Bootstrap(ctx context.Context, clients Clients) ([]SampleCredential, error) {
	existing, err := s.Partners(ctx)
	if err != nil || len(existing) > 0 {
		return nil, err
	}
	var out []SampleCredential
	for _, p := range Samples() {
		if _, err := s.AddPartner(ctx, p); err != nil {
			return nil, fmt.Errorf("sample partner %s: %w", p.ID, err)
		}
	}
	for _, sc := range SampleSchemes() {
		if err := s.AddScheme(ctx, sc); err != nil {
			return nil, fmt.Errorf("sample scheme %s: %w", sc.Code, err)
		}
	}
	for _, p := range Samples() {
		sys, secret, err := s.NewSystem(ctx, clients, SystemInput{PartnerID: p.ID, ClientID: p.ID + "-system", Name: "Hệ thống nghiệp vụ " + p.Name})
		if errors.Is(err, oidcclient.ErrClientExists) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sample system %s: %w", p.ID, err)
		}
		out = append(out, SampleCredential{PartnerID: p.ID, PartnerName: p.Name, ClientID: sys.ClientID, Secret: secret})
	}
	return out, nil
}
