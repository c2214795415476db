package services

import (
	"context"

	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
)

// The citizen's reads the portal's pages need beyond the dossier API: a
// dry run of a submission (the review step before signing), the papers
// in the filer's store they may reuse, and one of them to download.

// Check runs every check Submit runs, in the same order (the procedure and
// the e-ID level first, then the form against the register, the documents
// picked from the store and the uploads' contents), and writes nothing: the
// review step shows the filer what they will sign, or the same field
// errors Submit would give. It returns the form as it would be filed (the
// register's values in the locked fields).
func (s *Service) Check(ctx context.Context, f Filer, r SubmitRequest) (map[string]string, error) {
	p, err := s.procedureFor(ctx, f, r.Procedure)
	if err != nil {
		return nil, err
	}
	person, err := s.d.Register.Get(ctx, f.actor(), f.PIN, "dossier-prefill")
	if err != nil {
		return nil, err
	}
	form, ferr := ValidateForm(p, r.Form, Prefill(person), s.d.Units, s.d.Now())
	_, _, derr := s.attachments(ctx, f, p, r)
	switch {
	case ferr != nil && derr != nil:
		return nil, joinFaults(ferr, derr)
	case ferr != nil:
		return nil, ferr
	case derr != nil:
		return nil, derr
	}
	return form, nil
}

// joinFaults puts the faults of two checks in one list, so the filer sees
// every field at fault at once.
func joinFaults(errs ...error) error {
	var l fault.List
	for _, err := range errs {
		for _, f := range fault.Faults(err) {
			l.Add(f.Field, f)
		}
	}
	return l.Err()
}

// MyDocuments lists the filer's documents, newest first, without their
// bytes: the results and digitized papers of earlier dossiers and their
// uploads, any of which a new dossier may reuse.
func (s *Service) MyDocuments(ctx context.Context, f Filer) ([]document.Document, error) {
	return s.d.Documents.ListByOwner(ctx, pin.PIN(f.PIN))
}

// MyDocument returns one of the filer's documents with its bytes; another
// person's answers as an unknown one.
func (s *Service) MyDocument(ctx context.Context, f Filer, id string) (document.Document, error) {
	d, err := s.d.Documents.Get(ctx, id)
	if err != nil || string(d.OwnerPIN) != f.PIN {
		return document.Document{}, document.ErrNotFound
	}
	return d, nil
}
