package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
)

// env is a fake Graph with one mailbox and a client pointed at it. The
// bearer token is the mailbox id, which is also the SalesBridge user id.
type env struct {
	t     *testing.T
	srv   *graphtest.Server
	mb    *graphtest.Mailbox
	c     *graph.Client
	clock *graphtest.Clock
}

const user = "alice"

func newEnv(t *testing.T, fakeClock bool, srvOpts []graphtest.Option, tweak func(*graph.Options)) *env {
	t.Helper()
	e := &env{t: t}
	o := graph.Options{
		Tokens: graph.TokenFunc(func(_ context.Context, u string) (string, error) { return u, nil }),
	}
	if fakeClock {
		e.clock = graphtest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		o.Clock = e.clock
		srvOpts = append([]graphtest.Option{graphtest.WithClock(e.clock.Now)}, srvOpts...)
	}
	e.srv = graphtest.New(srvOpts...)
	t.Cleanup(e.srv.Close)
	e.mb = e.srv.AddMailbox(user, graphtest.MailboxOptions{Address: "alice@contoso.example", DisplayName: "Alice Adams"})
	o.BaseURL = e.srv.URL()
	o.HTTPClient = e.srv.HTTPClient()
	if tweak != nil {
		tweak(&o)
	}
	c, err := graph.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

type res[T any] struct {
	v   T
	err error
}

// ok(call()).must(t) unwraps a (value, error) result or fails the test.
func ok[T any](v T, err error) res[T] { return res[T]{v, err} }

func (r res[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err, kind error) *graph.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		t.Fatalf("err %v is not a *graph.Error", err)
	}
	return ge
}

func (e *env) noMissingImmutableID() {
	if n := e.srv.Stats(user).MissingImmutableID; n != 0 {
		e.t.Errorf("%d requests without Prefer: IdType=\"ImmutableId\"", n)
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	me := ok(e.c.Me(ctx(t), user)).must(t)
	if me.Mail != "alice@contoso.example" || me.DisplayName != "Alice Adams" {
		t.Errorf("me = %+v", me)
	}
	e.noMissingImmutableID()
}

func TestTLSServer(t *testing.T) {
	srv := graphtest.NewTLS()
	defer srv.Close()
	srv.AddMailbox(user, graphtest.MailboxOptions{})
	c := ok(graph.New(graph.Options{BaseURL: srv.URL(), HTTPClient: srv.HTTPClient(), Tokens: graph.StaticTokens{user: user}})).must(t)
	if _, err := c.Me(ctx(t), user); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatal(srv.URL())
	}
}

func TestContactCRUDAndCRMIDLookup(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	in := &graph.Contact{GivenName: "Pavel", Surname: "Bansky", Categories: []string{"Shared with Sales"},
		EmailAddresses: []graph.EmailAddress{{Address: "pavelb@fabrikam.example", Name: "Pavel Bansky"}}}
	in.SetCRMID("crm-42")
	created := ok(e.c.CreateContact(cx, user, in)).must(t)
	if created.ID == "" || created.ChangeKey == "" || created.ETag != graph.ETagFromChangeKey(created.ChangeKey) {
		t.Fatalf("created = %+v", created)
	}
	got := ok(e.c.GetContact(cx, user, created.ID)).must(t)
	if got.CRMID() != "crm-42" || got.EmailAddresses[0].Address != "pavelb@fabrikam.example" || got.Categories[0] != "Shared with Sales" {
		t.Errorf("got = %+v", got)
	}
	found := ok(e.c.FindContactByCRMID(cx, user, "crm-42")).must(t)
	if found.ID != created.ID || found.CRMID() != "crm-42" {
		t.Errorf("found = %+v", found)
	}
	_, err := e.c.FindContactByCRMID(cx, user, "crm-43")
	wantKind(t, err, graph.ErrNotFound)

	upd := ok(e.c.UpdateContact(cx, user, created.ID, graph.Patch{"jobTitle": "Buyer"}, graph.IfMatch(created.ETag))).must(t)
	if upd.ChangeKey == created.ChangeKey || upd.JobTitle != "Buyer" {
		t.Errorf("update did not move the changeKey: %+v", upd)
	}
	// The user edits the contact in Outlook; our stale etag must not win.
	if err := e.mb.Update(graphtest.Contacts, created.ID, map[string]any{"jobTitle": "Head buyer"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.UpdateContact(cx, user, created.ID, graph.Patch{"jobTitle": "Buyer 2"}, graph.IfMatch(upd.ETag))
	ge := wantKind(t, err, graph.ErrPreconditionFailed)
	if ge.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("status = %d", ge.StatusCode)
	}
	err = e.c.DeleteContact(cx, user, created.ID, graph.IfMatch(upd.ETag))
	wantKind(t, err, graph.ErrPreconditionFailed)
	if err := e.c.DeleteContact(cx, user, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.GetContact(cx, user, created.ID)
	wantKind(t, err, graph.ErrNotFound)
	e.noMissingImmutableID()
}

func TestListContactsPages(t *testing.T) {
	e := newEnv(t, false, nil, func(o *graph.Options) { o.PageSize = 4 })
	for i := 0; i < 10; i++ {
		ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": fmt.Sprint("c", i)})).must(t)
	}
	list := ok(e.c.ListContacts(ctx(t), user)).must(t)
	if len(list) != 10 {
		t.Fatalf("%d contacts", len(list))
	}
	if n := e.srv.Stats(user).Endpoints["GET /me/contacts"]; n != 3 {
		t.Errorf("%d list requests, want 3 pages of 4", n)
	}
}

func ids[T any](items []T, id func(T) string, removed func(T) bool) (changed, gone []string) {
	for _, it := range items {
		if removed(it) {
			gone = append(gone, id(it))
		} else {
			changed = append(changed, id(it))
		}
	}
	return
}

func contactIDs(items []graph.Contact) (changed, gone []string) {
	return ids(items, func(c graph.Contact) string { return c.ID }, func(c graph.Contact) bool { return c.Removed != nil })
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	m := map[string]int{}
	for _, g := range got {
		m[g]++
	}
	for _, w := range want {
		m[w]--
	}
	for k, v := range m {
		if v != 0 {
			t.Errorf("%s: got %v, want %v (differs at %s)", what, got, want, k)
			return
		}
	}
}

func TestContactsDeltaPagingAndRemoved(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	var all []string
	for i := 0; i < 25; i++ {
		all = append(all, ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": fmt.Sprint("c", i)})).must(t))
	}
	first := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{PageSize: 10})).must(t)
	changed, gone := contactIDs(first.Items)
	sameSet(t, "initial", changed, all)
	if len(gone) != 0 || first.Pages != 3 || first.DeltaLink == "" {
		t.Fatalf("initial round: %d removed, %d pages, link %q", len(gone), first.Pages, first.DeltaLink)
	}

	// Nothing changed: one request, nothing returned.
	idle := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: first.DeltaLink, PageSize: 10})).must(t)
	if len(idle.Items) != 0 || idle.Pages != 1 {
		t.Fatalf("idle round: %d items in %d pages", len(idle.Items), idle.Pages)
	}

	// The user edits two, deletes one and adds one in Outlook.
	noErr(t, e.mb.Update(graphtest.Contacts, all[3], map[string]any{"surname": "X"}))
	noErr(t, e.mb.Update(graphtest.Contacts, all[7], map[string]any{"surname": "Y"}))
	noErr(t, e.mb.Update(graphtest.Contacts, all[7], map[string]any{"surname": "Z"})) // twice: reported once
	noErr(t, e.mb.Delete(graphtest.Contacts, all[9]))
	added := ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": "new"})).must(t)
	// Created and deleted between rounds: Graph never reports it.
	ghost := ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": "ghost"})).must(t)
	noErr(t, e.mb.Delete(graphtest.Contacts, ghost))

	next := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: idle.DeltaLink, PageSize: 2})).must(t)
	changed, gone = contactIDs(next.Items)
	sameSet(t, "changed", changed, []string{all[3], all[7], added})
	sameSet(t, "removed", gone, []string{all[9]})
	if next.Pages != 2 {
		t.Errorf("pages = %d, want 2", next.Pages)
	}
	for _, it := range next.Items {
		if it.ID == all[7] && it.Surname != "Z" {
			t.Errorf("stale state %q", it.Surname)
		}
		if it.Removed != nil && it.Removed.Reason != "deleted" {
			t.Errorf("reason %q", it.Removed.Reason)
		}
	}

	// The folder-scoped path gives the same answer.
	folder := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{FolderID: e.mb.ContactFolderID(), PageSize: 50})).must(t)
	if len(folder.Items) != 25 {
		t.Errorf("folder delta: %d items", len(folder.Items))
	}
	e.noMissingImmutableID()
}

func TestDeltaChangesDuringRound(t *testing.T) {
	// An item changed while a round is being paged is reported (again) in
	// the next round, never lost.
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	var all []string
	for i := 0; i < 6; i++ {
		all = append(all, ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": fmt.Sprint("c", i)})).must(t))
	}
	r1 := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{PageSize: 100})).must(t)
	noErr(t, e.mb.Update(graphtest.Contacts, all[0], map[string]any{"surname": "a"}))
	noErr(t, e.mb.Update(graphtest.Contacts, all[5], map[string]any{"surname": "b"}))
	// Page by hand: take the first page, then change an item not yet seen.
	req, _ := http.NewRequest("GET", r1.DeltaLink, nil)
	req.Header.Set("Authorization", "Bearer "+user)
	req.Header.Set("Prefer", "odata.maxpagesize=1")
	resp, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	noErr(t, e.mb.Update(graphtest.Contacts, all[5], map[string]any{"surname": "c"}))
	r2 := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: r1.DeltaLink, PageSize: 1})).must(t)
	changed, _ := contactIDs(r2.Items)
	sameSet(t, "round 2", changed, []string{all[0], all[5]})
	r3 := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: r2.DeltaLink})).must(t)
	if len(r3.Items) != 0 {
		t.Errorf("round 3 repeated %d items", len(r3.Items))
	}
}

func TestDeltaExpiredTokenIsResync(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	for i := 0; i < 5; i++ {
		ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": fmt.Sprint("c", i)})).must(t)
	}
	r := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{})).must(t)
	e.mb.ExpireDeltaTokens()
	_, err := e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: r.DeltaLink})
	ge := wantKind(t, err, graph.ErrResyncRequired)
	if ge.StatusCode != http.StatusGone || ge.Code != "syncStateNotFound" {
		t.Errorf("error = %+v", ge)
	}
	// Expiry in the middle of a round (on a nextLink) is the same error.
	req, _ := http.NewRequest("GET", e.srv.URL()+"/me/contacts/delta", nil)
	req.Header.Set("Authorization", "Bearer "+user)
	req.Header.Set("Prefer", "odata.maxpagesize=2")
	resp, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		NextLink string `json:"@odata.nextLink"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if page.NextLink == "" {
		t.Fatal("no nextLink")
	}
	e.mb.ExpireDeltaTokens()
	_, err = e.c.ContactsDelta(cx, user, graph.DeltaOptions{Link: page.NextLink})
	wantKind(t, err, graph.ErrResyncRequired)
	// A fresh full round works after a resync.
	again := ok(e.c.ContactsDelta(cx, user, graph.DeltaOptions{PageSize: 2})).must(t)
	if len(again.Items) != 5 {
		t.Errorf("resync round: %d items", len(again.Items))
	}
	// A contacts token replayed on the tasks delta is refused.
	_, err = e.c.TasksDelta(cx, user, e.mb.DefaultListID(), graph.DeltaOptions{Link: strings.Replace(r.DeltaLink, "/me/contacts/delta", "/me/todo/lists/"+e.mb.DefaultListID()+"/tasks/delta", 1)})
	wantKind(t, err, graph.ErrBadRequest)
}

func TestEventsDeltaWindowAndTimeZones(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	ws := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	we := ws.AddDate(0, 1, 0)
	at := func(d, h int) graph.DateTimeTimeZone {
		return graph.NewDateTimeTimeZone(ws.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour))
	}
	in1 := ok(e.mb.Create(graphtest.Events, graph.Event{Subject: "in", Start: at(2, 9), End: at(2, 10)})).must(t)
	in2 := ok(e.mb.Create(graphtest.Events, map[string]any{"subject": "pacific",
		"start": map[string]any{"dateTime": "2026-06-10T10:00:00", "timeZone": "Pacific Standard Time"},
		"end":   map[string]any{"dateTime": "2026-06-10T11:00:00", "timeZone": "Pacific Standard Time"}})).must(t)
	out := ok(e.mb.Create(graphtest.Events, graph.Event{Subject: "out", Start: at(40, 9), End: at(40, 10)})).must(t)

	r1 := ok(e.c.EventsDelta(cx, user, graph.DeltaOptions{Start: ws, End: we})).must(t)
	byID := map[string]graph.Event{}
	for _, ev := range r1.Items {
		byID[ev.ID] = ev
	}
	if len(r1.Items) != 2 || byID[in1].ID == "" || byID[in2].ID == "" {
		t.Fatalf("initial window: %+v", r1.Items)
	}
	p := byID[in2]
	st := ok(p.Start.Time()).must(t)
	if p.Start.TimeZone != "UTC" || !st.Equal(time.Date(2026, 6, 10, 17, 0, 0, 0, time.UTC)) || p.OriginalStartTimeZone != "Pacific Standard Time" {
		t.Errorf("pacific event start = %+v (%s), original %q", p.Start, st, p.OriginalStartTimeZone)
	}

	// in1 leaves the window, out enters it, in2 is deleted.
	noErr(t, e.mb.Update(graphtest.Events, in1, graph.Event{Start: at(45, 9), End: at(45, 10)}))
	noErr(t, e.mb.Update(graphtest.Events, out, graph.Event{Start: at(5, 9), End: at(5, 10)}))
	noErr(t, e.mb.Delete(graphtest.Events, in2))
	r2 := ok(e.c.EventsDelta(cx, user, graph.DeltaOptions{Link: r1.DeltaLink})).must(t)
	changed, gone := ids(r2.Items, func(e graph.Event) string { return e.ID }, func(e graph.Event) bool { return e.Removed != nil })
	sameSet(t, "changed", changed, []string{out})
	sameSet(t, "removed", gone, []string{in1, in2})
	for _, ev := range r2.Items {
		if ev.Removed != nil && ev.Removed.Reason != "deleted" {
			t.Errorf("reason %q", ev.Removed.Reason)
		}
	}
	if _, err := e.c.EventsDelta(cx, user, graph.DeltaOptions{}); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("delta without window: %v", err)
	}
}

func TestEventCreateIdempotentAndMeetingMessages(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	cx := ctx(t)
	start := time.Date(2026, 6, 3, 15, 0, 0, 0, time.UTC)
	ev := &graph.Event{Subject: "Demo", Start: graph.NewDateTimeTimeZone(start), End: graph.NewDateTimeTimeZone(start.Add(time.Hour)),
		TransactionID: "crm-7-v1", Sensitivity: "private",
		Attendees: []graph.Attendee{{Type: "required", EmailAddress: graph.EmailAddress{Address: "bob@fabrikam.example"}}}}
	ev.SetCRMID("crm-7")
	// The create is applied but the connection drops before the answer:
	// the client resends it, and the transactionId makes Graph return the
	// same event instead of a twin.
	e.srv.InjectFault(graphtest.Fault{Endpoint: "POST /me/events", Kind: graphtest.FaultAfterApply})
	created := ok(e.c.CreateEvent(cx, user, ev)).must(t)
	if n := e.mb.Count(graphtest.Events); n != 1 {
		t.Fatalf("%d events after a retried create", n)
	}
	if !created.IsOrganizer || !created.IsPrivate() || len(created.Attendees) != 1 {
		t.Errorf("created = %+v", created)
	}
	if got := ok(e.c.FindEventByCRMID(cx, user, "crm-7")).must(t); got.ID != created.ID {
		t.Errorf("lookup found %s", got.ID)
	}
	st := e.srv.Stats(user)
	if st.MeetingMessages != 1 {
		t.Errorf("meeting messages after create = %d, want 1", st.MeetingMessages)
	}
	// A subject change sends nothing; a time change sends an update.
	upd := ok(e.c.UpdateEvent(cx, user, created.ID, graph.Patch{"subject": "Demo v2", "categories": []string{"Shared with Sales"}})).must(t)
	if n := e.srv.Stats(user).MeetingMessages; n != 1 {
		t.Errorf("subject change sent a meeting update (%d)", n)
	}
	ok(e.c.UpdateEvent(cx, user, created.ID, graph.Patch{"end": graph.NewDateTimeTimeZone(start.Add(2 * time.Hour))}, graph.IfMatch(upd.ETag))).must(t)
	if n := e.srv.Stats(user).MeetingMessages; n != 2 {
		t.Errorf("time change: %d meeting messages, want 2", n)
	}
	got := ok(e.c.GetEvent(cx, user, created.ID)).must(t)
	if got.CRMID() != "crm-7" || got.Subject != "Demo v2" {
		t.Errorf("got = %+v", got)
	}
	noErr(t, e.c.DeleteEvent(cx, user, created.ID))
	if n := e.srv.Stats(user).MeetingCancellations; n != 1 {
		t.Errorf("cancellations = %d", n)
	}
	// An invitation the user received: the client never organises it.
	inv := ok(e.mb.Create(graphtest.Events, map[string]any{"subject": "Their meeting",
		"start": graph.NewDateTimeTimeZone(start), "end": graph.NewDateTimeTimeZone(start.Add(time.Hour)),
		"organizer": map[string]any{"emailAddress": map[string]any{"address": "carol@fabrikam.example"}},
		"attendees": []any{map[string]any{"emailAddress": map[string]any{"address": "alice@contoso.example"}}}})).must(t)
	ok(e.c.UpdateEvent(cx, user, inv, graph.Patch{"categories": []string{"Shared with Sales"}})).must(t)
	if n := e.srv.Stats(user).MeetingMessages; n != 2 {
		t.Errorf("attendee's change sent a meeting message (%d)", n)
	}
}

func TestContactCreateFailureAfterApplyIsRecoveredByLookup(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	in := &graph.Contact{GivenName: "Lost", Surname: "Response"}
	in.SetCRMID("crm-99")
	e.srv.InjectFault(graphtest.Fault{Endpoint: "POST /me/contacts", Kind: graphtest.FaultAfterApply})
	_, err := e.c.CreateContact(cx, user, in)
	wantKind(t, err, graph.ErrNetwork)
	// No blind retry: exactly one contact exists, and the lookup finds it.
	if n := e.mb.Count(graphtest.Contacts); n != 1 {
		t.Fatalf("%d contacts", n)
	}
	if st := e.srv.Stats(user); st.Endpoints["POST /me/contacts"] != 1 {
		t.Errorf("create sent %d times", st.Endpoints["POST /me/contacts"])
	}
	found := ok(e.c.FindContactByCRMID(cx, user, "crm-99")).must(t)
	if found.GivenName != "Lost" {
		t.Errorf("found %+v", found)
	}
}

func TestResetIsRetriedForReads(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	e.srv.InjectFault(graphtest.Fault{Endpoint: "GET /me", Kind: graphtest.FaultReset, Times: 2})
	ok(e.c.Me(ctx(t), user)).must(t)
	if n := e.srv.Stats(user).Requests; n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	// A DELETE whose first attempt went through before the reset succeeds.
	id := ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": "x"})).must(t)
	e.srv.InjectFault(graphtest.Fault{Endpoint: "DELETE /me/contacts/{id}", Kind: graphtest.FaultAfterApply})
	if err := e.c.DeleteContact(ctx(t), user, id); err != nil {
		t.Fatalf("delete after ambiguous first attempt: %v", err)
	}
}

func TestTodoTasks(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	e.mb.AddTaskList("Groceries")
	list := ok(e.c.DefaultTaskList(cx, user)).must(t)
	if list.ID != e.mb.DefaultListID() || list.WellknownListName != "defaultList" {
		t.Fatalf("list = %+v", list)
	}
	due := graph.NewDateTimeTimeZone(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	task := ok(e.c.CreateTask(cx, user, list.ID, &graph.TodoTask{Title: "Call back", Categories: []string{"Shared with Sales"}, DueDateTime: &due,
		LinkedResources: []graph.LinkedResource{{ApplicationName: "SalesBridge", ExternalID: "crm-5", DisplayName: "Task 5"}}})).must(t)
	if task.ETag == "" || task.Status != "notStarted" {
		t.Errorf("task = %+v", task)
	}
	r1 := ok(e.c.TasksDelta(cx, user, list.ID, graph.DeltaOptions{})).must(t)
	if len(r1.Items) != 1 || r1.Items[0].LinkedResources[0].ExternalID != "crm-5" {
		t.Fatalf("delta = %+v", r1.Items)
	}
	upd := ok(e.c.UpdateTask(cx, user, list.ID, task.ID, graph.Patch{"status": "completed"}, graph.IfMatch(task.ETag))).must(t)
	if upd.Status != "completed" || upd.ETag == task.ETag {
		t.Errorf("update = %+v", upd)
	}
	_, err := e.c.UpdateTask(cx, user, list.ID, task.ID, graph.Patch{"title": "x"}, graph.IfMatch(task.ETag))
	wantKind(t, err, graph.ErrPreconditionFailed)
	_, err = e.c.UpdateTask(cx, user, list.ID, task.ID, graph.Patch{"status": "bogus"})
	wantKind(t, err, graph.ErrBadRequest)
	got := ok(e.c.GetTask(cx, user, list.ID, task.ID)).must(t)
	if got.Title != "Call back" {
		t.Errorf("got = %+v", got)
	}
	noErr(t, e.c.DeleteTask(cx, user, list.ID, task.ID))
	r2 := ok(e.c.TasksDelta(cx, user, list.ID, graph.DeltaOptions{Link: r1.DeltaLink})).must(t)
	if len(r2.Items) != 1 || r2.Items[0].Removed == nil {
		t.Errorf("delta after delete = %+v", r2.Items)
	}
}

func TestMessagesByCategoryAndStamp(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	cx := ctx(t)
	mk := func(subject string, cats ...string) string {
		return ok(e.mb.Create(graphtest.Messages, map[string]any{"subject": subject, "categories": cats,
			"body":                   map[string]any{"contentType": "html", "content": "<p>" + subject + "</p>"},
			"from":                   map[string]any{"emailAddress": map[string]any{"address": "bob@fabrikam.example"}},
			"internetMessageHeaders": []any{map[string]any{"name": "In-Reply-To", "value": "<x@y>"}}})).must(t)
	}
	old := mk("old", "Shared with Sales")
	e.clock.Advance(time.Hour)
	since := e.clock.Now()
	e.clock.Advance(time.Minute)
	tagged := mk("tagged", "Shared with Sales", "Red category")
	mk("other", "Red category")
	msgs := ok(e.c.ListMessagesWithCategory(cx, user, "Shared with Sales", since)).must(t)
	if len(msgs) != 1 || msgs[0].ID != tagged {
		t.Fatalf("messages = %+v", msgs)
	}
	all := ok(e.c.ListMessagesWithCategory(cx, user, "shared with sales", time.Time{})).must(t)
	if len(all) != 2 {
		t.Errorf("%d messages with the category", len(all))
	}
	m := ok(e.c.GetMessage(cx, user, tagged)).must(t)
	if v, _ := m.Header("in-reply-to"); v != "<x@y>" || m.Body == nil || m.From.EmailAddress.Address != "bob@fabrikam.example" {
		t.Errorf("message = %+v", m)
	}
	p := ok(e.c.SetMessageCategories(cx, user, old, []string{"Red category"})).must(t)
	if len(p.Categories) != 1 || p.Categories[0] != "Red category" {
		t.Errorf("categories = %v", p.Categories)
	}
	noErr(t, e.c.StampMessageCRMID(cx, user, tagged, "act-1"))
	found := ok(e.c.FindMessageByCRMID(cx, user, "act-1")).must(t)
	if found.ID != tagged || found.CRMID() != "act-1" {
		t.Errorf("found = %+v", found)
	}
}

func TestMasterCategories(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	cx := ctx(t)
	cat := ok(e.c.EnsureMasterCategory(cx, user, "Shared with Sales", "preset4")).must(t)
	again := ok(e.c.EnsureMasterCategory(cx, user, "shared with sales", "preset9")).must(t)
	if cat.ID != again.ID || again.Color != "preset4" {
		t.Errorf("ensure twice: %+v %+v", cat, again)
	}
	_, err := e.c.CreateMasterCategory(cx, user, "Shared with Sales", "preset1")
	wantKind(t, err, graph.ErrConflict)
	list := ok(e.c.ListMasterCategories(cx, user)).must(t)
	if len(list) != 7 {
		t.Errorf("%d categories", len(list))
	}
	if e.mb.MasterCategories()["Shared with Sales"] != "preset4" {
		t.Error("category not stored")
	}
}

func TestThrottleWaitsRetryAfterFakeClock(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	e.srv.InjectFault(graphtest.Fault{Endpoint: "GET /me", Kind: graphtest.FaultThrottle, RetryAfter: 2128 * time.Millisecond})
	ok(e.c.Me(ctx(t), user)).must(t)
	sleeps := e.clock.Sleeps()
	if len(sleeps) != 1 || sleeps[0] < 2128*time.Millisecond || sleeps[0] > 2128*time.Millisecond+time.Second {
		t.Fatalf("sleeps = %v, want one of at least 2.128s", sleeps)
	}
	log := e.srv.Log(user)
	if len(log) != 2 || log[0].Status != 429 || log[1].Status != 200 {
		t.Fatalf("log = %+v", log)
	}
	if gap := log[1].Start.Sub(log[0].End); gap < 2128*time.Millisecond {
		t.Errorf("retry came %s after the 429, want >= 2.128s", gap)
	}
}

func TestThrottleWaitsRetryAfterRealClock(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	e.srv.InjectFault(graphtest.Fault{Endpoint: "GET /me", Kind: graphtest.FaultThrottle, RetryAfter: 150 * time.Millisecond})
	e.srv.InjectFault(graphtest.Fault{Endpoint: "GET /me", Kind: graphtest.FaultUnavailable, RetryAfter: 100 * time.Millisecond})
	ok(e.c.Me(ctx(t), user)).must(t)
	log := e.srv.Log(user)
	if len(log) != 3 || log[0].Status != 429 || log[1].Status != 503 || log[2].Status != 200 {
		t.Fatalf("log = %+v", log)
	}
	if gap := log[1].Start.Sub(log[0].End); gap < 150*time.Millisecond {
		t.Errorf("retry after 429 came after %s", gap)
	}
	if gap := log[2].Start.Sub(log[1].End); gap < 100*time.Millisecond {
		t.Errorf("retry after 503 came after %s", gap)
	}
}

func TestThrottleGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t, true, nil, func(o *graph.Options) { o.MaxAttempts = 3 })
	e.srv.InjectFault(graphtest.Fault{Kind: graphtest.FaultThrottle, RetryAfter: 5 * time.Second, Times: 10})
	_, err := e.c.Me(ctx(t), user)
	ge := wantKind(t, err, graph.ErrThrottled)
	if ge.RetryAfter != 5*time.Second || !graph.IsRetryable(err) {
		t.Errorf("error = %+v", ge)
	}
	if n := e.srv.Stats(user).Requests; n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	// Without Retry-After the backoff grows.
	e2 := newEnv(t, true, nil, func(o *graph.Options) { o.MaxAttempts = 4; o.Rand = func() float64 { return 0 } })
	e2.srv.InjectFault(graphtest.Fault{Kind: graphtest.FaultReset, Times: 10})
	_, err = e2.c.Me(ctx(t), user)
	wantKind(t, err, graph.ErrNetwork)
	s := e2.clock.Sleeps()
	if len(s) != 3 || s[0] != 250*time.Millisecond || s[1] != 500*time.Millisecond || s[2] != time.Second {
		t.Errorf("backoff = %v", s)
	}
}

func TestLongRetryAfterIsReturned(t *testing.T) {
	e := newEnv(t, true, nil, func(o *graph.Options) { o.MaxRetryAfter = time.Minute })
	e.srv.InjectFault(graphtest.Fault{Kind: graphtest.FaultThrottle, RetryAfter: 10 * time.Minute})
	_, err := e.c.Me(ctx(t), user)
	if ra, ok := graph.RetryAfter(err); !ok || ra != 10*time.Minute {
		t.Fatalf("err = %v", err)
	}
	if len(e.clock.Sleeps()) != 0 {
		t.Error("client slept through a 10 minute Retry-After")
	}
}

func TestContextCancellation(t *testing.T) {
	e := newEnv(t, false, []graphtest.Option{graphtest.WithLatency(2 * time.Second)}, nil)
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.c.Me(c, user)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	// Cancelled while waiting out a Retry-After.
	e2 := newEnv(t, false, nil, nil)
	e2.srv.InjectFault(graphtest.Fault{Kind: graphtest.FaultThrottle, RetryAfter: 30 * time.Second})
	c2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = e2.c.Me(c2, user)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, false, nil, func(o *graph.Options) { o.Tokens = graph.StaticTokens{user: user, "bob": "revoked"} })
	_, err := e.c.Me(ctx(t), "carol")
	if !errors.Is(err, graph.ErrUnauthorized) {
		t.Errorf("unknown user: %v", err)
	}
	e.srv.RevokeToken("revoked")
	_, err = e.c.Me(ctx(t), "bob")
	ge := wantKind(t, err, graph.ErrUnauthorized)
	if ge.StatusCode != 401 || ge.Code != "InvalidAuthenticationToken" {
		t.Errorf("401 = %+v", ge)
	}
	reconnect := fmt.Errorf("refresh token revoked: %w", graph.ErrUnauthorized)
	c := ok(graph.New(graph.Options{BaseURL: e.srv.URL(), Tokens: graph.TokenFunc(func(context.Context, string) (string, error) {
		return "", reconnect
	})})).must(t)
	_, err = c.Me(ctx(t), user)
	if !errors.Is(err, graph.ErrUnauthorized) || !errors.Is(err, reconnect) {
		t.Errorf("token source error: %v", err)
	}
}

func TestLinksStayOnGraphHost(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	_, err := e.c.ContactsDelta(ctx(t), user, graph.DeltaOptions{Link: "https://evil.example/v1.0/me/contacts/delta?$deltatoken=x"})
	wantKind(t, err, graph.ErrBadRequest)
	if n := e.srv.Stats(user).Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestInFlightLimitUnderConcurrency(t *testing.T) {
	e := newEnv(t, false, []graphtest.Option{graphtest.WithLatency(50 * time.Millisecond)}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.Me(ctx(t), user); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := e.srv.Stats(user)
	if st.MaxInFlight != graph.DefaultMaxInFlight || st.Requests != 50 {
		t.Errorf("max in flight %d over %d requests, want exactly %d", st.MaxInFlight, st.Requests, graph.DefaultMaxInFlight)
	}
}

func TestInFlightLimitHoldsAgainstEnforcingFake(t *testing.T) {
	// The fake can answer 429 beyond 4 in flight, as Graph does; with the
	// limiter the client never triggers it.
	e := newEnv(t, false, []graphtest.Option{graphtest.WithLatency(2 * time.Millisecond), graphtest.WithMailboxConcurrency(4)}, nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.c.Me(ctx(t), user)
		}()
	}
	wg.Wait()
	if f := e.srv.Stats(user).Faults; f != 0 {
		t.Errorf("%d mailbox-concurrency 429s", f)
	}
}

func TestRandomFaultsSoak(t *testing.T) {
	e := newEnv(t, true, nil, func(o *graph.Options) { o.MaxAttempts = 10 })
	e.srv.SetRandomFaults(7, graphtest.RandomFaults{Throttle: 0.15, Unavailable: 0.1, Reset: 0.05, RetryAfter: 3 * time.Second})
	for i := 0; i < 100; i++ {
		ok(e.c.Me(ctx(t), user)).must(t)
	}
	st := e.srv.Stats(user)
	if st.Faults == 0 || st.Requests != 100+st.Faults {
		t.Errorf("requests %d, faults %d", st.Requests, st.Faults)
	}
}
