package sync

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
)

// Appointment field mapping (CRM appointment activity ↔ event of the
// primary calendar, read in UTC):
//
//	subject ↔ subject, body ↔ body (text), start/end ↔ start/end (UTC;
//	the CRM's time zone stays on the CRM record), allDay ↔ isAllDay,
//	location ↔ location.displayName, sensitivity ↔ sensitivity
//	(private/confidential ↔ the CRM's private flag)
//
// Attendees are not written by sync: an event is created without them, so
// no invitation is ever sent by a create; the attendee list stays on each
// side. On a meeting the user does not organise, subject, body, time and
// place are Outlook's (a change there is local to the attendee's copy). A
// meeting the user organises with attendees is never deleted by a CRM
// delete (that would send a cancellation).
//
// Scope: events carrying the category (shared or tagged) and the user's CRM
// appointments, within the admin window (30 days back, 365 ahead by
// default); private ones only with the admin toggle. calendarView/delta
// reports events leaving the window as removed: each such removal is
// checked with a GET (in $batch) before anything is deleted. The window
// moves with the date: on a new day the delta restarts and matches links.
var apptFields = []string{"subject", "body", "start", "end", "allDay", "location", "sensitivity"}

type apptKind struct{}

var _ kind = apptKind{}

func (apptKind) Type() string                                   { return models.SyncAppointment }
func (apptKind) Names() []string                                { return apptFields }
func (apptKind) PushOnly(string) bool                           { return false }
func (apptKind) Toggles(st settings.Settings) settings.TypeSync { return st.Appointments }

// Keys matches appointments on iCalUId, or subject + start + end.
func (apptKind) Keys(f fields) []string {
	var out []string
	if f["_ical"] != "" {
		out = append(out, "ical:"+f["_ical"])
	}
	if f["subject"] != "" {
		out = append(out, strings.ToLower(f["subject"])+"\x00"+f["start"]+"\x00"+f["end"])
	}
	return out
}

func (tr *typeRun) window() (time.Time, time.Time) {
	day := time.Date(tr.now.Year(), tr.now.Month(), tr.now.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -tr.st.WindowPastDays), day.AddDate(0, 0, tr.st.WindowFutureDays+1)
}

// Prepare restarts the delta when the window moved to a new day.
func (apptKind) Prepare(_ context.Context, tr *typeRun) error {
	ws, _ := tr.window()
	key := ws.Format("2006-01-02")
	if tr.cur.WindowStart != key {
		tr.cur.DeltaLink = ""
		tr.cur.WindowStart = key
	}
	return nil
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func apptSkip(tr *typeRun, private bool, start, end time.Time) string {
	if private && !tr.st.SyncPrivateAppts {
		return OutSkippedPrivate
	}
	ws, we := tr.window()
	if !start.IsZero() && (end.Before(ws) || start.After(we)) {
		return OutSkippedWindow
	}
	return ""
}

func toApptItem(tr *typeRun, e *graph.Event) gItem {
	g := gItem{ID: e.ID, ETag: e.ETag, Removed: e.Removed != nil, Cats: e.Categories}
	if g.Removed {
		return g
	}
	start, _ := e.Start.Time()
	end, _ := e.End.Time()
	body, loc := "", ""
	if e.Body != nil {
		body = norm(e.Body.Content)
	}
	if e.Location != nil {
		loc = norm(e.Location.DisplayName)
	}
	sens := "normal"
	if e.IsPrivate() {
		sens = "private"
	}
	g.Fields = fields{"subject": norm(e.Subject), "body": body, "start": fmtTime(start), "end": fmtTime(end),
		"allDay": strconv.FormatBool(e.IsAllDay), "location": loc, "sensitivity": sens, "_ical": e.ICalUID}
	if e.IsOrganizer && len(e.Attendees) > 0 {
		g.Fields["_meeting"] = "1"
	}
	if !e.IsOrganizer {
		g.Fields["_locked"] = "subject,body,start,end,allDay,location"
	}
	g.Skip = apptSkip(tr, e.IsPrivate(), start, end)
	return g
}

func (apptKind) Delta(ctx context.Context, tr *typeRun, link string) ([]gItem, string, error) {
	ws, we := tr.window()
	res, err := tr.e.Graph.EventsDelta(ctx, tr.gUser, graph.DeltaOptions{Link: link, Start: ws, End: we})
	if err != nil {
		return nil, "", err
	}
	out := make([]gItem, 0, len(res.Items))
	for i := range res.Items {
		e := &res.Items[i]
		if e.Type == "occurrence" || e.Type == "exception" || e.Type == "seriesMaster" {
			continue // recurring series are not synced
		}
		out = append(out, toApptItem(tr, e))
	}
	return out, res.DeltaLink, nil
}

func (apptKind) Find(ctx context.Context, tr *typeRun, crmID int64) (*gItem, error) {
	e, err := tr.e.Graph.FindEventByCRMID(ctx, tr.gUser, strconv.FormatInt(crmID, 10))
	if err != nil {
		return nil, err
	}
	g := toApptItem(tr, e)
	return &g, nil
}

// Confirm GETs each event the delta reported as removed: 404 is a deletion,
// an event still there left the window.
func (apptKind) Confirm(ctx context.Context, tr *typeRun, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(ids); start += graph.MaxBatchSize {
		chunk := ids[start:min(start+graph.MaxBatchSize, len(ids))]
		reqs := make([]graph.BatchRequest, len(chunk))
		for i, id := range chunk {
			reqs[i] = graph.GetEventRequest(id)
		}
		resps, err := tr.e.Graph.Batch(ctx, tr.gUser, reqs)
		if err != nil {
			return nil, err
		}
		for i, id := range chunk {
			switch {
			case i < len(resps) && resps[i].Status == 404:
				out[id] = confirmDeleted
			case i < len(resps) && resps[i].Status == 200:
				var e graph.Event
				if resps[i].Decode(&e) == nil {
					s, _ := e.Start.Time()
					en, _ := e.End.Time()
					if apptSkip(tr, false, s, en) == OutSkippedWindow {
						out[id] = confirmLeft
					}
				}
			default:
				tr.incomplete = true // unknown: ask again next run
			}
		}
	}
	return out, nil
}

func apptItem(tr *typeRun, a *models.Activity) crmItem {
	var start, end time.Time
	if a.StartAt != nil {
		start = *a.StartAt
	}
	if a.EndAt != nil {
		end = *a.EndAt
	}
	sens := "normal"
	if a.Private {
		sens = "private"
	}
	ical := ""
	if a.ICalUID != nil {
		ical = *a.ICalUID
	}
	return crmItem{ID: a.ID, Version: a.Version, OwnerID: a.OwnerID, Deleted: a.DeletedAt.Valid, Origin: a.Origin,
		Skip: apptSkip(tr, a.Private, start, end), Fields: fields{"subject": norm(a.Subject), "body": norm(a.BodyText),
			"start": fmtTime(start), "end": fmtTime(end), "allDay": strconv.FormatBool(a.AllDay),
			"location": norm(a.Location), "sensitivity": sens, "_ical": ical}}
}

func (apptKind) Changed(ctx context.Context, tr *typeRun, watermark int64) ([]crmItem, error) {
	var as []models.Activity
	err := tr.e.Store.DB(ctx).Unscoped().Where("owner_id = ? AND type_code = ? AND (version > ? OR EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = activities.id AND l.crm_version <> activities.version))",
		tr.userID, models.ActivityAppointment, watermark, tr.userID, models.SyncAppointment).Order("id").Find(&as).Error
	out := make([]crmItem, len(as))
	for i := range as {
		out[i] = apptItem(tr, &as[i])
	}
	return out, err
}

func (apptKind) Load(ctx context.Context, tr *typeRun, ids []int64) (map[int64]*crmItem, error) {
	var as []models.Activity
	if err := tr.e.Store.DB(ctx).Unscoped().Where("id IN ? AND type_code = ?", ids, models.ActivityAppointment).Find(&as).Error; err != nil {
		return nil, err
	}
	out := map[int64]*crmItem{}
	for i := range as {
		it := apptItem(tr, &as[i])
		out[it.ID] = &it
	}
	return out, nil
}

func (apptKind) Candidates(ctx context.Context, tr *typeRun) ([]crmItem, error) {
	ws, we := tr.window()
	var as []models.Activity
	err := tr.e.Store.DB(ctx).Where("owner_id = ? AND type_code = ? AND start_at <= ? AND end_at >= ? AND NOT EXISTS (SELECT 1 FROM sync_links l WHERE l.user_id = ? AND l.object_type = ? AND l.crm_id = activities.id)",
		tr.userID, models.ActivityAppointment, we, ws, tr.userID, models.SyncAppointment).Order("id").Find(&as).Error
	out := make([]crmItem, len(as))
	for i := range as {
		out[i] = apptItem(tr, &as[i])
	}
	return out, err
}

func applyToAppt(a *models.Activity, f fields) {
	a.Subject, a.BodyText, a.Location = f["subject"], f["body"], f["location"]
	if t, err := time.Parse(time.RFC3339, f["start"]); err == nil {
		a.StartAt = &t
	}
	if t, err := time.Parse(time.RFC3339, f["end"]); err == nil {
		a.EndAt = &t
	}
	a.AllDay = f["allDay"] == "true"
	a.Private = f["sensitivity"] == "private"
	if a.ICalUID == nil && f["_ical"] != "" {
		v := f["_ical"]
		a.ICalUID = &v
	}
}

func (apptKind) CreateCRM(ctx context.Context, tr *typeRun, f fields) (*crmItem, error) {
	a := &models.Activity{Record: models.Record{OwnerID: tr.userID, Origin: models.OriginSync}, TypeCode: models.ActivityAppointment}
	applyToAppt(a, f)
	if err := tr.e.Store.DB(ctx).Create(a).Error; err != nil {
		return nil, err
	}
	it := apptItem(tr, a)
	return &it, nil
}

func (apptKind) UpdateCRM(ctx context.Context, tr *typeRun, id int64, f fields) (int64, error) {
	var a models.Activity
	if err := tr.e.Store.DB(ctx).First(&a, id).Error; err != nil {
		return 0, err
	}
	applyToAppt(&a, f)
	if err := tr.e.Store.DB(ctx).Save(&a).Error; err != nil {
		return 0, err
	}
	return a.Version, nil
}

func (apptKind) DeleteCRM(ctx context.Context, tr *typeRun, id int64) error {
	return tr.e.Store.SoftDelete(ctx, "activities", id)
}

func sensitivityOf(f fields) string {
	if f["sensitivity"] == "private" {
		return "private"
	}
	return "normal"
}

func apptPatch(changed []string, want fields) graph.Patch {
	p := graph.Patch{}
	for _, k := range changed {
		switch k {
		case "subject":
			p["subject"] = want["subject"]
		case "body":
			p["body"] = graph.ItemBody{ContentType: "text", Content: want["body"]}
		case "start", "end":
			if t, err := time.Parse(time.RFC3339, want["start"]); err == nil {
				p["start"] = graph.NewDateTimeTimeZone(t)
			}
			if t, err := time.Parse(time.RFC3339, want["end"]); err == nil {
				p["end"] = graph.NewDateTimeTimeZone(t)
			}
		case "allDay":
			p["isAllDay"] = want["allDay"] == "true"
		case "location":
			p["location"] = graph.Location{DisplayName: want["location"]}
		case "sensitivity":
			p["sensitivity"] = sensitivityOf(want)
		}
	}
	return p
}

func (apptKind) CreateReq(tr *typeRun, f fields, crmID int64) graph.BatchRequest {
	ev := &graph.Event{Subject: f["subject"], Body: &graph.ItemBody{ContentType: "text", Content: f["body"]},
		IsAllDay: f["allDay"] == "true", Sensitivity: sensitivityOf(f), Categories: []string{tr.st.CategoryName}}
	if t, err := time.Parse(time.RFC3339, f["start"]); err == nil {
		ev.Start = graph.NewDateTimeTimeZone(t)
	}
	if t, err := time.Parse(time.RFC3339, f["end"]); err == nil {
		ev.End = graph.NewDateTimeTimeZone(t)
	}
	if f["location"] != "" {
		ev.Location = &graph.Location{DisplayName: f["location"]}
	}
	ev.SetCRMID(strconv.FormatInt(crmID, 10))
	return graph.CreateEventRequest(ev)
}

func (apptKind) PatchReq(_ *typeRun, id string, changed []string, want, _ fields, etag string) graph.BatchRequest {
	return graph.UpdateEventRequest(id, apptPatch(changed, want), etag)
}

func (apptKind) DeleteReq(_ *typeRun, id string) graph.BatchRequest {
	return graph.DeleteEventRequest(id)
}

func (apptKind) CategoryReq(_ *typeRun, id string, cats []string) graph.BatchRequest {
	return graph.UpdateEventRequest(id, graph.Patch{"categories": cats}, "")
}

// Decode reads a batch answer; a write's answer is not in UTC unless the
// batch asked for it, which the client's batch items do.
func (apptKind) Decode(tr *typeRun, r *graph.BatchResponse) (*gItem, error) {
	var out graph.Event
	if err := r.Decode(&out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, errors.New("event without id")
	}
	g := toApptItem(tr, &out)
	return &g, nil
}
