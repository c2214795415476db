package services

import (
	"context"
)

// NoticeFacts are what a notification about a dossier says: whose it is
// (the natural person who filed it, also for an organisation), the
// procedure, the fee, the due date and the officer's reason. The
// notification module reads them when a dossier event arrives; the events
// themselves carry no personal data.
type NoticeFacts struct {
	Code         string
	OwnerPIN     string
	Procedure    Text
	Status       Status
	Fee          int64
	Due          string // YYYY-MM-DD, Vietnam's, or ""
	Reason       string
	Organisation string // the organisation's name when filed for one
}

// NoticeOf reads a dossier's facts for the filer's own notification. It is
// a system read on behalf of the filer (to tell them), not an officer's
// read of their data, so it is not audited.
func (s *Service) NoticeOf(ctx context.Context, code string) (NoticeFacts, error) {
	d, err := s.load(ctx, code)
	if err != nil {
		return NoticeFacts{}, err
	}
	n := NoticeFacts{Code: d.Code, OwnerPIN: d.OwnerPIN, Status: d.Status, Fee: d.Fee, Due: d.Due, Reason: d.Reason}
	if p, err := s.d.Catalogue.Get(ctx, d.Procedure); err == nil {
		n.Procedure = p.Name
	} else {
		n.Procedure = Text{VI: d.Procedure, EN: d.Procedure}
	}
	if d.Organisation != nil {
		n.Organisation = d.Organisation.Name
	}
	return n, nil
}
