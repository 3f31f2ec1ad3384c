package graphtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func newFake(t *testing.T, opts ...Option) (*Server, *Mailbox, client) {
	t.Helper()
	srv := New(opts...)
	t.Cleanup(srv.Close)
	mb := srv.AddMailbox("alice", MailboxOptions{})
	return srv, mb, client{t: t, base: srv.URL(), token: "alice"}
}

func TestFakeBatchRules(t *testing.T) {
	_, _, c := newFake(t)
	var reqs []any
	for i := 0; i < 21; i++ {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/me"})
	}
	c.must(400, "POST", "/$batch", map[string]any{"requests": reqs})
	c.must(200, "POST", "/$batch", map[string]any{"requests": reqs[:20]})
	c.must(400, "POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/me", "dependsOn": []any{"2"}},
		map[string]any{"id": "2", "method": "GET", "url": "/me", "dependsOn": []any{"1"}},
	}})
	c.must(400, "POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/me"},
		map[string]any{"id": "1", "method": "GET", "url": "/me"},
	}})
	out := c.must(200, "POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/me/contacts", "body": map[string]any{"givenName": "x"}},
	}})
	if st := out["responses"].([]any)[0].(map[string]any)["status"].(float64); st != 400 {
		t.Errorf("body without Content-Type: %v", st)
	}
	// dependsOn decides the order: 3 runs after 4 (batch-request-dependson.json).
	out = c.must(200, "POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/me/outlook/masterCategories", "headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"displayName": "A"}},
		map[string]any{"id": "3", "method": "POST", "url": "/me/outlook/masterCategories", "dependsOn": []any{"4"}, "headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"displayName": "A"}},
		map[string]any{"id": "4", "method": "POST", "url": "/me/outlook/masterCategories", "dependsOn": []any{"1"}, "headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"displayName": "A"}},
	}})
	status := map[string]float64{}
	for _, r := range out["responses"].([]any) {
		status[r.(map[string]any)["id"].(string)] = r.(map[string]any)["status"].(float64)
	}
	if status["1"] != 201 || status["4"] != 409 || status["3"] != 424 {
		t.Errorf("statuses %v", status)
	}
}

func TestFakeValidatesBodiesAndQueries(t *testing.T) {
	_, _, c := newFake(t)
	c.must(400, "POST", "/me/contacts", map[string]any{"givenNmae": "typo"})
	c.must(400, "POST", "/me/contacts", map[string]any{"emailAddresses": "not-an-array"})
	c.must(400, "POST", "/me/events", map[string]any{"subject": "no times"})
	c.must(400, "POST", "/me/events", map[string]any{"subject": "x", "sensitivity": "secret",
		"start": map[string]any{"dateTime": "2026-01-01T10:00:00", "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": "2026-01-01T11:00:00", "timeZone": "UTC"}})
	c.must(400, "POST", "/me/outlook/masterCategories", map[string]any{"displayName": "x", "color": "purple"})
	c.must(400, "GET", "/me/contacts?$filter=startswith(givenName,'a')", nil)
	c.must(400, "GET", "/me/contacts?$expand=attachments", nil)
	c.must(400, "GET", "/me/calendarView/delta", nil)
	c.must(400, "GET", "/me/nonsense", nil)
	c.must(404, "GET", "/me/todo/lists/nope/tasks", nil)
	// Read-only properties echoed back are ignored, not rejected.
	c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "ok", "id": "mine", "changeKey": "x"})
}

func TestFakeIfMatch(t *testing.T) {
	_, mb, c := newFake(t)
	created := c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "a"})
	id, tag := created["id"].(string), created["@odata.etag"].(string)
	if err := mb.Update(Contacts, id, map[string]any{"surname": "b"}); err != nil {
		t.Fatal(err)
	}
	c.must(412, "PATCH", "/me/contacts/"+id, map[string]any{"givenName": "c"}, "If-Match", tag)
	c.must(412, "DELETE", "/me/contacts/"+id, nil, "If-Match", tag)
	cur, _ := mb.Get(Contacts, id)
	c.must(200, "PATCH", "/me/contacts/"+id, map[string]any{"givenName": "c"}, "If-Match", cur["@odata.etag"].(string))
	c.must(204, "DELETE", "/me/contacts/"+id, nil, "If-Match", "*")
	c.must(404, "DELETE", "/me/contacts/"+id, nil)
}

func TestFakeTokensAndMailboxes(t *testing.T) {
	srv, _, c := newFake(t)
	bob := srv.AddMailbox("bob", MailboxOptions{Address: "bob@contoso.example"})
	srv.MapToken("tok-bob", "bob")
	b := client{t: t, base: srv.URL(), token: "tok-bob"}
	if me := b.must(200, "GET", "/me", nil); me["mail"] != "bob@contoso.example" {
		t.Errorf("mapped token reached %v", me["mail"])
	}
	c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "a"})
	if bob.Count(Contacts) != 0 {
		t.Error("mailboxes share data")
	}
	nobody := client{t: t, base: srv.URL(), token: "who"}
	nobody.must(401, "GET", "/me", nil)
	auto := New(WithAutoMailboxes())
	defer auto.Close()
	a := client{t: t, base: auto.URL(), token: "u1"}
	a.must(200, "GET", "/me", nil)
	if auto.Mailbox("u1") == nil {
		t.Error("auto mailbox not created")
	}
	if srv.Stats("alice").Requests != 1 || srv.Stats("bob").Requests != 1 {
		t.Errorf("per-mailbox counts: %+v %+v", srv.Stats("alice"), srv.Stats("bob"))
	}
}

func TestFakeDeltaTokenBoundToMailboxAndCollection(t *testing.T) {
	srv, _, c := newFake(t)
	srv.AddMailbox("bob", MailboxOptions{})
	page := c.must(200, "GET", "/me/contacts/delta", nil)
	link := page["@odata.deltaLink"].(string)
	b := client{t: t, base: srv.URL(), token: "bob"}
	b.must(400, "GET", link, nil)
	c.must(400, "GET", strings.Replace(link, "/me/contacts/delta", "/me/calendarView/delta", 1), nil)
	c.must(200, "GET", link, nil)
}

func TestFakeFailureAfterApply(t *testing.T) {
	srv, mb, c := newFake(t)
	srv.InjectFault(Fault{Endpoint: "POST /me/contacts", Kind: FaultAfterApply})
	req, _ := http.NewRequest("POST", srv.URL()+"/me/contacts", strings.NewReader(`{"givenName":"x"}`))
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request succeeded")
	}
	if mb.Count(Contacts) != 1 {
		t.Error("the write was not applied")
	}
	// Inside a batch the item is applied and answers 504.
	srv.InjectFault(Fault{Endpoint: "POST /me/contacts", Kind: FaultAfterApply})
	out := c.must(200, "POST", "/$batch", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "POST",
		"url": "/me/contacts", "headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"givenName": "y"}}}})
	if st := out["responses"].([]any)[0].(map[string]any)["status"].(float64); st != 504 || mb.Count(Contacts) != 2 {
		t.Errorf("batch item status %v, %d contacts", st, mb.Count(Contacts))
	}
}

func TestFakeRandomFaultsAreSeeded(t *testing.T) {
	run := func() string {
		srv, _, c := newFake(t)
		srv.SetRandomFaults(42, RandomFaults{Throttle: 0.3, Unavailable: 0.2})
		var b strings.Builder
		for i := 0; i < 40; i++ {
			st, _ := c.do("GET", "/me", nil)
			fmt.Fprint(&b, st, " ")
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "429") || !strings.Contains(a, "503") || !strings.Contains(a, "200") {
		t.Errorf("rates not applied: %s", a)
	}
}

func TestFakeLatencyAndInFlight(t *testing.T) {
	srv, _, c := newFake(t)
	srv.InjectFault(Fault{Kind: FaultLatency, Latency: 60 * time.Millisecond})
	start := time.Now()
	c.must(200, "GET", "/me", nil)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("latency fault took %s", d)
	}
	if s := srv.Stats("alice"); s.MaxInFlight != 1 || s.Faults != 1 {
		t.Errorf("stats %+v", s)
	}
	log := srv.Log("alice")
	if len(log) != 1 || log[0].Endpoint != "GET /me" || log[0].End.Sub(log[0].Start) < 60*time.Millisecond {
		t.Errorf("log %+v", log)
	}
	srv.ResetStats()
	if srv.Stats("alice").Requests != 0 || len(srv.Log("alice")) != 0 {
		t.Error("reset kept counters")
	}
}

func TestFakeMeetingCounter(t *testing.T) {
	srv, mb, c := newFake(t)
	ev := map[string]any{"subject": "m",
		"start":     map[string]any{"dateTime": "2026-01-01T10:00:00", "timeZone": "UTC"},
		"end":       map[string]any{"dateTime": "2026-01-01T11:00:00", "timeZone": "UTC"},
		"attendees": []any{map[string]any{"emailAddress": map[string]any{"address": "b@x"}, "type": "required"}}}
	created := c.must(201, "POST", "/me/events", ev)
	id := created["id"].(string)
	c.must(200, "PATCH", "/me/events/"+id, map[string]any{"location": map[string]any{"displayName": "Room 1"}})
	c.must(200, "PATCH", "/me/events/"+id, map[string]any{"location": map[string]any{"displayName": "Room 1"}}) // no change
	c.must(200, "PATCH", "/me/events/"+id, map[string]any{"attendees": []any{}})                                // removal notifies
	c.must(200, "PATCH", "/me/events/"+id, map[string]any{"subject": "n"})                                      // no attendees left
	// The user moving the meeting in Outlook is not the API's doing.
	if err := mb.Update(Events, id, map[string]any{"start": map[string]any{"dateTime": "2026-01-01T09:00:00", "timeZone": "UTC"}}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats("alice").MeetingMessages; n != 3 {
		t.Errorf("meeting messages %d, want 3 (create, location, attendee removal)", n)
	}
}
