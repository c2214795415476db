// Package passkeytest is a software WebAuthn authenticator for tests: an
// ES256 key, attestation "none", and the clientDataJSON and
// authenticatorData a browser and an authenticator would build. It answers
// the options the server sends for navigator.credentials.create and get,
// so tests register and sign in through the real HTTP endpoints.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// Authenticator holds one discoverable credential.
type Authenticator struct {
	Key        *ecdsa.PrivateKey
	CredID     []byte
	UserHandle []byte // user.id of the registration, returned on sign-in
	RPID       string // rp.id of the registration
	// Counter is the signature counter; Get adds one before signing unless
	// FixedCounter is set.
	Counter      uint32
	FixedCounter bool
	// UV says the authenticator verified the user (device PIN, biometrics).
	UV bool
}

// New makes an authenticator with a fresh P-256 key and credential id,
// verifying the user.
func New() *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Authenticator{Key: key, CredID: id, UV: true}
}

var b64 = base64.RawURLEncoding

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // user present
	if a.UV {
		f |= 0x04
	}
	if attested {
		f |= 0x40
	}
	return f
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// Create answers creation options (the JSON of a CredentialCreation, i.e.
// {"publicKey": {...}}) as a browser at origin would, returning the
// PublicKeyCredential JSON to post to the server.
func (a *Authenticator) Create(optionsJSON []byte, origin string) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	if o.PublicKey.Challenge == "" || o.PublicKey.RP.ID == "" {
		return nil, errors.New("creation options: no challenge or rp.id")
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("creation options: user.id: %w", err)
	}
	a.UserHandle, a.RPID = handle, o.PublicKey.RP.ID
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1,
		-2: a.Key.PublicKey.X.FillBytes(make([]byte, 32)), -3: a.Key.PublicKey.Y.FillBytes(make([]byte, 32))})
	if err != nil {
		return nil, err
	}
	rp := sha256.Sum256([]byte(a.RPID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, a.flags(true))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.CredID)))
	auth = append(auth, a.CredID...)
	auth = append(auth, cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredID), "rawId": b64.EncodeToString(a.CredID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", o.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Get answers request options ({"publicKey": {...}}) as a browser at
// origin would, signing with the credential for rpID (the registration's
// when empty).
func (a *Authenticator) Get(optionsJSON []byte, origin string) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	if o.PublicKey.Challenge == "" {
		return nil, errors.New("request options: no challenge")
	}
	rpID := o.PublicKey.RPID
	if rpID == "" {
		rpID = a.RPID
	}
	if !a.FixedCounter {
		a.Counter++
	}
	rp := sha256.Sum256([]byte(rpID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, a.flags(false))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	cd := clientData("webauthn.get", o.PublicKey.Challenge, origin)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredID), "rawId": b64.EncodeToString(a.CredID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}
