package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/monitor"
	"github.com/salesbridge/salesbridge/addin/syncjobs"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

type fakeQueue struct{ jobs []river.JobArgs }

func (q *fakeQueue) Enqueue(_ context.Context, a river.JobArgs, _ *river.InsertOpts) error {
	q.jobs = append(q.jobs, a)
	return nil
}

// fixture makes users in every monitor state and returns their ids by name.
func fixture(t *testing.T, store *models.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids := map[string]int64{}
	type run struct {
		status string
		ago    time.Duration
		dur    time.Duration // 0 = unfinished
	}
	users := []struct {
		name   string
		state  string
		mapped bool
		runs   []run
	}{
		{"never", models.SyncActive, true, nil},
		{"never2", models.SyncSuspended, true, nil},
		{"failed", models.SyncActive, true, []run{{models.RunSucceeded, 3 * time.Hour, time.Minute}, {models.RunFailed, time.Hour, 2 * time.Second}}},
		{"recovered", models.SyncActive, true, []run{{models.RunFailed, 3 * time.Hour, time.Minute}, {models.RunSucceeded, time.Hour, 3 * time.Second}}},
		{"conflicts", models.SyncDisabled, true, []run{{models.RunSucceededWithConflicts, 25 * time.Hour, 4 * time.Second}}},
		{"running", models.SyncActive, true, []run{{models.RunSucceeded, 3 * time.Hour, time.Minute}, {models.RunInProgress, time.Minute, 0}}},
		{"queued", models.SyncActive, true, []run{{models.RunQueued, time.Second, 0}}},
		{"review", models.SyncNeedsReview, true, []run{{models.RunFailed, time.Hour, time.Second}}},
		{"unmapped", "", false, nil},
	}
	for _, f := range users {
		u := models.User{Username: f.name, DisplayName: "User " + f.name, Email: f.name + "@contoso.example", Role: models.RoleUser,
			Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if err := store.DB(ctx).Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		ids[f.name] = u.ID
		if !f.mapped {
			continue
		}
		m := models.UserMapping{UserID: u.ID, MSEmail: f.name + "@m365.example", MSEmailNorm: f.name + "@m365.example",
			Authorized: f.name != "failed", SyncState: f.state, CreatedAt: now, UpdatedAt: now}
		if err := store.DB(ctx).Create(&m).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range f.runs {
			sr := models.SyncRun{UserID: u.ID, TriggerKind: "standard", Status: r.status, StartedAt: now.Add(-r.ago), Counts: "{}", GraphMs: 700, CrmMs: 300}
			if r.dur > 0 {
				fin := sr.StartedAt.Add(r.dur)
				sr.FinishedAt = &fin
			}
			if err := store.DB(ctx).Create(&sr).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

func TestCardCounts(t *testing.T) {
	store := dbtest.Open(t)
	fixture(t, store)
	svc := &monitor.Service{Store: store, Now: func() time.Time { return now }}
	got, err := svc.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{monitor.CardFailed: 1, monitor.CardNeverSynced: 2, monitor.CardInProgress: 2,
		monitor.CardSucceeded: 2, monitor.CardNeedsReview: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts = %v, want %v", got, want)
	}
}

func TestUsersTable(t *testing.T) {
	store := dbtest.Open(t)
	ids := fixture(t, store)
	svc := &monitor.Service{Store: store, Now: func() time.Time { return now }}
	ctx := context.Background()

	rows, next, err := svc.Users(ctx, monitor.Query{Card: monitor.CardFailed})
	if err != nil || next != "" || len(rows) != 1 {
		t.Fatalf("failed card: %+v %q %v", rows, next, err)
	}
	r := rows[0]
	if r.UserID != ids["failed"] || r.LastStatus != models.RunFailed || r.Office365User != "failed@m365.example" ||
		r.Authorized || !r.Active() || r.GraphMs != 700 || r.CrmMs != 300 || r.LastStart == nil || !r.LastStart.Equal(now.Add(-time.Hour)) {
		t.Fatalf("failed row = %+v", r)
	}
	if d := r.Duration(); d == nil || *d != 2*time.Second {
		t.Fatalf("duration = %v", d)
	}

	rows, _, _ = svc.Users(ctx, monitor.Query{Card: monitor.CardInProgress})
	if len(rows) != 2 || rows[0].Duration() != nil {
		t.Fatalf("in progress = %+v", rows)
	}
	rows, _, _ = svc.Users(ctx, monitor.Query{Card: monitor.CardSucceeded})
	if len(rows) != 2 || rows[1].Active() {
		t.Fatalf("succeeded = %+v", rows)
	}

	// Search matches the Office 365 address too, and % is literal.
	rows, _, _ = svc.Users(ctx, monitor.Query{Search: "RECOVERED@m365"})
	if len(rows) != 1 || rows[0].UserID != ids["recovered"] {
		t.Fatalf("search = %+v", rows)
	}
	rows, _, _ = svc.Users(ctx, monitor.Query{Search: "%"})
	if len(rows) != 0 {
		t.Fatalf("search %% = %+v", rows)
	}

	// Paging visits every mapped user once.
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		rows, next, err := svc.Users(ctx, monitor.Query{Cursor: cursor, Limit: 3})
		if err != nil || pages > 5 {
			t.Fatal(err, pages)
		}
		for _, r := range rows {
			if seen[r.UserID] {
				t.Fatalf("user %d twice", r.UserID)
			}
			seen[r.UserID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 8 || seen[ids["unmapped"]] {
		t.Fatalf("paged users = %v", seen)
	}

	if _, _, err := svc.Users(ctx, monitor.Query{Card: "bogus"}); models.ErrorCode(err) != models.CodeInvalidArgument {
		t.Fatalf("bad card: %v", err)
	}
}

func TestHistoryAndRuns(t *testing.T) {
	store := dbtest.Open(t)
	ids := fixture(t, store)
	svc := &monitor.Service{Store: store, Now: func() time.Time { return now }}
	ctx := context.Background()
	days, err := svc.History(ctx, 14)
	if err != nil || len(days) != 14 {
		t.Fatalf("history: %v %v", days, err)
	}
	today, yesterday := days[13], days[12]
	if today.Day != "2026-12-03" || today.Succeeded != 3 || today.Failed != 3 || today.Unfinished != 2 || today.Conflicts != 0 {
		t.Fatalf("today = %+v", today)
	}
	if yesterday.Conflicts != 1 || yesterday.AvgDurationMs != 4000 {
		t.Fatalf("yesterday = %+v", yesterday)
	}
	if today.MaxDurationMs != 60000 {
		t.Fatalf("max = %d", today.MaxDurationMs)
	}
	runs, err := svc.Runs(ctx, ids["failed"], 10)
	if err != nil || len(runs) != 2 || runs[0].Status != models.RunFailed {
		t.Fatalf("runs = %+v %v", runs, err)
	}
	if _, err := svc.Runs(ctx, ids["unmapped"], 10); models.ErrorCode(err) != models.CodeNotFound {
		t.Fatalf("unmapped: %v", err)
	}
}

func TestActions(t *testing.T) {
	store := dbtest.Open(t)
	ids := fixture(t, store)
	q := &fakeQueue{}
	svc := &monitor.Service{Store: store, Queue: q, Now: func() time.Time { return now }}
	ctx := context.Background()
	state := func(name string) string {
		var m models.UserMapping
		store.DB(ctx).Where("user_id = ?", ids[name]).First(&m)
		return m.SyncState
	}
	apply := func(action string, names ...string) []monitor.Outcome {
		t.Helper()
		var uids []int64
		for _, n := range names {
			uids = append(uids, ids[n])
		}
		out, err := svc.Apply(ctx, ids["never"], action, uids)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return out
	}

	out := apply(monitor.ActionRun, "failed", "conflicts", "failed")
	if len(out) != 2 || !out[0].Applied || out[1].Applied {
		t.Fatalf("run = %+v", out)
	}
	if len(q.jobs) != 1 || q.jobs[0].(syncjobs.RunArgs) != (syncjobs.RunArgs{UserID: ids["failed"], Trigger: syncjobs.TriggerMonitor}) {
		t.Fatalf("jobs = %+v", q.jobs)
	}

	apply(monitor.ActionSuspend, "recovered")
	if state("recovered") != models.SyncSuspended {
		t.Fatal("suspend")
	}
	if out := apply(monitor.ActionRun, "recovered"); out[0].Applied || len(q.jobs) != 1 {
		t.Fatalf("run of a suspended user = %+v", out)
	}
	apply(monitor.ActionResume, "recovered")
	if state("recovered") != models.SyncActive {
		t.Fatal("resume")
	}
	apply(monitor.ActionDisable, "recovered")
	if s := state("recovered"); s != models.SyncDisabled {
		t.Fatal("disable", s)
	}
	if out := apply(monitor.ActionResume, "recovered"); out[0].Applied || state("recovered") != models.SyncDisabled {
		t.Fatalf("resume of a disabled user = %+v", out)
	}
	apply(monitor.ActionEnable, "recovered")
	if state("recovered") != models.SyncActive {
		t.Fatal("enable")
	}

	var audit []models.AuditEntry
	store.DB(ctx).Order("id").Find(&audit)
	want := []string{"monitor.run user:%d  queued", "monitor.suspend user:%d active suspended", "monitor.resume user:%d suspended active",
		"monitor.disable user:%d active disabled", "monitor.enable user:%d disabled active"}
	wantIDs := []int64{ids["failed"], ids["recovered"], ids["recovered"], ids["recovered"], ids["recovered"]}
	if len(audit) != len(want) {
		t.Fatalf("audit = %+v", audit)
	}
	for i, a := range audit {
		got := fmt.Sprintf("%s %s %s %s", a.Action, a.Target, a.OldValue, a.NewValue)
		if got != fmt.Sprintf(want[i], wantIDs[i]) || a.ActorID == nil || *a.ActorID != ids["never"] {
			t.Errorf("audit[%d] = %q", i, got)
		}
	}

	for _, c := range []struct {
		action string
		ids    []int64
		field  string
	}{
		{"reboot", []int64{ids["never"]}, "action"},
		{"run", nil, "userIds"},
		{"run", []int64{ids["unmapped"]}, "userIds"},
	} {
		_, err := svc.Apply(ctx, 1, c.action, c.ids)
		if e, ok := err.(*models.Error); !ok || e.Fields[c.field] == "" {
			t.Errorf("%s %v: %v", c.action, c.ids, err)
		}
	}
}
