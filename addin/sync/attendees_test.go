package sync_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

func (h *harness) participants(activityID int64) []models.ActivityParticipant {
	var ps []models.ActivityParticipant
	h.store.DB(h.ctx).Where("activity_id = ? AND role = 'attendee'", activityID).Order("email").Find(&ps)
	return ps
}

func emailsOf(ps []models.ActivityParticipant) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Email)
	}
	return strings.Join(out, ",")
}

// setParticipants replaces the CRM attendees as a CRM edit does: the rows
// and a save of the activity (its version marks the change).
func (h *harness) setParticipants(activityID int64, emails ...string) {
	h.t.Helper()
	h.store.DB(h.ctx).Where("activity_id = ? AND role = 'attendee'", activityID).Delete(&models.ActivityParticipant{})
	for _, e := range emails {
		if err := h.store.DB(h.ctx).Create(&models.ActivityParticipant{ActivityID: activityID, Role: "attendee", Email: e}).Error; err != nil {
			h.t.Fatal(err)
		}
	}
	var a models.Activity
	h.store.DB(h.ctx).First(&a, activityID)
	if err := h.store.DB(h.ctx).Save(&a).Error; err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) eventAttendees(id string) string {
	g, _ := h.mbx.Get(graphtest.Events, id)
	as, _ := g["attendees"].([]any)
	var out []string
	for _, a := range as {
		m, _ := a.(map[string]any)
		ea, _ := m["emailAddress"].(map[string]any)
		s, _ := ea["address"].(string)
		out = append(out, strings.ToLower(s))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func (h *harness) apptBySubject(subject string) models.Activity {
	h.t.Helper()
	var a models.Activity
	if err := h.store.DB(h.ctx).Where("owner_id = ? AND subject = ?", h.user, subject).First(&a).Error; err != nil {
		h.t.Fatalf("appointment %q: %v", subject, err)
	}
	return a
}

func (h *harness) meetingMessages() int { return h.fake.Stats("mbx-alice").MeetingMessages }

func apptOnly(s *settings.Settings) { s.Contacts.Enabled, s.Tasks.Enabled = false, false }

// A meeting the user organises: attendees come into the CRM resolved to
// contacts; the CRM's attendee change is written (the one allowed update);
// CRM edits of other fields send nothing; Outlook's changes come back.
func TestAttendeesOrganizer(t *testing.T) {
	h := newHarness(t)
	h.setSettings(apptOnly)
	cust := h.crmContact("Carla", "Customer", "carla@example.org")
	h.store.DB(h.ctx).Model(cust).Update("email_norm", "carla@example.org")
	now := h.clock.Now()
	ev := h.outlookEvent("Kick-off", now.Add(48*time.Hour), "", "Carla@Example.org", "dan@example.org")
	h.sync()
	a := h.apptBySubject("Kick-off")
	ps := h.participants(a.ID)
	if emailsOf(ps) != "carla@example.org,dan@example.org" {
		t.Fatalf("participants %s", emailsOf(ps))
	}
	if ps[0].ContactID == nil || *ps[0].ContactID != cust.ID || ps[1].ContactID != nil {
		t.Fatalf("not resolved: %+v", ps)
	}
	if h.meetingMessages() != 0 {
		t.Fatal("importing a meeting sent a message")
	}
	// The CRM changes the subject and body only: no update is sent.
	h.fake.ResetStats()
	a.Subject, a.BodyText = "Kick-off (agenda)", "Agenda"
	h.store.DB(h.ctx).Save(&a)
	h.sync()
	if n := h.meetingMessages(); n != 0 {
		t.Fatalf("subject change sent %d meeting messages", n)
	}
	// The CRM adds an attendee: written to Outlook, one update.
	h.fake.ResetStats()
	h.setParticipants(a.ID, "carla@example.org", "dan@example.org", "eve@example.org")
	h.sync()
	if got := h.eventAttendees(ev); got != "carla@example.org,dan@example.org,eve@example.org" {
		t.Fatalf("outlook attendees %s", got)
	}
	if n := h.meetingMessages(); n != 1 {
		t.Fatalf("attendee change sent %d meeting messages, want 1", n)
	}
	// Outlook removes one: the CRM follows, nothing is written back.
	if err := h.mbx.Update(graphtest.Events, ev, map[string]any{"attendees": []any{
		map[string]any{"type": "required", "emailAddress": map[string]any{"address": "carla@example.org"}}}}); err != nil {
		t.Fatal(err)
	}
	h.fake.ResetStats()
	h.sync()
	if got := emailsOf(h.participants(a.ID)); got != "carla@example.org" {
		t.Fatalf("crm attendees %s", got)
	}
	if st := h.fake.Stats("mbx-alice"); st.Writes != 0 || st.MeetingMessages != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Nothing changed: nothing written.
	h.fake.ResetStats()
	run := h.sync()
	if st := h.fake.Stats("mbx-alice"); st.Writes != 0 || len(h.events(run.ID)) != 0 {
		t.Fatalf("unchanged sync: %+v %v", st, outcomes(h.events(run.ID)))
	}
}

// A meeting the user was invited to: attendees flow Outlook → CRM only,
// a CRM change is undone from Outlook and never written there.
func TestAttendeesInvitee(t *testing.T) {
	h := newHarness(t)
	h.setSettings(apptOnly)
	now := h.clock.Now()
	ev := h.outlookEvent("Their review", now.Add(48*time.Hour), "boss@contoso.example", "alice@contoso.example", "x@example.org")
	h.sync()
	a := h.apptBySubject("Their review")
	ps := h.participants(a.ID)
	if emailsOf(ps) != "alice@contoso.example,x@example.org" || ps[0].UserID == nil || *ps[0].UserID != h.user {
		t.Fatalf("participants %+v", ps)
	}
	h.fake.ResetStats()
	h.setParticipants(a.ID, "alice@contoso.example", "x@example.org", "y@example.org")
	h.sync()
	if st := h.fake.Stats("mbx-alice"); st.Writes != 0 || st.MeetingMessages != 0 {
		t.Fatalf("invitee's CRM edit written to Outlook: %+v", st)
	}
	if got := emailsOf(h.participants(a.ID)); got != "alice@contoso.example,x@example.org" {
		t.Fatalf("crm attendees %s, want Outlook's", got)
	}
	// The organiser's update arrives: the CRM follows.
	if err := h.mbx.Update(graphtest.Events, ev, map[string]any{"attendees": []any{
		map[string]any{"type": "required", "emailAddress": map[string]any{"address": "alice@contoso.example"}},
		map[string]any{"type": "optional", "emailAddress": map[string]any{"address": "z@example.org"}}}}); err != nil {
		t.Fatal(err)
	}
	h.sync()
	if got := emailsOf(h.participants(a.ID)); got != "alice@contoso.example,z@example.org" {
		t.Fatalf("crm attendees %s", got)
	}
	if n := h.meetingMessages(); n != 0 {
		t.Fatalf("%d meeting messages", n)
	}
}

// CRM appointments with attendees: creating the event invites no one,
// matching an existing meeting sends nothing, a time change of an event
// without attendees sends nothing; only a CRM attendee change does.
func TestAttendeesNoInvitation(t *testing.T) {
	h := newHarness(t)
	h.setSettings(apptOnly)
	now := h.clock.Now()
	a := h.crmAppt("Pitch", now.Add(48*time.Hour), false)
	h.setParticipants(a.ID, "p@example.org", "q@example.org")
	twinStart := now.Add(72 * time.Hour)
	b := h.crmAppt("Review", twinStart, false)
	h.setParticipants(b.ID, "r@example.org")
	twin := h.outlookEvent("Review", twinStart, "", "s@example.org")
	h.sync()
	if n := h.meetingMessages(); n != 0 {
		t.Fatalf("first sync sent %d meeting messages", n)
	}
	var pitch string
	for _, e := range h.mbx.List(graphtest.Events) {
		if e["subject"] == "Pitch" {
			pitch = e["id"].(string)
		}
	}
	if pitch == "" || h.eventAttendees(pitch) != "" || h.eventAttendees(twin) != "s@example.org" {
		t.Fatalf("attendees written by a create or a match: %q %q", h.eventAttendees(pitch), h.eventAttendees(twin))
	}
	if got := emailsOf(h.participants(a.ID)); got != "p@example.org,q@example.org" {
		t.Fatalf("crm lost its attendees: %s", got)
	}
	// Runs after the create change nothing.
	h.fake.ResetStats()
	h.sync()
	run := h.sync()
	if st := h.fake.Stats("mbx-alice"); st.Writes != 0 || len(h.events(run.ID)) != 0 {
		t.Fatalf("unchanged sync: %+v %v", st, outcomes(h.events(run.ID)))
	}
	// A time change of the CRM appointment: the event has no attendees, so
	// no update is sent.
	h.store.DB(h.ctx).First(a, a.ID)
	later := a.StartAt.Add(time.Hour)
	end := later.Add(time.Hour)
	a.StartAt, a.EndAt = &later, &end
	h.store.DB(h.ctx).Save(a)
	h.sync()
	if g, _ := h.mbx.Get(graphtest.Events, pitch); g["start"].(map[string]any)["dateTime"] != graph.NewDateTimeTimeZone(later).DateTime {
		t.Fatalf("time not pushed: %v", g["start"])
	}
	if n := h.meetingMessages(); n != 0 {
		t.Fatalf("%d meeting messages", n)
	}
	// The CRM changes the list: now the organiser's change is written.
	h.setParticipants(a.ID, "p@example.org")
	h.sync()
	if got := h.eventAttendees(pitch); got != "p@example.org" {
		t.Fatalf("outlook attendees %q", got)
	}
	if n := h.meetingMessages(); n != 1 {
		t.Fatalf("%d meeting messages, want 1", n)
	}
}
