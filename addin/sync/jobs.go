package sync

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/salesbridge/salesbridge/addin/jobs"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/models"
)

// SyncArgs runs one user's sync. RunID is set for a run already claimed
// (manual runs); otherwise the worker claims one.
type SyncArgs struct {
	UserID  int64  `json:"userId"`
	RunID   int64  `json:"runId,omitempty"`
	Trigger string `json:"trigger"`
}

// Kind is River's job kind.
func (SyncArgs) Kind() string { return "sync.run" }

// InsertOpts makes a user's pending sync unique: the scheduler and repeated
// requests never queue a second one.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}
}

// SyncWorker executes SyncArgs.
type SyncWorker struct {
	river.WorkerDefaults[SyncArgs]
	Engine *Engine
}

// Work claims (or resumes) the run and executes it. When another run of
// the user is unfinished, this one is dropped: that run syncs the user.
func (w *SyncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	runID := job.Args.RunID
	if runID == 0 {
		trigger := job.Args.Trigger
		if trigger == "" {
			trigger = TriggerStandard
		}
		run, started, err := w.Engine.Start(ctx, job.Args.UserID, trigger)
		if err != nil {
			return err
		}
		if !started {
			return nil
		}
		runID = run.ID
	}
	_, err := w.Engine.Execute(ctx, runID)
	return err
}

// Timeout bounds one run.
func (w *SyncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return RunLease }

// PushWorker pushes a record changed in the panel or deleted in the CRM: it
// runs the owner's sync, which picks the change up by version. While a run
// of the user is in progress the push waits, as that run may have read its
// watermark before the change committed.
type PushWorker struct {
	river.WorkerDefaults[syncjobs.PushArgs]
	Engine *Engine
}

// Work runs the sync or snoozes while another run is in progress.
func (w *PushWorker) Work(ctx context.Context, job *river.Job[syncjobs.PushArgs]) error {
	eligible, err := w.Engine.eligible(ctx, job.Args.UserID)
	if err != nil || !eligible {
		return err
	}
	run, started, err := w.Engine.Start(ctx, job.Args.UserID, TriggerPush)
	if err != nil {
		return err
	}
	if !started {
		return river.JobSnooze(30 * time.Second)
	}
	_, err = w.Engine.Execute(ctx, run.ID)
	var ne *ErrNotEligible
	if errors.As(err, &ne) {
		return nil
	}
	return err
}

func (e *Engine) eligible(ctx context.Context, userID int64) (bool, error) {
	var n int64
	err := e.Store.DB(ctx).Table("user_mappings").Joins("JOIN users u ON u.id = user_mappings.user_id").
		Where("user_mappings.user_id = ? AND user_mappings.authorized AND user_mappings.sync_state = ? AND u.active", userID, models.SyncActive).
		Count(&n).Error
	return n > 0, err
}

// SchedulerArgs is the periodic Standard Sync tick.
type SchedulerArgs struct{}

// Kind is River's job kind.
func (SchedulerArgs) Kind() string { return "sync.scheduler" }

// SchedulerWorker enqueues one sync per active, authorized, enabled user
// whose last standard run is older than the admin's Standard Sync
// interval. It ticks every minute and reads the setting each time, so a
// new frequency applies without a restart.
type SchedulerWorker struct {
	river.WorkerDefaults[SchedulerArgs]
	Store *models.Store
	Queue jobs.Enqueuer
	Now   func() time.Time
}

// SchedulerTick is how often the scheduler looks for due users.
const SchedulerTick = time.Minute

// Work enqueues the due users' syncs.
func (w *SchedulerWorker) Work(ctx context.Context, _ *river.Job[SchedulerArgs]) error {
	st, err := settings.Load(ctx, w.Store)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if w.Now != nil {
		now = w.Now()
	}
	users, err := DueUsers(ctx, w.Store, now, time.Duration(st.StandardSyncMinutes)*time.Minute)
	if err != nil {
		return err
	}
	for _, id := range users {
		if err := w.Queue.Enqueue(ctx, SyncArgs{UserID: id, Trigger: TriggerStandard}, nil); err != nil {
			return err
		}
	}
	return nil
}

// DueUsers lists active, authorized, enabled users whose last run started
// more than interval ago (or who never ran).
func DueUsers(ctx context.Context, store *models.Store, now time.Time, interval time.Duration) ([]int64, error) {
	if interval <= 0 {
		interval = 2 * time.Hour
	}
	var ids []int64
	err := store.DB(ctx).Raw(`SELECT m.user_id FROM user_mappings m JOIN users u ON u.id = m.user_id
		WHERE m.authorized AND m.sync_state = ? AND u.active
		AND NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.user_id = m.user_id AND (r.started_at > ? OR r.finished_at IS NULL))
		ORDER BY m.user_id`, models.SyncActive, now.Add(-interval)).Scan(&ids).Error
	return ids, err
}
