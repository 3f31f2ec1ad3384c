package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

func TestSyncAPI(t *testing.T) {
	ctx := context.Background()
	fake := graphtest.New()
	t.Cleanup(fake.Close)
	mbx := fake.AddMailbox("mbx-bob", graphtest.MailboxOptions{})
	tokens := graph.StaticTokens{}
	env := servertest.New(t, func(cfg *server.Config, opts *server.Options) {
		cfg.GraphURL = fake.URL()
		opts.HTTPClient = fake.HTTPClient()
		opts.GraphTokens = tokens
	})
	u := env.CreateUser("bob", models.RoleUser)
	tokens[syncer.GraphUser(u.ID)] = "mbx-bob"
	tok := env.Login(u.ID)
	store := env.Store

	// Not connected yet.
	r := env.Do("GET", "/api/v1/sync/status", nil, tok)
	var st handlers.SyncStatusResponse
	r.JSON(t, &st)
	if r.Status != 200 || st.State != "not_connected" || st.LastRun != nil {
		t.Fatalf("status %d %+v", r.Status, st)
	}
	if err := store.DB(ctx).Create(&models.UserMapping{UserID: u.ID, MSEmail: "bob@contoso.example",
		MSEmailNorm: "bob@contoso.example", Authorized: true, SyncState: models.SyncActive}).Error; err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(func() settings.Settings { s := settings.Defaults(); s.ConflictPolicy = settings.UserSelected; return s }())
	store.DB(ctx).Save(&models.AdminSettings{ID: 1, Data: string(b), UpdatedAt: time.Now()})
	c := &models.Contact{Record: models.Record{OwnerID: u.ID}, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com"}
	store.DB(ctx).Create(c)

	// A manual run: 202, and a second request returns the same run.
	r = env.Do("POST", "/api/v1/sync/run", nil, tok)
	var start handlers.SyncStartResponse
	r.JSON(t, &start)
	if r.Status != http.StatusAccepted || start.RunID == 0 {
		t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/v1/sync/run", nil, tok)
	var again handlers.SyncStartResponse
	r.JSON(t, &again)
	if again.RunID != start.RunID {
		t.Fatalf("second request started run %d while %d runs", again.RunID, start.RunID)
	}
	var jobs int64
	store.DB(ctx).Table("river_job").Where("kind = ?", "sync.run").Count(&jobs)
	if jobs != 1 {
		t.Fatalf("%d sync jobs enqueued", jobs)
	}
	// Drain the job explicitly.
	gc, err := graph.New(graph.Options{BaseURL: fake.URL(), HTTPClient: fake.HTTPClient(), Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	eng := &syncer.Engine{Store: store, Graph: gc}
	w := &syncer.SyncWorker{Engine: eng}
	if err := w.Work(ctx, &river.Job[syncer.SyncArgs]{Args: syncer.SyncArgs{UserID: u.ID, RunID: start.RunID}}); err != nil {
		t.Fatal(err)
	}
	r = env.Do("GET", fmt.Sprintf("/api/v1/sync/runs/%d", start.RunID), nil, tok)
	var run handlers.SyncRunResponse
	r.JSON(t, &run)
	if r.Status != 200 || run.Status != models.RunSucceeded {
		t.Fatalf("run %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", fmt.Sprintf("/api/v1/sync/runs/%d/records?outcome=created", start.RunID), nil, tok)
	var recs handlers.SyncRecordsResponse
	r.JSON(t, &recs)
	if r.Status != 200 || len(recs.Records) != 1 || recs.Records[0].Direction != "to_o365" {
		t.Fatalf("records %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", fmt.Sprintf("/api/v1/sync/runs/%d/records?outcome=bogus", start.RunID), nil, tok); r.Status != 400 || r.Fields()["outcome"] == "" {
		t.Fatalf("bad outcome: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/sync/runs/999999", nil, tok); r.Status != 404 {
		t.Fatalf("missing run: %d", r.Status)
	}
	if r := env.Do("GET", "/api/v1/sync/runs/abc", nil, tok); r.Status != 400 {
		t.Fatalf("bad id: %d", r.Status)
	}
	r = env.Do("GET", fmt.Sprintf("/api/v1/sync/records/contact/%d", c.ID), nil, tok)
	r.JSON(t, &recs)
	if r.Status != 200 || len(recs.Records) != 1 || recs.Records[0].Outcome != "created" {
		t.Fatalf("history %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/sync/records/lead/1", nil, tok); r.Status != 400 {
		t.Fatalf("bad type: %d", r.Status)
	}

	// A conflict under User Selected, resolved per field.
	gid := mbx.List(graphtest.Contacts)[0]["id"].(string)
	_ = mbx.Update(graphtest.Contacts, gid, map[string]any{"jobTitle": "Outlook", "department": "O"})
	c.JobTitle, c.Department = "CRM", "C"
	store.DB(ctx).Save(c)
	if _, err := eng.SyncNow(ctx, u.ID, syncer.TriggerManual); err != nil {
		t.Fatal(err)
	}
	r = env.Do("GET", "/api/v1/sync/conflicts", nil, tok)
	var cs handlers.SyncConflictsResponse
	r.JSON(t, &cs)
	if r.Status != 200 || len(cs.Conflicts) != 1 || cs.Conflicts[0].Fields["jobTitle"].Client != "Outlook" {
		t.Fatalf("conflicts %d %s", r.Status, r.Body)
	}
	cid := cs.Conflicts[0].ID
	path := fmt.Sprintf("/api/v1/sync/conflicts/%d/resolve", cid)
	if r := env.Do("POST", path, map[string]any{"choice": "fields", "fields": map[string]string{"jobTitle": "client"}}, tok); r.Status != 400 || r.Fields()["fields.department"] == "" {
		t.Fatalf("incomplete choice: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", path, map[string]any{"choice": "maybe"}, tok); r.Status != 400 {
		t.Fatalf("bad choice: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", path, map[string]any{"choice": "fields", "fields": map[string]string{"jobTitle": "client", "department": "server"}}, tok); r.Status != 204 {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", path, map[string]any{"choice": "server"}, tok); r.Status != 409 {
		t.Fatalf("resolve twice: %d %s", r.Status, r.Body)
	}
	if _, err := eng.SyncNow(ctx, u.ID, syncer.TriggerManual); err != nil {
		t.Fatal(err)
	}
	var got models.Contact
	store.DB(ctx).First(&got, c.ID)
	g, _ := mbx.Get(graphtest.Contacts, gid)
	if got.JobTitle != "Outlook" || got.Department != "C" || g["jobTitle"] != "Outlook" || g["department"] != "C" {
		t.Fatalf("after resolve: crm %q/%q outlook %v/%v", got.JobTitle, got.Department, g["jobTitle"], g["department"])
	}
	r = env.Do("GET", "/api/v1/sync/status", nil, tok)
	r.JSON(t, &st)
	if st.State != "enabled" || !st.Authorized || st.LastRun == nil || st.Running != nil {
		t.Fatalf("status %s", r.Body)
	}
	if r := env.Do("GET", "/api/v1/sync/status", nil, ""); r.Status != 401 {
		t.Fatalf("unauthenticated: %d", r.Status)
	}
}
