package identity

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/jobs"
)

// TokenRefreshInterval is how often the token refresh job runs (PRODUCT §6).
const TokenRefreshInterval = 12 * time.Hour

// TokenRefreshArgs is the periodic token refresh: it fans out one
// TokenRefreshUserArgs per mapped, active user, so that one user's
// transient failure is retried alone.
type TokenRefreshArgs struct{}

// Kind names the job.
func (TokenRefreshArgs) Kind() string { return "identity.token_refresh" }

// InsertOpts collapses concurrent enqueues of the periodic job.
func (TokenRefreshArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// TokenRefreshUserArgs refreshes one user's Microsoft tokens.
type TokenRefreshUserArgs struct {
	UserID int64 `json:"userId"`
}

// Kind names the job.
func (TokenRefreshUserArgs) Kind() string { return "identity.token_refresh_user" }

// InsertOpts: one pending refresh per user; transient errors retry with
// River's backoff a few times before the next periodic run.
func (TokenRefreshUserArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Hour}}
}

// TokenRefreshWorker runs the periodic fan-out.
type TokenRefreshWorker struct {
	river.WorkerDefaults[TokenRefreshArgs]
	Service *Service
	Queue   jobs.Enqueuer
}

// Work enqueues one refresh per candidate user, in one transaction.
func (w *TokenRefreshWorker) Work(ctx context.Context, _ *river.Job[TokenRefreshArgs]) error {
	return w.Service.Store.Tx(ctx, func(ctx context.Context) error {
		ids, err := w.Service.RefreshCandidates(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := w.Queue.Enqueue(ctx, TokenRefreshUserArgs{UserID: id}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// TokenRefreshUserWorker refreshes one user.
type TokenRefreshUserWorker struct {
	river.WorkerDefaults[TokenRefreshUserArgs]
	Service *Service
}

// Work refreshes; a transient failure is returned so River retries it, an
// authorization failure is recorded on the mapping and ends the job.
func (w *TokenRefreshUserWorker) Work(ctx context.Context, job *river.Job[TokenRefreshUserArgs]) error {
	return w.Service.RefreshUser(ctx, job.Args.UserID)
}

// Timeout bounds one user's refresh.
func (w *TokenRefreshUserWorker) Timeout(*river.Job[TokenRefreshUserArgs]) time.Duration {
	return 2 * time.Minute
}
