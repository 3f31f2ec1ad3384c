package server

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/graph"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
)

// registerFeatureJobs adds the workers and periodic jobs of each feature.
func (a *App) registerFeatureJobs() error {
	if err := a.registerSyncJobs(); err != nil {
		return err
	}
	return nil
}

// registerFeatureRoutes mounts each feature's handlers: pages and public
// endpoints on r/api, session-protected ones on authed, admin-only ones on
// admin.
func (a *App) registerFeatureRoutes(r *gin.Engine, api, authed, admin *gin.RouterGroup) {
	(&handlers.Me{Store: a.Store}).Register(authed)
	(&handlers.Sync{Store: a.Store, Service: &syncer.Service{
		Engine: &syncer.Engine{Store: a.Store, Now: a.Now, Log: a.Log}, Queue: a.Queue}}).Register(authed)
	_ = r
	_ = api
	_ = admin
}

// registerSyncJobs wires the sync engine: runs, pushes and the Standard
// Sync scheduler (a one-minute tick that reads the admin's interval).
func (a *App) registerSyncJobs() error {
	tokens := a.GraphTokens
	if tokens == nil {
		tokens = graph.TokenFunc(func(context.Context, string) (string, error) {
			return "", errors.New("no Microsoft token source configured")
		})
	}
	var limiter graph.Limiter
	if a.Store.Dialect() == models.Postgres {
		l, err := graph.NewDBLimiter(a.Store.SQL(), string(models.Postgres), graph.LimitConfig{})
		if err != nil {
			return err
		}
		limiter = l
	}
	gc, err := graph.New(graph.Options{BaseURL: a.Cfg.GraphURL, HTTPClient: a.HTTPClient, Tokens: tokens, Limiter: limiter})
	if err != nil {
		return err
	}
	eng := &syncer.Engine{Store: a.Store, Graph: gc, Now: a.Now, Log: a.Log}
	river.AddWorker(a.workers, &syncer.SyncWorker{Engine: eng})
	river.AddWorker(a.workers, &syncer.PushWorker{Engine: eng})
	river.AddWorker(a.workers, &syncer.SchedulerWorker{Store: a.Store, Queue: a.Queue, Now: a.Now})
	a.periodic = append(a.periodic, river.NewPeriodicJob(river.PeriodicInterval(syncer.SchedulerTick),
		func() (river.JobArgs, *river.InsertOpts) { return syncer.SchedulerArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	return nil
}

// SeedDemo seeds the demo data (idempotent).
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, a.Store)
}
