package sync

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/models"
)

// Attendees of an appointment are synced as one field, "attendees": the
// sorted, de-duplicated, lower-cased email addresses of the CRM
// participants with role attendee ↔ the Graph event's required and optional
// attendees (resources — rooms, equipment — are the event's place and stay
// on Outlook's side, as do attendee types and response status).
//
// Writing attendees to Outlook sends invitations or updates, so:
//   - an event created by sync carries no attendees (creating never
//     invites anyone; the CRM keeps its list);
//   - the list is written to Outlook only on a meeting the user organises
//     and only when the CRM changed it since the last sync (a change of
//     time or place is written by its own fields); the difference left by a
//     create, or found when matching, is not reconciled (localFields);
//   - on a meeting the user does not organise the list is locked: it flows
//     Outlook → CRM only, participants resolved by email to contacts and
//     sales users.
const roleAttendee = "attendee"

// localFields are not reconciled when neither side changed them: a value
// only one side holds stays on its side.
var localFields = map[string]bool{"attendees": true}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func joinEmails(in []string) string {
	var out []string
	for _, e := range in {
		if e = normEmail(e); e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ";")
}

func splitEmails(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// graphAttendeeFields sets "attendees" and the Outlook-only "_attTypes"
// (email → type) and "_resources" (JSON) of an event.
func graphAttendeeFields(f fields, e *graph.Event) {
	var emails []string
	types, names := map[string]string{}, map[string]string{}
	var resources []graph.Attendee
	for _, a := range e.Attendees {
		if a.Type == "resource" {
			resources = append(resources, graph.Attendee{Type: a.Type, EmailAddress: a.EmailAddress})
			continue
		}
		n := normEmail(a.EmailAddress.Address)
		emails = append(emails, n)
		if a.EmailAddress.Name != "" {
			names[n] = a.EmailAddress.Name
		}
		if a.Type != "" && a.Type != "required" {
			types[n] = a.Type
		}
	}
	f["attendees"] = joinEmails(emails)
	if len(types) > 0 {
		b, _ := json.Marshal(types)
		f["_attTypes"] = string(b)
	}
	if len(names) > 0 {
		b, _ := json.Marshal(names)
		f["_attNames"] = string(b)
	}
	if len(resources) > 0 {
		b, _ := json.Marshal(resources)
		f["_resources"] = string(b)
	}
}

// graphAttendees is the attendee list to write: want's addresses with the
// types and names Outlook had, plus Outlook's resources.
func graphAttendees(want, have fields) []graph.Attendee {
	types, names := map[string]string{}, map[string]string{}
	_ = json.Unmarshal([]byte(have["_attTypes"]), &types)
	_ = json.Unmarshal([]byte(have["_attNames"]), &names)
	out := []graph.Attendee{}
	for _, e := range splitEmails(want["attendees"]) {
		t := types[e]
		if t == "" {
			t = "required"
		}
		out = append(out, graph.Attendee{Type: t, EmailAddress: graph.EmailAddress{Address: e, Name: names[e]}})
	}
	var res []graph.Attendee
	_ = json.Unmarshal([]byte(have["_resources"]), &res)
	return append(out, res...)
}

// crmAttendees loads the attendee participants of activities in one query.
func crmAttendees(ctx context.Context, db *models.Store, ids []int64) (map[int64]string, map[string]string, error) {
	out := map[int64]string{}
	names := map[string]string{}
	if len(ids) == 0 {
		return out, names, nil
	}
	var ps []models.ActivityParticipant
	if err := db.DB(ctx).Where("activity_id IN ? AND role = ?", ids, roleAttendee).Order("id").Find(&ps).Error; err != nil {
		return nil, nil, err
	}
	lists := map[int64][]string{}
	for _, p := range ps {
		lists[p.ActivityID] = append(lists[p.ActivityID], p.Email)
		if p.Name != "" {
			names[normEmail(p.Email)] = p.Name
		}
	}
	for id, l := range lists {
		out[id] = joinEmails(l)
	}
	return out, names, nil
}

// setCRMAttendees replaces an activity's attendee participants with the
// given addresses, each resolved by email to a contact (the most recently
// changed one sharing it) and to a sales user (by login or Microsoft
// mailbox), as sharing an item does. Unchanged lists are left alone.
func setCRMAttendees(ctx context.Context, store *models.Store, activityID int64, f fields) error {
	list := f["attendees"]
	names := map[string]string{}
	_ = json.Unmarshal([]byte(f["_attNames"]), &names)
	cur, _, err := crmAttendees(ctx, store, []int64{activityID})
	if err != nil {
		return err
	}
	if cur[activityID] == list {
		return nil
	}
	db := store.DB(ctx)
	if err := db.Where("activity_id = ? AND role = ?", activityID, roleAttendee).Delete(&models.ActivityParticipant{}).Error; err != nil {
		return err
	}
	emails := splitEmails(list)
	if len(emails) == 0 {
		return nil
	}
	var contacts []struct {
		ID        int64
		EmailNorm string
	}
	if err := db.Table("contacts").Select("id, email_norm").Where("email_norm IN ? AND deleted_at IS NULL", emails).
		Order("updated_at DESC, id DESC").Scan(&contacts).Error; err != nil {
		return err
	}
	contactOf := map[string]int64{}
	for _, c := range contacts {
		if _, ok := contactOf[c.EmailNorm]; !ok {
			contactOf[c.EmailNorm] = c.ID
		}
	}
	var users []struct {
		ID   int64
		Norm string
	}
	if err := db.Raw(`SELECT id, lower(email) AS norm FROM users WHERE lower(email) IN ? AND active
		UNION SELECT m.user_id AS id, m.ms_email_norm AS norm FROM user_mappings m JOIN users u ON u.id = m.user_id
		WHERE m.ms_email_norm IN ? AND u.active`, emails, emails).Scan(&users).Error; err != nil {
		return err
	}
	userOf := map[string]int64{}
	for _, u := range users {
		if old, ok := userOf[u.Norm]; !ok || u.ID < old {
			userOf[u.Norm] = u.ID
		}
	}
	rows := make([]models.ActivityParticipant, 0, len(emails))
	for _, e := range emails {
		p := models.ActivityParticipant{ActivityID: activityID, Role: roleAttendee, Email: e, Name: names[e]}
		if id, ok := contactOf[e]; ok {
			p.ContactID = &id
		}
		if id, ok := userOf[e]; ok {
			p.UserID = &id
		}
		rows = append(rows, p)
	}
	return db.Create(&rows).Error
}
