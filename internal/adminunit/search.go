package adminunit

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// entry is a commune's search keys, computed once at Load.
type entry struct {
	full string // key of the name: "phuong ba dinh"
	base string // without the type word: "ba dinh"
	dist string // key of the district's name, old map only: "quan ba dinh"
	prov string // key of the province's name: "thanh pho ha noi"
}

// indexer computes entries, folding each district and province name once.
type indexer struct {
	c     *Catalog
	cache map[string]string // name → key
}

func (x *indexer) key(s string) string {
	k, ok := x.cache[s]
	if !ok {
		k = x.c.fold.key(s)
		x.cache[s] = k
	}
	return k
}

func (x *indexer) entryOf(u Unit) entry {
	e := entry{full: x.c.fold.key(u.Name)}
	e.base = e.full
	if u.Kind != "" {
		e.base = strings.TrimPrefix(e.full, x.key(u.Kind)+" ")
	}
	if d, ok := x.c.districts[u.DistrictCode]; ok && u.Legacy() {
		e.dist = x.key(x.c.units[d].Name)
	}
	if p, ok := x.c.eras[eraOfUnit(u)].provinces[u.ProvinceCode]; ok {
		e.prov = x.key(x.c.units[p].Name)
	}
	return e
}

// Match quality, best first.
const (
	matchExact       = iota // "ba dinh", "phuong ba dinh"
	matchPrefix             // "ba di"
	matchWord               // "dinh" in "phuong ba dinh"
	matchSubstring          // "inh"
	matchWordsInPath        // "ba dinh ha noi": every word starts a word of the path
	noMatch
)

// Search finds communes in force on the day of on whose name matches query,
// typed with or without diacritics and in any case ("ba dinh", "BA ĐÌNH" and
// "Phường Ba Đình" all find Phường Ba Đình). Best matches come first: the
// whole name, then names starting with the query, the query at a word, the
// query anywhere, and last every word of the query starting a word of the
// commune's path, so "tan lap ha noi" narrows the many Tân Lập to Hà Nội's.
// A query typed with diacritics puts names that carry the same ones first;
// then shorter names, then lower codes. At most limit units are returned;
// none if limit <= 0 or the query is blank.
func (c *Catalog) Search(query string, on time.Time, limit int) []Unit {
	q := c.fold.key(query)
	if q == "" || limit <= 0 {
		return nil
	}
	// Each word of the query, to find at the start of a word of the path.
	qWord := " " + q
	qWords := strings.Fields(q)
	for i, w := range qWords {
		qWords[i] = " " + w
	}
	// A query typed with diacritics prefers names that have them: "Ba Đình"
	// puts Phường Ba Đình before Xã Ba Dinh.
	var qLower string
	if !isASCII(query) {
		qLower = strings.ToLower(clean(query))
	}
	ed := &c.eras[eraOf(on)]
	type hit struct{ score, accent, i int }
	var hits []hit
	for i := range ed.index {
		e := &ed.index[i]
		if s := score(e, q, qWord, qWords); s != noMatch {
			accent := 0
			if qLower != "" && !strings.Contains(strings.ToLower(c.units[ed.communeList[i]].Name), qLower) {
				accent = 1
			}
			hits = append(hits, hit{s, accent, i})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.score, b.score),
			cmp.Compare(a.accent, b.accent),
			cmp.Compare(len(ed.index[a.i].base), len(ed.index[b.i].base)),
			cmp.Compare(a.i, b.i)) // communeList is sorted by code
	})
	out := make([]Unit, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, c.units[ed.communeList[h.i]])
	}
	return out
}

// score rates an entry against the query q, given also as " "+q and as
// its words, each with a space in front.
func score(e *entry, q, qWord string, qWords []string) int {
	switch {
	case e.base == q || e.full == q:
		return matchExact
	case strings.HasPrefix(e.base, q) || strings.HasPrefix(e.full, q):
		return matchPrefix
	case strings.Contains(e.full, qWord): // HasPrefix was the case above
		return matchWord
	case strings.Contains(e.full, q):
		return matchSubstring
	}
	for _, w := range qWords { // " word"
		if !wordIn(e.full, w) && !wordIn(e.dist, w) && !wordIn(e.prov, w) {
			return noMatch
		}
	}
	return matchWordsInPath
}

// wordIn reports whether a word of s starts with w[1:]; w starts with a space.
func wordIn(s, w string) bool {
	return strings.HasPrefix(s, w[1:]) || strings.Contains(s, w)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
