package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph/internal/samples"
)

// TestConformanceSamples decodes every valid JSON sample Microsoft published
// (shared/conformance/graph-samples) into the client's types and checks the
// fields SalesBridge relies on. A sample without a checker fails the test,
// so a newly added sample cannot be silently ignored.
func TestConformanceSamples(t *testing.T) {
	dir := samples.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(data) {
			// SOURCES.md: batch-response.json is published with a trailing
			// comma and kept verbatim; the derived
			// batch-response.fixed-trailing-comma.json is what we decode.
			if name != "batch-response.json" {
				t.Errorf("%s: invalid JSON, and SOURCES.md documents no such sample", name)
			}
			fixed := strings.TrimSuffix(name, ".json") + ".fixed-trailing-comma.json"
			if _, err := os.Stat(filepath.Join(dir, fixed)); err != nil {
				t.Errorf("%s is invalid JSON but %s is missing", name, fixed)
			}
			seen[name] = true
			continue
		}
		check, ok := sampleChecks[name]
		if !ok {
			t.Errorf("%s: no conformance check for this sample", name)
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) { check(t, data) })
	}
	for name := range sampleChecks {
		if !seen[name] {
			t.Errorf("expected sample %s is missing from %s", name, dir)
		}
	}
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode into %T: %v", v, err)
	}
	return v
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// roundTrip checks that re-encoding a request sample through the client's
// type yields the same properties with the same values: what the client
// sends is what Graph documents.
func roundTrip[T any](t *testing.T, data []byte) {
	t.Helper()
	v := decode[T](t, data)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	_ = json.Unmarshal(data, &want)
	_ = json.Unmarshal(out, &got)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("re-encoded request differs:\n got %s\nwant %s", out, data)
	}
}

func mustTime(t *testing.T, d DateTimeTimeZone) time.Time {
	t.Helper()
	tt, err := d.Time()
	if err != nil {
		t.Fatalf("%+v: %v", d, err)
	}
	return tt
}

var sampleChecks = map[string]func(*testing.T, []byte){
	"user-get-me.json": func(t *testing.T, b []byte) {
		u := decode[User](t, b)
		eq(t, "id", u.ID, "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
		eq(t, "mail", u.Mail, "AdeleV@contoso.onmicrosoft.com")
		eq(t, "upn", u.UserPrincipalName, "AdeleV@contoso.onmicrosoft.com")
		eq(t, "displayName", u.DisplayName, "Adele Vance")
	},
	"contact-get.json": func(t *testing.T, b []byte) {
		c := decode[Contact](t, b)
		eq(t, "changeKey", c.ChangeKey, "EQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAAYc8Bf")
		eq(t, "etag", c.ETag, `W/"EQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAAYc8Bf"`)
		eq(t, "etag from changeKey", ETagFromChangeKey(c.ChangeKey), c.ETag)
		eq(t, "emails", len(c.EmailAddresses), 1)
		eq(t, "email", c.EmailAddresses[0].Address, "Alex@FineArtSchool.net")
		eq(t, "givenName", c.GivenName, "Alex")
		eq(t, "surname", c.Surname, "Wilber")
		eq(t, "categories", len(c.Categories), 0)
		eq(t, "created", c.CreatedDateTime, time.Date(2017, 9, 4, 15, 54, 1, 0, time.UTC))
		eq(t, "modified", c.LastModifiedDateTime, time.Date(2017, 9, 4, 15, 54, 2, 0, time.UTC))
		eq(t, "removed", c.Removed == nil, true)
	},
	"contact-list.json": func(t *testing.T, b []byte) {
		p := decode[listPage[Contact]](t, b)
		eq(t, "items", len(p.Value), 1)
		eq(t, "givenName", p.Value[0].GivenName, "givenName-value")
		eq(t, "nextLink", p.NextLink, "")
	},
	"contact-delta.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Contact]](t, b)
		eq(t, "nextLink", p.NextLink, "https://graph.microsoft.com/v1.0/me/contactfolders/{id}/contacts/delta?$skiptoken={_skipToken_}")
		eq(t, "deltaLink", p.DeltaLink, "")
		eq(t, "items", len(p.Value), 1)
		eq(t, "displayName", p.Value[0].DisplayName, "displayName-value")
		eq(t, "birthday", p.Value[0].Birthday, "2016-10-19T10:37:00Z")
	},
	"contact-create-request.json": func(t *testing.T, b []byte) {
		roundTrip[Contact](t, b)
		c := decode[Contact](t, b)
		eq(t, "email", c.EmailAddresses[0].Address, "pavelb@fabrikam.onmicrosoft.com")
		eq(t, "phone", c.BusinessPhones[0], "+1 732 555 0102")
	},
	"contact-create-response.json": func(t *testing.T, b []byte) {
		c := decode[Contact](t, b)
		eq(t, "id", c.ID, "id-value")
		eq(t, "displayName", c.DisplayName, "Pavel Bansky")
	},
	"event-get.json": func(t *testing.T, b []byte) {
		e := decode[Event](t, b)
		eq(t, "id", e.ID, "AAMkAGIAAAoZDOFAAA=")
		eq(t, "start tz", e.Start.TimeZone, "Pacific Standard Time")
		// 10:00 PDT on 2017-04-21 is 17:00 UTC.
		eq(t, "start", mustTime(t, e.Start).UTC(), time.Date(2017, 4, 21, 17, 0, 0, 0, time.UTC))
		eq(t, "end", mustTime(t, e.End).UTC(), time.Date(2017, 4, 21, 19, 0, 0, 0, time.UTC))
		eq(t, "attendees", len(e.Attendees), 2)
		eq(t, "attendee", e.Attendees[1].EmailAddress.Address, "danas@a830edad905084922E17020313.onmicrosoft.com")
		eq(t, "attendee status", e.Attendees[1].Status.Response, "tentativelyAccepted")
		eq(t, "attendee type", e.Attendees[0].Type, "required")
		eq(t, "organizer", e.Organizer.EmailAddress.Address, "samanthab@a830edad905084922E17020313.onmicrosoft.com")
		eq(t, "location", e.Location.DisplayName, "Assembly Hall")
		eq(t, "body type", e.Body.ContentType, "html")
	},
	"event-get-multiple-locations.json": func(t *testing.T, b []byte) {
		e := decode[Event](t, b)
		eq(t, "locations", len(e.Locations), 3)
		eq(t, "address", e.Locations[1].Address.City, "Redmond")
		eq(t, "start", mustTime(t, e.Start), time.Date(2017, 8, 30, 11, 0, 0, 0, time.UTC))
	},
	"event-create-request.json": func(t *testing.T, b []byte) {
		roundTrip[Event](t, b)
		e := decode[Event](t, b)
		eq(t, "transactionId", e.TransactionID, "7E163156-7762-4BEB-A1C6-729EA81755A7")
		eq(t, "start", mustTime(t, e.Start).UTC(), time.Date(2017, 4, 15, 19, 0, 0, 0, time.UTC))
		eq(t, "allowNewTimeProposals", *e.AllowNewTimeProposals, true)
	},
	"event-create-response.json": func(t *testing.T, b []byte) {
		e := decode[Event](t, b)
		eq(t, "changeKey", e.ChangeKey, "ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==")
		eq(t, "sensitivity", e.Sensitivity, "normal")
		eq(t, "private", e.IsPrivate(), false)
		eq(t, "isOrganizer", e.IsOrganizer, true)
		eq(t, "iCalUId", e.ICalUID, "040000008200E00074C5B7101A82E00800000000DA2B357D94B5D201000000000000000010000000EC4597557F0CB34EA4CC2887EA7B17C3")
		eq(t, "transactionId", e.TransactionID, "7E163156-7762-4BEB-A1C6-729EA81755A7")
		eq(t, "originalStartTimeZone", e.OriginalStartTimeZone, "Pacific Standard Time")
		eq(t, "responseStatus", e.ResponseStatus.Response, "organizer")
		eq(t, "type", e.Type, "singleInstance")
		eq(t, "categories", len(e.Categories), 0)
		eq(t, "attendees", len(e.Attendees), 1)
		eq(t, "end", mustTime(t, e.End).UTC(), time.Date(2017, 4, 15, 19, 0, 0, 0, time.UTC))
	},
	"event-delta.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Event]](t, b)
		eq(t, "nextLink", p.NextLink, "https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken={_skipToken_}")
		eq(t, "iCalUId", p.Value[0].ICalUID, "iCalUId-value")
		eq(t, "reminder", p.Value[0].ReminderMinutes, 99)
		eq(t, "transactionId", p.Value[0].TransactionID, "")
	},
	"event-calendarview-delta-page1.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Event]](t, b)
		eq(t, "nextLink", p.NextLink, "https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken=R0usmcCM996atia_s")
		eq(t, "items", len(p.Value), 2)
		eq(t, "subject", p.Value[1].Subject, "Pick up car")
		eq(t, "start", mustTime(t, p.Value[0].Start), time.Date(2016, 12, 9, 20, 30, 0, 0, time.UTC))
		eq(t, "odata.type", p.Value[0].ODataType, "#microsoft.graph.event")
	},
	"event-calendarview-delta-page2.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Event]](t, b)
		eq(t, "nextLink", p.NextLink, "https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken=R0usmci39OQxqJrxK4")
		eq(t, "end", mustTime(t, p.Value[1].End), time.Date(2016, 12, 11, 0, 0, 0, 0, time.UTC))
	},
	"event-calendarview-delta-final.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Event]](t, b)
		eq(t, "nextLink", p.NextLink, "")
		eq(t, "deltaLink", p.DeltaLink, "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcMDNGg0J1E")
		eq(t, "etag", p.Value[0].ETag, `W/"EZ9r3czxY0m2jz8c45czkwAALZu97g=="`)
	},
	"event-calendarview-delta-nextround.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[Event]](t, b)
		eq(t, "deltaLink", p.DeltaLink, "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcFuQtZdtpk4")
		eq(t, "items", len(p.Value), 2)
		eq(t, "removed", p.Value[0].Removed != nil, true)
		eq(t, "removed reason", p.Value[0].Removed.Reason, "deleted")
		eq(t, "removed id", p.Value[0].ID, "AAMkADk0MGFkODE3LWE4MmYtNDRhOS04OGQLkRkXbBznTvAADb6ytyAAA=")
		eq(t, "kept", p.Value[1].Removed == nil, true)
		eq(t, "location city", p.Value[1].Location.Address.City, "Seattle")
	},
	"todotask-get.json": func(t *testing.T, b []byte) {
		k := decode[TodoTask](t, b)
		eq(t, "title", k.Title, "Shop for dinner")
		eq(t, "status", k.Status, "notStarted")
		eq(t, "etag", k.ETag, `W/"s8/ERWT3WEeFpBGD0bDgAA+TWq9g=="`)
		eq(t, "due", mustTime(t, *k.DueDateTime), time.Date(2020, 8, 25, 4, 0, 0, 0, time.UTC))
	},
	"todotask-create-request.json": func(t *testing.T, b []byte) {
		roundTrip[TodoTask](t, b)
		k := decode[TodoTask](t, b)
		eq(t, "categories", strings.Join(k.Categories, ","), "Important")
	},
	"todotask-create-response.json": func(t *testing.T, b []byte) {
		k := decode[TodoTask](t, b)
		eq(t, "categories", strings.Join(k.Categories, ","), "Important")
		eq(t, "linked", k.LinkedResources[0].ApplicationName, "Microsoft")
		eq(t, "created", k.CreatedDateTime, time.Date(2020, 8, 18, 9, 3, 5, 833919200, time.UTC))
	},
	"todotask-delta.json": func(t *testing.T, b []byte) {
		p := decode[deltaPage[TodoTask]](t, b)
		eq(t, "deltaLink", p.DeltaLink, "https://graph.microsoft.com/v1.0/me/todo/lists/gDbc8U7HGwADDZocJgAAAA==/tasks/delta?$deltatoken=MoVMZ_DzHG4AhT3WE8VioVS1IXZJ-ArqK5fknOjnKFY")
		eq(t, "title", p.Value[0].Title, "empty task3")
	},
	"todotasklist-get.json": func(t *testing.T, b []byte) {
		l := decode[TodoTaskList](t, b)
		eq(t, "wellknown", l.WellknownListName, "defaultList")
		eq(t, "isOwner", l.IsOwner, true)
	},
	"todotasklist-list.json": func(t *testing.T, b []byte) {
		p := decode[listPage[TodoTaskList]](t, b)
		eq(t, "lists", len(p.Value), 2)
		eq(t, "default", p.Value[0].WellknownListName, "defaultList")
		eq(t, "other", p.Value[1].WellknownListName, "none")
	},
	"todotasklist-create-request.json": func(t *testing.T, b []byte) {
		eq(t, "name", decode[TodoTaskList](t, b).DisplayName, "Travel items")
	},
	"todotasklist-create-response.json": func(t *testing.T, b []byte) {
		eq(t, "id", decode[TodoTaskList](t, b).ID, "AAMkADIyAAAhrbPWAAA=")
	},
	"message-get.json": func(t *testing.T, b []byte) {
		m := decode[Message](t, b)
		eq(t, "internetMessageId", m.InternetMessageID, "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>")
		eq(t, "conversationId", m.ConversationID, "AAQkADOUpag6yWs=")
		eq(t, "from", m.From.EmailAddress.Address, "adelev@contoso.OnMicrosoft.com")
		eq(t, "to", m.ToRecipients[0].EmailAddress.Address, "AlexW@contoso.OnMicrosoft.com")
		eq(t, "cc", len(m.CcRecipients), 0)
		eq(t, "body", m.Body.ContentType, "html")
		eq(t, "sent", m.SentDateTime, time.Date(2018, 9, 9, 3, 15, 6, 0, time.UTC))
		eq(t, "changeKey", m.ChangeKey, "CQAAABYAAAC4ofQHEIqCSbQPot83AFcbAAAnjjuZ")
	},
	"message-get-internetmessageheaders.json": func(t *testing.T, b []byte) {
		m := decode[Message](t, b)
		eq(t, "headers", len(m.InternetMessageHeaders), 4)
		v, ok := m.Header("X-Custom-Header-Group-Id")
		eq(t, "header found", ok, true)
		eq(t, "header", v, "WA001")
	},
	"outlookcategory-list.json": func(t *testing.T, b []byte) {
		p := decode[listPage[OutlookCategory]](t, b)
		eq(t, "categories", len(p.Value), 6)
		eq(t, "color", p.Value[4].Color, "preset7")
		eq(t, "name", p.Value[4].DisplayName, "Blue category")
	},
	"outlookcategory-create-request.json": func(t *testing.T, b []byte) {
		roundTrip[OutlookCategory](t, b)
	},
	"outlookcategory-create-response.json": func(t *testing.T, b []byte) {
		c := decode[OutlookCategory](t, b)
		eq(t, "id", c.ID, "bac262b7-485d-4739-b436-e31467d64fac")
		eq(t, "color", c.Color, "preset9")
	},
	"batch-request.json":      checkBatchRequest(5),
	"batch-request-2021.json": checkBatchRequest(4),
	"batch-request-dependson.json": func(t *testing.T, b []byte) {
		r := decode[struct{ Requests []batchItemWire }](t, b)
		eq(t, "requests", len(r.Requests), 4)
		eq(t, "3 depends on 4", strings.Join(r.Requests[3].DependsOn, ","), "4")
	},
	"batch-response-2021.json": func(t *testing.T, b []byte) {
		checkBatchResponse(t, b, map[string]int{"1": 302, "2": 200, "3": 401, "4": 204})
	},
	"batch-response.fixed-trailing-comma.json": func(t *testing.T, b []byte) {
		checkBatchResponse(t, b, map[string]int{"1": 302, "2": 200, "3": 401, "4": 204, "5": 200})
	},
	"error-429-throttling.json": func(t *testing.T, b []byte) {
		e := newStatusError("GET", "/me", 429, nil, b, time.Now())
		eq(t, "kind", e.Kind, ErrThrottled)
		eq(t, "code", e.Code, "TooManyRequests")
		eq(t, "inner", e.InnerCode, "429")
		eq(t, "request id", e.RequestID, "94fb3b52-452a-4535-a601-69e0a90e3aa2")
	},
	"error-generic.json": func(t *testing.T, b []byte) {
		e := newStatusError("PATCH", "/me/contacts/x", 412, nil, b, time.Now())
		eq(t, "kind", e.Kind, ErrPreconditionFailed)
		eq(t, "code", e.Code, "invalidRange")
		eq(t, "request id", e.RequestID, "request-id")
		if !errors.Is(e, ErrPreconditionFailed) {
			t.Error("errors.Is(ErrPreconditionFailed) = false")
		}
	},
}

func checkBatchRequest(n int) func(*testing.T, []byte) {
	return func(t *testing.T, b []byte) {
		r := decode[struct{ Requests []batchItemWire }](t, b)
		eq(t, "requests", len(r.Requests), n)
		eq(t, "patch method", r.Requests[3].Method, "PATCH")
		eq(t, "content type", r.Requests[3].Headers["Content-Type"], "application/json")
		var body map[string]string
		_ = json.Unmarshal(r.Requests[3].Body, &body)
		eq(t, "body", body["city"], "Redmond")
	}
}

func checkBatchResponse(t *testing.T, b []byte, want map[string]int) {
	var w batchResponseWire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range w.Responses {
		got[r.ID] = r.Status
		if r.Status == 401 {
			e := newStatusError("GET", "/groups", r.Status, headerOf(r.Headers), r.Body, time.Now())
			eq(t, "401 kind", e.Kind, ErrUnauthorized)
			eq(t, "401 code", e.Code, "Forbidden")
		}
		if r.Status == 302 {
			eq(t, "location", headerOf(r.Headers).Get("Location") != "", true)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// TestConformance429HTTP reads the raw throttling response (status line,
// headers, body) and checks the client's classification and its reading
// of the fractional Retry-After.
func TestConformance429HTTP(t *testing.T) {
	dir := samples.Dir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "error-429-throttling.http"))
	if err != nil {
		t.Fatal(err)
	}
	// The published block uses bare \n line ends; HTTP wants \r\n.
	norm := bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(norm)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	eq(t, "status", resp.StatusCode, 429)
	eq(t, "Retry-After", resp.Header.Get("Retry-After"), "2.128")
	e := newStatusError("GET", "/me/contacts", resp.StatusCode, resp.Header, body, time.Now())
	if !errors.Is(e, ErrThrottled) {
		t.Fatalf("kind = %v", e.Kind)
	}
	eq(t, "retry after", e.RetryAfter, 2128*time.Millisecond)
	ra, ok := RetryAfter(e)
	eq(t, "RetryAfter()", ok, true)
	eq(t, "RetryAfter() value", ra, 2128*time.Millisecond)
	eq(t, "retryable", IsRetryable(e), true)
}
