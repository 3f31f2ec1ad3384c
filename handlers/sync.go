package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
)

// SyncService is what the sync endpoints call.
type SyncService interface {
	UserStatus(ctx context.Context, userID int64) (*syncer.Status, error)
	RequestRun(ctx context.Context, userID int64) (*models.SyncRun, error)
	Run(ctx context.Context, userID, runID int64) (*models.SyncRun, error)
	RunRecords(ctx context.Context, userID, runID int64, outcome string, limit int) ([]models.SyncRecordEvent, error)
	RecordHistory(ctx context.Context, userID int64, typ string, crmID int64, limit int) ([]models.SyncRecordEvent, error)
	Conflicts(ctx context.Context, userID int64) ([]syncer.Conflict, error)
	Resolve(ctx context.Context, userID, conflictID int64, choice string, perField map[string]string) error
}

var _ SyncService = (*syncer.Service)(nil)

// Sync serves /api/v1/sync: the user's runs, their record log and conflicts.
type Sync struct {
	Store   Txer
	Service SyncService
}

// Register mounts the routes on the session-protected group.
func (h *Sync) Register(authed *gin.RouterGroup) {
	g := authed.Group("/sync")
	g.POST("/run", Tx(h.Store, h.run))
	g.GET("/status", Tx(h.Store, h.status))
	g.GET("/runs/:id", Tx(h.Store, h.getRun))
	g.GET("/runs/:id/records", Tx(h.Store, h.runRecords))
	g.GET("/conflicts", Tx(h.Store, h.conflicts))
	g.POST("/conflicts/:id/resolve", Tx(h.Store, h.resolve))
	g.GET("/records/:type/:crmId", Tx(h.Store, h.recordHistory))
}

// SyncRunResponse is one run.
type SyncRunResponse struct {
	ID         int64          `json:"id"`
	Trigger    string         `json:"trigger"`
	Status     string         `json:"status"`
	StartedAt  time.Time      `json:"startedAt"`
	FinishedAt *time.Time     `json:"finishedAt"`
	GraphMs    int64          `json:"graphMs"`
	CrmMs      int64          `json:"crmMs"`
	Counts     map[string]any `json:"counts"`
	Error      string         `json:"error"`
}

// ToSyncRunResponse converts a stored run.
func ToSyncRunResponse(r *models.SyncRun) *SyncRunResponse {
	if r == nil {
		return nil
	}
	counts := map[string]any{}
	_ = json.Unmarshal([]byte(r.Counts), &counts)
	return &SyncRunResponse{ID: r.ID, Trigger: r.TriggerKind, Status: r.Status, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, GraphMs: r.GraphMs, CrmMs: r.CrmMs, Counts: counts, Error: r.Error}
}

// SyncStartResponse is POST /sync/run.
type SyncStartResponse struct {
	RunID  int64  `json:"runId"`
	Status string `json:"status"`
}

// SyncStatusResponse is GET /sync/status.
type SyncStatusResponse struct {
	State      string           `json:"state"`
	Authorized bool             `json:"authorized"`
	Running    *SyncRunResponse `json:"running"`
	LastRun    *SyncRunResponse `json:"lastRun"`
}

// SyncRecordResponse is one record decision of a run.
type SyncRecordResponse struct {
	ID         int64     `json:"id"`
	RunID      int64     `json:"runId"`
	ObjectType string    `json:"objectType"`
	CrmID      *int64    `json:"crmId"`
	GraphID    string    `json:"graphId"`
	Direction  string    `json:"direction"`
	Outcome    string    `json:"outcome"`
	Message    string    `json:"message"`
	At         time.Time `json:"at"`
}

// SyncRecordsResponse lists record decisions.
type SyncRecordsResponse struct {
	Records []SyncRecordResponse `json:"records"`
}

func toSyncRecords(evs []models.SyncRecordEvent) SyncRecordsResponse {
	out := SyncRecordsResponse{Records: make([]SyncRecordResponse, 0, len(evs))}
	for _, e := range evs {
		out.Records = append(out.Records, SyncRecordResponse{ID: e.ID, RunID: e.RunID, ObjectType: e.ObjectType,
			CrmID: e.CrmID, GraphID: e.GraphID, Direction: e.Direction, Outcome: e.Outcome, Message: e.Message, At: e.At})
	}
	return out
}

// SyncConflictResponse is an open conflict.
type SyncConflictResponse struct {
	ID         int64                         `json:"id"`
	ObjectType string                        `json:"objectType"`
	CrmID      int64                         `json:"crmId"`
	CreatedAt  time.Time                     `json:"createdAt"`
	Fields     map[string]SyncConflictValues `json:"fields"`
}

// SyncConflictValues are both sides' values of a field.
type SyncConflictValues struct {
	Server string `json:"server"`
	Client string `json:"client"`
}

// SyncConflictsResponse is GET /sync/conflicts.
type SyncConflictsResponse struct {
	Conflicts []SyncConflictResponse `json:"conflicts"`
}

// SyncResolveRequest is POST /sync/conflicts/{id}/resolve.
type SyncResolveRequest struct {
	Choice string            `json:"choice"`
	Fields map[string]string `json:"fields"`
}

func syncPathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.InvalidField(name, "must be a positive integer")
	}
	return id, nil
}

func (h *Sync) run(c *gin.Context, ctx context.Context) (Result, error) {
	r, err := h.Service.RequestRun(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	return Result{Status: http.StatusAccepted, Body: SyncStartResponse{RunID: r.ID, Status: r.Status}}, nil
}

func (h *Sync) status(c *gin.Context, ctx context.Context) (Result, error) {
	st, err := h.Service.UserStatus(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	return OK(SyncStatusResponse{State: st.State, Authorized: st.Authorized,
		Running: ToSyncRunResponse(st.Running), LastRun: ToSyncRunResponse(st.LastRun)}), nil
}

func (h *Sync) getRun(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := syncPathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	r, err := h.Service.Run(ctx, Caller(c).UserID, id)
	if err != nil {
		return Result{}, err
	}
	return OK(ToSyncRunResponse(r)), nil
}

func (h *Sync) runRecords(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := syncPathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	evs, err := h.Service.RunRecords(ctx, Caller(c).UserID, id, c.Query("outcome"), 1000)
	if err != nil {
		return Result{}, err
	}
	return OK(toSyncRecords(evs)), nil
}

func (h *Sync) recordHistory(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := syncPathID(c, "crmId")
	if err != nil {
		return Result{}, err
	}
	evs, err := h.Service.RecordHistory(ctx, Caller(c).UserID, c.Param("type"), id, 50)
	if err != nil {
		return Result{}, err
	}
	return OK(toSyncRecords(evs)), nil
}

func (h *Sync) conflicts(c *gin.Context, ctx context.Context) (Result, error) {
	cs, err := h.Service.Conflicts(ctx, Caller(c).UserID)
	if err != nil {
		return Result{}, err
	}
	out := SyncConflictsResponse{Conflicts: make([]SyncConflictResponse, 0, len(cs))}
	for _, x := range cs {
		r := SyncConflictResponse{ID: x.ID, ObjectType: x.ObjectType, CrmID: x.CrmID, CreatedAt: x.CreatedAt,
			Fields: map[string]SyncConflictValues{}}
		for k, v := range x.Fields {
			r.Fields[k] = SyncConflictValues{Server: v.Server, Client: v.Client}
		}
		out.Conflicts = append(out.Conflicts, r)
	}
	return OK(out), nil
}

func (h *Sync) resolve(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := syncPathID(c, "id")
	if err != nil {
		return Result{}, err
	}
	var req SyncResolveRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if err := h.Service.Resolve(ctx, Caller(c).UserID, id, req.Choice, req.Fields); err != nil {
		return Result{}, err
	}
	return NoContent(), nil
}
