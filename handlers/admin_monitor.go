package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/monitor"
	"github.com/salesbridge/salesbridge/models"
)

// AdminMonitor serves the Office 365 Monitor.
type AdminMonitor struct {
	Store   *models.Store
	Monitor *monitor.Service
}

// MonitorResponse is GET /admin/monitor: the four cards and Needs review.
type MonitorResponse struct {
	Cards       MonitorCards `json:"cards"`
	NeedsReview int64        `json:"needsReview"`
}

// MonitorCards are the user counts of the four cards.
type MonitorCards struct {
	LastSyncFailed    int64 `json:"lastSyncFailed"`
	NeverSynced       int64 `json:"neverSynced"`
	InProgress        int64 `json:"inProgress"`
	LastSyncSucceeded int64 `json:"lastSyncSucceeded"`
}

// MonitorUser is one line of the monitor's user table.
type MonitorUser struct {
	UserID        int64            `json:"userId"`
	Card          string           `json:"card"`
	Last          string           `json:"last"`
	User          string           `json:"user"`
	Username      string           `json:"username"`
	Office365User string           `json:"office365User"`
	LastSyncStart *time.Time       `json:"lastSyncStart"`
	Duration      *MonitorDuration `json:"duration"`
	LastError     string           `json:"lastError"`
	Active        bool             `json:"active"`
	SyncState     string           `json:"syncState"`
	Authorized    bool             `json:"authorized"`
	AuthError     string           `json:"authError"`
}

// MonitorDuration splits a run's duration into its Office 365 and CRM parts.
type MonitorDuration struct {
	TotalMs     int64 `json:"totalMs"`
	Office365Ms int64 `json:"office365Ms"`
	CrmMs       int64 `json:"crmMs"`
}

// MonitorUsersResponse is a page of the user table.
type MonitorUsersResponse struct {
	Users      []MonitorUser `json:"users"`
	NextCursor string        `json:"nextCursor"`
}

// MonitorHistoryDay is one day of the run chart.
type MonitorHistoryDay struct {
	Day           string `json:"day"`
	Succeeded     int64  `json:"succeeded"`
	Conflicts     int64  `json:"succeededWithConflicts"`
	Failed        int64  `json:"failed"`
	Unfinished    int64  `json:"unfinished"`
	AvgDurationMs int64  `json:"avgDurationMs"`
	MaxDurationMs int64  `json:"maxDurationMs"`
}

// MonitorHistoryResponse is GET /admin/monitor/history.
type MonitorHistoryResponse struct {
	Days []MonitorHistoryDay `json:"days"`
}

// MonitorRun is one of a user's runs with its record decisions.
type MonitorRun struct {
	ID         int64             `json:"id"`
	Trigger    string            `json:"trigger"`
	Status     string            `json:"status"`
	StartedAt  time.Time         `json:"startedAt"`
	FinishedAt *time.Time        `json:"finishedAt"`
	Duration   *MonitorDuration  `json:"duration"`
	Counts     map[string]any    `json:"counts"`
	Error      string            `json:"error"`
	Decisions  []MonitorDecision `json:"decisions"`
}

// MonitorDecision is one record decision of a run.
type MonitorDecision struct {
	ObjectType string    `json:"objectType"`
	CrmID      *int64    `json:"crmId"`
	GraphID    string    `json:"graphId"`
	Direction  string    `json:"direction"`
	Outcome    string    `json:"outcome"`
	Message    string    `json:"message"`
	At         time.Time `json:"at"`
}

// MonitorRunsResponse is GET /admin/monitor/users/{userId}/runs.
type MonitorRunsResponse struct {
	Runs []MonitorRun `json:"runs"`
}

// MonitorActionRequest is POST /admin/monitor/actions.
type MonitorActionRequest struct {
	Action  string  `json:"action"`
	UserIDs []int64 `json:"userIds"`
}

// MonitorActionResult is what an action did to one user.
type MonitorActionResult struct {
	UserID    int64  `json:"userId"`
	Applied   bool   `json:"applied"`
	SyncState string `json:"syncState"`
	Message   string `json:"message"`
}

// MonitorActionResponse answers POST /admin/monitor/actions.
type MonitorActionResponse struct {
	Action  string                `json:"action"`
	Results []MonitorActionResult `json:"results"`
}

// Register mounts the routes.
func (h *AdminMonitor) Register(admin *gin.RouterGroup) {
	admin.GET("/monitor", Tx(h.Store, h.cards))
	admin.GET("/monitor/users", Tx(h.Store, h.users))
	admin.GET("/monitor/users/:userId/runs", Tx(h.Store, h.runs))
	admin.GET("/monitor/history", Tx(h.Store, h.history))
	admin.POST("/monitor/actions", Tx(h.Store, h.action))
}

func (h *AdminMonitor) cards(c *gin.Context, ctx context.Context) (Result, error) {
	n, err := h.Monitor.Counts(ctx)
	if err != nil {
		return Result{}, err
	}
	return OK(MonitorResponse{Cards: MonitorCards{
		LastSyncFailed: n[monitor.CardFailed], NeverSynced: n[monitor.CardNeverSynced],
		InProgress: n[monitor.CardInProgress], LastSyncSucceeded: n[monitor.CardSucceeded],
	}, NeedsReview: n[monitor.CardNeedsReview]}), nil
}

func duration(start time.Time, finish *time.Time, graphMs, crmMs int64) *MonitorDuration {
	if finish == nil {
		return nil
	}
	return &MonitorDuration{TotalMs: finish.Sub(start).Milliseconds(), Office365Ms: graphMs, CrmMs: crmMs}
}

// ToMonitorUser converts a monitor row.
func ToMonitorUser(r monitor.UserRow) MonitorUser {
	last := r.LastStatus
	if last == "" {
		last = "never"
	}
	u := MonitorUser{UserID: r.UserID, Card: r.Card, Last: last, User: r.DisplayName, Username: r.Username,
		Office365User: r.Office365User, LastSyncStart: r.LastStart, LastError: r.LastError,
		Active: r.Active(), SyncState: r.SyncState, Authorized: r.Authorized, AuthError: r.AuthError}
	if r.LastStart != nil {
		u.Duration = duration(*r.LastStart, r.LastFinish, r.GraphMs, r.CrmMs)
	}
	return u
}

func (h *AdminMonitor) users(c *gin.Context, ctx context.Context) (Result, error) {
	q := monitor.Query{Card: c.Query("card"), Search: c.Query("q"), Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > monitor.MaxLimit {
			return Result{}, models.InvalidField("limit", "must be an integer between 1 and "+strconv.Itoa(monitor.MaxLimit))
		}
		q.Limit = n
	}
	rows, next, err := h.Monitor.Users(ctx, q)
	if err != nil {
		return Result{}, err
	}
	out := MonitorUsersResponse{Users: make([]MonitorUser, len(rows)), NextCursor: next}
	for i, r := range rows {
		out.Users[i] = ToMonitorUser(r)
	}
	return OK(out), nil
}

func (h *AdminMonitor) history(c *gin.Context, ctx context.Context) (Result, error) {
	days := 14
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			return Result{}, models.InvalidField("days", "must be an integer between 1 and 90")
		}
		days = n
	}
	st, err := h.Monitor.History(ctx, days)
	if err != nil {
		return Result{}, err
	}
	out := MonitorHistoryResponse{Days: make([]MonitorHistoryDay, len(st))}
	for i, d := range st {
		out.Days[i] = MonitorHistoryDay{Day: d.Day, Succeeded: d.Succeeded, Conflicts: d.Conflicts, Failed: d.Failed,
			Unfinished: d.Unfinished, AvgDurationMs: d.AvgDurationMs, MaxDurationMs: d.MaxDurationMs}
	}
	return OK(out), nil
}

func (h *AdminMonitor) runs(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := strconv.ParseInt(c.Param("userId"), 10, 64)
	if err != nil || id < 1 {
		return Result{}, models.InvalidField("userId", "must be a user id")
	}
	limit := 10
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			return Result{}, models.InvalidField("limit", "must be an integer between 1 and 50")
		}
		limit = n
	}
	runs, err := h.Monitor.Runs(ctx, id, limit)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return Result{}, models.NotFound("Office 365 connection of this user")
		}
		return Result{}, err
	}
	out := MonitorRunsResponse{Runs: make([]MonitorRun, len(runs))}
	for i, r := range runs {
		mr := MonitorRun{ID: r.ID, Trigger: r.TriggerKind, Status: r.Status, StartedAt: r.StartedAt.UTC(),
			FinishedAt: r.FinishedAt, Duration: duration(r.StartedAt, r.FinishedAt, r.GraphMs, r.CrmMs),
			Counts: map[string]any{}, Error: r.Error, Decisions: make([]MonitorDecision, len(r.Events))}
		_ = jsonUnmarshal(r.Counts, &mr.Counts)
		for j, e := range r.Events {
			mr.Decisions[j] = MonitorDecision{ObjectType: e.ObjectType, CrmID: e.CrmID, GraphID: e.GraphID,
				Direction: e.Direction, Outcome: e.Outcome, Message: e.Message, At: e.At.UTC()}
		}
		out.Runs[i] = mr
	}
	return OK(out), nil
}

func (h *AdminMonitor) action(c *gin.Context, ctx context.Context) (Result, error) {
	var req MonitorActionRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	res, err := h.Monitor.Apply(ctx, Caller(c).UserID, req.Action, req.UserIDs)
	if err != nil {
		return Result{}, err
	}
	out := MonitorActionResponse{Action: req.Action, Results: make([]MonitorActionResult, len(res))}
	for i, r := range res {
		out.Results[i] = MonitorActionResult{UserID: r.UserID, Applied: r.Applied, SyncState: r.SyncState, Message: r.Message}
	}
	return OK(out), nil
}
