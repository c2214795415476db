package eid

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dancu-project/dancu/internal/audit"
)

// Audit actions of eid's own acts that concern a person. They go to the
// audit log with the person as subject, so the citizen's history in the
// portal shows who activated, locked or reset their account, and when they
// added a passkey, gave or withdrew a consent, or were delegated to act for
// an organisation.
const (
	ActionEnrolled            = "eid.enrolled"
	ActionLevel2Activated     = "eid.level2_activated"
	ActionTOTPEnrolled        = "eid.totp_enrolled"
	ActionTOTPConfirmed       = "eid.totp_confirmed"
	ActionLocked              = "eid.locked"
	ActionUnlocked            = "eid.unlocked"
	ActionReset               = "eid.reset"
	ActionRevoked             = "eid.revoked"
	ActionConsentGranted      = "eid.consent_granted"
	ActionConsentWithdrawn    = "eid.consent_withdrawn"
	ActionPasskeyAdded        = "eid.passkey_added"
	ActionPasskeyRemoved      = "eid.passkey_removed"
	ActionRepresentativeAdded = "eid.representative_added"
	ActionDelegationGranted   = "eid.delegation_granted"
	ActionDelegationRevoked   = "eid.delegation_revoked"
)

// auditPurpose is the purpose of eid's entries: running the e-ID account.
const auditPurpose = "eid-account"

func entry(actorID, action, pin, detail string) audit.Entry {
	return audit.Entry{Actor: actorID, Action: action, Subject: "person:" + pin, Purpose: auditPurpose, Detail: detail}
}

// auditTx records an act done in tx, committing with it when the audit log
// shares the database (see audit.Log.RecordTx).
func (s *Service) auditTx(ctx context.Context, tx *sql.Tx, actorID, action, pin, detail string) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.RecordTx(ctx, s.db, tx, entry(actorID, action, pin, detail)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// RecordAct audits an act about a person's e-ID done outside this package
// (the OpenID provider's consents). Detail is short and holds no personal
// data (a client id, a code).
func (s *Service) RecordAct(ctx context.Context, actorID, action, pin, detail string) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, entry(actorID, action, pin, detail)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
