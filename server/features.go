package server

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/panel"
	"github.com/salesbridge/salesbridge/addin/syncjobs"

	"github.com/salesbridge/salesbridge/handlers"
)

// registerFeatureJobs adds the workers and periodic jobs of each feature.
func (a *App) registerFeatureJobs() error {
	river.AddWorker(a.workers, &syncjobs.PlaceholderPushWorker{Log: a.Log})
	return nil
}

// registerFeatureRoutes mounts each feature's handlers: pages and public
// endpoints on r/api, session-protected ones on authed, admin-only ones on
// admin.
func (a *App) registerFeatureRoutes(r *gin.Engine, api, authed, admin *gin.RouterGroup) {
	(&handlers.Me{Store: a.Store}).Register(authed)
	pan := &panel.Service{Store: a.Store, Queue: a.Queue, Now: a.Now}
	(&handlers.Panel{Store: a.Store, Panel: pan}).Register(authed)
	(&handlers.Records{Store: a.Store, Panel: pan}).Register(authed)
	_ = r
	_ = api
	_ = admin
}

// SeedDemo seeds the demo data (idempotent).
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, a.Store)
}
