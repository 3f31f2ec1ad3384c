package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
)

// conflictResolvedPerField runs the sync views against the real sync
// endpoints and engine, with the App's Graph client on the Graph fake: the
// pane's "Sync now" queues a run that the test drains, both sides then
// change the same fields of a contact, the next run records a conflict
// (policy User Selected) and the pane resolves it field by field. The next
// run applies the choice to the CRM and to Outlook.
func (f *fixture) conflictResolvedPerField(t *testing.T) {
	b := f.b
	ctx := context.Background()
	db := f.env.Store.DB(ctx)
	// the connect dialog mapped the user to the Outlook mailbox
	var m models.UserMapping
	if err := db.Where("user_id = ?", f.user.ID).First(&m).Error; err != nil {
		t.Fatalf("no mapping after connect: %v", err)
	}
	if err := db.Model(&m).Updates(map[string]any{"authorized": true, "sync_state": models.SyncActive}).Error; err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(ctx, f.env.Store)
	if err != nil {
		t.Fatal(err)
	}
	s.ConflictPolicy = settings.UserSelected
	data, _ := json.Marshal(s)
	if err := db.Save(&models.AdminSettings{ID: 1, Data: string(data), UpdatedAt: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{Record: models.Record{OwnerID: f.user.ID}, FirstName: "Greta", LastName: "Konfliktova",
		Email: "greta.konfliktova@example.com", JobTitle: "Buyer", Department: "Purchasing"}
	if err := db.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	eng := &syncer.Engine{Store: f.env.Store, Graph: f.env.App.Graph, Now: f.env.App.Now}

	// "Sync now" queues a run (real POST /sync/run); the test is the worker
	b.open(pane)
	b.run("sync tab", chromedp.WaitVisible(chromedp.CSS(`.person[data-contact]`)), chromedp.Click(chromedp.CSS(`[data-tab=sync]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sync-now`)))
	var status string
	b.eval(`document.getElementById('sync-status').textContent`, &status)
	if status != "Not synced yet." {
		t.Errorf("status before the first run %q", status)
	}
	b.run("sync now", chromedp.Click(chromedp.CSS(`#sync-now`)), chromedp.WaitVisible(chromedp.CSS(`#view .banner.ok`)))
	var run models.SyncRun
	if err := db.Where("user_id = ? AND finished_at IS NULL", f.user.ID).First(&run).Error; err != nil {
		t.Fatalf("Sync now queued no run: %v", err)
	}
	w := &syncer.SyncWorker{Engine: eng}
	if err := w.Work(ctx, &river.Job[syncer.SyncArgs]{Args: syncer.SyncArgs{UserID: f.user.ID, RunID: run.ID}}); err != nil {
		t.Fatalf("sync run: %v", err)
	}
	var gid string
	for _, g := range f.mbx.List(graphtest.Contacts) {
		if g["surname"] == c.LastName {
			gid, _ = g["id"].(string)
		}
	}
	if gid == "" {
		t.Fatal("the first run did not create the contact in Outlook")
	}
	b.run("status after the run", chromedp.Click(chromedp.CSS(`[data-tab=context]`)), chromedp.Click(chromedp.CSS(`[data-tab=sync]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conflicts p.muted`)))
	b.eval(`document.getElementById('sync-status').textContent`, &status)
	if want := "succeeded"; !containsFold(status, want) || !containsFold(status, "Last run") {
		t.Errorf("status line %q, want the last run and %q", status, want)
	}
	b.shot("08a-sync-status")

	// both sides change the same fields differently → a conflict
	if err := f.mbx.Update(graphtest.Contacts, gid, map[string]any{"jobTitle": "Head of Purchasing", "department": "Procurement"}); err != nil {
		t.Fatal(err)
	}
	c.JobTitle, c.Department = "Chief Buyer", "Sourcing"
	if err := db.Save(c).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SyncNow(ctx, f.user.ID, syncer.TriggerManual); err != nil {
		t.Fatal(err)
	}
	var conflict models.SyncConflict
	if err := db.Where("user_id = ? AND crm_id = ?", f.user.ID, c.ID).First(&conflict).Error; err != nil {
		t.Fatalf("no conflict recorded: %v", err)
	}
	sel := fmt.Sprintf(`[data-conflict="%d"]`, conflict.ID)
	b.open(pane)
	b.run("conflicts", chromedp.WaitVisible(chromedp.CSS(`#conflicts-badge`)), chromedp.Click(chromedp.CSS(`[data-tab=sync]`)),
		chromedp.WaitVisible(chromedp.CSS(sel)))
	var values []string
	b.eval(`[...document.querySelectorAll('`+sel+` tbody td')].map(td => td.textContent)`, &values)
	if len(values) != 4 {
		t.Errorf("conflict values %v, want both sides of two fields", values)
	}
	b.shot("08-sync-conflict")
	// Outlook's job title, the CRM's department
	name := fmt.Sprintf("cf-%d-", conflict.ID)
	b.run("resolve", chromedp.Click(chromedp.CSS(`input[name="`+name+`jobTitle"][value=client]`)),
		chromedp.Click(chromedp.CSS(sel+` button[type=submit]`)), chromedp.WaitNotPresent(chromedp.CSS(sel)),
		chromedp.WaitNotVisible(chromedp.CSS(`#conflicts-badge`)))
	if _, err := eng.SyncNow(ctx, f.user.ID, syncer.TriggerManual); err != nil {
		t.Fatal(err)
	}
	var got models.Contact
	db.First(&got, c.ID)
	g, _ := f.mbx.Get(graphtest.Contacts, gid)
	if got.JobTitle != "Head of Purchasing" || got.Department != "Sourcing" || g["jobTitle"] != "Head of Purchasing" || g["department"] != "Sourcing" {
		t.Errorf("after resolve: crm %q/%q, outlook %v/%v; want Head of Purchasing/Sourcing on both",
			got.JobTitle, got.Department, g["jobTitle"], g["department"])
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
