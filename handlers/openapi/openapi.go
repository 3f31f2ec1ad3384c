// Package openapi assembles the API description from one YAML fragment per
// feature (base.yaml first), so each feature documents its own endpoints.
package openapi

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var fragments embed.FS

var (
	once   sync.Once
	merged []byte
	mErr   error
)

// YAML returns the merged OpenAPI document.
func YAML() ([]byte, error) {
	once.Do(func() { merged, mErr = merge() })
	return merged, mErr
}

func merge() ([]byte, error) {
	names, err := fs.Glob(fragments, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Slice(names, func(i, j int) bool {
		if names[i] == "base.yaml" || names[j] == "base.yaml" {
			return names[i] == "base.yaml"
		}
		return names[i] < names[j]
	})
	var doc map[string]any
	for _, n := range names {
		b, err := fs.ReadFile(fragments, n)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := yaml.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if doc == nil {
			doc = frag
			continue
		}
		if err := mergeSection(doc, frag, "paths"); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		comps, _ := frag["components"].(map[string]any)
		for kind := range comps {
			dst, _ := doc["components"].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				doc["components"] = dst
			}
			if err := mergeSection(dst, comps, kind); err != nil {
				return nil, fmt.Errorf("%s: components.%w", n, err)
			}
		}
	}
	return yaml.Marshal(doc)
}

func mergeSection(dst, src map[string]any, key string) error {
	s, _ := src[key].(map[string]any)
	if len(s) == 0 {
		return nil
	}
	d, _ := dst[key].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[key] = d
	}
	for k, v := range s {
		if _, dup := d[k]; dup {
			return fmt.Errorf("%s: %q defined twice", key, k)
		}
		d[k] = v
	}
	return nil
}
