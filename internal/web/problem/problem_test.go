package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/fault"
)

func TestWrite(t *testing.T) {
	var list fault.List
	list.Add("birth_date", fault.New(fault.Invalid, "date.format", "Sai định dạng ngày", "Bad date"))
	list.Add("sex", fault.New(fault.Invalid, "sex.invalid", "Sai giới tính", "Bad sex"))
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		fields     int
		mustNotSay string
	}{
		{"not found", fault.ErrNotFound, 404, "not_found", 0, ""},
		{"validation list", fmt.Errorf("register: %w", list.Err()), 422, "validation", 2, ""},
		{"single field", fault.New(fault.Conflict, "person.already_dead", "Đã khai tử", "Dead").WithField("pin"), 409, "validation", 1, ""},
		{"internal", errors.New("pq: relation persons does not exist"), 500, "internal", 0, "relation persons"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, httptest.NewRequest("GET", "/api/v1/x", nil), slog.New(slog.NewTextHandler(io.Discard, nil)), tt.err)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Code != tt.code || len(p.Errors) != tt.fields || p.Status != tt.status || p.Type == "" || p.Title == "" {
				t.Fatalf("problem = %+v", p)
			}
			if tt.mustNotSay != "" && strings.Contains(rec.Body.String(), tt.mustNotSay) {
				t.Fatalf("internal detail leaked: %s", rec.Body.String())
			}
		})
	}
	_ = http.StatusOK
}
