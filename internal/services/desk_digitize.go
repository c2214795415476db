package services

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/pin"
)

// Digitization is the signed record of a paper the desk scanned: which
// document it is, of which dossier, its SHA-256, the officer and the
// instant. Signature is the platform's signature (the results signer of
// the platform CA, the key that signs results) over Payload(), base64;
// Signer is that certificate's SHA-256 fingerprint.
type Digitization struct {
	DocumentID string    `json:"document_id"`
	Dossier    string    `json:"dossier"`
	Document   string    `json:"document"` // the procedure's document code
	Officer    string    `json:"officer"`
	At         time.Time `json:"signed_at"`
	SHA256     string    `json:"sha256"`
	Signer     string    `json:"signer"`
	Signature  string    `json:"signature"`
}

// Payload is the signed text: one field a line, under a fixed label, so
// no two records sign the same bytes.
func (g Digitization) Payload() []byte {
	return []byte(strings.Join([]string{"dancu desk digitization v1", g.DocumentID, g.Dossier, g.Document,
		g.SHA256, g.Officer, g.At.UTC().Format(time.RFC3339)}, "\n"))
}

// Digitize stores a scan of one of a dossier's papers: the one scope rule
// first, then the dossier's state, the document's class (one the
// procedure asks for), the file's content (PDF, JPEG or PNG, as online
// uploads), then — in one transaction — the document in the citizen's
// store (reusable by their later dossiers), the signed record, the
// dossier's attachment and its history. A refused file stores nothing.
func (k *Desk) Digitize(ctx context.Context, a actor.Actor, code, docCode, name string, body []byte) (Digitization, error) {
	dd, err := k.scoped(ctx, a, code)
	if err != nil {
		return Digitization{}, err
	}
	if dd.Status != AwaitingPayment && dd.Status != Received && dd.Status != InProgress && dd.Status != Supplement {
		return Digitization{}, ErrState
	}
	p, err := k.s.d.Catalogue.Get(ctx, dd.Procedure)
	if err != nil {
		return Digitization{}, err
	}
	var asked *Document
	for i, d := range p.Documents {
		if d.Asked() && d.Code == docCode {
			asked = &p.Documents[i]
		}
	}
	if asked == nil {
		return Digitization{}, ErrDocumentCode.WithField("document")
	}
	mt, err := Sniff(body)
	if err != nil {
		return Digitization{}, fault.As(err).WithField("file")
	}
	is := k.s.d.Results
	if is == nil || is.Key == nil || is.Cert == nil {
		return Digitization{}, ErrNoSigner
	}
	title := asked.Name.VI
	if name = strings.TrimSpace(name); name != "" && utf8.ValidString(name) && utf8.RuneCountInString(name) <= 100 {
		title += " (" + name + ")"
	}
	now := k.s.d.Now()
	sum := sha256.Sum256(body)
	g := Digitization{DocumentID: document.NewID(), Dossier: dd.Code, Document: docCode, Officer: a.ID, At: now.UTC().Truncate(time.Second),
		SHA256: hex.EncodeToString(sum[:]), Signer: pki.Fingerprint(is.Cert)}
	digest := sha256.Sum256(g.Payload())
	sig, err := is.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return Digitization{}, fmt.Errorf("services: sign digitization: %w", err)
	}
	g.Signature = base64.StdEncoding.EncodeToString(sig)
	_, err = k.change(ctx, dd.Code, a.ID, []Status{AwaitingPayment, Received, InProgress, Supplement}, noteDigitized+":"+docCode, noEvent, func(tx *sql.Tx, d *DeskDossier) error {
		doc, err := k.s.d.Documents.StoreTx(ctx, tx, document.Document{ID: g.DocumentID, OwnerPIN: pin.PIN(d.OwnerPIN), Kind: "scan:" + docCode,
			Title: title, Body: body, MediaType: mt, Unit: d.Unit, IssueDate: civildate.Today(now), CreatedBy: a.ID})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_digitizations (document_id, code, document_code, officer, signed_at, sha256, signer, signature)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, g.DocumentID, g.Dossier, g.Document, g.Officer, ts(g.At), g.SHA256, g.Signer, g.Signature); err != nil {
			return fmt.Errorf("services: digitization record: %w", err)
		}
		d.Attachments = append(d.Attachments, Attachment{Document: docCode, ID: doc.ID, SHA256: doc.SHA256})
		atts, _ := json.Marshal(d.Attachments)
		_, err = tx.ExecContext(ctx, `UPDATE dossiers SET attachments = $1 WHERE code = $2`, string(atts), d.Code)
		return err
	})
	if err != nil {
		return Digitization{}, err
	}
	if err := k.s.d.Audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "dossier.digitize", Subject: "dossier:" + code, Purpose: "one-stop-desk", Detail: "document:" + g.DocumentID}); err != nil {
		return Digitization{}, err
	}
	return g, nil
}

func (k *Desk) digitizations(ctx context.Context, code string) (map[string]Digitization, error) {
	rows, err := k.s.d.DB.R.QueryContext(ctx, `SELECT document_id, code, document_code, officer, signed_at, sha256, signer, signature
		FROM dossier_digitizations WHERE code = $1`, code)
	if err != nil {
		return nil, fmt.Errorf("services: digitizations: %w", err)
	}
	defer rows.Close()
	out := map[string]Digitization{}
	for rows.Next() {
		var g Digitization
		var at string
		if err := rows.Scan(&g.DocumentID, &g.Dossier, &g.Document, &g.Officer, &at, &g.SHA256, &g.Signer, &g.Signature); err != nil {
			return nil, err
		}
		g.At = parseTS(at)
		out[g.DocumentID] = g
	}
	return out, rows.Err()
}

// ErrDigitization says a digitization record does not hold: the scan's
// bytes or the record were changed, or another key signed it.
var ErrDigitization = errors.New("services: the digitization record does not verify")

// VerifyDigitization checks a record against the scan's bytes and the
// platform's signing certificate in force.
func (k *Desk) VerifyDigitization(g Digitization, body []byte) error {
	is := k.s.d.Results
	if is == nil || is.Cert == nil {
		return ErrNoSigner
	}
	sum := sha256.Sum256(body)
	sig, err := base64.StdEncoding.DecodeString(g.Signature)
	if err != nil || hex.EncodeToString(sum[:]) != g.SHA256 || g.Signer != pki.Fingerprint(is.Cert) {
		return ErrDigitization
	}
	digest := sha256.Sum256(g.Payload())
	ok := false
	switch pub := is.Cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest[:], sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	}
	if !ok {
		return ErrDigitization
	}
	return nil
}
