package syncjobs

// RunArgs is the job that runs one user's sync, so that features which
// trigger a sync (the Office 365 Monitor) need not depend on the engine.

import (
	"context"
	"errors"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Kind is the River job kind of a sync run.
const Kind = "sync.run"

// Triggers of a run (sync_runs.trigger_kind).
const (
	TriggerStandard = "standard"
	TriggerInstant  = "instant"
	TriggerManual   = "manual"
	TriggerPush     = "push"
	TriggerMonitor  = "monitor"
)

// RunArgs asks for one sync of one user.
type RunArgs struct {
	UserID  int64  `json:"userId"`
	Trigger string `json:"trigger"`
}

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return Kind }

// InsertOpts keeps at most one waiting or running job per user and
// trigger: asking again meanwhile is a no-op (a completed run does not
// block a new one).
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable},
	}}
}

// RegisterFallback registers a placeholder worker for sync.run unless the
// sync engine registered its own: River refuses to insert a job kind no
// worker is registered for, and a build without the engine must still be
// able to queue runs. The placeholder cancels the job (nothing can run it).
func RegisterFallback(w *river.Workers) {
	_ = river.AddWorkerSafely(w, &fallbackWorker{})
}

type fallbackWorker struct {
	river.WorkerDefaults[RunArgs]
}

func (*fallbackWorker) Work(context.Context, *river.Job[RunArgs]) error {
	return river.JobCancel(errors.New("no sync engine in this build"))
}
