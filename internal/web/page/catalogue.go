package page

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
)

// Messages are a module's texts: by language, then by message id.
type Messages map[string]map[string]string

// Catalogue holds every text a module's pages show. Modules register
// their messages into it when they are built (no init-time merging); an id
// registered twice is an error, so one part cannot silently change
// another's text.
type Catalogue struct {
	byLang map[string]map[string]string
}

// NewCatalogue is an empty catalogue.
func NewCatalogue() *Catalogue {
	c := &Catalogue{byLang: map[string]map[string]string{}}
	for _, l := range Languages {
		c.byLang[l] = map[string]string{}
	}
	return c
}

// Register adds ms, named part in errors. It refuses an id already there
// and a language the pages do not have.
func (c *Catalogue) Register(part string, ms Messages) error {
	for l, texts := range ms {
		dst, ok := c.byLang[l]
		if !ok {
			return fmt.Errorf("page: %s: messages in unknown language %q", part, l)
		}
		for id := range texts {
			if _, taken := dst[id]; taken {
				return fmt.Errorf("page: %s: message %q is already in the catalogue", part, id)
			}
		}
	}
	for l, texts := range ms {
		for id, s := range texts {
			c.byLang[l][id] = s
		}
	}
	return nil
}

// Lookup is message id in language l, if there is one.
func (c *Catalogue) Lookup(l, id string) (string, bool) {
	s, ok := c.byLang[l][id]
	return s, ok
}

// T is message id in language l, else in Vietnamese; a missing id shows
// as itself, so it is noticed.
func (c *Catalogue) T(l, id string) string {
	if s, ok := c.byLang[l][id]; ok {
		return s
	}
	if s, ok := c.byLang[VI][id]; ok {
		return s
	}
	return id
}

// Missing lists the ids some language has and another lacks, as
// "lang:id", sorted; a test of each module checks it is empty.
func (c *Catalogue) Missing() []string {
	var out []string
	for _, l := range Languages {
		for _, other := range Languages {
			for id := range c.byLang[other] {
				if _, ok := c.byLang[l][id]; !ok {
					out = append(out, l+":"+id)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// messageUse is a template's use of a message: {{t "id"}}.
var messageUse = regexp.MustCompile(`\bt "([^"]+)"`)

// Unknown lists, as "file: id", the messages that the templates of fsys
// matching patterns (and the kit's own) name with t "id" and the
// catalogue lacks; a test of each module checks it is empty.
func (c *Catalogue) Unknown(fsys fs.FS, patterns ...string) ([]string, error) {
	var out []string
	scan := func(fsys fs.FS, pattern string) error {
		names, err := fs.Glob(fsys, pattern)
		if err != nil {
			return err
		}
		for _, name := range names {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			for _, m := range messageUse.FindAllStringSubmatch(string(b), -1) {
				if _, ok := c.byLang[VI][m[1]]; !ok {
					out = append(out, name+": "+m[1])
				}
			}
		}
		return nil
	}
	if err := scan(kitFS, "templates/*.html"); err != nil {
		return nil, err
	}
	for _, p := range patterns {
		if err := scan(fsys, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}
