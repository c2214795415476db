package partnerapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// openapiFS holds base.json (info, security, shared schemas) and one
// fragment per group of routes, each with "paths" and "components.schemas".
//
//go:embed openapi/*.json
var openapiFS embed.FS

// OpenAPI assembles the OpenAPI 3.1 document from its fragments. A path or
// schema defined twice is an error, so two fragments cannot silently
// override each other.
func OpenAPI() ([]byte, error) {
	var doc map[string]any
	base, err := openapiFS.ReadFile("openapi/base.json")
	if err != nil {
		return nil, fmt.Errorf("partner openapi: %w", err)
	}
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("partner openapi base.json: %w", err)
	}
	paths := object(doc, "paths")
	schemas := object(object(doc, "components"), "schemas")
	names, _ := fs.Glob(openapiFS, "openapi/*.json")
	sort.Strings(names)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		raw, _ := openapiFS.ReadFile(name)
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("partner openapi %s: %w", name, err)
		}
		for k, v := range frag.Paths {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("partner openapi %s: path %s defined twice", name, k)
			}
			paths[k] = v
		}
		for k, v := range frag.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("partner openapi %s: schema %s defined twice", name, k)
			}
			schemas[k] = v
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// object returns m[key] as an object, creating it when absent.
func object(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}
