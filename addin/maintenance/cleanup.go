// Package maintenance holds housekeeping jobs: removing expired sessions,
// refresh tokens, handoff codes and connect attempts.
package maintenance

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/models"
)

// CleanupArgs is the periodic cleanup job.
type CleanupArgs struct{}

// Kind names the job in the queue.
func (CleanupArgs) Kind() string { return "maintenance.cleanup" }

// InsertOpts makes concurrent enqueues of the cleanup collapse into one.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// CleanupWorker deletes what can never be used again. Expired sessions are
// kept a day past expiry so "session expired" can still be told apart from
// "unknown session" in logs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Store *models.Store
	Now   func() time.Time
}

// Result counts what one cleanup removed.
type Result struct {
	Sessions, RefreshTokens, HandoffCodes, ConnectAttempts int64
}

// Work runs one cleanup.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	_, err := w.Run(ctx)
	return err
}

// Run removes expired rows in one transaction.
func (w *CleanupWorker) Run(ctx context.Context) (Result, error) {
	now := time.Now().UTC()
	if w.Now != nil {
		now = w.Now().UTC()
	}
	var r Result
	err := w.Store.Tx(ctx, func(ctx context.Context) error {
		db := w.Store.DB(ctx)
		res := db.Exec("DELETE FROM refresh_tokens WHERE expires_at < ? OR session_id IN (SELECT id FROM sessions WHERE expires_at < ? OR revoked_at < ?)", now, now.Add(-24*time.Hour), now.Add(-24*time.Hour))
		if res.Error != nil {
			return res.Error
		}
		r.RefreshTokens = res.RowsAffected
		res = db.Exec("DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?", now.Add(-24*time.Hour), now.Add(-24*time.Hour))
		if res.Error != nil {
			return res.Error
		}
		r.Sessions = res.RowsAffected
		res = db.Exec("DELETE FROM handoff_codes WHERE expires_at < ?", now)
		if res.Error != nil {
			return res.Error
		}
		r.HandoffCodes = res.RowsAffected
		res = db.Exec("DELETE FROM connect_attempts WHERE expires_at < ?", now)
		if res.Error != nil {
			return res.Error
		}
		r.ConnectAttempts = res.RowsAffected
		return nil
	})
	return r, err
}
