package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/handlers/openapi"
)

func (a *App) newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	// Only configured proxies may set the client address.
	_ = r.SetTrustedProxies(a.Cfg.TrustedProxies)
	r.Use(requestID(), recovery(a.Log), a.metrics.middleware(), accessLog(a.Log),
		securityHeaders(authorityOrigin(a.Cfg.AuthorityURL)),
		bodyLimit(a.Cfg.BodyLimit, map[string]int64{"/api/v1/shares/": a.Cfg.ShareBodyLimit}))
	r.NoRoute(handlers.NotFound)
	r.NoMethod(handlers.MethodNotAllowed)

	r.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{})))

	// Pages.
	web := webFS()
	// Pages rendered by a feature handler (close.html, signin.html) are
	// registered in a.pages by registerFeatureRoutes and take precedence
	// over the embedded files.
	a.pages = map[string]gin.HandlerFunc{}
	staticDir(r, "/crmUI/osc365/web", web, "index.html", a.pages)
	for _, p := range closePaths[1:] {
		r.GET(p, func(c *gin.Context) {
			if h := a.pages[p]; h != nil {
				h(c)
				return
			}
			serveEmbedded(c, web, "close.html")
		})
	}
	admin := adminFS()
	staticDir(r, "/admin", admin, "index.html", nil)
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/admin/") })

	// JSON API.
	api := r.Group("/api/v1")
	api.GET("/openapi.yaml", func(c *gin.Context) {
		doc, err := openapi.YAML()
		if err != nil {
			handlers.WriteError(c, err)
			return
		}
		c.Data(http.StatusOK, "application/yaml", doc)
	})
	authed := api.Group("", handlers.RequireSession(a.Sessions))
	adminAPI := authed.Group("/admin", handlers.RequireAdmin())
	a.registerFeatureRoutes(r, api, authed, adminAPI)
	return r
}

func (a *App) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	c.Header("Cache-Control", "no-store")
	if err := a.Store.Ping(ctx); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database unreachable"})
		return
	}
	n, err := a.Store.Pending(ctx)
	if err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database schema is newer than this binary"})
		return
	}
	if n > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database schema is not current", "pendingMigrations": n})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
