package document

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/document/pades"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/pin"
)

// Issuer produces signed results and stores them as the holder's
// documents.
type Issuer struct {
	Store *Store
	Cert  *x509.Certificate // the results signer (pki.ResultsSigner.Cert)
	Key   crypto.Signer     // its key, from the PKI's KeyStore
	// BaseURL is the platform's public address, e.g. "https://dancu.gov.vn";
	// the QR code holds BaseURL + VerifyPath(id, code).
	BaseURL string
	Now     func() time.Time // time.Now when nil
	// Signer, when set, gives the signer at each Produce in place of Cert
	// and Key: a results signer rotated on another node (its files pulled
	// from the database) then signs here without a restart.
	Signer func() (*x509.Certificate, crypto.Signer, error)
}

// signer is the certificate and key to sign with now.
func (i *Issuer) signer() (*x509.Certificate, crypto.Signer, error) {
	if i.Signer != nil {
		return i.Signer()
	}
	return i.Cert, i.Key, nil
}

// VerifyPath is the public verification address of a result, relative to
// the platform's base: /verify/{id}?c={code}.
func VerifyPath(id, code string) string {
	return "/verify/" + url.PathEscape(id) + "?c=" + url.QueryEscape(code)
}

// Produce lays out r and signs it, with a fresh id and code (and r.Issued
// set to now when zero). It touches no database; Issue stores the result.
func (i *Issuer) Produce(r result.Result) (result.Result, []byte, error) {
	r, signed, _, err := i.produce(r)
	return r, signed, err
}

// produce is Produce, also returning the certificate that signed.
func (i *Issuer) produce(r result.Result) (result.Result, []byte, *x509.Certificate, error) {
	cert, key, err := i.signer()
	if err != nil {
		return r, nil, nil, err
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	r.ID, r.Code = NewID(), NewCode()
	if r.Issued.IsZero() {
		r.Issued = now().Truncate(time.Second)
	}
	r.VerifyURL = strings.TrimSuffix(i.BaseURL, "/") + VerifyPath(r.ID, r.Code)
	pdf, err := result.Render(r)
	if err != nil {
		return r, nil, nil, err
	}
	signed, err := pades.Sign(pdf, pades.Signature{
		Cert: cert, Key: key, Time: r.Issued.In(civildate.Location()),
		Name: r.Unit, Reason: result.Templates()[r.Kind].Title, Location: r.Place,
	})
	if err != nil {
		return r, nil, nil, err
	}
	return r, signed, cert, nil
}

// Issue produces a signed result for owner and stores it as their
// document in its own transaction; by names the staff or service issuing
// it. The returned document carries the verification code once, for the
// caller to show.
func (i *Issuer) Issue(ctx context.Context, owner pin.PIN, r result.Result, by string) (Document, error) {
	d, err := i.Prepare(owner, r, by)
	if err != nil {
		return Document{}, err
	}
	stored, err := i.Store.Store(ctx, d)
	if err != nil {
		return Document{}, err
	}
	stored.VerifyCode = d.VerifyCode
	return stored, nil
}

// Prepare produces the signed result as a document ready for
// Store.StoreTx, verification code included: a module that stores the
// result in its own transaction (the one closing a dossier) prepares it
// before, so the layout and signature (tens of milliseconds) do not hold
// the transaction open.
func (i *Issuer) Prepare(owner pin.PIN, r result.Result, by string) (Document, error) {
	r, signed, cert, err := i.produce(r)
	if err != nil {
		return Document{}, err
	}
	layout, err := json.Marshal(r)
	if err != nil {
		return Document{}, fmt.Errorf("document: encode layout: %w", err)
	}
	return Document{
		ID: r.ID, OwnerPIN: owner, Kind: string(r.Kind), Title: result.Templates()[r.Kind].Title,
		Body: signed, MediaType: "application/pdf", SignedBy: pki.Fingerprint(cert),
		Unit: r.Unit, Holder: r.Fields["name"], IssueDate: civildate.Of(r.Issued),
		CreatedBy: by, Layout: string(layout), VerifyCode: r.Code,
	}, nil
}

// VerifyPath is the public verification address of an issued result
// (relative, VerifyPath(id, code)), read from its layout; "" for a
// document that is not an issued result. ListByOwner's documents carry
// their layout, so the portal can show each result's QR address.
func (d Document) VerifyPath() string {
	var r result.Result
	if d.Layout == "" || json.Unmarshal([]byte(d.Layout), &r) != nil || r.Code == "" {
		return ""
	}
	return VerifyPath(r.ID, r.Code)
}

// PrintBulk lays out the results with the given ids in one unsigned PDF
// for a desk to print; the signed originals stay as they are. A document
// that is not an issued result is ErrNotFound.
func (s *Store) PrintBulk(ctx context.Context, ids []string) ([]byte, error) {
	rs := make([]result.Result, 0, len(ids))
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if d.Layout == "" {
			return nil, ErrNotFound
		}
		var r result.Result
		if err := json.Unmarshal([]byte(d.Layout), &r); err != nil {
			return nil, fmt.Errorf("document %s: layout: %w", id, err)
		}
		rs = append(rs, r)
	}
	return result.Bulk(rs)
}
