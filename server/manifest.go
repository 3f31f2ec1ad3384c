package server

import (
	"context"

	"github.com/salesbridge/salesbridge/addin/manifest"
	"github.com/salesbridge/salesbridge/models"
)

// BuildManifest builds the XML (format "xml") or unified JSON ("json")
// manifest from the stored registration and cfg's public URL, returning it
// with the warnings for the administrator. It reads the database without
// migrating it.
func BuildManifest(ctx context.Context, cfg *Config, format string) ([]byte, []string, error) {
	s, err := models.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	var in manifest.Input
	if err := s.Tx(ctx, func(ctx context.Context) error {
		in, err = manifest.FromStore(ctx, s, cfg.PublicURL)
		return err
	}); err != nil {
		return nil, nil, err
	}
	gen := manifest.XML
	if format == "json" {
		gen = manifest.JSON
	}
	data, warnings, err := gen(in)
	return data, warnings, manifest.AsPrecondition(err)
}
