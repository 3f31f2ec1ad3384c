package sync_test

import (
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

func (h *harness) crmTask(subject string, due time.Time, private bool) *models.Activity {
	h.t.Helper()
	a := &models.Activity{Record: models.Record{OwnerID: h.user}, TypeCode: models.ActivityTask, Subject: subject, DueAt: &due, Private: private}
	if err := h.store.DB(h.ctx).Create(a).Error; err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) crmTasks() []models.Activity {
	var as []models.Activity
	h.store.DB(h.ctx).Where("owner_id = ? AND type_code = ?", h.user, models.ActivityTask).Order("id").Find(&as)
	return as
}

func TestTasksBothWaysPrivateAndMatching(t *testing.T) {
	h := newHarness(t)
	h.setSettings(func(s *settings.Settings) { s.Contacts.Enabled, s.Appointments.Enabled = false, false })
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	call := h.crmTask("Call Ada", due, false)
	h.crmTask("Private errand", due, true)
	h.crmTask("Send offer", due, false)
	// A twin of "Send offer" already in To Do (first sync matches it).
	dt := graph.NewDateTimeTimeZone(due)
	if _, err := h.mbx.Create(graphtest.Tasks, graph.TodoTask{Title: "Send offer", DueDateTime: &dt, Categories: []string{category}}); err != nil {
		t.Fatal(err)
	}
	tid, err := h.mbx.Create(graphtest.Tasks, graph.TodoTask{Title: "Review contract", Categories: []string{category}, Importance: "high"})
	if err != nil {
		t.Fatal(err)
	}
	run := h.sync()
	oc := outcomes(h.events(run.ID))
	if oc["to_o365:created"] != 1 || oc["to_crm:created"] != 1 || oc["to_o365:skipped-private"] != 1 || oc[":merged"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	if n := h.mbx.Count(graphtest.Tasks); n != 3 {
		t.Fatalf("To Do has %d tasks", n)
	}
	if n := len(h.crmTasks()); n != 4 {
		t.Fatalf("CRM has %d tasks", n)
	}
	// Both directions of an update.
	h.store.DB(h.ctx).Model(&models.Activity{}).Where("id = ?", call.ID).Updates(map[string]any{"status": "completed"})
	var a models.Activity
	h.store.DB(h.ctx).First(&a, call.ID)
	a.Status = "completed"
	h.store.DB(h.ctx).Save(&a)
	_ = h.mbx.Update(graphtest.Tasks, tid, map[string]any{"title": "Review contract v2"})
	h.sync()
	found := false
	for _, it := range h.mbx.List(graphtest.Tasks) {
		if it["title"] == "Call Ada" && it["status"] == "completed" {
			found = true
		}
	}
	if !found {
		t.Fatalf("CRM status change not in To Do: %v", h.mbx.List(graphtest.Tasks))
	}
	ok := false
	for _, x := range h.crmTasks() {
		if x.Subject == "Review contract v2" && x.Importance == "high" {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("To Do change not in CRM")
	}
	// Lost create response: recovered through the linked resource.
	h.crmTask("Book venue", due, false)
	h.fake.InjectFault(graphtest.Fault{Endpoint: "POST /$batch", Kind: graphtest.FaultAfterApply})
	if _, err := h.eng.SyncNow(h.ctx, h.user, "manual"); err != nil {
		t.Fatal(err)
	}
	h.sync()
	h.sync()
	if n := h.mbx.Count(graphtest.Tasks); n != 4 {
		t.Fatalf("To Do has %d tasks after recovery", n)
	}
	h.fake.ResetStats()
	run = h.sync()
	if st := h.fake.Stats("mbx-alice"); st.Requests != 1 || st.Writes != 0 || len(h.events(run.ID)) != 0 {
		t.Fatalf("unchanged task sync: %+v %v", st, outcomes(h.events(run.ID)))
	}
}
