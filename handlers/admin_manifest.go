package handlers

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/manifest"
	"github.com/salesbridge/salesbridge/models"
)

// AdminManifest serves the add-in manifest built from the registration.
type AdminManifest struct {
	Store     *models.Store
	PublicURL string
}

// WarningHeader carries the manifest's warnings (e.g. an http public URL).
const WarningHeader = "X-SalesBridge-Warning"

// Register mounts the routes.
func (h *AdminManifest) Register(admin *gin.RouterGroup) {
	admin.GET("/manifest", TxRaw(h.Store, h.xml))
	admin.GET("/manifest.json", TxRaw(h.Store, h.json))
}

func (h *AdminManifest) build(ctx context.Context, gen func(manifest.Input) ([]byte, []string, error), ct, name string) (Raw, error) {
	in, err := manifest.FromStore(ctx, h.Store, h.PublicURL)
	if err != nil {
		return Raw{}, err
	}
	data, warnings, err := gen(in)
	if err != nil {
		return Raw{}, manifest.AsPrecondition(err)
	}
	hdr := map[string]string{"Content-Disposition": `attachment; filename="` + name + `"`}
	if len(warnings) > 0 {
		hdr[WarningHeader] = strings.Join(warnings, "; ")
	}
	return Raw{ContentType: ct, Data: data, Headers: hdr}, nil
}

func (h *AdminManifest) xml(c *gin.Context, ctx context.Context) (Raw, error) {
	return h.build(ctx, manifest.XML, "application/xml; charset=utf-8", "manifest.xml")
}

func (h *AdminManifest) json(c *gin.Context, ctx context.Context) (Raw, error) {
	return h.build(ctx, manifest.JSON, "application/json; charset=utf-8", "manifest.json")
}
