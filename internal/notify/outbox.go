package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DevOutbox stands in for the SMS gateway and the mail relay in
// development: each message is a file in Dir (readable by the owner only),
// an .eml for e-mail and a .sms for a text, so a developer opens what a
// citizen would receive. It is a fake only because the real ones are
// outside the machine; it never logs a message.
type DevOutbox struct {
	Dir string
	Now func() time.Time
}

func (o DevOutbox) write(ext, content string) error {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:]) + ext
	if err := os.WriteFile(filepath.Join(o.Dir, name), []byte(content), 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Send writes a text message.
func (o DevOutbox) Send(_ context.Context, phone, text string) error {
	return o.write(".sms", "To: "+oneLine(phone)+"\n\n"+text+"\n")
}

// SendMail writes an e-mail as an RFC 5322 message with a UTF-8 body.
func (o DevOutbox) SendMail(_ context.Context, m Mail) error {
	var b strings.Builder
	b.WriteString("From: Dancu <no-reply@dancu.invalid>\r\n")
	b.WriteString("To: " + oneLine(m.To) + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", oneLine(m.Subject)) + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	return o.write(".eml", b.String())
}

// oneLine keeps a header on one line: a newline in an address or subject
// would let it add headers.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
