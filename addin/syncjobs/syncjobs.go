// Package syncjobs holds the argument types of the sync jobs that other
// features enqueue, so they need not import the sync engine itself.
package syncjobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
)

// PushKind is the River kind of PushArgs.
const PushKind = "sync.push"

// PushArgs asks the sync engine to push one CRM record to its owner's
// mailbox now (a contact or appointment changed in the panel). CrmID is the
// record's id; ObjectType is a models.Sync* type.
type PushArgs struct {
	UserID     int64  `json:"userId"`
	ObjectType string `json:"objectType"`
	CrmID      int64  `json:"crmId"`
}

// Kind is the River job kind.
func (PushArgs) Kind() string { return PushKind }

// PlaceholderPushWorker completes push jobs without doing anything until
// the sync engine registers the real worker for PushKind.
type PlaceholderPushWorker struct {
	river.WorkerDefaults[PushArgs]
	Log *slog.Logger
}

// Work logs the push and completes.
func (w *PlaceholderPushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	if w.Log != nil {
		w.Log.InfoContext(ctx, "sync push queued (sync engine not installed)", "user_id", job.Args.UserID, "type", job.Args.ObjectType, "crm_id", job.Args.CrmID)
	}
	return nil
}
