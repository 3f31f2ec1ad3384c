// Package monitor owns the Office 365 Monitor: which card each connected
// user is on (from their mapping and last sync run), the user table, the
// run history, and the administrator's actions on users' syncs.
package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/models"
)

// Cards of the monitor. NeedsReview is shown apart from the four cards.
const (
	CardFailed      = "failed"
	CardNeverSynced = "never_synced"
	CardInProgress  = "in_progress"
	CardSucceeded   = "succeeded"
	CardNeedsReview = "needs_review"
)

// Cards lists the card names in display order.
var Cards = []string{CardFailed, CardNeverSynced, CardInProgress, CardSucceeded, CardNeedsReview}

// ValidCard reports whether c names a card.
func ValidCard(c string) bool {
	for _, x := range Cards {
		if x == c {
			return true
		}
	}
	return false
}

// Enqueuer inserts a River job in the transaction of ctx.
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service answers the monitor's questions.
type Service struct {
	Store *models.Store
	Queue Enqueuer
	Now   func() time.Time
}

// The latest run of each user is found through sync_runs_user_idx
// (user_id, started_at): one index probe per user rather than a pass over
// the whole run log.
const cardExpr = `CASE
  WHEN m.sync_state = 'needs_review' THEN 'needs_review'
  WHEN lr.id IS NULL THEN 'never_synced'
  WHEN lr.status IN ('queued', 'in_progress') THEN 'in_progress'
  WHEN lr.status = 'failed' THEN 'failed'
  ELSE 'succeeded' END`

const from = ` FROM user_mappings m JOIN users u ON u.id = m.user_id
  LEFT JOIN sync_runs lr ON lr.id = (SELECT r.id FROM sync_runs r WHERE r.user_id = m.user_id
    ORDER BY r.started_at DESC, r.id DESC LIMIT 1)`

// Counts returns the number of connected users on each card (every card
// present, zero when empty).
func (s *Service) Counts(ctx context.Context) (map[string]int64, error) {
	type row struct {
		Card string
		N    int64
	}
	var rows []row
	q := `SELECT card, COUNT(*) AS n FROM (SELECT ` + cardExpr + ` AS card` + from + `) c GROUP BY card`
	if err := s.Store.DB(ctx).Raw(q).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(Cards))
	for _, c := range Cards {
		out[c] = 0
	}
	for _, r := range rows {
		out[r.Card] = r.N
	}
	return out, nil
}

// UserRow is one line of the monitor's user table.
type UserRow struct {
	UserID        int64
	Username      string
	DisplayName   string
	Office365User string
	Card          string
	LastStatus    string // status of the last run, "" when never synced
	LastRunID     *int64
	LastStart     *time.Time
	LastFinish    *time.Time
	GraphMs       int64
	CrmMs         int64
	LastError     string
	UserActive    bool
	SyncState     string
	Authorized    bool
	AuthError     string
}

// Duration is the run's total duration, nil while it is unfinished.
func (r UserRow) Duration() *time.Duration {
	if r.LastStart == nil || r.LastFinish == nil {
		return nil
	}
	d := r.LastFinish.Sub(*r.LastStart)
	return &d
}

// Active reports whether the user's syncs are scheduled.
func (r UserRow) Active() bool { return r.UserActive && r.SyncState == models.SyncActive }

// Query selects the user table.
type Query struct {
	Card   string // "" for all
	Search string // matches user name, display name, email, Office 365 address
	Cursor string // from the previous page
	Limit  int
}

// MaxLimit bounds a page.
const MaxLimit = 200

// Users returns a page of the user table ordered by user id, and the
// cursor of the next page ("" at the end).
func (s *Service) Users(ctx context.Context, q Query) ([]UserRow, string, error) {
	if q.Card != "" && !ValidCard(q.Card) {
		return nil, "", models.InvalidField("card", "must be one of "+strings.Join(Cards, ", "))
	}
	after := int64(0)
	if q.Cursor != "" {
		n, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || n < 0 {
			return nil, "", models.InvalidField("cursor", "is not a cursor this endpoint returned")
		}
		after = n
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	sql := `SELECT * FROM (SELECT u.id AS user_id, u.username, u.display_name, m.ms_email AS office365_user, ` + cardExpr + ` AS card,
  COALESCE(lr.status, '') AS last_status, lr.id AS last_run_id, lr.started_at AS last_start, lr.finished_at AS last_finish,
  COALESCE(lr.graph_ms, 0) AS graph_ms, COALESCE(lr.crm_ms, 0) AS crm_ms, COALESCE(lr.error, '') AS last_error,
  u.active AS user_active, m.sync_state, m.authorized, m.auth_error,
  lower(u.username) AS k1, lower(u.display_name) AS k2, lower(u.email) AS k3, m.ms_email_norm AS k4` + from + `) t WHERE user_id > ?`
	args := []any{after}
	if q.Card != "" {
		sql += ` AND card = ?`
		args = append(args, q.Card)
	}
	if term := strings.ToLower(strings.TrimSpace(q.Search)); term != "" {
		like := "%" + escapeLike(term) + "%"
		sql += ` AND (k1 LIKE ? ESCAPE '\' OR k2 LIKE ? ESCAPE '\' OR k3 LIKE ? ESCAPE '\' OR k4 LIKE ? ESCAPE '\')`
		args = append(args, like, like, like, like)
	}
	sql += ` ORDER BY user_id LIMIT ?`
	args = append(args, q.Limit+1)
	var rows []UserRow
	if err := s.Store.DB(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = strconv.FormatInt(rows[len(rows)-1].UserID, 10)
	}
	for i := range rows {
		utc(rows[i].LastStart)
		utc(rows[i].LastFinish)
	}
	return rows, next, nil
}

func utc(t *time.Time) {
	if t != nil {
		*t = t.UTC()
	}
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// DayStats are the run outcomes and durations of one UTC day.
type DayStats struct {
	Day           string
	Succeeded     int64
	Conflicts     int64
	Failed        int64
	Unfinished    int64
	AvgDurationMs int64
	MaxDurationMs int64
}

// History returns one entry per day of the last n days (today included),
// oldest first. The run log is aggregated by the database.
func (s *Service) History(ctx context.Context, days int) ([]DayStats, error) {
	now := s.now()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	day, dur := s.Store.SQLDay("started_at"), s.Store.SQLMillisBetween("started_at", "finished_at")
	type row struct {
		Day           string
		Succeeded     int64
		Conflicts     int64
		Failed        int64
		Unfinished    int64
		AvgDurationMs float64
		MaxDurationMs float64
	}
	var rows []row
	q := `SELECT day,
  SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN status = 'succeeded_with_conflicts' THEN 1 ELSE 0 END) AS conflicts,
  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
  SUM(CASE WHEN status IN ('queued', 'in_progress') THEN 1 ELSE 0 END) AS unfinished,
  COALESCE(AVG(ms), 0) AS avg_duration_ms, COALESCE(MAX(ms), 0) AS max_duration_ms
FROM (SELECT ` + day + ` AS day, status, CASE WHEN finished_at IS NOT NULL THEN ` + dur + ` END AS ms
  FROM sync_runs WHERE started_at >= ?) r GROUP BY day`
	if err := s.Store.DB(ctx).Raw(q, start).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]DayStats, days)
	idx := map[string]int{}
	for i := range out {
		out[i].Day = start.AddDate(0, 0, i).Format(time.DateOnly)
		idx[out[i].Day] = i
	}
	for _, r := range rows {
		i, ok := idx[r.Day]
		if !ok {
			continue
		}
		out[i] = DayStats{Day: r.Day, Succeeded: r.Succeeded, Conflicts: r.Conflicts, Failed: r.Failed, Unfinished: r.Unfinished,
			AvgDurationMs: int64(math.Round(r.AvgDurationMs)), MaxDurationMs: int64(math.Round(r.MaxDurationMs))}
	}
	return out, nil
}

// Run is one of a user's runs with its record decisions.
type Run struct {
	models.SyncRun
	Events []models.SyncRecordEvent
}

// MaxEventsPerRun bounds the record decisions returned with a run.
const MaxEventsPerRun = 200

// Runs returns a user's last runs (newest first) with their record
// decisions.
func (s *Service) Runs(ctx context.Context, userID int64, limit int) ([]Run, error) {
	var m models.UserMapping
	if err := s.Store.DB(ctx).Where("user_id = ?", userID).First(&m).Error; err != nil {
		return nil, models.MapErr(err)
	}
	var runs []models.SyncRun
	if err := s.Store.DB(ctx).Where("user_id = ?", userID).Order("started_at DESC, id DESC").Limit(limit).Find(&runs).Error; err != nil {
		return nil, err
	}
	out := make([]Run, len(runs))
	for i, r := range runs {
		out[i].SyncRun = r
		if err := s.Store.DB(ctx).Where("run_id = ?", r.ID).Order("id").Limit(MaxEventsPerRun).Find(&out[i].Events).Error; err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Actions of the monitor.
const (
	ActionRun     = "run"
	ActionSuspend = "suspend"
	ActionResume  = "resume"
	ActionDisable = "disable"
	ActionEnable  = "enable"
)

// Actions lists the action names.
var Actions = []string{ActionRun, ActionSuspend, ActionResume, ActionDisable, ActionEnable}

// transitions says which sync state an action moves each state to; a
// missing entry means the action does not apply to that state.
var transitions = map[string]map[string]string{
	ActionSuspend: {models.SyncActive: models.SyncSuspended},
	ActionResume:  {models.SyncSuspended: models.SyncActive},
	ActionDisable: {models.SyncActive: models.SyncDisabled, models.SyncSuspended: models.SyncDisabled, models.SyncNeedsReview: models.SyncDisabled},
	ActionEnable:  {models.SyncDisabled: models.SyncActive},
}

// runBlocked explains why a user in a state cannot be synced now.
var runBlocked = map[string]string{
	models.SyncSuspended:   "sync is suspended for this user; resume it first",
	models.SyncDisabled:    "sync is disabled for this user; enable it first",
	models.SyncNeedsReview: "this user's sync needs review before it can run",
}

// Outcome is what an action did to one user.
type Outcome struct {
	UserID    int64
	Applied   bool
	SyncState string
	Message   string
}

// MaxUsersPerAction bounds one action request.
const MaxUsersPerAction = 500

// Apply performs an action on users, auditing each change, in the
// transaction of ctx. Users without a mapping are refused as a whole.
func (s *Service) Apply(ctx context.Context, actorID int64, action string, userIDs []int64) ([]Outcome, error) {
	bad := map[string]string{}
	if _, ok := transitions[action]; !ok && action != ActionRun {
		bad["action"] = "must be one of " + strings.Join(Actions, ", ")
	}
	switch {
	case len(userIDs) == 0:
		bad["userIds"] = "must name at least one user"
	case len(userIDs) > MaxUsersPerAction:
		bad["userIds"] = fmt.Sprintf("must name at most %d users", MaxUsersPerAction)
	}
	if len(bad) > 0 {
		return nil, models.Invalid(bad)
	}
	seen := map[int64]bool{}
	ids := make([]int64, 0, len(userIDs))
	for _, id := range userIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var maps []models.UserMapping
	if err := s.Store.DB(ctx).Where("user_id IN ?", ids).Find(&maps).Error; err != nil {
		return nil, err
	}
	byUser := map[int64]*models.UserMapping{}
	for i := range maps {
		byUser[maps[i].UserID] = &maps[i]
	}
	var missing []string
	for _, id := range ids {
		if byUser[id] == nil {
			missing = append(missing, strconv.FormatInt(id, 10))
		}
	}
	if len(missing) > 0 {
		return nil, models.InvalidField("userIds", "no Office 365 connection for user(s) "+strings.Join(missing, ", "))
	}
	now := s.now()
	actor := &actorID
	out := make([]Outcome, 0, len(ids))
	for _, id := range ids {
		m := byUser[id]
		o := Outcome{UserID: id, SyncState: m.SyncState}
		audit := models.AuditEntry{ActorID: actor, Action: "monitor." + action, Target: "user:" + strconv.FormatInt(id, 10), At: now}
		if action == ActionRun {
			// The engine runs only active users: say so rather than queue
			// a run that would be dropped.
			if msg, blocked := runBlocked[m.SyncState]; blocked {
				o.Message = msg
				out = append(out, o)
				continue
			}
			if err := s.Queue.Enqueue(ctx, syncjobs.RunArgs{UserID: id, Trigger: syncjobs.TriggerMonitor}, nil); err != nil {
				return nil, err
			}
			o.Applied, o.Message = true, "sync queued"
			audit.NewValue = "queued"
		} else {
			next, ok := transitions[action][m.SyncState]
			if !ok {
				o.Message = fmt.Sprintf("cannot %s a user whose sync is %s", action, m.SyncState)
				out = append(out, o)
				continue
			}
			res := s.Store.DB(ctx).Model(&models.UserMapping{}).Where("id = ? AND sync_state = ?", m.ID, m.SyncState).
				Updates(map[string]any{"sync_state": next, "updated_at": now})
			if res.Error != nil {
				return nil, res.Error
			}
			if res.RowsAffected == 0 {
				return nil, models.Errorf(models.CodeConflict, "The sync state of user %d changed meanwhile; reload and retry.", id)
			}
			audit.OldValue, audit.NewValue = m.SyncState, next
			o.Applied, o.SyncState, o.Message = true, next, "sync "+next
		}
		if err := s.Store.DB(ctx).Create(&audit).Error; err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
