package server

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/panel"
	"github.com/salesbridge/salesbridge/addin/share"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/handlers"
)

// registerFeatureJobs adds the workers and periodic jobs of each feature.
func (a *App) registerFeatureJobs() error {
	river.AddWorker(a.workers, &syncjobs.PlaceholderPushWorker{Log: a.Log})
	if err := a.ensureGraph(); err != nil {
		return err
	}
	sh := a.shareService()
	river.AddWorker(a.workers, &share.MarkCategoryWorker{Service: sh})
	river.AddWorker(a.workers, &share.InstantSyncTickWorker{Service: sh})
	river.AddWorker(a.workers, &share.InstantSyncWorker{Service: sh})
	a.periodic = append(a.periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return share.InstantSyncTickArgs{}, nil }, nil))
	return nil
}

// ensureGraph builds the Graph client unless another feature did.
func (a *App) ensureGraph() error {
	if a.Graph != nil {
		return nil
	}
	tokens := a.graphTokens
	if tokens == nil {
		// Until users' Microsoft tokens are available every mailbox call
		// answers "connect again".
		tokens = graph.StaticTokens{}
	}
	c, err := graph.New(graph.Options{BaseURL: a.Cfg.GraphURL, HTTPClient: a.HTTPClient, Tokens: tokens})
	if err != nil {
		return fmt.Errorf("graph client: %w", err)
	}
	a.Graph = c
	return nil
}

func (a *App) shareService() *share.Service {
	return &share.Service{Store: a.Store, Queue: a.Queue, Graph: a.Graph, Now: a.Now}
}

// registerFeatureRoutes mounts each feature's handlers: pages and public
// endpoints on r/api, session-protected ones on authed, admin-only ones on
// admin.
func (a *App) registerFeatureRoutes(r *gin.Engine, api, authed, admin *gin.RouterGroup) {
	(&handlers.Me{Store: a.Store}).Register(authed)
	(&handlers.Share{Store: a.Store, Service: a.shareService()}).Register(authed, admin)
	pan := &panel.Service{Store: a.Store, Queue: a.Queue, Now: a.Now}
	(&handlers.Panel{Store: a.Store, Panel: pan}).Register(authed)
	(&handlers.Records{Store: a.Store, Panel: pan}).Register(authed)
	_ = r
	_ = api
}

// SeedDemo seeds the demo data (idempotent).
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, a.Store)
}
