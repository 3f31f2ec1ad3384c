package server

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/assets"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
)

// The three OAuth reply URLs of PRODUCT §2.
var closePaths = []string{
	"/crmUI/osc365/web/close.html",
	"/sales/office365/jet/close.html",
	"/crmUI/office365/jet/close.html",
}

func init() {
	_ = mime.AddExtensionType(".js", "text/javascript; charset=utf-8")
	_ = mime.AddExtensionType(".mjs", "text/javascript; charset=utf-8")
	_ = mime.AddExtensionType(".css", "text/css; charset=utf-8")
	_ = mime.AddExtensionType(".svg", "image/svg+xml")
	_ = mime.AddExtensionType(".json", "application/json")
	_ = mime.AddExtensionType(".xml", "application/xml")
}

// serveEmbedded answers GET/HEAD for one embedded file with its content
// type and a cache policy: HTML is revalidated every time (it names the
// current scripts), other assets are cached briefly.
func serveEmbedded(c *gin.Context, sub fs.FS, name string) {
	b, err := fs.ReadFile(sub, name)
	if err != nil {
		handlers.WriteError(c, models.Errorf(models.CodeNotFound, "No such page: %s", c.Request.URL.Path))
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(b)
	}
	if strings.HasSuffix(name, ".html") {
		c.Header("Cache-Control", "no-cache")
		ct = "text/html; charset=utf-8"
	} else {
		c.Header("Cache-Control", "public, max-age=300")
	}
	c.Data(http.StatusOK, ct, b)
}

// staticDir serves every file of an embedded directory under a URL prefix;
// a path in overrides is answered by its handler instead (GET only).
func staticDir(r gin.IRoutes, prefix string, sub fs.FS, index string, overrides map[string]gin.HandlerFunc) {
	h := func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" {
			name = index
		}
		if o := overrides[prefix+"/"+name]; o != nil && c.Request.Method == http.MethodGet {
			o(c)
			return
		}
		if strings.Contains(name, "..") {
			handlers.NotFound(c)
			return
		}
		serveEmbedded(c, sub, name)
	}
	r.GET(prefix+"/*file", h)
	r.HEAD(prefix+"/*file", h)
}

func webFS() fs.FS {
	sub, err := fs.Sub(assets.FS, "web")
	if err != nil {
		panic(err)
	}
	return sub
}

func adminFS() fs.FS {
	sub, err := fs.Sub(assets.FS, "admin")
	if err != nil {
		panic(err)
	}
	return sub
}
