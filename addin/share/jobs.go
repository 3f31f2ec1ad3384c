package share

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// CategoryColor is the color preset of the master category SalesBridge
// creates when the mailbox has none of that name.
const CategoryColor = "preset7"

// activeStates make a job unique while it waits or runs, so a user never
// has two of it at once.
var activeStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}

// MarkCategoryArgs adds the share category to an Outlook item.
type MarkCategoryArgs struct {
	UserID int64  `json:"userId"`
	ItemID string `json:"itemId"`
	Item   string `json:"item"`
}

// Kind names the job.
func (MarkCategoryArgs) Kind() string { return "share.mark_category" }

// InsertOpts collapses repeated shares of one item into one job.
func (MarkCategoryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// MarkCategoryWorker runs MarkCategory. Its failure never touches the
// share, which committed before the job ran.
type MarkCategoryWorker struct {
	river.WorkerDefaults[MarkCategoryArgs]
	Service *Service
}

// Work runs one marking.
func (w *MarkCategoryWorker) Work(ctx context.Context, job *river.Job[MarkCategoryArgs]) error {
	return jobErr(w.Service.MarkCategory(ctx, job.Args.UserID, job.Args.ItemID, job.Args.Item))
}

// jobErr maps Graph errors to River outcomes: throttling waits as long as
// Graph asks, a gone item or a user who must reconnect ends the job.
func jobErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, graph.ErrNotFound), errors.Is(err, graph.ErrUnauthorized), errors.Is(err, graph.ErrForbidden):
		return river.JobCancel(err)
	}
	if d, ok := graph.RetryAfter(err); ok && d > 0 {
		return river.JobSnooze(d)
	}
	return err
}

// MarkCategory adds the configured category ("Shared with Sales") to an
// item, creating the master category first when the mailbox lacks it.
func (s *Service) MarkCategory(ctx context.Context, userID int64, itemID, kind string) error {
	if s.Graph == nil {
		return nil
	}
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		return err
	}
	name := st.CategoryName
	gu := GraphUser(userID)
	if _, err := s.Graph.EnsureMasterCategory(ctx, gu, name, CategoryColor); err != nil {
		return err
	}
	switch kind {
	case ItemEvent:
		e, err := s.Graph.GetEvent(ctx, gu, itemID)
		if err != nil {
			return err
		}
		if hasCategory(e.Categories, name) {
			return nil
		}
		_, err = s.Graph.UpdateEvent(ctx, gu, itemID, graph.Patch{"categories": append(slices.Clone(e.Categories), name)})
		return err
	default:
		m, err := s.Graph.GetMessage(ctx, gu, itemID)
		if err != nil {
			return err
		}
		if hasCategory(m.Categories, name) {
			return nil
		}
		_, err = s.Graph.SetMessageCategories(ctx, gu, itemID, append(slices.Clone(m.Categories), name))
		return err
	}
}

func hasCategory(cats []string, name string) bool {
	for _, c := range cats {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// InstantSyncTickArgs is the periodic job that starts the per-user runs
// that are due (every InstantSyncMinutes, 10 to 30).
type InstantSyncTickArgs struct{}

// Kind names the job.
func (InstantSyncTickArgs) Kind() string { return "share.instant_sync_tick" }

// InstantSyncArgs is one user's instant sync run.
type InstantSyncArgs struct {
	UserID int64 `json:"userId"`
}

// Kind names the job.
func (InstantSyncArgs) Kind() string { return "share.instant_sync" }

// InsertOpts keeps at most one pending or running job per user.
func (InstantSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// InstantSyncTickWorker enqueues the due per-user runs.
type InstantSyncTickWorker struct {
	river.WorkerDefaults[InstantSyncTickArgs]
	Service *Service
}

// Work enqueues the due runs.
func (w *InstantSyncTickWorker) Work(ctx context.Context, _ *river.Job[InstantSyncTickArgs]) error {
	_, err := w.Service.EnqueueDue(ctx)
	return err
}

// InstantSyncWorker runs InstantSync for one user.
type InstantSyncWorker struct {
	river.WorkerDefaults[InstantSyncArgs]
	Service *Service
}

// Work runs one user's instant sync.
func (w *InstantSyncWorker) Work(ctx context.Context, job *river.Job[InstantSyncArgs]) error {
	_, err := w.Service.InstantSync(ctx, job.Args.UserID)
	if errors.Is(err, ErrBusy) {
		return nil
	}
	return jobErr(err)
}

// Timeout bounds one run (a large backlog of tagged items is finished by
// the next run, from the saved watermark).
func (w *InstantSyncWorker) Timeout(*river.Job[InstantSyncArgs]) time.Duration {
	return 15 * time.Minute
}

// InstantSyncInterval clamps the admin setting to 10–30 minutes.
func InstantSyncInterval(st settings.Settings) time.Duration {
	m := st.InstantSyncMinutes
	if m < 10 {
		m = 10
	}
	if m > 30 {
		m = 30
	}
	return time.Duration(m) * time.Minute
}

// EnqueueDue enqueues an instant sync for every connected, active user
// whose last run is older than the interval. It returns how many.
func (s *Service) EnqueueDue(ctx context.Context) (int, error) {
	if s.Queue == nil || s.Graph == nil {
		return 0, nil
	}
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		return 0, err
	}
	due := s.now().Add(-InstantSyncInterval(st))
	var ids []int64
	if err := s.Store.DB(ctx).Raw(`SELECT m.user_id FROM user_mappings m
		JOIN users u ON u.id = m.user_id
		LEFT JOIN share_sync_states st ON st.user_id = m.user_id
		WHERE u.active AND m.authorized AND m.sync_state = ? AND (st.last_run_at IS NULL OR st.last_run_at <= ?)
		ORDER BY m.user_id`, models.SyncActive, due).Scan(&ids).Error; err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.Queue.Enqueue(ctx, InstantSyncArgs{UserID: id}, nil); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ErrBusy is returned when another run of the same user holds the lease.
var ErrBusy = errors.New("share: an instant sync of this user is already running")

// SyncResult counts what one instant sync did.
type SyncResult struct {
	Messages, Events int // tagged items seen
	Shared           int // newly shared by this user
	Skipped          int // already shared by this user
	Failed           int // refused (logged) or to retry next run
}

const leaseTTL = 20 * time.Minute

func (s *Service) acquireLease(ctx context.Context, userID int64) (*models.ShareSyncState, error) {
	now := s.now()
	var st models.ShareSyncState
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		db := s.Store.DB(ctx)
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.ShareSyncState{UserID: userID, UpdatedAt: now}).Error; err != nil {
			return err
		}
		res := db.Exec(`UPDATE share_sync_states SET lease_until = ?, updated_at = ?
			WHERE user_id = ? AND (lease_until IS NULL OR lease_until < ?)`, now.Add(leaseTTL), now, userID, now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrBusy
		}
		return db.Where("user_id = ?", userID).First(&st).Error
	})
	return &st, err
}

// InstantSync shares the user's emails and meetings tagged with the share
// category that changed since the last run, through the same code path and
// idempotency as the API. Watermarks only move past what was handled, so an
// item that failed for a transient reason is tried again next run.
func (s *Service) InstantSync(ctx context.Context, userID int64) (SyncResult, error) {
	var r SyncResult
	if s.Graph == nil {
		return r, nil
	}
	state, err := s.acquireLease(ctx, userID)
	if err != nil {
		return r, err
	}
	st, err := settings.Load(ctx, s.Store)
	if err != nil {
		s.releaseLease(ctx, state, err)
		return r, err
	}
	gu := GraphUser(userID)
	runErr := s.syncMessages(ctx, userID, gu, st, state, &r)
	if err := s.syncEvents(ctx, userID, gu, st, state, &r); err != nil && runErr == nil {
		runErr = err
	}
	state.SharedCount += int64(r.Shared)
	s.releaseLease(ctx, state, runErr)
	return r, runErr
}

func (s *Service) releaseLease(ctx context.Context, state *models.ShareSyncState, runErr error) {
	now := s.now()
	state.LastRunAt = &now
	state.LeaseUntil = nil
	state.UpdatedAt = now
	state.LastError = ""
	if runErr != nil {
		state.LastError = truncate(runErr.Error(), 1000)
	}
	if err := s.Store.DB(context.WithoutCancel(ctx)).Save(state).Error; err != nil {
		slog.ErrorContext(ctx, "instant sync: save state", "user_id", state.UserID, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// transient reports whether a failed share should be retried next run
// (as opposed to an item refused for good, e.g. invalid or not allowed).
func transient(err error) bool {
	switch models.ErrorCode(err) {
	case models.CodeInvalidArgument, models.CodePermissionDenied, models.CodeNotFound, models.CodeConflict:
		return false
	}
	return true
}

func (s *Service) alreadyShared(ctx context.Context, userID int64, column string, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	var got []string
	q := s.Store.DB(ctx).Table("activities a").Joins("JOIN activity_shares sh ON sh.activity_id = a.id AND sh.user_id = ?", userID).
		Where("a."+column+" IN ?", keys)
	if column == "ical_uid" {
		q = q.Where("a.type_code = ?", models.ActivityAppointment)
	}
	if err := q.Pluck("a."+column, &got).Error; err != nil {
		return nil, err
	}
	for _, k := range got {
		out[k] = true
	}
	return out, nil
}

func (s *Service) syncMessages(ctx context.Context, userID int64, gu string, st settings.Settings, state *models.ShareSyncState, r *SyncResult) error {
	var since time.Time
	if state.MessagesSince != nil {
		since = *state.MessagesSince
	}
	msgs, err := s.Graph.ListMessagesWithCategory(ctx, gu, st.CategoryName, since)
	if err != nil {
		return fmt.Errorf("list tagged messages: %w", err)
	}
	var keys []string
	for _, m := range msgs {
		if m.InternetMessageID != "" {
			keys = append(keys, m.InternetMessageID)
		}
	}
	done, err := s.alreadyShared(ctx, userID, "internet_message_id", keys)
	if err != nil {
		return err
	}
	newest, hold := since, false
	for _, m := range msgs {
		if m.IsDraft || m.Removed != nil {
			continue
		}
		r.Messages++
		err := s.shareTaggedMessage(ctx, userID, gu, &m, done)
		switch {
		case errors.Is(err, errSkipped):
			r.Skipped++
		case err != nil:
			r.Failed++
			slog.WarnContext(ctx, "instant sync: message not shared", "user_id", userID, "item", m.ID, "err", err)
			if transient(err) {
				hold = true
			}
		default:
			r.Shared++
		}
		if m.LastModifiedDateTime.After(newest) {
			newest = m.LastModifiedDateTime
		}
	}
	if !hold && newest.After(since) {
		n := newest.UTC()
		state.MessagesSince = &n
	}
	return nil
}

var errSkipped = errors.New("already shared")

func (s *Service) shareTaggedMessage(ctx context.Context, userID int64, gu string, m *graph.Message, done map[string]bool) error {
	if m.InternetMessageID != "" && done[m.InternetMessageID] {
		return errSkipped
	}
	full, err := s.Graph.GetMessage(ctx, gu, m.ID)
	if err != nil {
		return err
	}
	in := EmailInput{Source: SourceInstant}
	EmailFromMessage(full, &in)
	_, err = s.ShareEmail(ctx, userID, in)
	return err
}

func (s *Service) syncEvents(ctx context.Context, userID int64, gu string, st settings.Settings, state *models.ShareSyncState, r *SyncResult) error {
	opts := graph.DeltaOptions{Link: state.EventsDeltaLink}
	if opts.Link == "" {
		now := s.now()
		opts.Start = now.AddDate(0, 0, -st.WindowPastDays)
		opts.End = now.AddDate(0, 0, st.WindowFutureDays)
	}
	res, err := s.Graph.EventsDelta(ctx, gu, opts)
	if errors.Is(err, graph.ErrResyncRequired) && opts.Link != "" {
		state.EventsDeltaLink = ""
		return s.syncEvents(ctx, userID, gu, st, state, r)
	}
	if err != nil {
		return fmt.Errorf("calendar delta: %w", err)
	}
	var tagged []graph.Event
	var keys []string
	for _, e := range res.Items {
		if e.Removed != nil || e.IsCancelled || e.ICalUID == "" || !hasCategory(e.Categories, st.CategoryName) {
			continue
		}
		tagged = append(tagged, e)
		keys = append(keys, e.ICalUID)
	}
	done, err := s.alreadyShared(ctx, userID, "ical_uid", keys)
	if err != nil {
		return err
	}
	hold := false
	for i := range tagged {
		e := &tagged[i]
		r.Events++
		if done[e.ICalUID] {
			r.Skipped++
			continue
		}
		in := AppointmentInput{Source: SourceInstant}
		AppointmentFromEvent(e, &in)
		if _, err := s.ShareAppointment(ctx, userID, in); err != nil {
			r.Failed++
			slog.WarnContext(ctx, "instant sync: meeting not shared", "user_id", userID, "item", e.ID, "err", err)
			if transient(err) {
				hold = true
			}
			continue
		}
		done[e.ICalUID] = true
		r.Shared++
	}
	if !hold {
		state.EventsDeltaLink = res.DeltaLink
	}
	return nil
}
