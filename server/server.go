// Package server wires SalesBridge together: configuration, the database
// and its migrations, the River client and workers, the Gin engine with its
// middleware and routes, and graceful shutdown. It holds no product logic.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/addin/jobs"
	"github.com/salesbridge/salesbridge/addin/maintenance"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/models"
)

// Options injects what tests replace: the clock and the outbound HTTP
// client used for Microsoft's services.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	HTTPClient *http.Client
	// Store, when set, is used instead of opening Config.DatabaseURL.
	Store *models.Store
	// GraphTokens, when set, yields Microsoft Graph access tokens per user
	// (tests point it at a Graph fake).
	GraphTokens graph.TokenSource
}

// App is one SalesBridge process.
type App struct {
	Cfg        *Config
	Log        *slog.Logger
	Store      *models.Store
	Keys       *identity.Keys
	Sessions   *identity.Sessions
	Identity   *identity.Service
	Queue      *jobs.Queue
	River      *river.Client[*sql.Tx]
	Engine     *gin.Engine
	HTTPClient *http.Client
	Now        func() time.Time
	// Graph is the Microsoft Graph client shared by every feature.
	Graph *graph.Client

	graphTokens graph.TokenSource
	riverDB     *sql.DB
	workers     *river.Workers
	periodic    []*river.PeriodicJob
	metrics     *metrics
	ownStore    bool
	pages       map[string]gin.HandlerFunc
}

// New builds an App: opens and migrates the database (unless NoMigrate),
// seeds demo data when asked, builds the job queue and the HTTP engine.
// Nothing listens or works until Start.
func New(ctx context.Context, cfg *Config, opts Options) (*App, error) {
	a := &App{Cfg: cfg, Log: opts.Logger, Now: opts.Now, HTTPClient: opts.HTTPClient, Store: opts.Store, graphTokens: opts.GraphTokens}
	if a.Log == nil {
		a.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	if a.Now == nil {
		a.Now = func() time.Time { return time.Now().UTC() }
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		return nil, err
	}
	var err error
	if a.HTTPClient == nil {
		if a.HTTPClient, err = OutboundClient(cfg.ExtraCAFile); err != nil {
			return nil, &ConfigError{Var: "SALESBRIDGE_EXTRA_CA_FILE", Err: err}
		}
	}
	if a.Keys, err = identity.NewKeys(cfg.SecretKey, cfg.PreviousKeys...); err != nil {
		return nil, &ConfigError{Var: "SALESBRIDGE_SECRET_KEY", Err: err}
	}
	if a.Store == nil {
		if a.Store, err = models.Open(ctx, cfg.DatabaseURL); err != nil {
			return nil, err
		}
		a.ownStore = true
	}
	if cfg.NoMigrate {
		n, err := a.Store.Pending(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		if n > 0 {
			a.Log.Warn("database schema is behind this binary; run `salesbridge migrate`", "pending", n)
		}
	} else {
		res, err := a.Store.Migrate(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		if len(res.Applied) > 0 {
			a.Log.Info("migrations applied", "count", len(res.Applied), "version", res.Current)
		}
	}
	a.Sessions = &identity.Sessions{Store: a.Store, Keys: a.Keys, Now: a.Now}
	a.Identity = &identity.Service{Store: a.Store, Keys: a.Keys, Sessions: a.Sessions, HTTPClient: a.HTTPClient,
		AuthorityURL: cfg.AuthorityURL, PublicURL: cfg.PublicURL, Now: a.Now}
	a.Queue = &jobs.Queue{}
	a.workers = river.NewWorkers()
	if err := a.registerJobs(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.newRiver(); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.Demo {
		if err := a.SeedDemo(ctx); err != nil {
			a.Close()
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}
	a.metrics = newMetrics(a.Store)
	a.Engine = a.newEngine()
	return a, nil
}

// registerJobs adds every worker and periodic job of the product.
func (a *App) registerJobs() error {
	river.AddWorker(a.workers, &maintenance.CleanupWorker{Store: a.Store, Now: a.Now})
	a.periodic = append(a.periodic, river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return maintenance.CleanupArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	if err := a.registerFeatureJobs(); err != nil {
		return err
	}
	// After every feature: a build without the sync engine can still
	// queue sync runs (the monitor's Run Sync).
	syncjobs.RegisterFallback(a.workers)
	return nil
}

func (a *App) newRiver() error {
	cfg := &river.Config{
		Logger:       a.Log.With("component", "river"),
		Workers:      a.workers,
		PeriodicJobs: a.periodic,
		JobTimeout:   30 * time.Minute,
	}
	if a.Cfg.Workers {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}}
	}
	var err error
	switch a.Store.Dialect() {
	case models.Postgres:
		a.River, err = river.NewClient(riverdatabasesql.New(a.Store.SQL()), cfg)
	default:
		// River on SQLite wants one connection of its own on the same file.
		a.riverDB, err = sql.Open("sqlite", a.Store.SQLiteDSN())
		if err != nil {
			return err
		}
		a.riverDB.SetMaxOpenConns(1)
		cfg.PollOnly = true
		a.River, err = river.NewClient(riversqlite.New(a.riverDB), cfg)
	}
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	a.Queue.SetClient(a.River)
	return nil
}

// StartWorkers starts River's workers (when enabled).
func (a *App) StartWorkers(ctx context.Context) error {
	if !a.Cfg.Workers {
		return nil
	}
	return a.River.Start(ctx)
}

// StopWorkers stops River, letting running jobs finish within ctx.
func (a *App) StopWorkers(ctx context.Context) error {
	if !a.Cfg.Workers {
		return nil
	}
	return a.River.Stop(ctx)
}

// Close releases the database handles.
func (a *App) Close() {
	if a.riverDB != nil {
		_ = a.riverDB.Close()
	}
	if a.ownStore && a.Store != nil {
		_ = a.Store.Close()
	}
}

// OutboundClient is the HTTP client for Microsoft's services: system roots
// plus the PEM bundle of SALESBRIDGE_EXTRA_CA_FILE, sane timeouts.
func OutboundClient(extraCAFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	if extraCAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(extraCAFile)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("no PEM certificates found in " + extraCAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// Run serves until ctx is cancelled, then shuts down HTTP first and the
// workers second.
func Run(ctx context.Context, cfg *Config) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	a, err := New(ctx, cfg, Options{Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("configuration", cfg.LogAttrs()...)
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 16,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if err := a.StartWorkers(ctx); err != nil {
		_ = ln.Close()
		return fmt.Errorf("start workers: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	base := cfg.PublicURL
	log.Info("SalesBridge is listening", "addr", ln.Addr().String(),
		"task_pane", base+"/crmUI/osc365/web/index.html", "admin", base+"/admin/")
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	if err := a.StopWorkers(sctx); err != nil {
		log.Warn("workers shutdown", "err", err)
	}
	return nil
}

// authorityOrigin is scheme://host of the identity authority (for the
// sign-in form's CSP).
func authorityOrigin(authority string) string {
	u, err := url.Parse(authority)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
