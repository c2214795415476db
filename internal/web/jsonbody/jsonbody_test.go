package jsonbody_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"one object", `{"pin":"001090123456"}`, nil},
		{"unknown field", `{"pin":"1","surprise":1}`, jsonbody.ErrMalformed},
		{"something after the object", `{"pin":"1"} {"pin":"2"}`, jsonbody.ErrMalformed},
		{"cut short", `{"pin":`, jsonbody.ErrMalformed},
		{"over the limit", `{"pin":"` + strings.Repeat("9", 100) + `"}`, jsonbody.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct {
				PIN string `json:"pin"`
			}
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			err := jsonbody.Decode(httptest.NewRecorder(), r, &v, 64)
			if !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if tt.want == nil && v.PIN != "001090123456" {
				t.Fatalf("decoded %+v", v)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	if err := jsonbody.Write(w, http.StatusCreated, map[string]string{"id": "x"}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusCreated || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Cache-Control") != "no-store" || strings.TrimSpace(w.Body.String()) != `{"id":"x"}` {
		t.Fatalf("%d %v %q", w.Code, w.Header(), w.Body.String())
	}
}
