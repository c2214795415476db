package match

import (
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fold"
)

// addrLevel is how a partner's address relates to the register's commune.
type addrLevel uint8

const (
	addrMissing   addrLevel = iota // no address, or nothing recognisable in it
	addrSame                       // names (or codes) the person's commune
	addrOutdated                   // names a pre-2025 commune the person's commune was formed from
	addrProvince                   // only the province agrees
	addrDifferent                  // another place
	addrLevels
	addrUnknown = addrLevels // not decided without the old units
)

// place holds the folded names an address of one commune may contain, on
// both maps: the commune in force and the old communes it was formed from,
// with their districts and provinces.
type place struct {
	code     string   // commune in force
	full     string   // "phuong ba dinh"
	base     string   // "ba dinh" ("" when only a number: "Phường 1" needs its type word)
	province []string // "ha noi" plus common other spellings ("ho chi minh", "hcm", "sai gon")
	preds    []oldPlace
	// predsLoaded is false while preds, oldCodes and oldProvs are not
	// filled yet (Compare fills them only when needed).
	predsLoaded bool
	oldCodes    []string // old commune codes
	oldProvs    []string // folded names of the old provinces
	province2   string   // province code in force
}

type oldPlace struct {
	full, base string
	district   string // "quan ba dinh"; district with type word, so "ba dinh" alone (the new ward) is not taken for it
}

// placeOf describes the commune in force with code (a code of the old map
// is first moved to the new one). ok is false for an unknown code.
func placeOf(units *adminunit.Catalog, code string, now time.Time) (place, bool) {
	p, u, ok := placeNew(units, code, now)
	if ok {
		p.addPredecessors(units, u)
	}
	return p, ok
}

// placeNew fills only what the map in force says of the commune; the old
// units come with addPredecessors, which Compare calls only when the
// address needs them.
func placeNew(units *adminunit.Catalog, code string, now time.Time) (place, adminunit.Unit, bool) {
	us, err := units.Current(code, now)
	if err != nil {
		us, err = units.Current(code, adminunit.Reform().AddDate(0, 0, -1))
	}
	if err != nil || len(us) == 0 {
		return place{}, adminunit.Unit{}, false
	}
	u := us[0]
	p := place{code: u.Code, province2: u.ProvinceCode}
	p.full, p.base = unitKeys(u)
	if pu, err := units.Province(u.ProvinceCode, adminunit.Reform()); err == nil {
		_, b := unitKeys(pu)
		p.province = provinceAliases(b)
	}
	return p, u, true
}

func (p *place) addPredecessors(units *adminunit.Catalog, u adminunit.Unit) {
	p.predsLoaded = true
	seenProvince := map[string]bool{}
	for _, o := range units.Predecessors(u.Code) {
		op := oldPlace{}
		op.full, op.base = unitKeys(o)
		p.oldCodes = append(p.oldCodes, o.Code)
		if o.Level == adminunit.LevelCommune {
			if d, err := units.District(o.DistrictCode); err == nil {
				op.district = strings.TrimSpace(addressWords(d.Name))
			}
		} else { // an island district that became a special zone
			op.district = op.full
		}
		p.preds = append(p.preds, op)
		if !seenProvince[o.ProvinceCode] {
			seenProvince[o.ProvinceCode] = true
			if pu, err := units.Province(o.ProvinceCode, adminunit.Reform().AddDate(0, 0, -1)); err == nil {
				_, b := unitKeys(pu)
				p.oldProvs = append(p.oldProvs, provinceAliases(b)...)
			}
		}
	}
}

// unitKeys folds a unit's name with and without its type word. A base that
// is only digits ("Phường 1") is dropped: it means nothing alone.
func unitKeys(u adminunit.Unit) (full, base string) {
	full = strings.TrimSpace(addressWords(u.Name))
	base = full
	if u.Kind != "" {
		base = strings.TrimPrefix(full, strings.TrimSpace(addressWords(u.Kind))+" ")
	}
	if strings.Trim(base, "0123456789 ") == "" {
		base = ""
	}
	return full, base
}

// provinceAliases adds the spellings people use for a few provinces.
func provinceAliases(base string) []string {
	switch base {
	case "ha noi":
		return []string{base, "hn"}
	case "ho chi minh":
		return []string{base, "hcm", "tphcm", "sai gon"}
	case "thua thien hue", "hue":
		return []string{base, "hue"}
	case "ba ria - vung tau", "ba ria vung tau":
		return []string{base, "vung tau", "brvt"}
	}
	return []string{base}
}

// addressWords folds an address for word search: diacritics and
// punctuation removed, the usual abbreviations of type words spelt out
// ("P. Ba Đình" → "phuong ba dinh", "Q.1" → "quan 1", "TP.HCM" → "thanh
// pho hcm"), with a space at both ends so that whole words can be found
// with strings.Contains(" word ").
func addressWords(s string) string {
	f := fold.String(s)
	var b strings.Builder
	b.Grow(len(f) + 16)
	b.WriteByte(' ')
	word := make([]byte, 0, 16)
	emit := func() {
		if len(word) == 0 {
			return
		}
		w := string(word)
		word = word[:0]
		// A type word glued to a number: "q1", "p12".
		if i := strings.IndexAny(w, "0123456789"); i > 0 && strings.Trim(w[i:], "0123456789") == "" {
			if exp, ok := abbreviations[w[:i]]; ok {
				b.WriteString(exp)
				b.WriteByte(' ')
				b.WriteString(w[i:])
				b.WriteByte(' ')
				return
			}
		}
		if exp, ok := abbreviations[w]; ok {
			w = exp
		}
		b.WriteString(w)
		b.WriteByte(' ')
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 {
			word = append(word, c)
			continue
		}
		emit()
	}
	emit()
	return b.String()
}

// abbreviations of the type words of administrative units.
var abbreviations = map[string]string{
	"p": "phuong", "x": "xa", "q": "quan", "h": "huyen", "tp": "thanh pho", "tx": "thi xa",
	"tt": "thi tran", "t": "tinh", "dk": "dac khu", "tphcm": "thanh pho hcm",
}

// has reports whether the word-padded text contains the words of key.
func has(text, key string) bool {
	if key == "" {
		return false
	}
	i := strings.Index(text, key)
	for i >= 0 {
		if text[i-1] == ' ' && i+len(key) < len(text) && text[i+len(key)] == ' ' {
			return true
		}
		j := strings.Index(text[i+1:], key)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func hasAny(text string, keys []string) bool {
	for _, k := range keys {
		if has(text, k) {
			return true
		}
	}
	return false
}

// compareAddress rates a partner's address (folded by addressWords) and
// commune code against place p.
//
// A place without its old units (predsLoaded false) is compared when that
// is enough — the commune's code, or the commune and province in force
// named in an address without districts — and otherwise addrUnknown is
// returned so the caller loads them and asks again.
func compareAddress(words, commune string, p *place) addrLevel {
	blank := len(strings.TrimSpace(words)) == 0
	if !p.predsLoaded {
		c := digits(commune)
		switch {
		case len(c) == 5 && c == p.code && blank:
			return addrSame
		case len(c) == 5:
		case blank:
			return addrMissing
		case !hasDistrictWord(words) && (has(words, p.full) || has(words, p.base)) && hasAny(words, p.province):
			return addrSame
		}
		return addrUnknown
	}
	if c := digits(commune); len(c) == 5 {
		switch {
		case c == p.code && blank:
			return addrSame
		case c == p.code:
			// Codes are reused across the maps (00004 is both Phường Trúc
			// Bạch and Phường Ba Đình): the text tells which was meant.
		case containsStr(p.oldCodes, c):
			return addrOutdated
		default:
			return addrDifferent
		}
	}
	if blank {
		return addrMissing
	}
	// An old address names a district: look for the old commune first, or
	// "Ba Đình" in "Quận Ba Đình" reads as the new Phường Ba Đình.
	district := false
	for i := range p.preds {
		if has(words, p.preds[i].district) {
			district = true
			break
		}
	}
	oldCommune := false
	for i := range p.preds {
		o := &p.preds[i]
		if has(words, o.full) || has(words, o.base) {
			oldCommune = true
			break
		}
	}
	newCommune := has(words, p.full) || has(words, p.base)
	prov := hasAny(words, p.province)
	oldProv := !prov && hasAny(words, p.oldProvs)
	switch {
	case oldCommune && (district || oldProv || !newCommune):
		return addrOutdated
	case newCommune && oldProv:
		return addrOutdated
	case newCommune:
		return addrSame
	case prov || oldProv:
		return addrProvince
	}
	return addrDifferent
}

// hasDistrictWord reports a district's type word, found only in addresses
// written before the 2025 reform.
func hasDistrictWord(words string) bool {
	return strings.Contains(words, " quan ") || strings.Contains(words, " huyen ") || strings.Contains(words, " thi xa ") ||
		strings.Contains(words, " thi tran ")
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
