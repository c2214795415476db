package eid

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Sealer encrypts small secrets at rest (phone numbers, TOTP seeds) with
// AES-256-GCM and keys hashes of identifiers, with keys derived from the one
// configured secret so a database dump alone reveals neither.
type Sealer struct {
	aead cipher.AEAD
	mac  []byte
}

// NewSealer derives the sealing and hashing keys from the configured secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("eid: the secret must have at least 32 bytes (configuration)")
	}
	encKey, err := hkdf.Key(sha256.New, secret, nil, "dancu eid seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("eid: derive key: %w", err)
	}
	macKey, err := hkdf.Key(sha256.New, secret, nil, "dancu eid mac v1", 32)
	if err != nil {
		return nil, fmt.Errorf("eid: derive key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("eid: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("eid: %w", err)
	}
	return &Sealer{aead: aead, mac: macKey}, nil
}

// Seal encrypts plain, binding it to context (e.g. the PIN) so a sealed value
// copied to another row does not open.
func (s *Sealer) Seal(plain, context string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal with the same context.
func (s *Sealer) Open(sealed, context string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("eid: malformed sealed value")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(context))
	if err != nil {
		return "", fmt.Errorf("eid: open sealed value: %w", err)
	}
	return string(plain), nil
}

// Hash is a keyed hash: PINs have too little entropy for a plain hash to hide
// them.
func (s *Sealer) Hash(parts ...string) string {
	h := hmac.New(sha256.New, s.mac)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
