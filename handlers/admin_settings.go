package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// AdminSettings serves Manage Office 365's settings, the audit log and a
// user's own settings.
type AdminSettings struct {
	Store *models.Store
	Now   func() time.Time
}

// SettingsBody is the settings as the API reads and writes them. It keeps
// the JSON names of settings.Settings.
type SettingsBody settings.Settings

// SettingsResponse answers GET and PUT /admin/settings.
type SettingsResponse struct {
	Settings SettingsBody     `json:"settings"`
	Changes  []ChangeResponse `json:"changes,omitempty"`
}

// ChangeResponse is one changed setting (JSON-encoded values).
type ChangeResponse struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// AuditEntryResponse is one audit log entry.
type AuditEntryResponse struct {
	ID       int64     `json:"id"`
	ActorID  *int64    `json:"actorId"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	OldValue string    `json:"oldValue"`
	NewValue string    `json:"newValue"`
	At       time.Time `json:"at"`
}

// AuditResponse is a page of the audit log, newest first.
type AuditResponse struct {
	Entries    []AuditEntryResponse `json:"entries"`
	NextCursor string               `json:"nextCursor"`
}

// MySettingsRequest is PUT /me/settings.
type MySettingsRequest struct {
	ConflictPolicy *string `json:"conflictPolicy"`
}

// MySettingsResponse is a user's conflict policy.
type MySettingsResponse struct {
	ConflictPolicy       string `json:"conflictPolicy"`
	OwnConflictPolicy    string `json:"ownConflictPolicy"`
	DefaultPolicy        string `json:"defaultConflictPolicy"`
	AllowOverride        bool   `json:"allowUserOverride"`
	AllowInviteesToShare bool   `json:"allowInviteesToShare"`
}

// Register mounts the routes.
func (h *AdminSettings) Register(authed, admin *gin.RouterGroup) {
	admin.GET("/settings", Tx(h.Store, h.get))
	admin.PUT("/settings", Tx(h.Store, h.put))
	admin.GET("/audit", Tx(h.Store, h.audit))
	authed.GET("/me/settings", Tx(h.Store, h.getMine))
	authed.PUT("/me/settings", Tx(h.Store, h.putMine))
}

func (h *AdminSettings) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *AdminSettings) get(c *gin.Context, ctx context.Context) (Result, error) {
	st, err := settings.Load(ctx, h.Store)
	if err != nil {
		return Result{}, err
	}
	return OK(SettingsResponse{Settings: SettingsBody(st)}), nil
}

// put applies the body over the current settings: fields left out keep
// their value, so a page may send only what it shows.
func (h *AdminSettings) put(c *gin.Context, ctx context.Context) (Result, error) {
	cur, err := settings.Load(ctx, h.Store)
	if err != nil {
		return Result{}, err
	}
	body := SettingsBody(cur)
	if err := BindJSON(c, &body); err != nil {
		return Result{}, err
	}
	changes, err := settings.Save(ctx, h.Store, Caller(c).UserID, h.now(), settings.Settings(body))
	if err != nil {
		return Result{}, err
	}
	out := SettingsResponse{Settings: body, Changes: []ChangeResponse{}}
	for _, ch := range changes {
		out.Changes = append(out.Changes, ChangeResponse{Field: ch.Field, Old: ch.Old, New: ch.New})
	}
	return OK(out), nil
}

func (h *AdminSettings) audit(c *gin.Context, ctx context.Context) (Result, error) {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return Result{}, models.InvalidField("limit", "must be an integer between 1 and 500")
		}
		limit = n
	}
	q := h.Store.DB(ctx).Table("audit_log a").
		Select("a.id, a.actor_id, COALESCE(u.username, '') AS actor, a.action, a.target, a.old_value, a.new_value, a.at").
		Joins("LEFT JOIN users u ON u.id = a.actor_id")
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return Result{}, models.InvalidField("cursor", "is not a cursor this endpoint returned")
		}
		q = q.Where("a.id < ?", n)
	}
	if v := c.Query("action"); v != "" {
		q = q.Where("a.action = ?", v)
	}
	var rows []AuditEntryResponse
	if err := q.Order("a.id DESC").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return Result{}, err
	}
	out := AuditResponse{Entries: []AuditEntryResponse{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	for i := range rows {
		rows[i].At = rows[i].At.UTC()
	}
	out.Entries = append(out.Entries, rows...)
	return OK(out), nil
}

func (h *AdminSettings) mine(ctx context.Context, userID int64) (MySettingsResponse, error) {
	v, err := settings.ForUser(ctx, h.Store, userID)
	if err != nil {
		return MySettingsResponse{}, err
	}
	st, err := settings.Load(ctx, h.Store)
	if err != nil {
		return MySettingsResponse{}, err
	}
	return MySettingsResponse{ConflictPolicy: v.Effective, OwnConflictPolicy: v.Own, DefaultPolicy: v.Default,
		AllowOverride: v.AllowOverride, AllowInviteesToShare: st.AllowInviteesToShare}, nil
}

func (h *AdminSettings) getMine(c *gin.Context, ctx context.Context) (Result, error) {
	out, err := h.mine(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	return OK(out), nil
}

func (h *AdminSettings) putMine(c *gin.Context, ctx context.Context) (Result, error) {
	var req MySettingsRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if req.ConflictPolicy == nil {
		return Result{}, models.InvalidField("conflictPolicy", "is required (empty for the default)")
	}
	if _, err := settings.SetUserPolicy(ctx, h.Store, Caller(c).UserID, *req.ConflictPolicy, h.now()); err != nil {
		return Result{}, err
	}
	out, err := h.mine(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	return Result{Status: http.StatusOK, Body: out}, nil
}
