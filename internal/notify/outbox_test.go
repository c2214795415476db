package notify

import (
	"context"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevOutbox: the development stand-in writes what a citizen would
// receive, readable by the owner only; a newline in an address or a
// subject cannot add a header.
func TestDevOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := DevOutbox{Dir: dir}
	ctx := context.Background()
	if err := o.SendMail(ctx, Mail{To: "dan@example.vn\r\nBcc: x@evil.example", Subject: "Hồ sơ bị từ chối / Dossier rejected", Body: "Lý do: thiếu giấy tờ\nReason: missing"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Send(ctx, "0912345678", "DANCU: Hồ sơ đã được tiếp nhận."); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 2 {
		t.Fatalf("%d files in the outbox", len(files))
	}
	for _, f := range files {
		info, _ := f.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f.Name(), info.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		s := string(b)
		switch filepath.Ext(f.Name()) {
		case ".eml":
			head, body, _ := strings.Cut(s, "\r\n\r\n")
			if strings.Contains(head, "\r\nBcc:") || !strings.Contains(head, "To: dan@example.vn  Bcc: x@evil.example") {
				t.Errorf("header injection: %q", head)
			}
			var subj string
			for _, l := range strings.Split(head, "\r\n") {
				if v, ok := strings.CutPrefix(l, "Subject: "); ok {
					subj, _ = new(mime.WordDecoder).DecodeHeader(v)
				}
			}
			if subj != "Hồ sơ bị từ chối / Dossier rejected" || !strings.Contains(body, "Lý do: thiếu giấy tờ\r\nReason: missing") {
				t.Errorf("mail: subject %q body %q", subj, body)
			}
		case ".sms":
			if !strings.HasPrefix(s, "To: 0912345678\n\nDANCU: Hồ sơ đã được tiếp nhận.") {
				t.Errorf("sms: %q", s)
			}
		default:
			t.Errorf("unexpected file %s", f.Name())
		}
	}
	if vnd(7000) != "7.000" || vnd(1250000) != "1.250.000" || vnd(500) != "500" {
		t.Errorf("vnd: %s %s %s", vnd(7000), vnd(1250000), vnd(500))
	}
}
