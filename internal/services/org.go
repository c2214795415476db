package services

import (
	"context"
	"strings"

	"github.com/dancu-project/dancu/internal/fault"
)

// Organisation is an organisation a dossier is filed for (a company by its
// tax code, an agency by its budget unit code), as the e-ID's organisation
// accounts know it, with the role in which the natural person acts.
type Organisation struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // "company" or "agency"
	Code string `json:"code"` // tax code or budget unit code
	Name string `json:"name"`
	Role string `json:"role,omitempty"` // the filer's role: representative, manager, accountant, staff
}

// Orgs says for which organisations a person may act now: as a legal
// representative in force or by a delegation in force (the e-ID's
// organisation accounts, the "org" scope). An adapter over *eid.Service in
// the composition root.
type Orgs interface {
	ActFor(ctx context.Context, pin, orgID string) (Organisation, error)
	// Acting lists the organisations pin may act for now.
	Acting(ctx context.Context, pin string) ([]Organisation, error)
}

// Prefill sources of an organisation's data, filled when the dossier is
// filed for one (empty otherwise).
const (
	FromOrgName = "org.name"
	FromOrgCode = "org.code"
	FromOrgKind = "org.kind"
)

// Faults of filing for an organisation. Their codes are part of the API.
var (
	ErrNotForOrg = fault.New(fault.Forbidden, "dossier.org_not_acting",
		"Bạn không phải người đại diện theo pháp luật hoặc người được ủy quyền đang hiệu lực của tổ chức này.",
		"You are not a legal representative or a delegate in force of this organisation.")
	ErrOrgProcedure = fault.New(fault.Invalid, "dossier.org_procedure",
		"Thủ tục này chỉ dành cho cá nhân, tổ chức không nộp được.",
		"This procedure is for individuals; an organisation cannot file it.")
)

// actFor is the one rule of filing for an organisation: the filer is its
// legal representative or a delegate in force, now. It is checked before
// anything else of the request (the procedure, the idempotency key, the
// form), and an organisation the filer may not act for answers like an
// unknown one.
func (s *Service) actFor(ctx context.Context, f Filer, orgID string) (*Organisation, error) {
	orgID = strings.TrimSpace(orgID)
	if orgID == "" {
		return nil, nil
	}
	if s.d.Orgs == nil || len(orgID) > 64 {
		return nil, ErrNotForOrg
	}
	o, err := s.d.Orgs.ActFor(ctx, f.PIN, orgID)
	if err != nil {
		if fe := fault.As(err); fe.Kind == fault.Forbidden || fe.Kind == fault.NotFound {
			return nil, ErrNotForOrg
		}
		return nil, err
	}
	return &o, nil
}

// ActingFor lists the organisations the filer may file for now.
func (s *Service) ActingFor(ctx context.Context, f Filer) ([]Organisation, error) {
	if s.d.Orgs == nil {
		return []Organisation{}, nil
	}
	os, err := s.d.Orgs.Acting(ctx, f.PIN)
	if os == nil {
		os = []Organisation{}
	}
	return os, err
}

// orgPrefill adds what the organisation account asserts to the register's
// prefill.
func orgPrefill(pre map[string]string, o *Organisation) map[string]string {
	if o != nil {
		pre[FromOrgName], pre[FromOrgCode], pre[FromOrgKind] = o.Name, o.Code, o.Kind
	}
	return pre
}

// FormFor is Form for a dossier filed for an organisation: the
// organisation's data is pre-filled with the filer's own.
func (s *Service) FormFor(ctx context.Context, f Filer, code, orgID string) (Procedure, map[string]string, error) {
	org, err := s.actFor(ctx, f, orgID)
	if err != nil {
		return Procedure{}, nil, err
	}
	p, err := s.procedureFor(ctx, f, code)
	if err != nil {
		return Procedure{}, nil, err
	}
	if org != nil && !p.Organisations {
		return Procedure{}, nil, ErrOrgProcedure
	}
	person, err := s.d.Register.Get(ctx, f.actor(), f.PIN, "dossier-prefill")
	if err != nil {
		return Procedure{}, nil, err
	}
	pre := orgPrefill(Prefill(person), org)
	vals := map[string]string{}
	for _, fl := range p.Fields {
		if fl.Prefill != "" {
			vals[fl.Name] = pre[fl.Prefill]
		}
	}
	return p, vals, nil
}
