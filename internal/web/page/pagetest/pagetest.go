// Package pagetest holds the checks every module's page tests share: that
// a page speaks to people (names and dd/mm/yyyy dates), not in the codes
// and ISO dates the register stores.
package pagetest

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	hidden  = regexp.MustCompile(`(?is)<(script|style|textarea|pre)\b.*?</(script|style|textarea|pre)>`)
	tag     = regexp.MustCompile(`<[^>]*>`)
	space   = regexp.MustCompile(`\s+`)
	isoDate = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	// A definition's value or a table cell that is nothing but a code:
	// an ethnicity's two digits, a nationality's three capitals, a sex's
	// letter.
	cell     = regexp.MustCompile(`(?is)<(dd|td)\b[^>]*>(.*?)</(dd|td)>`)
	bareCode = regexp.MustCompile(`^(\d{2}|[A-Z]{3}|[MF])$`)
)

// Visible is the text a reader sees: tags, scripts, styles and the
// machine-readable blocks (MRZ, token text areas) dropped, entities
// decoded, white space folded.
func Visible(body string) string {
	s := hidden.ReplaceAllString(body, " ")
	s = html.UnescapeString(tag.ReplaceAllString(s, " "))
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

// SpeaksToPeople fails t when the page body shows an ISO date
// (yyyy-mm-dd) in its visible text, or a definition or table cell that
// is a bare catalogue code, or lacks one of the names wants.
func SpeaksToPeople(t testing.TB, what, body string, wants ...string) {
	t.Helper()
	v := Visible(body)
	if m := isoDate.FindAllString(v, 3); m != nil {
		t.Errorf("%s shows ISO dates %q:\n%s", what, m, v)
	}
	for _, m := range cell.FindAllStringSubmatch(hidden.ReplaceAllString(body, " "), -1) {
		if c := strings.TrimSpace(Visible(m[2])); bareCode.MatchString(c) {
			t.Errorf("%s shows the bare code %q in %s", what, c, strings.TrimSpace(m[0]))
		}
	}
	for _, w := range wants {
		if !strings.Contains(v, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, v)
		}
	}
}
