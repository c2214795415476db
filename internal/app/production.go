package app

import (
	"fmt"
	"log/slog"

	"github.com/dancu-project/dancu/internal/card/pki"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/gateway"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
)

// secureDataDir makes the data directory 0700 and its files 0600
// (storage.SecureDir). Looser modes are tightened, not refused, so a data
// directory of an older version starts; when warn is set each one is
// logged (paths only). Open runs it before it opens anything and again
// once everything is created, which catches the files that libraries
// create with their own modes (SQLite, JetStream).
func secureDataDir(dir string, log *slog.Logger, warn bool) error {
	if dir == "" {
		return nil
	}
	tightened, err := storage.SecureDir(dir)
	if warn {
		for _, p := range tightened {
			log.Warn("data directory: permissions tightened (directories 0700, files 0600)", "path", p)
		}
	}
	return err
}

// outsideServices are the e-ID's SMS gateway and face-verification
// service from the configuration; nil for one not configured, which
// eid.NewService replaces with the development stand-in (and refuses in
// production).
func outsideServices(cfg platform.Config) (eid.SMSGateway, eid.FaceVerifier) {
	var sms eid.SMSGateway
	var face eid.FaceVerifier
	if cfg.SMSGatewayURL != "" {
		sms = gateway.NewSMS(cfg.SMSGatewayURL, cfg.SMSGatewaySecret, cfg.SMSSender, nil, nil)
	}
	if cfg.FaceVerifyURL != "" {
		face = gateway.NewFace(cfg.FaceVerifyURL, cfg.FaceVerifySecret, nil, nil)
	}
	return sms, face
}

// OpenPKI opens the card PKI under the data directory with its private
// keys sealed by the configured PKI key (in development, one kept in the
// data directory): it creates the CSCA and a first document signer in a
// fresh directory, and seals the keys an older version left in the clear.
func OpenPKI(cfg platform.Config, log *slog.Logger) (*pki.FileKeys, error) {
	key, err := cfg.LoadPKIKey()
	if err != nil {
		return nil, fmt.Errorf("card PKI: %w", err)
	}
	dir := PKIDir(cfg)
	keys, err := pki.SealedFiles(dir, []byte(key))
	if err != nil {
		return nil, err
	}
	created, err := cardservice.EnsurePKI(dir, keys)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the card PKI (CSCA and document signer)", "dir", dir)
	}
	sealed, err := keys.Seal()
	if err != nil {
		return nil, fmt.Errorf("card PKI: seal keys: %w", err)
	}
	if len(sealed) > 0 {
		log.Info("sealed the card PKI's private keys left in the clear", "keys", len(sealed))
	}
	return keys, nil
}

// cardBiometrics is where cards' portraits and fingerprints come from:
// synthetic in development; in production none, since no capture at the
// desk is wired in yet, and the card service refuses to produce a card
// (card.no_biometrics) rather than sign a made-up face into a chip.
func cardBiometrics(cfg platform.Config) cardservice.Biometrics {
	if cfg.Production {
		return nil
	}
	return cardservice.SyntheticBiometrics{}
}
