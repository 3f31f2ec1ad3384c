package sync

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// Task field mapping (CRM task activity ↔ To Do task in the default list):
//
//	title ↔ title, body ↔ body (text), due ↔ dueDateTime (a date, UTC),
//	status ↔ status (notStarted, inProgress, completed, waitingOnOthers,
//	deferred), importance ↔ importance (low, normal, high)
//
// The CRM id travels as a linked resource (externalId) of the task: To Do
// tasks have no extended properties. A private CRM task syncs only when
// the admin's private-tasks toggle is on; To Do has no sensitivity.
var taskFields = []string{"title", "body", "due", "status", "importance"}

const linkedApp = "SalesBridge"

type taskKind struct{}

var _ kind = taskKind{}

func (taskKind) Type() string                                   { return models.SyncTask }
func (taskKind) Names() []string                                { return taskFields }
func (taskKind) PushOnly(string) bool                           { return false }
func (taskKind) Toggles(st settings.Settings) settings.TypeSync { return st.Tasks }

// Key matches tasks on subject + due.
func (taskKind) Keys(f fields) []string {
	if f["title"] == "" {
		return nil
	}
	return []string{strings.ToLower(f["title"]) + "\x00" + f["due"]}
}

// Prepare resolves the default To Do list once and keeps it on the cursor.
func (taskKind) Prepare(ctx context.Context, tr *typeRun) error {
	tr.container = tr.cur.ContainerID
	if tr.container != "" {
		return nil
	}
	l, err := tr.e.Graph.DefaultTaskList(ctx, tr.gUser)
	if err != nil {
		return err
	}
	tr.container = l.ID
	return nil
}

func dueOf(d *graph.DateTimeTimeZone) string {
	if d == nil || d.DateTime == "" {
		return ""
	}
	t, err := d.Time()
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func toTaskItem(t *graph.TodoTask) gItem {
	body := ""
	if t.Body != nil {
		body = norm(t.Body.Content)
	}
	imp := t.Importance
	if imp == "" {
		imp = "normal"
	}
	status := t.Status
	if status == "" {
		status = "notStarted"
	}
	return gItem{ID: t.ID, ETag: t.ETag, Removed: t.Removed != nil, Cats: t.Categories, Fields: fields{
		"title": norm(t.Title), "body": body, "due": dueOf(t.DueDateTime), "status": status, "importance": imp}}
}

func (taskKind) Delta(ctx context.Context, tr *typeRun, link string) ([]gItem, string, error) {
	res, err := tr.e.Graph.TasksDelta(ctx, tr.gUser, tr.container, graph.DeltaOptions{Link: link})
	if err != nil {
		if errors.Is(err, graph.ErrNotFound) && link != "" {
			// The list is gone (recreated by the user): start over.
			tr.cur.ContainerID = ""
			return nil, "", graph.ErrResyncRequired
		}
		return nil, "", err
	}
	out := make([]gItem, len(res.Items))
	for i := range res.Items {
		out[i] = toTaskItem(&res.Items[i])
	}
	return out, res.DeltaLink, nil
}

// Find enumerates the list for the task linked to crmID (only after a
// create whose outcome is unknown).
func (taskKind) Find(ctx context.Context, tr *typeRun, crmID int64) (*gItem, error) {
	res, err := tr.e.Graph.TasksDelta(ctx, tr.gUser, tr.container, graph.DeltaOptions{})
	if err != nil {
		return nil, err
	}
	want := strconv.FormatInt(crmID, 10)
	for i := range res.Items {
		for _, lr := range res.Items[i].LinkedResources {
			if lr.ApplicationName == linkedApp && lr.ExternalID == want {
				g := toTaskItem(&res.Items[i])
				return &g, nil
			}
		}
	}
	return nil, &graph.Error{Kind: graph.ErrNotFound, Method: http.MethodGet, Message: "no task with that CRM id"}
}

func (taskKind) Confirm(_ context.Context, _ *typeRun, ids []string) (map[string]string, error) {
	return allDeleted(ids), nil
}

func (tr *typeRun) privateSkip(private bool) string {
	if private && !tr.st.SyncPrivateTasks {
		return OutSkippedPrivate
	}
	return ""
}

func taskItem(tr *typeRun, a *models.Activity) crmItem {
	due := ""
	if a.DueAt != nil {
		due = a.DueAt.UTC().Format("2006-01-02")
	}
	status, imp := a.Status, a.Importance
	if status == "" {
		status = "notStarted"
	}
	if imp == "" {
		imp = "normal"
	}
	return crmItem{ID: a.ID, Version: a.Version, OwnerID: a.OwnerID, Deleted: a.DeletedAt.Valid, Origin: a.Origin,
		Skip: tr.privateSkip(a.Private), Fields: fields{"title": norm(a.Subject), "body": norm(a.BodyText), "due": due,
			"status": status, "importance": imp}}
}

func (taskKind) Changed(ctx context.Context, tr *typeRun, watermark int64) ([]crmItem, error) {
	var as []models.Activity
	err := tr.e.Store.DB(ctx).Unscoped().Where("owner_id = ? AND type_code = ? AND (version > ? OR EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = activities.id AND l.crm_version <> activities.version))",
		tr.userID, models.ActivityTask, watermark, tr.userID, models.SyncTask).Order("id").Find(&as).Error
	out := make([]crmItem, len(as))
	for i := range as {
		out[i] = taskItem(tr, &as[i])
	}
	return out, err
}

func (taskKind) Load(ctx context.Context, tr *typeRun, ids []int64) (map[int64]*crmItem, error) {
	var as []models.Activity
	if err := tr.e.Store.DB(ctx).Unscoped().Where("id IN ? AND type_code = ?", ids, models.ActivityTask).Find(&as).Error; err != nil {
		return nil, err
	}
	out := map[int64]*crmItem{}
	for i := range as {
		it := taskItem(tr, &as[i])
		out[it.ID] = &it
	}
	return out, nil
}

func (taskKind) Candidates(ctx context.Context, tr *typeRun) ([]crmItem, error) {
	var as []models.Activity
	err := tr.e.Store.DB(ctx).Where("owner_id = ? AND type_code = ? AND NOT EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = activities.id)",
		tr.userID, models.ActivityTask, tr.userID, models.SyncTask).Order("id").Find(&as).Error
	out := make([]crmItem, len(as))
	for i := range as {
		out[i] = taskItem(tr, &as[i])
	}
	return out, err
}

func applyToTask(a *models.Activity, f fields) {
	a.Subject, a.BodyText, a.Status, a.Importance = f["title"], f["body"], f["status"], f["importance"]
	a.DueAt = nil
	if t, err := time.Parse("2006-01-02", f["due"]); err == nil {
		a.DueAt = &t
	}
}

func (taskKind) CreateCRM(ctx context.Context, tr *typeRun, f fields) (*crmItem, error) {
	a := &models.Activity{Record: models.Record{OwnerID: tr.userID, Origin: models.OriginSync}, TypeCode: models.ActivityTask}
	applyToTask(a, f)
	if err := tr.e.Store.DB(ctx).Create(a).Error; err != nil {
		return nil, err
	}
	it := taskItem(tr, a)
	return &it, nil
}

func (taskKind) UpdateCRM(ctx context.Context, tr *typeRun, id int64, f fields) (int64, error) {
	var a models.Activity
	if err := tr.e.Store.DB(ctx).First(&a, id).Error; err != nil {
		return 0, err
	}
	applyToTask(&a, f)
	if err := tr.e.Store.DB(ctx).Save(&a).Error; err != nil {
		return 0, err
	}
	return a.Version, nil
}

func (taskKind) DeleteCRM(ctx context.Context, tr *typeRun, id int64) error {
	return tr.e.Store.SoftDelete(ctx, "activities", id)
}

func taskPatch(changed []string, want fields) graph.Patch {
	p := graph.Patch{}
	for _, k := range changed {
		switch k {
		case "title":
			p["title"] = want["title"]
		case "body":
			p["body"] = graph.ItemBody{ContentType: "text", Content: want["body"]}
		case "due":
			if t, err := time.Parse("2006-01-02", want["due"]); err == nil {
				p["dueDateTime"] = graph.NewDateTimeTimeZone(t)
			} else {
				p["dueDateTime"] = nil
			}
		case "status":
			p["status"] = want["status"]
		case "importance":
			p["importance"] = want["importance"]
		}
	}
	return p
}

func (taskKind) CreateReq(tr *typeRun, f fields, crmID int64) graph.BatchRequest {
	t := &graph.TodoTask{Title: f["title"], Body: &graph.ItemBody{ContentType: "text", Content: f["body"]},
		Status: f["status"], Importance: f["importance"], Categories: []string{tr.st.CategoryName},
		LinkedResources: []graph.LinkedResource{{ApplicationName: linkedApp, ExternalID: strconv.FormatInt(crmID, 10), DisplayName: "CRM task"}}}
	if d, err := time.Parse("2006-01-02", f["due"]); err == nil {
		dt := graph.NewDateTimeTimeZone(d)
		t.DueDateTime = &dt
	}
	return graph.CreateTaskRequest(tr.container, t)
}

func (taskKind) PatchReq(tr *typeRun, id string, changed []string, want, _ fields, etag string) graph.BatchRequest {
	return graph.UpdateTaskRequest(tr.container, id, taskPatch(changed, want), etag)
}

func (taskKind) DeleteReq(tr *typeRun, id string) graph.BatchRequest {
	return graph.DeleteTaskRequest(tr.container, id)
}

func (taskKind) CategoryReq(tr *typeRun, id string, cats []string) graph.BatchRequest {
	return graph.UpdateTaskRequest(tr.container, id, graph.Patch{"categories": cats}, "")
}

func (taskKind) Decode(_ *typeRun, r *graph.BatchResponse) (*gItem, error) {
	var out graph.TodoTask
	if err := r.Decode(&out); err != nil {
		return nil, err
	}
	g := toTaskItem(&out)
	return &g, nil
}
