package delivery

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// sealer encrypts webhook secrets at rest. They cannot be hashed: the
// platform needs them in clear to sign every request. The key is derived
// from the configured platform secret, so a database dump alone does not
// reveal them.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("delivery: the sealing secret must have at least 32 bytes (configuration)")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "dancu delivery webhook secret v1", 32)
	if err != nil {
		return nil, fmt.Errorf("delivery: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal binds plain to context (the subscription id) so a sealed value copied
// to another row does not open.
func (s *sealer) seal(plain, context string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(plain), []byte(context)))
}

func (s *sealer) open(sealed, context string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("delivery: malformed sealed secret")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(context))
	if err != nil {
		return "", fmt.Errorf("delivery: open sealed secret: %w", err)
	}
	return string(plain), nil
}
