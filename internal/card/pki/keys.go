package pki

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// KeyStore holds the authority's private keys and hands out signers for
// them; the keys themselves need never leave it. Ids are "csca", "mls"
// (the master-list signer), "ds/<serial hex>" (a document signer),
// "results/ca" (the platform CA) and "results/<serial hex>" (a results
// signer, see results.go).
//
// FileKeys keeps the keys in the PKI directory, sealed with a configured
// key. A hardware security module can take its place through PKCS#11: an
// implementation whose Generate makes a non-extractable P-256 key pair on
// the token labelled with the id (C_GenerateKeyPair) and whose Signer
// finds it by label and signs with C_Sign (CKM_ECDSA over the digest
// crypto.Signer is given). Nothing else in the platform touches a private
// key.
type KeyStore interface {
	// Signer returns the key named id.
	Signer(id string) (crypto.Signer, error)
	// Generate makes a new P-256 key under id, replacing one of that id
	// (only the master-list signer's is ever replaced, when it expires).
	Generate(id string, random io.Reader) (crypto.Signer, error)
}

// sealedKeyType is the PEM type of a sealed key: a 12-byte nonce and the
// AES-256-GCM sealing of the PKCS#8 DER, with the key's id as additional
// data (so a sealed key cannot be passed off under another id).
const sealedKeyType = "DANCU SEALED PRIVATE KEY"

// FileKeys keeps keys as <dir>/<id>.key, mode 0600: sealed when it has a
// sealing key, PKCS#8 PEM in the clear when not (tests and tools).
type FileKeys struct {
	dir  string
	aead cipher.AEAD // nil: unsealed
}

// PlainFiles stores keys unsealed in dir, as PKCS#8 PEM.
func PlainFiles(dir string) *FileKeys { return &FileKeys{dir: dir} }

// SealedFiles stores keys in dir sealed with a key derived from secret (at
// least 32 bytes, from configuration).
func SealedFiles(dir string, secret []byte) (*FileKeys, error) {
	if len(secret) < 32 {
		return nil, errors.New("card/pki: the key sealing secret has fewer than 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "dancu card pki private keys v1", 32)
	if err != nil {
		return nil, fmt.Errorf("card/pki: derive the sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("card/pki: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("card/pki: %w", err)
	}
	return &FileKeys{dir: dir, aead: aead}, nil
}

var keyIDRE = regexp.MustCompile(`^(csca|mls|ds/[0-9a-f]{1,40}|results/(ca|[0-9a-f]{1,40}))$`)

func (k *FileKeys) path(id string) (string, error) {
	if !keyIDRE.MatchString(id) {
		return "", fmt.Errorf("card/pki: %q is not a key id", id)
	}
	return filepath.Join(k.dir, filepath.FromSlash(id)+".key"), nil
}

// Signer reads and, when sealed, opens the key. An unsealed key is read by
// a sealed store too (a directory from before sealing, until Seal runs);
// a sealed one needs the sealing key.
func (k *FileKeys) Signer(id string) (crypto.Signer, error) {
	path, err := k.path(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("card/pki: read %s: %w", filepath.Base(path), err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("card/pki: %s is not a PEM private key", filepath.Base(path))
	}
	der := blk.Bytes
	switch blk.Type {
	case "PRIVATE KEY":
	case sealedKeyType:
		if k.aead == nil {
			return nil, fmt.Errorf("card/pki: %s is sealed; the PKI key (--pki-key) is needed", filepath.Base(path))
		}
		n := k.aead.NonceSize()
		if len(der) < n {
			return nil, fmt.Errorf("card/pki: %s: sealed key too short", filepath.Base(path))
		}
		if der, err = k.aead.Open(nil, der[:n], der[n:], []byte(id)); err != nil {
			return nil, fmt.Errorf("card/pki: %s cannot be unsealed: wrong PKI key (--pki-key) or a damaged file", filepath.Base(path))
		}
	default:
		return nil, fmt.Errorf("card/pki: %s is not a PEM private key", filepath.Base(path))
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("card/pki: %s: malformed PKCS#8 key", filepath.Base(path))
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("card/pki: %s is not an ECDSA key", filepath.Base(path))
	}
	return ec, nil
}

// Generate makes a P-256 key and writes it (sealed when k is).
func (k *FileKeys) Generate(id string, random io.Reader) (crypto.Signer, error) {
	path, err := k.path(id)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return nil, fmt.Errorf("card/pki: generate key %s: %w", id, err)
	}
	if err := k.write(id, path, key); err != nil {
		return nil, err
	}
	return key, nil
}

func (k *FileKeys) write(id, path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("card/pki: encode key for %s: %w", filepath.Base(path), err)
	}
	typ := "PRIVATE KEY"
	if k.aead != nil {
		nonce := make([]byte, k.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return fmt.Errorf("card/pki: seal %s: %w", filepath.Base(path), err)
		}
		der, typ = k.aead.Seal(nonce, nonce, der, []byte(id)), sealedKeyType
	}
	return writeFile(path, pemBytes(typ, der), 0o600)
}

// Seal seals every key of the directory still in the clear (a directory
// made before keys were sealed), each replaced atomically, and returns the
// ids sealed. A store without a sealing key seals nothing.
func (k *FileKeys) Seal() ([]string, error) {
	if k.aead == nil {
		return nil, nil
	}
	ids := []string{"csca", "mls"}
	names, err := filepath.Glob(filepath.Join(k.dir, "ds", "*.key"))
	if err != nil {
		return nil, fmt.Errorf("card/pki: list keys: %w", err)
	}
	for _, n := range names {
		ids = append(ids, "ds/"+filepath.Base(n[:len(n)-len(".key")]))
	}
	results, err := filepath.Glob(filepath.Join(k.dir, "results", "*.key"))
	if err != nil {
		return nil, fmt.Errorf("card/pki: list keys: %w", err)
	}
	for _, n := range results {
		ids = append(ids, "results/"+filepath.Base(n[:len(n)-len(".key")]))
	}
	var sealed []string
	for _, id := range ids {
		path, err := k.path(id)
		if err != nil {
			continue // not a key this store names
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return sealed, fmt.Errorf("card/pki: read %s: %w", filepath.Base(path), err)
		}
		if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PRIVATE KEY" {
			continue
		}
		s, err := k.Signer(id)
		if err != nil {
			return sealed, err
		}
		if err := k.write(id, path, s.(*ecdsa.PrivateKey)); err != nil {
			return sealed, err
		}
		sealed = append(sealed, id)
	}
	return sealed, nil
}
