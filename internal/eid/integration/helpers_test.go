package integration

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"
)

const (
	password = "mật khẩu đủ dài"
	redirect = "http://127.0.0.1:9/cb"
)

var secret = []byte("integration-secret-integration-secret")

type smsBox struct {
	mu   sync.Mutex
	last string
}

func (b *smsBox) Send(_ context.Context, _, text string) error {
	b.mu.Lock()
	b.last = text
	b.mu.Unlock()
	return nil
}

func (b *smsBox) code() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return regexp.MustCompile(`\d{6}`).FindString(b.last)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
