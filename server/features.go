package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/addin/monitor"
	"github.com/salesbridge/salesbridge/addin/panel"
	"github.com/salesbridge/salesbridge/addin/share"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
)

// registerFeatureJobs adds the workers and periodic jobs of each feature.
func (a *App) registerFeatureJobs() error {
	river.AddWorker(a.workers, &identity.TokenRefreshWorker{Service: a.Identity, Queue: a.Queue})
	river.AddWorker(a.workers, &identity.TokenRefreshUserWorker{Service: a.Identity})
	a.periodic = append(a.periodic, river.NewPeriodicJob(river.PeriodicInterval(identity.TokenRefreshInterval),
		func() (river.JobArgs, *river.InsertOpts) { return identity.TokenRefreshArgs{}, nil }, nil))
	if err := a.ensureGraph(); err != nil {
		return err
	}
	// The sync engine's PushWorker handles syncjobs.PushKind (it replaces
	// syncjobs.PlaceholderPushWorker).
	a.registerSyncJobs()
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
	var tokens graph.TokenSource = a.Identity
	if a.graphTokens != nil {
		tokens = a.graphTokens
	}
	var limiter graph.Limiter
	if a.Store.Dialect() == models.Postgres {
		// Per-mailbox limits shared by every worker process.
		l, err := graph.NewDBLimiter(a.Store.SQL(), string(models.Postgres), graph.LimitConfig{})
		if err != nil {
			return fmt.Errorf("graph limiter: %w", err)
		}
		limiter = l
	}
	c, err := graph.New(graph.Options{BaseURL: a.Cfg.GraphURL, HTTPClient: a.HTTPClient, Tokens: tokens, Limiter: limiter})
	if err != nil {
		return fmt.Errorf("graph client: %w", err)
	}
	a.Graph = c
	return nil
}

// registerSyncJobs wires the sync engine: runs, pushes and the Standard
// Sync scheduler (a one-minute tick that reads the admin's interval).
func (a *App) registerSyncJobs() {
	eng := &syncer.Engine{Store: a.Store, Graph: a.Graph, Now: a.Now, Log: a.Log}
	river.AddWorker(a.workers, &syncer.SyncWorker{Engine: eng})
	river.AddWorker(a.workers, &syncer.PushWorker{Engine: eng})
	river.AddWorker(a.workers, &syncer.SchedulerWorker{Store: a.Store, Queue: a.Queue, Now: a.Now})
	a.periodic = append(a.periodic, river.NewPeriodicJob(river.PeriodicInterval(syncer.SchedulerTick),
		func() (river.JobArgs, *river.InsertOpts) { return syncer.SchedulerArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
}

func (a *App) shareService() *share.Service {
	return &share.Service{Store: a.Store, Queue: a.Queue, Graph: a.Graph, Now: a.Now}
}

// registerFeatureRoutes mounts each feature's handlers: pages and public
// endpoints on r/api, session-protected ones on authed, admin-only ones on
// admin.
func (a *App) registerFeatureRoutes(r *gin.Engine, api, authed, admin *gin.RouterGroup) {
	idh := &handlers.Identity{Store: a.Store, Service: a.Identity, SecureCookies: strings.HasPrefix(a.Cfg.PublicURL, "https://")}
	idh.Register(api, authed, admin)
	r.GET("/connect/start", idh.StartConnect)
	r.POST("/connect/signin", idh.SignIn)
	a.pages["/crmUI/osc365/web/signin.html"] = idh.SigninPage
	for _, p := range identity.ReplyPaths {
		a.pages[p] = idh.Close
	}
	(&handlers.AdminSettings{Store: a.Store, Now: a.Now}).Register(authed, admin)
	(&handlers.AdminMonitor{Store: a.Store, Monitor: &monitor.Service{Store: a.Store, Queue: a.Queue, Now: a.Now}}).Register(admin)
	(&handlers.AdminUsage{Store: a.Store, Now: a.Now}).Register(authed, admin)
	(&handlers.AdminManifest{Store: a.Store, PublicURL: a.Cfg.PublicURL}).Register(admin)

	(&handlers.Share{Store: a.Store, Service: a.shareService()}).Register(authed, admin)
	pan := &panel.Service{Store: a.Store, Queue: a.Queue, Now: a.Now}
	(&handlers.Panel{Store: a.Store, Panel: pan}).Register(authed)
	(&handlers.Records{Store: a.Store, Panel: pan}).Register(authed)

	(&handlers.Sync{Store: a.Store, Service: &syncer.Service{
		Engine: &syncer.Engine{Store: a.Store, Now: a.Now, Log: a.Log}, Queue: a.Queue}}).Register(authed)
}

// SeedDemo seeds the demo data (idempotent).
func (a *App) SeedDemo(ctx context.Context) error {
	return demo.Seed(ctx, a.Store)
}
