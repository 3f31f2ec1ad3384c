package sync_test

import (
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

func (h *harness) crmAppt(subject string, start time.Time, private bool) *models.Activity {
	h.t.Helper()
	end := start.Add(time.Hour)
	a := &models.Activity{Record: models.Record{OwnerID: h.user}, TypeCode: models.ActivityAppointment, Subject: subject,
		StartAt: &start, EndAt: &end, Private: private, Location: "Office"}
	if err := h.store.DB(h.ctx).Create(a).Error; err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) outlookEvent(subject string, start time.Time, organizer string, attendees ...string) string {
	h.t.Helper()
	ev := map[string]any{"subject": subject, "start": graph.NewDateTimeTimeZone(start), "end": graph.NewDateTimeTimeZone(start.Add(time.Hour)),
		"categories": []string{category}, "location": map[string]any{"displayName": "Room 1"}}
	if organizer != "" {
		ev["organizer"] = map[string]any{"emailAddress": map[string]any{"address": organizer}}
	}
	var att []any
	for _, a := range attendees {
		att = append(att, map[string]any{"type": "required", "emailAddress": map[string]any{"address": a}})
	}
	if att != nil {
		ev["attendees"] = att
	}
	id, err := h.mbx.Create(graphtest.Events, ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) crmAppts() []models.Activity {
	var as []models.Activity
	h.store.DB(h.ctx).Where("owner_id = ? AND type_code = ?", h.user, models.ActivityAppointment).Order("id").Find(&as)
	return as
}

func TestAppointments(t *testing.T) {
	h := newHarness(t)
	h.setSettings(func(s *settings.Settings) { s.Contacts.Enabled, s.Tasks.Enabled = false, false })
	now := h.clock.Now()
	demo := h.crmAppt("Demo", now.Add(48*time.Hour), false)
	h.crmAppt("Old", now.AddDate(0, 0, -90), false)
	h.crmAppt("Doctor", now.Add(72*time.Hour), true)
	// A meeting the user organises with a customer, and an invitation received.
	mine := h.outlookEvent("Kick-off", now.Add(96*time.Hour), "", "customer@example.org")
	recv := h.outlookEvent("Their review", now.Add(120*time.Hour), "boss@contoso.example", "mbx-alice@contoso.example")
	// An existing twin of a CRM appointment (first sync matches it).
	twinStart := now.Add(24 * time.Hour)
	h.crmAppt("Lunch", twinStart, false)
	h.outlookEvent("Lunch", twinStart, "")
	run := h.sync()
	oc := outcomes(h.events(run.ID))
	if oc["to_o365:created"] != 1 || oc["to_o365:skipped-window"] != 1 || oc["to_o365:skipped-private"] != 1 ||
		oc["to_crm:created"] != 2 || oc["to_o365:merged"]+oc[":merged"]+oc["to_crm:merged"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	if n := len(h.crmAppts()); n != 6 {
		t.Fatalf("CRM has %d appointments", n)
	}
	if n := h.mbx.Count(graphtest.Events); n != 4 {
		t.Fatalf("calendar has %d events", n)
	}
	st := h.fake.Stats("mbx-alice")
	if st.MeetingMessages != 0 || st.MeetingCancellations != 0 {
		t.Fatalf("initial sync sent meeting messages: %+v", st)
	}
	// CRM edits: the received invitation's time is not pushed; the
	// organised meeting's place is (the one allowed update); Demo's
	// subject is pushed.
	var recvCRM, mineCRM models.Activity
	h.store.DB(h.ctx).Where("subject = ?", "Their review").First(&recvCRM)
	h.store.DB(h.ctx).Where("subject = ?", "Kick-off").First(&mineCRM)
	later := recvCRM.StartAt.Add(time.Hour)
	recvCRM.StartAt = &later
	h.store.DB(h.ctx).Save(&recvCRM)
	mineCRM.Location = "Customer site"
	h.store.DB(h.ctx).Save(&mineCRM)
	demo.Subject = "Demo v2"
	h.store.DB(h.ctx).Save(demo)
	h.fake.ResetStats()
	h.sync()
	st = h.fake.Stats("mbx-alice")
	if st.MeetingMessages != 1 {
		t.Fatalf("meeting messages %d, want 1 (organiser changed the place in the CRM)", st.MeetingMessages)
	}
	g, _ := h.mbx.Get(graphtest.Events, recv)
	if s, _ := g["start"].(map[string]any); s["dateTime"] == graph.NewDateTimeTimeZone(later).DateTime {
		t.Fatalf("an attendee's copy was moved")
	}
	h.store.DB(h.ctx).First(&recvCRM, recvCRM.ID)
	if recvCRM.StartAt.Equal(later) {
		t.Fatalf("the received meeting's time should come back from Outlook")
	}
	// A CRM delete of the organised meeting never cancels it.
	h.deleteCRMActivity(mineCRM.ID)
	h.fake.ResetStats()
	run = h.sync()
	if st := h.fake.Stats("mbx-alice"); st.MeetingCancellations != 0 || h.mbx.Count(graphtest.Events) != 4 {
		t.Fatalf("meeting cancelled: %+v", st)
	}
	if oc := outcomes(h.events(run.ID)); oc["to_o365:skipped-delete-off"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	// An event moved out of the window is not a deletion.
	if err := h.mbx.Update(graphtest.Events, mine, map[string]any{"start": graph.NewDateTimeTimeZone(now.AddDate(2, 0, 0)),
		"end": graph.NewDateTimeTimeZone(now.AddDate(2, 0, 0).Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	h.deleteOutlook(graphtest.Events, recv)
	run = h.sync()
	oc = outcomes(h.events(run.ID))
	if oc["to_crm:deleted"] != 1 {
		t.Fatalf("outcomes %v", oc)
	}
	if n := len(h.crmAppts()); n != 4 {
		t.Fatalf("CRM has %d appointments", n)
	}
	h.fake.ResetStats()
	run = h.sync()
	if st := h.fake.Stats("mbx-alice"); st.Requests != 1 || st.Writes != 0 || len(h.events(run.ID)) != 0 {
		t.Fatalf("unchanged sync: %+v %v", st, outcomes(h.events(run.ID)))
	}
}

func (h *harness) deleteCRMActivity(id int64) {
	h.t.Helper()
	if err := h.store.SoftDelete(h.ctx, "activities", id); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) deleteOutlook(k graphtest.Kind, id string) {
	h.t.Helper()
	if err := h.mbx.Delete(k, id); err != nil {
		h.t.Fatal(err)
	}
}
