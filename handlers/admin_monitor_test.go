package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server/servertest"
)

// mapUser connects a user to Office 365 with runs ending in the given
// statuses (oldest first).
func mapUser(t *testing.T, env *servertest.Env, u *models.User, state string, statuses ...string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	m := models.UserMapping{UserID: u.ID, MSEmail: u.Username + "@m365.example", MSEmailNorm: u.Username + "@m365.example",
		Authorized: true, SyncState: state, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.DB(ctx).Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range statuses {
		start := now.Add(time.Duration(i-len(statuses)) * time.Hour)
		r := models.SyncRun{UserID: u.ID, TriggerKind: "standard", Status: s, StartedAt: start, Counts: `{"contact":{"to_crm":2}}`, GraphMs: 1200, CrmMs: 300}
		if s != models.RunInProgress && s != models.RunQueued {
			fin := start.Add(2 * time.Second)
			r.FinishedAt = &fin
		}
		if err := env.Store.DB(ctx).Create(&r).Error; err != nil {
			t.Fatal(err)
		}
		crm := int64(7)
		ev := models.SyncRecordEvent{RunID: r.ID, UserID: u.ID, ObjectType: "contact", CrmID: &crm, GraphID: "AAMk1", Direction: "to_crm", Outcome: "updated", At: start}
		if err := env.Store.DB(ctx).Create(&ev).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestMonitorAPI(t *testing.T) {
	env, admin, user, bob := adminEnv(t)
	mapUser(t, env, bob, models.SyncActive, models.RunSucceeded, models.RunFailed)
	carol := env.CreateUser("carol", models.RoleUser)
	mapUser(t, env, carol, models.SyncActive)
	dan := env.CreateUser("dan", models.RoleUser)
	mapUser(t, env, dan, models.SyncActive, models.RunInProgress)
	eve := env.CreateUser("eve", models.RoleUser)
	mapUser(t, env, eve, models.SyncNeedsReview, models.RunSucceededWithConflicts)
	fay := env.CreateUser("fay", models.RoleUser)
	mapUser(t, env, fay, models.SyncActive, models.RunSucceeded)

	if r := env.Do("GET", "/api/v1/admin/monitor", nil, user); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin: %d", r.Status)
	}
	r := env.Do("GET", "/api/v1/admin/monitor", nil, admin)
	var cards handlers.MonitorResponse
	r.JSON(t, &cards)
	if r.Status != 200 || cards != (handlers.MonitorResponse{Cards: handlers.MonitorCards{LastSyncFailed: 1, NeverSynced: 1, InProgress: 1, LastSyncSucceeded: 1}, NeedsReview: 1}) {
		t.Fatalf("cards: %s", r.Body)
	}

	r = env.Do("GET", "/api/v1/admin/monitor/users?card=failed", nil, admin)
	var page handlers.MonitorUsersResponse
	r.JSON(t, &page)
	if r.Status != 200 || len(page.Users) != 1 {
		t.Fatalf("users: %s", r.Body)
	}
	u := page.Users[0]
	if u.UserID != bob.ID || u.Last != "failed" || u.Office365User != "bob@m365.example" || u.Duration == nil ||
		u.Duration.TotalMs != 2000 || u.Duration.Office365Ms != 1200 || u.Duration.CrmMs != 300 || !u.Active || !u.Authorized {
		t.Fatalf("bob: %+v", u)
	}
	r = env.Do("GET", "/api/v1/admin/monitor/users?limit=2", nil, admin)
	r.JSON(t, &page)
	if len(page.Users) != 2 || page.NextCursor == "" {
		t.Fatalf("page 1: %s", r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/monitor/users?limit=2&q=m365&cursor="+page.NextCursor, nil, admin)
	r.JSON(t, &page)
	if len(page.Users) != 2 || page.NextCursor == "" {
		t.Fatalf("page 2: %s", r.Body)
	}
	for _, bad := range []string{"card=nope", "cursor=x", "limit=0"} {
		if r := env.Do("GET", "/api/v1/admin/monitor/users?"+bad, nil, admin); r.Status != 400 {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}

	r = env.Do("GET", "/api/v1/admin/monitor/users/"+strconv.FormatInt(bob.ID, 10)+"/runs", nil, admin)
	var runs handlers.MonitorRunsResponse
	r.JSON(t, &runs)
	if r.Status != 200 || len(runs.Runs) != 2 || runs.Runs[0].Status != "failed" || len(runs.Runs[0].Decisions) != 1 ||
		runs.Runs[0].Decisions[0].Outcome != "updated" || runs.Runs[0].Counts["contact"] == nil {
		t.Fatalf("runs: %s", r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/monitor/users/99999/runs", nil, admin); r.Status != 404 {
		t.Fatalf("runs of unknown: %d", r.Status)
	}

	r = env.Do("GET", "/api/v1/admin/monitor/history", nil, admin)
	var hist handlers.MonitorHistoryResponse
	r.JSON(t, &hist)
	if r.Status != 200 || len(hist.Days) != 14 {
		t.Fatalf("history: %s", r.Body)
	}
	var sum int64
	for _, d := range hist.Days {
		sum += d.Succeeded + d.Failed + d.Conflicts + d.Unfinished
	}
	if sum != 5 {
		t.Fatalf("history total %d: %s", sum, r.Body)
	}

	// Run enqueues a durable sync.run job for each user; suspend and
	// disable change the sync state; all are audited.
	r = env.Do("POST", "/api/v1/admin/monitor/actions", map[string]any{"action": "run", "userIds": []int64{bob.ID, carol.ID}}, admin)
	var act handlers.MonitorActionResponse
	r.JSON(t, &act)
	if r.Status != 200 || len(act.Results) != 2 || !act.Results[0].Applied || !act.Results[1].Applied {
		t.Fatalf("run: %s", r.Body)
	}
	var jobs []struct{ Args string }
	if err := env.Store.DB(context.Background()).Raw("SELECT CAST(args AS TEXT) AS args FROM river_job WHERE kind = 'sync.run' ORDER BY id").Scan(&jobs).Error; err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("jobs = %+v", jobs)
	}
	r = env.Do("POST", "/api/v1/admin/monitor/actions", map[string]any{"action": "suspend", "userIds": []int64{carol.ID}}, admin)
	r.JSON(t, &act)
	if act.Results[0].SyncState != "suspended" {
		t.Fatalf("suspend: %s", r.Body)
	}
	r = env.Do("POST", "/api/v1/admin/monitor/actions", map[string]any{"action": "disable", "userIds": []int64{fay.ID}}, admin)
	r.JSON(t, &act)
	if act.Results[0].SyncState != "disabled" {
		t.Fatalf("disable: %s", r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/monitor/users?q=fay", nil, admin)
	r.JSON(t, &page)
	if page.Users[0].Active || page.Users[0].SyncState != "disabled" {
		t.Fatalf("fay: %s", r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/audit?action=monitor.run", nil, admin)
	var audit handlers.AuditResponse
	r.JSON(t, &audit)
	if len(audit.Entries) != 2 {
		t.Fatalf("audit: %s", r.Body)
	}
	for body, field := range map[string]string{
		`{"action":"explode","userIds":[1]}`: "action",
		`{"action":"run","userIds":[]}`:      "userIds",
		`{"action":"run","userIds":["a"]}`:   "userIds",
		`{"action":"run"}`:                   "userIds",
	} {
		if r := env.Do("POST", "/api/v1/admin/monitor/actions", body, admin); r.Status != 400 || r.Fields()[field] == "" {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := env.Do("POST", "/api/v1/admin/monitor/actions", map[string]any{"action": "run", "userIds": []int64{bob.ID}}, user); r.Status != 403 {
		t.Fatalf("non-admin action: %d", r.Status)
	}
}
