package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/models"
)

// kinds are the synced object types, in run order.
var kinds = []kind{contactKind{}, apptKind{}, taskKind{}}

// Trigger kinds of a run.
const (
	TriggerStandard = "standard"
	TriggerManual   = "manual"
	TriggerPush     = "push"
)

// Record outcomes kept in the run log.
const (
	OutCreated           = "created"
	OutUpdated           = "updated"
	OutDeleted           = "deleted"
	OutMerged            = "merged"
	OutConflict          = "conflict"
	OutSkippedPrivate    = "skipped-private"
	OutSkippedWindow     = "skipped-window"
	OutSkippedNoCategory = "skipped-no-category"
	OutSkippedLimit      = "skipped-limit"
	OutSkippedCreateOff  = "skipped-create-off"
	OutSkippedDeleteOff  = "skipped-delete-off"
	OutBrake             = "brake"
	OutFailed            = "failed"
)

// Directions of a record decision.
const (
	ToCRM  = "to_crm"
	ToO365 = "to_o365"
)

// RunLease is how long a run may go without finishing before another
// worker may take the user over.
const RunLease = 30 * time.Minute

// Engine runs users' syncs. Graph is addressed with the CRM user id in
// decimal as the token source's user id.
type Engine struct {
	Store *models.Store
	Graph *graph.Client
	Now   func() time.Time
	Log   *slog.Logger
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// GraphUser is the token-source user id of a CRM user.
func GraphUser(userID int64) string { return strconv.FormatInt(userID, 10) }

// Counts are a run's decisions per type, direction and outcome.
type Counts map[string]map[string]map[string]int

func (c Counts) add(typ, dir, outcome string) {
	if dir == "" {
		dir = "none"
	}
	if c[typ] == nil {
		c[typ] = map[string]map[string]int{}
	}
	if c[typ][dir] == nil {
		c[typ][dir] = map[string]int{}
	}
	c[typ][dir][outcome]++
}

// Start claims a run for a user. When the user has an unfinished run whose
// lease holds, that run is returned with started false: a user's runs never
// overlap, across all worker processes (a partial unique index enforces it).
func (e *Engine) Start(ctx context.Context, userID int64, trigger string) (*models.SyncRun, bool, error) {
	var run models.SyncRun
	started := false
	err := e.Store.Tx(ctx, func(ctx context.Context) error {
		db := e.Store.DB(ctx)
		now := e.now()
		var cur models.SyncRun
		res := db.Where("user_id = ? AND status IN ?", userID, []string{models.RunQueued, models.RunInProgress}).Limit(1).Find(&cur)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			if cur.LeaseUntil != nil && cur.LeaseUntil.After(now) {
				run = cur
				return nil
			}
			if err := db.Model(&models.SyncRun{}).Where("id = ?", cur.ID).Updates(map[string]any{
				"status": models.RunFailed, "finished_at": now, "error": "run abandoned (lease expired)"}).Error; err != nil {
				return err
			}
		}
		lease := now.Add(RunLease)
		run = models.SyncRun{UserID: userID, TriggerKind: trigger, Status: models.RunInProgress,
			StartedAt: now, Counts: "{}", LeaseUntil: &lease}
		if err := db.Create(&run).Error; err != nil {
			return err
		}
		started = true
		return nil
	})
	if err != nil && models.ErrorCode(err) == models.CodeConflict {
		var cur models.SyncRun
		if e.Store.DB(ctx).Where("user_id = ? AND status IN ?", userID, []string{models.RunQueued, models.RunInProgress}).First(&cur).Error == nil {
			return &cur, false, nil
		}
	}
	if err != nil {
		return nil, false, err
	}
	return &run, started, nil
}

// runCtx is the state of one run.
type runCtx struct {
	e        *Engine
	run      *models.SyncRun
	userID   int64
	gUser    string
	st       settings.Settings
	policy   string
	counts   Counts
	events   []models.SyncRecordEvent
	held     int
	failed   int
	graphDur time.Duration
	crmDur   time.Duration
	// brakes holds one message per type whose deletes the safety brake
	// held back; the run row carries them so the admin monitor shows why.
	brakes []string
}

func (rc *runCtx) event(typ string, crmID int64, graphID, dir, outcome, msg string) {
	var cid *int64
	if crmID != 0 {
		id := crmID
		cid = &id
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	rc.events = append(rc.events, models.SyncRecordEvent{RunID: rc.run.ID, UserID: rc.userID, ObjectType: typ,
		CrmID: cid, GraphID: graphID, Direction: dir, Outcome: outcome, Message: msg, At: rc.e.now()})
	rc.counts.add(typ, dir, outcome)
	switch outcome {
	case OutConflict:
		rc.held++
	case OutFailed:
		rc.failed++
	}
}

// flush writes buffered events (so a long run shows progress and a killed
// run keeps what it logged).
func (rc *runCtx) flush(ctx context.Context) error {
	if len(rc.events) == 0 {
		return nil
	}
	err := rc.e.Store.DB(ctx).CreateInBatches(rc.events, 200).Error
	rc.events = rc.events[:0]
	return err
}

// Execute runs (or resumes) a claimed run to its end. A run that already
// finished is left alone, so a retried job is harmless.
func (e *Engine) Execute(ctx context.Context, runID int64) (*models.SyncRun, error) {
	var run models.SyncRun
	if err := e.Store.DB(ctx).First(&run, runID).Error; err != nil {
		return nil, models.MapErr(err)
	}
	if run.Status != models.RunInProgress && run.Status != models.RunQueued {
		return &run, nil
	}
	rc := &runCtx{e: e, run: &run, userID: run.UserID, gUser: GraphUser(run.UserID), counts: Counts{}}
	runErr := e.execute(ctx, rc)
	if ctx.Err() != nil {
		// Killed: leave the run unfinished; it is resumed or its lease expires.
		return &run, ctx.Err()
	}
	_ = rc.flush(ctx)
	now := e.now()
	status := models.RunSucceeded
	msg := ""
	switch {
	case runErr != nil:
		status, msg = models.RunFailed, runErr.Error()
	case len(rc.brakes) > 0:
		// Not a failure (everything else synced) but not a clean success
		// either: the monitor lists the user under needs review and shows
		// this message as the last error.
		status, msg = models.RunSucceededWithConflicts, strings.Join(rc.brakes, "; ")
	case rc.held > 0:
		status = models.RunSucceededWithConflicts
	}
	cb, _ := json.Marshal(rc.counts)
	upd := map[string]any{"status": status, "finished_at": now, "error": msg, "counts": string(cb),
		"graph_ms": rc.graphDur.Milliseconds(), "crm_ms": rc.crmDur.Milliseconds(), "lease_until": nil}
	if err := e.Store.DB(ctx).Model(&models.SyncRun{}).Where("id = ?", run.ID).Updates(upd).Error; err != nil {
		return nil, err
	}
	run.Status, run.FinishedAt, run.Error, run.Counts = status, &now, msg, string(cb)
	if runErr == nil {
		_ = usage.RecordSync(ctx, e.Store, run.UserID, "sync_run", 1)
		// Synchronization Tracking: records changed per type and direction.
		applied := map[string]map[string]int64{}
		for typ, dirs := range rc.counts {
			for dir, outs := range dirs {
				if applied[typ] == nil {
					applied[typ] = map[string]int64{}
				}
				applied[typ][dir] = int64(outs[OutCreated] + outs[OutUpdated] + outs[OutDeleted] + outs[OutMerged])
			}
		}
		_ = usage.RecordRun(ctx, e.Store, run.UserID, applied)
	}
	return &run, nil
}

// SyncNow claims and executes a run for a user (tests, tools).
func (e *Engine) SyncNow(ctx context.Context, userID int64, trigger string) (*models.SyncRun, error) {
	run, _, err := e.Start(ctx, userID, trigger)
	if err != nil {
		return nil, err
	}
	return e.Execute(ctx, run.ID)
}

// ErrNotEligible explains why a user is not synced.
type ErrNotEligible struct{ Reason string }

func (e *ErrNotEligible) Error() string { return "sync not possible: " + e.Reason }

func (e *Engine) execute(ctx context.Context, rc *runCtx) error {
	var m models.UserMapping
	res := e.Store.DB(ctx).Where("user_id = ?", rc.userID).Limit(1).Find(&m)
	if res.Error != nil {
		return res.Error
	}
	switch {
	case res.RowsAffected == 0:
		return &ErrNotEligible{"the user has not connected a Microsoft 365 account"}
	case !m.Authorized:
		return &ErrNotEligible{"the Microsoft 365 account is not authorized"}
	case m.SyncState != models.SyncActive:
		return &ErrNotEligible{"sync state is " + m.SyncState}
	}
	st, err := settings.Load(ctx, e.Store)
	if err != nil {
		return err
	}
	rc.st = st
	rc.policy = "server"
	if st.ConflictPolicy == settings.ClientWins {
		rc.policy = "client"
	} else if st.ConflictPolicy == settings.UserSelected {
		rc.policy = "user"
	}
	if st.AllowUserOverride {
		if p, ok := e.userPolicy(ctx, rc.userID); ok {
			rc.policy = p
		}
	}
	var errs []error
	for _, k := range kinds {
		if !k.Toggles(st).Enabled {
			continue
		}
		if err := e.syncType(ctx, rc, k); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// One type failing does not stop the others.
			errs = append(errs, fmt.Errorf("%s: %w", k.Type(), err))
		}
	}
	return errors.Join(errs...)
}

// userPolicy is a user's own conflict policy (when the admin allows it).
func (e *Engine) userPolicy(ctx context.Context, userID int64) (string, bool) {
	var p string
	if err := e.Store.DB(ctx).Raw("SELECT conflict_policy FROM sync_user_prefs WHERE user_id = ?", userID).Scan(&p).Error; err != nil || p == "" {
		return "", false
	}
	return p, true
}
