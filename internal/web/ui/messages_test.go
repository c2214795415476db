package ui

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestCatalogue checks that both languages have the same messages and that
// every message a template names exists.
func TestCatalogue(t *testing.T) {
	for _, l := range languages {
		for _, other := range languages {
			for id := range messages[l] {
				if _, ok := messages[other][id]; !ok {
					t.Errorf("message %q is in %s but not in %s", id, l, other)
				}
			}
		}
	}
	uses := []*regexp.Regexp{
		regexp.MustCompile(`\bt "([^"]+)"`),
		regexp.MustCompile(`"hint=([^"]+)"`),
	}
	fieldRE := regexp.MustCompile(`field \.Form "([^"]+)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, name := range files {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range uses {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if _, ok := messages[langVI][m[1]]; !ok {
					t.Errorf("%s uses unknown message %q", name, m[1])
				}
			}
		}
		for _, m := range fieldRE.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[langVI]["f."+m[1]]; !ok {
				t.Errorf("%s: field %q has no label f.%s", name, m[1], m[1])
			}
		}
	}
	if len(ethnicities) != 54 {
		t.Errorf("%d ethnic groups, want 54", len(ethnicities))
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/persons?q=an":        "/persons?q=an",
		"/":                    "/",
		"":                     "/",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"persons":              "/",
		"/a\nb":                "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
