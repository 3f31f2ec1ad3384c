package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/salesbridge/salesbridge/addin/jobs"
	"github.com/salesbridge/salesbridge/models"
)

// Service answers the pane's sync questions. It needs no Graph access:
// runs are executed by jobs.
type Service struct {
	Engine *Engine
	Queue  jobs.Enqueuer
}

// Status is a user's sync state.
type Status struct {
	State      string // enabled, suspended, disabled, needs_review, not_connected
	Authorized bool
	LastRun    *models.SyncRun
	Running    *models.SyncRun
}

// UserStatus returns the state, authorization and last finished run.
func (s *Service) UserStatus(ctx context.Context, userID int64) (*Status, error) {
	db := s.Engine.Store.DB(ctx)
	st := &Status{State: "not_connected"}
	var m models.UserMapping
	res := db.Where("user_id = ?", userID).Limit(1).Find(&m)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected > 0 {
		st.Authorized = m.Authorized
		st.State = m.SyncState
		if st.State == models.SyncActive {
			st.State = "enabled"
		}
	}
	var runs []models.SyncRun
	if err := db.Where("user_id = ?", userID).Order("started_at DESC, id DESC").Limit(5).Find(&runs).Error; err != nil {
		return nil, err
	}
	for i := range runs {
		r := &runs[i]
		if r.FinishedAt == nil && st.Running == nil {
			st.Running = r
		}
		if r.FinishedAt != nil && st.LastRun == nil {
			st.LastRun = r
		}
	}
	return st, nil
}

// RequestRun claims a manual run and enqueues its job in the caller's
// transaction. While a run is unfinished, that run is returned instead.
func (s *Service) RequestRun(ctx context.Context, userID int64) (*models.SyncRun, error) {
	run, started, err := s.Engine.Start(ctx, userID, TriggerManual)
	if err != nil {
		return nil, err
	}
	if started {
		if err := s.Queue.Enqueue(ctx, SyncArgs{UserID: userID, RunID: run.ID, Trigger: TriggerManual}, nil); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// Run returns one of the user's runs.
func (s *Service) Run(ctx context.Context, userID, runID int64) (*models.SyncRun, error) {
	var r models.SyncRun
	res := s.Engine.Store.DB(ctx).Where("id = ? AND user_id = ?", runID, userID).Limit(1).Find(&r)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, models.NotFound("sync run")
	}
	return &r, nil
}

// Outcomes lists every record outcome the run log knows.
var Outcomes = []string{OutCreated, OutUpdated, OutDeleted, OutMerged, OutConflict, OutSkippedPrivate,
	OutSkippedWindow, OutSkippedNoCategory, OutSkippedLimit, OutSkippedCreateOff, OutSkippedDeleteOff, OutBrake, OutFailed}

// RunRecords returns a run's record decisions, optionally of one outcome.
func (s *Service) RunRecords(ctx context.Context, userID, runID int64, outcome string, limit int) ([]models.SyncRecordEvent, error) {
	if _, err := s.Run(ctx, userID, runID); err != nil {
		return nil, err
	}
	if outcome != "" && !contains(Outcomes, outcome) {
		return nil, models.InvalidField("outcome", "must be one of the record outcomes")
	}
	q := s.Engine.Store.DB(ctx).Where("run_id = ?", runID)
	if outcome != "" {
		q = q.Where("outcome = ?", outcome)
	}
	var evs []models.SyncRecordEvent
	err := q.Order("id").Limit(limit).Find(&evs).Error
	return evs, err
}

// RecordHistory returns the latest decisions about one CRM record: the
// answer to "why didn't this record sync?".
func (s *Service) RecordHistory(ctx context.Context, userID int64, typ string, crmID int64, limit int) ([]models.SyncRecordEvent, error) {
	if !contains([]string{models.SyncContact, models.SyncAppointment, models.SyncTask}, typ) {
		return nil, models.InvalidField("type", "must be contact, appointment or task")
	}
	var evs []models.SyncRecordEvent
	err := s.Engine.Store.DB(ctx).Where("user_id = ? AND object_type = ? AND crm_id = ?", userID, typ, crmID).
		Order("id DESC").Limit(limit).Find(&evs).Error
	return evs, err
}

// Conflict is an open conflict with both values per field.
type Conflict struct {
	ID         int64
	ObjectType string
	CrmID      int64
	CreatedAt  time.Time
	Fields     map[string]ConflictValues
}

// ConflictValues are the CRM ("server") and Outlook ("client") values.
type ConflictValues struct{ Server, Client string }

// Conflicts lists the user's open conflicts.
func (s *Service) Conflicts(ctx context.Context, userID int64) ([]Conflict, error) {
	var rows []models.SyncConflict
	if err := s.Engine.Store.DB(ctx).Where("user_id = ? AND status = 'open'", userID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Conflict, 0, len(rows))
	for _, r := range rows {
		var doc conflictDoc
		_ = json.Unmarshal([]byte(r.Fields), &doc)
		c := Conflict{ID: r.ID, ObjectType: r.ObjectType, CrmID: r.CrmID, CreatedAt: r.CreatedAt, Fields: map[string]ConflictValues{}}
		for k, v := range doc.Fields {
			c.Fields[k] = ConflictValues(v)
		}
		out = append(out, c)
	}
	return out, nil
}

// Resolve settles a held conflict: choice "server" (CRM values), "client"
// (Outlook values) or "fields" with a choice per conflicting field. The CRM
// record is written now; the Outlook item on the next run (a job is
// enqueued), which sees the chosen values as a CRM change.
func (s *Service) Resolve(ctx context.Context, userID, conflictID int64, choice string, perField map[string]string) error {
	store := s.Engine.Store
	db := store.DB(ctx)
	var sc models.SyncConflict
	res := db.Where("id = ? AND user_id = ?", conflictID, userID).Limit(1).Find(&sc)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.NotFound("conflict")
	}
	if sc.Status != "open" {
		return models.Errorf(models.CodeConflict, "the conflict is already resolved")
	}
	var doc conflictDoc
	if err := json.Unmarshal([]byte(sc.Fields), &doc); err != nil {
		return models.Internal(err)
	}
	pick := map[string]string{}
	switch choice {
	case "server", "client":
		for k := range doc.Fields {
			pick[k] = choice
		}
	case "fields":
		bad := map[string]string{}
		for k, v := range perField {
			if _, ok := doc.Fields[k]; !ok {
				bad["fields."+k] = "is not a conflicting field"
			} else if v != "server" && v != "client" {
				bad["fields."+k] = "must be server or client"
			}
		}
		for k := range doc.Fields {
			if _, ok := perField[k]; !ok {
				bad["fields."+k] = "needs a choice"
			}
		}
		if len(bad) > 0 {
			return models.Invalid(bad)
		}
		pick = perField
	default:
		return models.InvalidField("choice", "must be server, client or fields")
	}
	var l link
	if err := db.First(&l, sc.LinkID).Error; err != nil {
		return models.MapErr(err)
	}
	k := kindOf(sc.ObjectType)
	if k == nil {
		return models.Internal(fmt.Errorf("conflict of unknown type %q", sc.ObjectType))
	}
	m := merge3(k, parseFields(l.CrmSnapshot), parseFields(l.GraphSnapshot), doc.CRM, doc.Graph, "server", nil)
	for k, who := range pick {
		if who == "client" {
			m.result[k] = doc.Graph[k]
		} else {
			m.result[k] = doc.CRM[k]
		}
	}
	now := s.Engine.now()
	tr := &typeRun{runCtx: &runCtx{e: s.Engine, userID: userID}}
	if _, err := k.UpdateCRM(ctx, tr, sc.CrmID, m.result); err != nil {
		return models.MapErr(err)
	}
	// The CRM now holds the result; against Outlook's last state every
	// differing field is a CRM change the next run pushes.
	l.CrmSnapshot = doc.Graph.json()
	l.GraphSnapshot = doc.Graph.json()
	l.ChangeKey = doc.ChangeKey
	l.CrmVersion = staleVersion
	l.State = linkLinked
	l.UpdatedAt = now
	if err := db.Save(&l).Error; err != nil {
		return err
	}
	if err := db.Model(&models.SyncConflict{}).Where("id = ?", sc.ID).
		Updates(map[string]any{"status": "resolved", "resolved_at": now}).Error; err != nil {
		return err
	}
	if s.Queue != nil {
		return s.Queue.Enqueue(ctx, SyncArgs{UserID: userID, Trigger: TriggerPush}, nil)
	}
	return nil
}

func kindOf(typ string) kind {
	for _, k := range kinds {
		if k.Type() == typ {
			return k
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SortedFields returns a conflict's field names in order.
func (c Conflict) SortedFields() []string {
	out := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
