package oidcop

import (
	"context"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// SignCredential signs claims as a compact JWS (ES256) with the provider's
// current signing key and the given typ header. Anyone holding the JWK Set
// published at <issuer>/keys can check it offline. The caller chooses claims
// that cannot pass for a token of this provider: a distinct typ, and no aud
// (ID tokens are checked against the relying party's client id) nor jti
// (access tokens are looked up by it).
func (p *Provider) SignCredential(ctx context.Context, typ string, claims any) (string, error) {
	key, err := p.store.SigningKey(ctx)
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID(), Algorithm: string(jose.ES256)}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	return obj.CompactSerialize()
}

// KeySet is the JWK Set the provider publishes at <issuer>/keys (public keys
// only), for in-process verification of what it signed.
func (p *Provider) KeySet(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := p.store.KeySet(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Key(), KeyID: k.ID(), Algorithm: string(k.Algorithm()), Use: k.Use()})
	}
	return set, nil
}

// Issuer is the provider's issuer URL (without a trailing slash).
func (p *Provider) Issuer() string { return p.issuer }
