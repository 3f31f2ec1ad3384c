package server

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/monitor"

	"github.com/salesbridge/salesbridge/handlers"
)

// registerFeatureJobs adds the workers and periodic jobs of each feature.
func (a *App) registerFeatureJobs() error {
	return nil
}

// registerFeatureRoutes mounts each feature's handlers: pages and public
// endpoints on r/api, session-protected ones on authed, admin-only ones on
// admin.
func (a *App) registerFeatureRoutes(r *gin.Engine, api, authed, admin *gin.RouterGroup) {
	(&handlers.Me{Store: a.Store}).Register(authed)
	(&handlers.AdminSettings{Store: a.Store, Now: a.Now}).Register(authed, admin)
	(&handlers.AdminMonitor{Store: a.Store, Monitor: &monitor.Service{Store: a.Store, Queue: a.Queue, Now: a.Now}}).Register(admin)
	(&handlers.AdminUsage{Store: a.Store, Now: a.Now}).Register(authed, admin)
	(&handlers.AdminManifest{Store: a.Store, PublicURL: a.Cfg.PublicURL}).Register(admin)
	_ = r
	_ = api
	_ = admin
}

// SeedDemo seeds the demo data (idempotent).
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, a.Store)
}
