package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph/internal/samples"
)

// The shape test holds the fake to Microsoft's published samples: for each
// resource, every key the fake returns must appear in the corresponding
// sample(s), with the same JSON type, recursively. Samples of one resource
// are merged (e.g. all event samples), since each shows a different subset.
//
// Deliberate allowances, each because the samples cannot say more:
//   - null is accepted for any key: Graph renders unset properties as null
//     (contact-get.json is full of them) and samples only show set ones;
//   - a key whose samples are all null, an object whose samples are all {}
//     and an array whose samples are all [] accept any content, since the
//     samples leave the type or keys unknown;
//   - singleValueExtendedProperties is in no sample; it is checked against
//     Graph's documented shape [{"id": string, "value": string}];
//   - $batch item "headers" are a free-form header map.

type schema struct {
	types  map[string]bool
	fields map[string]*schema
	elem   *schema
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (s *schema) merge(v any) *schema {
	if s == nil {
		s = &schema{types: map[string]bool{}}
	}
	s.types[jsonType(v)] = true
	switch t := v.(type) {
	case map[string]any:
		if s.fields == nil {
			s.fields = map[string]*schema{}
		}
		for k, x := range t {
			s.fields[k] = s.fields[k].merge(x)
		}
	case []any:
		for _, x := range t {
			s.elem = s.elem.merge(x)
		}
	}
	return s
}

func (s *schema) onlyNull() bool { return len(s.types) == 1 && s.types["null"] }

func check(path string, v any, s *schema, errs *[]string) {
	if v == nil || s == nil || s.onlyNull() {
		return
	}
	jt := jsonType(v)
	if !s.types[jt] {
		*errs = append(*errs, fmt.Sprintf("%s: fake has %s, sample has %v", path, jt, keys(s.types)))
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if len(s.fields) == 0 {
			return
		}
		for k, x := range t {
			fs, ok := s.fields[k]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s.%s: key not in sample", path, k))
				continue
			}
			check(path+"."+k, x, fs, errs)
		}
	case []any:
		for i, x := range t {
			check(fmt.Sprintf("%s[%d]", path, i), x, s.elem, errs)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// extPropSchema is Graph's documented singleValueExtendedProperties shape.
func extPropSchema() *schema {
	return (*schema)(nil).merge([]any{map[string]any{"id": "String {x} Name y", "value": "v"}})
}

type sampleSet struct {
	t   *testing.T
	dir string
}

func (ss sampleSet) load(name string) any {
	b, err := os.ReadFile(filepath.Join(ss.dir, name))
	if err != nil {
		ss.t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		ss.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// items merges whole documents (single entities).
func (ss sampleSet) items(names ...string) *schema {
	var s *schema
	for _, n := range names {
		s = s.merge(ss.load(n))
	}
	return s
}

// values merges the elements of the "value" arrays of collection samples.
func (ss sampleSet) values(names ...string) *schema {
	var s *schema
	for _, n := range names {
		doc := ss.load(n).(map[string]any)
		for _, x := range doc["value"].([]any) {
			s = s.merge(x)
		}
	}
	return s
}

// envelope merges collection documents without their items.
func (ss sampleSet) envelope(names ...string) *schema {
	var s *schema
	for _, n := range names {
		doc := ss.load(n).(map[string]any)
		doc["value"] = []any{}
		s = s.merge(doc)
	}
	return s
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) with(t *testing.T) client {
	c.t = t
	return c
}

func (c client) do(method, path string, body any, hdr ...string) (int, any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = c.base + path
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Add("Prefer", `IdType="ImmutableId"`)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			c.t.Fatalf("%s %s: bad JSON %q", method, path, b)
		}
	}
	return resp.StatusCode, v
}

func (c client) must(status int, method, path string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	got, v := c.do(method, path, body, hdr...)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, v)
	}
	m, _ := v.(map[string]any)
	return m
}

func expectShape(t *testing.T, what string, v any, s *schema) {
	t.Helper()
	var errs []string
	check(what, v, s, &errs)
	for _, e := range errs {
		t.Error(e)
	}
}

func TestShapeMatchesSamples(t *testing.T) {
	ss := sampleSet{t: t, dir: samples.Dir(t)}
	srv := New(WithPageSize(2))
	defer srv.Close()
	mb := srv.AddMailbox("alice", MailboxOptions{Address: "alice@contoso.example", DisplayName: "Alice Adams"})
	c := client{t: t, base: srv.URL(), token: "alice"}
	const propID = "String {6c1f0a52-3b7e-4d3a-9f51-2a8e5c0d7b41} Name SalesBridgeCrmId"
	ext := []any{map[string]any{"id": propID, "value": "crm-1"}}

	collEnv := ss.envelope("contact-list.json", "todotasklist-list.json", "outlookcategory-list.json",
		"contact-delta.json", "event-delta.json", "event-calendarview-delta-final.json", "todotask-delta.json")
	deltaEnv := ss.envelope("contact-delta.json", "event-delta.json", "event-calendarview-delta-page1.json",
		"event-calendarview-delta-final.json", "event-calendarview-delta-nextround.json", "todotask-delta.json")
	// The only published @removed entry is an event's.
	removed := ss.values("event-calendarview-delta-nextround.json")

	t.Run("user", func(t *testing.T) {
		c := c.with(t)
		expectShape(t, "me", c.must(200, "GET", "/me", nil), ss.items("user-get-me.json"))
	})

	t.Run("contact", func(t *testing.T) {
		c := c.with(t)
		contact := ss.items("contact-get.json", "contact-create-response.json").
			merge(ss.load("contact-create-request.json"))
		for _, n := range []string{"contact-list.json", "contact-delta.json"} {
			for _, x := range ss.load(n).(map[string]any)["value"].([]any) {
				contact = contact.merge(x)
			}
		}
		created := c.must(201, "POST", "/me/contacts", map[string]any{
			"givenName": "Pavel", "surname": "Bansky", "displayName": "Pavel Bansky",
			"emailAddresses": []any{map[string]any{"address": "pavelb@fabrikam.example", "name": "Pavel Bansky"}},
			"businessPhones": []any{"+1 732 555 0102"}, "mobilePhone": "+1 555 0100", "jobTitle": "Buyer",
			"companyName": "Fabrikam", "categories": []any{"Shared with Sales"}, "personalNotes": "met at fair",
			"businessAddress":               map[string]any{"street": "1 Main St", "city": "Redmond"},
			"singleValueExtendedProperties": ext,
		})
		expectShape(t, "contact create", created, contact)
		id := created["id"].(string)
		got := c.must(200, "GET", "/me/contacts/"+id, nil)
		expectShape(t, "contact get", got, contact)
		if _, ok := got["singleValueExtendedProperties"]; ok {
			t.Error("extended properties returned without $expand")
		}
		exp := c.must(200, "GET", "/me/contacts/"+id+"?$expand="+url.QueryEscape("singleValueExtendedProperties($filter=id eq '"+propID+"')"), nil)
		expectShape(t, "contact ext", exp["singleValueExtendedProperties"], extPropSchema())
		if exp["singleValueExtendedProperties"] == nil {
			t.Error("$expand returned no extended property")
		}
		// A second contact and a delta round with a deletion.
		c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "B"})
		c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "C"})
		page := c.must(200, "GET", "/me/contacts/delta", nil)
		expectShape(t, "contact delta", stripValue(page), deltaEnv)
		for _, x := range page["value"].([]any) {
			expectShape(t, "contact delta item", x, contact)
		}
		link := drain(c, page)
		if err := mb.Delete(Contacts, id); err != nil {
			t.Fatal(err)
		}
		next := c.must(200, "GET", link, nil)
		for _, x := range next["value"].([]any) {
			expectShape(t, "contact removed", x, removed)
		}
		list := c.must(200, "GET", "/me/contacts", nil)
		expectShape(t, "contact list", stripValue(list), collEnv)
	})

	t.Run("event", func(t *testing.T) {
		c := c.with(t)
		event := ss.items("event-get.json", "event-create-response.json", "event-get-multiple-locations.json").
			merge(ss.load("event-create-request.json"))
		for _, n := range []string{"event-delta.json", "event-calendarview-delta-page1.json", "event-calendarview-delta-page2.json",
			"event-calendarview-delta-final.json", "event-calendarview-delta-nextround.json"} {
			for _, x := range ss.load(n).(map[string]any)["value"].([]any) {
				event = event.merge(x)
			}
		}
		req := ss.load("event-create-request.json").(map[string]any)
		req["singleValueExtendedProperties"] = ext
		req["categories"] = []any{"Shared with Sales"}
		req["sensitivity"] = "private"
		created := c.must(201, "POST", "/me/events", req, "Prefer", `outlook.timezone="Pacific Standard Time"`)
		expectShape(t, "event create", created, event)
		id := created["id"].(string)
		expectShape(t, "event get", c.must(200, "GET", "/me/events/"+id, nil), event)
		page := c.must(200, "GET", "/me/calendarView/delta?startDateTime=2017-04-01T00:00:00Z&endDateTime=2017-05-01T00:00:00Z", nil)
		expectShape(t, "event delta", stripValue(page), deltaEnv)
		for _, x := range page["value"].([]any) {
			expectShape(t, "event delta item", x, event)
		}
		link := drain(c, page)
		c.must(204, "DELETE", "/me/events/"+id, nil)
		next := c.must(200, "GET", link, nil)
		if len(next["value"].([]any)) != 1 {
			t.Fatalf("want one @removed, got %v", next["value"])
		}
		expectShape(t, "event removed", next["value"].([]any)[0], removed)
	})

	t.Run("todo", func(t *testing.T) {
		c := c.with(t)
		lists := c.must(200, "GET", "/me/todo/lists", nil)
		expectShape(t, "lists", stripValue(lists), collEnv)
		listSchema := ss.values("todotasklist-list.json").merge(ss.load("todotasklist-get.json")).
			merge(ss.load("todotasklist-create-response.json"))
		for _, x := range lists["value"].([]any) {
			expectShape(t, "list", x, listSchema)
		}
		lid := lists["value"].([]any)[0].(map[string]any)["id"].(string)
		expectShape(t, "list get", c.must(200, "GET", "/me/todo/lists/"+lid, nil), listSchema)
		expectShape(t, "list create", c.must(201, "POST", "/me/todo/lists", ss.load("todotasklist-create-request.json")), listSchema)
		task := ss.items("todotask-get.json", "todotask-create-response.json").merge(ss.load("todotask-create-request.json"))
		for _, x := range ss.load("todotask-delta.json").(map[string]any)["value"].([]any) {
			task = task.merge(x)
		}
		req := ss.load("todotask-create-request.json").(map[string]any)
		req["dueDateTime"] = map[string]any{"dateTime": "2020-08-25T04:00:00.0000000", "timeZone": "UTC"}
		created := c.must(201, "POST", "/me/todo/lists/"+lid+"/tasks", req)
		expectShape(t, "task create", created, task)
		expectShape(t, "task get", c.must(200, "GET", "/me/todo/lists/"+lid+"/tasks/"+created["id"].(string), nil), task)
		if _, ok := created["changeKey"]; ok {
			t.Error("To Do tasks have no changeKey")
		}
		page := c.must(200, "GET", "/me/todo/lists/"+lid+"/tasks/delta", nil)
		expectShape(t, "task delta", stripValue(page), deltaEnv)
		for _, x := range page["value"].([]any) {
			expectShape(t, "task delta item", x, task)
		}
	})

	t.Run("message", func(t *testing.T) {
		c := c.with(t)
		msg := ss.items("message-get.json", "message-get-internetmessageheaders.json")
		seed := ss.load("message-get.json").(map[string]any)
		seed["internetMessageHeaders"] = ss.load("message-get-internetmessageheaders.json").(map[string]any)["internetMessageHeaders"]
		seed["categories"] = []any{"Shared with Sales"}
		id, err := mb.Create(Messages, seed)
		if err != nil {
			t.Fatal(err)
		}
		got := c.must(200, "GET", "/me/messages/"+id, nil)
		expectShape(t, "message get", got, msg)
		if _, ok := got["internetMessageHeaders"]; ok {
			t.Error("internetMessageHeaders returned without $select")
		}
		sel := c.must(200, "GET", "/me/messages/"+id+"?$select=subject,body,internetMessageHeaders", nil)
		expectShape(t, "message select", sel, msg)
		if sel["internetMessageHeaders"] == nil {
			t.Error("internetMessageHeaders missing with $select")
		}
		patched := c.must(200, "PATCH", "/me/messages/"+id, map[string]any{"categories": []any{"Shared with Sales", "Red category"}})
		expectShape(t, "message patch", patched, msg)
	})

	t.Run("categories", func(t *testing.T) {
		c := c.with(t)
		list := c.must(200, "GET", "/me/outlook/masterCategories", nil)
		expectShape(t, "category list", stripValue(list), ss.envelope("outlookcategory-list.json"))
		cat := ss.values("outlookcategory-list.json").merge(ss.load("outlookcategory-create-response.json"))
		for _, x := range list["value"].([]any) {
			expectShape(t, "category", x, cat)
		}
		expectShape(t, "category create", c.must(201, "POST", "/me/outlook/masterCategories",
			ss.load("outlookcategory-create-request.json")), cat)
	})

	t.Run("batch", func(t *testing.T) {
		c := c.with(t)
		resp := ss.items("batch-response-2021.json", "batch-response.fixed-trailing-comma.json")
		item := resp.fields["responses"].elem
		item.fields["headers"] = nil // free-form header map
		item.fields["body"] = nil    // each item body is checked as its resource
		out := c.must(200, "POST", "/$batch", map[string]any{"requests": []any{
			map[string]any{"id": "1", "method": "GET", "url": "/me"},
			map[string]any{"id": "2", "method": "GET", "url": "/me/contacts/nope"},
			map[string]any{"id": "3", "method": "POST", "url": "/me/contacts", "dependsOn": []any{"2"},
				"headers": map[string]any{"Content-Type": "application/json"}, "body": map[string]any{"givenName": "X"}},
		}})
		expectShape(t, "batch", out, resp)
		byID := map[string]map[string]any{}
		for _, r := range out["responses"].([]any) {
			byID[r.(map[string]any)["id"].(string)] = r.(map[string]any)
		}
		if byID["2"]["status"].(float64) != 404 || byID["3"]["status"].(float64) != 424 {
			t.Errorf("statuses: %v", out)
		}
		expectShape(t, "batch me", byID["1"]["body"], ss.items("user-get-me.json"))
		expectShape(t, "batch error", byID["2"]["body"], ss.items("error-generic.json", "error-429-throttling.json"))
	})

	t.Run("errors", func(t *testing.T) {
		c := c.with(t)
		errSchema := ss.items("error-generic.json", "error-429-throttling.json")
		_, v := c.do("GET", "/me/contacts/missing", nil)
		expectShape(t, "404", v, errSchema)
		srv.InjectFault(Fault{Kind: FaultThrottle, RetryAfter: 2128 * time.Millisecond})
		req, _ := http.NewRequest("GET", srv.URL()+"/me", nil)
		req.Header.Set("Authorization", "Bearer alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2.128" {
			t.Errorf("429: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		expectShape(t, "429", body, ss.items("error-429-throttling.json"))
	})
}

func stripValue(m map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		if k != "value" {
			c[k] = v
		}
	}
	return c
}

// drain follows nextLinks and returns the deltaLink.
func drain(c client, page map[string]any) string {
	for {
		if l, ok := page["@odata.deltaLink"].(string); ok {
			return l
		}
		next, ok := page["@odata.nextLink"].(string)
		if !ok {
			c.t.Fatalf("page without links: %v", page)
		}
		page = c.must(200, "GET", next, nil)
	}
}

// TestShapeChecker makes sure the checker itself rejects what it should.
func TestShapeChecker(t *testing.T) {
	s := (*schema)(nil).merge(map[string]any{"a": "x", "b": map[string]any{"c": 1.0}, "d": []any{}, "e": nil})
	var errs []string
	check("v", map[string]any{"a": 1.0, "b": map[string]any{"z": 1.0}, "q": true, "d": []any{1.0}, "e": "s"}, s, &errs)
	want := map[string]bool{"v.a: fake has number, sample has [string]": true, "v.b.z: key not in sample": true, "v.q: key not in sample": true}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for _, e := range errs {
		if !want[e] {
			t.Errorf("unexpected %q", e)
		}
	}
}
