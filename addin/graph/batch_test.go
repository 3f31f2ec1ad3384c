package graph_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
)

func TestBatchPartialFailureRetriesOnlyThrottledItems(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	cx := ctx(t)
	x := ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": "X"})).must(t)
	y := ok(e.mb.Create(graphtest.Contacts, map[string]any{"givenName": "Y"})).must(t)
	a := &graph.Contact{GivenName: "A"}
	a.SetCRMID("crm-a")
	b := graph.CreateContactRequest(&graph.Contact{GivenName: "B"})
	b.ID, b.DependsOn = "5", []string{"1"}
	reqs := []graph.BatchRequest{
		graph.CreateContactRequest(a),
		graph.UpdateContactRequest(x, graph.Patch{"surname": "Updated"}, ""),
		graph.UpdateContactRequest("AAMkmissing", graph.Patch{"surname": "Nobody"}, ""),
		graph.DeleteContactRequest(y),
		b,
	}
	// The first create inside the batch is throttled; item 5 depends on
	// it, so Graph answers it 424. Both are resent, nothing else is.
	e.srv.InjectFault(graphtest.Fault{Endpoint: "POST /me/contacts", Kind: graphtest.FaultThrottle, RetryAfter: 3 * time.Second})
	out := ok(e.c.Batch(cx, user, reqs)).must(t)
	want := []int{201, 200, 404, 204, 201}
	for i, r := range out {
		if r.Status != want[i] {
			t.Errorf("item %d (%s): status %d, want %d (%v)", i, r.ID, r.Status, want[i], r.Err)
		}
	}
	if !errors.Is(out[2].Err, graph.ErrNotFound) {
		t.Errorf("item 3 err = %v", out[2].Err)
	}
	var ge *graph.Error
	if !errors.As(out[2].Err, &ge) || ge.BatchID != "3" || ge.Method != http.MethodPatch {
		t.Errorf("item 3 error detail = %+v", ge)
	}
	var created graph.Contact
	if err := out[0].Decode(&created); err != nil || created.GivenName != "A" || created.ID == "" {
		t.Errorf("decode item 1: %v %+v", err, created)
	}
	st := e.srv.Stats(user)
	if st.Requests != 2 || st.BatchItems != 7 {
		t.Errorf("requests %d, batch items %d; want 2 and 7", st.Requests, st.BatchItems)
	}
	if s := e.clock.Sleeps(); len(s) != 1 || s[0] < 3*time.Second {
		t.Errorf("sleeps = %v, want one >= 3s", s)
	}
	if n := e.mb.Count(graphtest.Contacts); n != 3 { // X, A, B (Y deleted)
		t.Errorf("%d contacts", n)
	}
	if _, err := e.c.FindContactByCRMID(cx, user, "crm-a"); err != nil {
		t.Error(err)
	}
	e.noMissingImmutableID()
}

func TestBatchThrottledItemGivesUp(t *testing.T) {
	e := newEnv(t, true, nil, func(o *graph.Options) { o.MaxAttempts = 2 })
	e.srv.InjectFault(graphtest.Fault{Endpoint: "GET /me", Kind: graphtest.FaultThrottle, RetryAfter: time.Second, Times: 5})
	out := ok(e.c.Batch(ctx(t), user, []graph.BatchRequest{
		{Method: "GET", URL: "/me"},
		{Method: "GET", URL: "/me/outlook/masterCategories"},
	})).must(t)
	if out[0].Status != 429 || !errors.Is(out[0].Err, graph.ErrThrottled) || out[1].Status != 200 {
		t.Fatalf("out = %+v", out)
	}
	if ra, _ := graph.RetryAfter(out[0].Err); ra != time.Second {
		t.Errorf("retry after %s", ra)
	}
}

func TestBatchWholeRequestThrottled(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	e.srv.InjectFault(graphtest.Fault{Endpoint: "POST /$batch", Kind: graphtest.FaultThrottle, RetryAfter: 2 * time.Second})
	out := ok(e.c.Batch(ctx(t), user, []graph.BatchRequest{{Method: "GET", URL: "me"}})).must(t)
	if out[0].Status != 200 || e.srv.Stats(user).Requests != 2 {
		t.Errorf("out = %+v, stats %+v", out, e.srv.Stats(user))
	}
}

func TestBatchEventsAndDependsOnChain(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	cx := ctx(t)
	start := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	var reqs []graph.BatchRequest
	for i := 0; i < 3; i++ {
		ev := &graph.Event{Subject: fmt.Sprint("m", i), Start: graph.NewDateTimeTimeZone(start), End: graph.NewDateTimeTimeZone(start.Add(time.Hour))}
		ev.SetCRMID(fmt.Sprint("crm-e", i))
		r := graph.CreateEventRequest(ev)
		r.ID = fmt.Sprint("e", i)
		if i > 0 {
			r.DependsOn = []string{fmt.Sprint("e", i-1)}
		}
		reqs = append(reqs, r)
	}
	// Throttle the middle of the chain: it and its dependant are resent.
	e.srv.InjectFault(graphtest.Fault{Endpoint: "POST /me/events", Kind: graphtest.FaultThrottle, Times: 1})
	reqs[0], reqs[1] = reqs[1], reqs[0] // order in the request does not matter
	e.srv.ResetStats()
	out := ok(e.c.Batch(cx, user, reqs)).must(t)
	for _, r := range out {
		if r.Status != 201 {
			t.Errorf("%s: %d %v", r.ID, r.Status, r.Err)
		}
	}
	if n := e.mb.Count(graphtest.Events); n != 3 {
		t.Errorf("%d events", n)
	}
	// Read them back in one batch, CRM id included.
	var gets []graph.BatchRequest
	for _, r := range out {
		var ev graph.Event
		noErr(t, r.Decode(&ev))
		gets = append(gets, graph.GetEventRequest(ev.ID))
	}
	back := ok(e.c.Batch(cx, user, gets)).must(t)
	for i, r := range back {
		var ev graph.Event
		noErr(t, r.Decode(&ev))
		if ev.CRMID() == "" || ev.Start.TimeZone != "UTC" {
			t.Errorf("item %d: %+v", i, ev)
		}
	}
	if n := e.srv.Stats(user).MeetingMessages; n != 0 {
		t.Errorf("events without attendees sent %d meeting messages", n)
	}
}

func TestBatchValidation(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	reqs := make([]graph.BatchRequest, 21)
	for i := range reqs {
		reqs[i] = graph.BatchRequest{Method: "GET", URL: "/me"}
	}
	_, err := e.c.Batch(ctx(t), user, reqs)
	wantKind(t, err, graph.ErrBadRequest)
	_, err = e.c.Batch(ctx(t), user, []graph.BatchRequest{{ID: "1", Method: "GET", URL: "/me", DependsOn: []string{"9"}}})
	wantKind(t, err, graph.ErrBadRequest)
	_, err = e.c.Batch(ctx(t), user, []graph.BatchRequest{{ID: "1", Method: "GET", URL: "/me"}, {ID: "1", Method: "GET", URL: "/me"}})
	wantKind(t, err, graph.ErrBadRequest)
	if n := e.srv.Stats(user).Requests; n != 0 {
		t.Errorf("%d requests sent for invalid batches", n)
	}
	if out, err := e.c.Batch(ctx(t), user, nil); err != nil || out != nil {
		t.Errorf("empty batch: %v %v", out, err)
	}
}

func TestBatchAllChunks(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	var reqs []graph.BatchRequest
	for i := 0; i < 45; i++ {
		reqs = append(reqs, graph.CreateContactRequest(&graph.Contact{GivenName: fmt.Sprint("c", i)}))
	}
	out := ok(e.c.BatchAll(ctx(t), user, reqs)).must(t)
	if len(out) != 45 {
		t.Fatalf("%d responses", len(out))
	}
	for i, r := range out {
		var c graph.Contact
		if err := r.Decode(&c); err != nil || c.GivenName != fmt.Sprint("c", i) {
			t.Errorf("response %d: %v %+v", i, err, c)
		}
	}
	// ceil(45/20) requests: the write cost the sync targets are built on.
	if st := e.srv.Stats(user); st.Requests != 3 || st.Writes != 45 {
		t.Errorf("requests %d, writes %d", st.Requests, st.Writes)
	}
}
