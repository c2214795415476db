package page

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The languages of the pages: Vietnamese first and by default, English.
const (
	VI = "vi"
	EN = "en"
)

// Languages are the languages every catalogue and template set has.
var Languages = []string{VI, EN}

// LangCookie remembers a browser's language choice on every page.
const LangCookie = "lang"

// Lang is the language of r's page, the first that names one we have:
// the query's ?lang= (the user's choice on this page), then the language
// cookie (set only by such a choice, here or on an earlier page), then
// hints (a relying party's ui_locales, preferred first), then the
// browser's Accept-Language; Vietnamese when none does. What the user
// chose beats what a relying party or a browser's default suggests.
func Lang(r *http.Request, hints ...string) string {
	if l, ok := supported(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := supported(c.Value); ok {
			return l
		}
	}
	for _, h := range hints {
		if l, ok := supported(h); ok {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// Other is the language a page's switch offers.
func Other(l string) string {
	if l == EN {
		return VI
	}
	return EN
}

// supported maps a language tag ("en", "en-GB", "vi_VN") to ours.
func supported(tag string) (string, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	switch base {
	case VI:
		return VI, true
	case EN:
		return EN, true
	}
	return "", false
}

// acceptLanguage picks, of the languages an Accept-Language header ranks,
// the one with the highest weight that we have (the first of equals);
// Vietnamese when it names none.
func acceptLanguage(h string) string {
	best, bestQ := VI, 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(part, ";")
		l, ok := supported(tag)
		if !ok {
			continue
		}
		q := 1.0
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// rememberLang keeps a language chosen with ?lang= for the next pages.
func (k *Kit) rememberLang(w http.ResponseWriter, r *http.Request) {
	if l, ok := supported(r.URL.Query().Get("lang")); ok {
		k.setLangCookie(w, l)
	}
}

func (k *Kit) setLangCookie(w http.ResponseWriter, l string) {
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: k.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// SetLang is the handler of a language switch (GET ?l=en&next=/page): it
// stores the language and goes back to next when next is a local path
// under root, else to root.
func (k *Kit) SetLang(root string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l, ok := supported(r.URL.Query().Get("l"))
		if !ok || l != EN {
			l = VI
		}
		k.setLangCookie(w, l)
		http.Redirect(w, r, LocalPath(r.URL.Query().Get("next"), root), http.StatusSeeOther)
	}
}

// SwitchURL is the address of the language switch at setter (a SetLang
// handler) that comes back to here in the other language.
func SwitchURL(setter, l, here string) string {
	return setter + "?" + url.Values{"l": {Other(l)}, "next": {here}}.Encode()
}

// LocalPath returns p when it is a path on this site under root (root
// ends with "/"), else root: the one guard of every redirect a request
// names. It refuses "//host" and "/\host" (browsers read both as another
// site), any backslash or control character, and anything not starting
// with root.
func LocalPath(p, root string) string {
	if !strings.HasPrefix(p, root) || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return root
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return root
		}
	}
	return p
}
