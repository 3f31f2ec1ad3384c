package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server/servertest"
)

type idResp struct {
	ID      int64 `json:"id"`
	Version int64 `json:"version"`
}

func mustStatus(t *testing.T, r *servertest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

func TestContactLifecycle(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("alice", models.RoleUser)
	tok := env.Login(u.ID)

	body := map[string]any{"firstName": "Jane", "lastName": "Doe", "email": "Jane.Doe@Example.com", "phone": "(415) 555-2671",
		"primaryAddress": map[string]any{"country": "US", "lines": []string{"1600 Amphitheatre Pkwy"}, "locality": "Mountain View", "region": "CA", "postalCode": "94043"}}
	r := env.Do("POST", "/api/v1/contacts", body, tok)
	mustStatus(t, r, 201)
	var c struct {
		idResp
		Phone          string
		PrimaryAddress struct{ Formatted string }
	}
	r.JSON(t, &c)
	if c.Phone != "+14155552671" || !strings.Contains(strings.ToUpper(c.PrimaryAddress.Formatted), "MOUNTAIN VIEW, CA 94043") {
		t.Fatalf("got %s", r.Body)
	}

	// Duplicate: same names and email, other case and spaces.
	dup := map[string]any{"firstName": " jane ", "lastName": "DOE", "email": "jane.doe@example.com"}
	r = env.Do("POST", "/api/v1/contacts", dup, tok)
	mustStatus(t, r, 409)
	var e struct {
		Error struct{ Details map[string]any } `json:"error"`
	}
	r.JSON(t, &e)
	if e.Error.Details["existingId"] != float64(c.ID) {
		t.Fatalf("existingId: %s", r.Body)
	}
	r = env.Do("POST", "/api/v1/contacts?allowDuplicate=true", dup, tok)
	mustStatus(t, r, 400)
	dup["duplicateReason"] = "Two people, same name"
	r = env.Do("POST", "/api/v1/contacts?allowDuplicate=true", dup, tok)
	mustStatus(t, r, 201)

	// Stale If-Match.
	r = env.DoHeaders("PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]any{"jobTitle": "CTO"},
		map[string]string{"Authorization": "Bearer " + tok, "If-Match": fmt.Sprintf(`"%d"`, c.Version)})
	mustStatus(t, r, 200)
	r = env.DoHeaders("PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]any{"jobTitle": "CEO"},
		map[string]string{"Authorization": "Bearer " + tok, "If-Match": fmt.Sprintf(`"%d"`, c.Version)})
	mustStatus(t, r, 412)

	// GET carries the current version as its ETag, for the next If-Match.
	r = env.Do("GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, tok)
	mustStatus(t, r, 200)
	var cur struct{ Version int64 }
	r.JSON(t, &cur)
	if want := fmt.Sprintf(`"%d"`, cur.Version); r.Header.Get("ETag") != want || cur.Version <= c.Version {
		t.Fatalf("ETag %q, version %d (created at %d)", r.Header.Get("ETag"), cur.Version, c.Version)
	}

	// Bad input.
	for _, b := range []map[string]any{
		{"lastName": "X", "email": "not-an-email"},
		{"lastName": "X", "phone": "12"},
		{"lastName": strings.Repeat("x", 101)},
		{"lastName": "X", "colour": "red"},
	} {
		r = env.Do("POST", "/api/v1/contacts", b, tok)
		mustStatus(t, r, 400)
		if len(r.Fields()) == 0 {
			t.Fatalf("no fields: %s", r.Body)
		}
	}

	// Favorites, then soft delete hides the favorite and the record.
	mustStatus(t, env.Do("PUT", fmt.Sprintf("/api/v1/favorites/contact/%d", c.ID), nil, tok), 204)
	mustStatus(t, env.Do("PUT", "/api/v1/favorites/widget/1", nil, tok), 400)
	var favs struct{ Items []struct{ ID int64 } }
	env.Do("GET", "/api/v1/favorites", nil, tok).JSON(t, &favs)
	if len(favs.Items) != 1 {
		t.Fatalf("favorites %+v", favs)
	}
	mustStatus(t, env.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, tok), 204)
	mustStatus(t, env.Do("GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, tok), 404)
	env.Do("GET", "/api/v1/favorites", nil, tok).JSON(t, &favs)
	if len(favs.Items) != 0 {
		t.Fatalf("favorite of a deleted record listed: %+v", favs)
	}
	mustStatus(t, env.Do("PUT", fmt.Sprintf("/api/v1/favorites/contact/%d", c.ID), nil, tok), 404)
}

func TestAddressValidationTenCountries(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("bob", models.RoleUser)
	tok := env.Login(u.ID)
	cases := []struct {
		cc, good, bad string
		extra         map[string]any
		required      string
	}{
		{"US", "94043", "9404", map[string]any{"locality": "Mountain View", "region": "CA"}, ""},
		{"GB", "SW1A 1AA", "12345", map[string]any{"locality": "London"}, ""},
		{"DE", "10115", "1011", map[string]any{"locality": "Berlin"}, ""},
		{"FR", "75008", "7500", map[string]any{"locality": "Paris"}, ""},
		{"JP", "100-0001", "1000", map[string]any{"region": "Tokyo"}, "region"},
		{"BR", "01310-100", "0131", map[string]any{"locality": "São Paulo", "region": "SP", "dependentLocality": "Bela Vista"}, ""},
		{"IN", "110001", "11000", map[string]any{"locality": "New Delhi", "region": "DL"}, ""},
		{"CA", "K1A 0B1", "12345", map[string]any{"locality": "Ottawa", "region": "ON"}, ""},
		{"NL", "1012 JS", "101", map[string]any{"locality": "Amsterdam"}, ""},
		{"AU", "2000", "200", map[string]any{"locality": "Sydney", "region": "NSW"}, ""},
	}
	for _, tc := range cases {
		addr := map[string]any{"country": tc.cc, "lines": []string{"1 Main Street"}, "postalCode": tc.good}
		for k, v := range tc.extra {
			addr[k] = v
		}
		r := env.Do("POST", "/api/v1/accounts", map[string]any{"name": "Acme " + tc.cc, "primaryAddress": addr}, tok)
		if r.Status != 201 {
			t.Errorf("%s good: %d %s", tc.cc, r.Status, r.Body)
			continue
		}
		var a struct{ PrimaryAddress struct{ Formatted string } }
		r.JSON(t, &a)
		if !strings.Contains(a.PrimaryAddress.Formatted, "\n") {
			t.Errorf("%s formatted %q", tc.cc, a.PrimaryAddress.Formatted)
		}
		addr["postalCode"] = tc.bad
		r = env.Do("POST", "/api/v1/accounts", map[string]any{"name": "Acme " + tc.cc, "primaryAddress": addr}, tok)
		if r.Status != 400 || r.Fields()["primaryAddress.postalCode"] == "" {
			t.Errorf("%s bad postal code: %d %s", tc.cc, r.Status, r.Body)
		}
		missing := tc.required
		if missing == "" {
			missing = "locality"
		}
		delete(addr, missing)
		addr["postalCode"] = tc.good
		r = env.Do("POST", "/api/v1/accounts", map[string]any{"name": "Acme " + tc.cc, "primaryAddress": addr}, tok)
		if r.Status != 400 || r.Fields()["primaryAddress."+missing] == "" {
			t.Errorf("%s missing required field: %d %s", tc.cc, r.Status, r.Body)
		}
	}
	r := env.Do("GET", "/api/v1/address-formats", nil, tok)
	mustStatus(t, r, 200)
	var cl struct{ Countries []struct{ Code string } }
	r.JSON(t, &cl)
	if len(cl.Countries) < 200 {
		t.Fatalf("%d countries", len(cl.Countries))
	}
	mustStatus(t, env.Do("GET", "/api/v1/address-formats/DE", nil, tok), 200)
	mustStatus(t, env.Do("GET", "/api/v1/address-formats/ZZ", nil, tok), 404)
}

func TestSearchRelevance(t *testing.T) {
	env := servertest.New(t)
	alice := env.CreateUser("alice", models.RoleUser)
	bob := env.CreateUser("bob", models.RoleUser)
	ta, tb := env.Login(alice.ID), env.Login(bob.ID)
	mk := func(tok string, first, last, email, phone string) int64 {
		r := env.Do("POST", "/api/v1/contacts", map[string]any{"firstName": first, "lastName": last, "email": email, "phone": phone}, tok)
		mustStatus(t, r, 201)
		var c idResp
		r.JSON(t, &c)
		return c.ID
	}
	schneider := mk(tb, "Klaus", "Schneider", "klaus@example.de", "+49 30 1234567")
	mk(tb, "Jonathan", "Miller", "jm@example.com", "")
	smithB := mk(tb, "Anna", "Smith", "anna.b@example.com", "")
	smithA := mk(ta, "Anna", "Smithers", "anna.a@example.com", "")
	r := env.Do("POST", "/api/v1/accounts", map[string]any{"name": "Smith & Sons"}, tb)
	mustStatus(t, r, 201)

	type hit struct {
		Type  string
		ID    int64
		Match string
		Name  string
	}
	search := func(tok, q string, extra string) ([]hit, string) {
		t.Helper()
		r := env.Do("GET", "/api/v1/search?q="+url.QueryEscape(q)+extra, nil, tok)
		mustStatus(t, r, 200)
		var out struct {
			Items      []hit
			NextCursor string
		}
		r.JSON(t, &out)
		return out.Items, out.NextCursor
	}
	// Typo-tolerant.
	h, _ := search(ta, "Schnieder", "")
	if len(h) == 0 || h[0].ID != schneider || h[0].Match != "fuzzy" {
		t.Fatalf("fuzzy: %+v", h)
	}
	h, _ = search(ta, "Jonathon", "&types=contact")
	if len(h) == 0 || h[0].Name != "Jonathan Miller" {
		t.Fatalf("fuzzy 2: %+v", h)
	}
	// Exact email and any format of a phone number.
	h, _ = search(ta, "KLAUS@example.de", "")
	if len(h) != 1 || h[0].ID != schneider || h[0].Match != "exact" {
		t.Fatalf("email: %+v", h)
	}
	h, _ = search(ta, "+49 (30) 123-4567", "")
	if len(h) != 1 || h[0].ID != schneider {
		t.Fatalf("phone: %+v", h)
	}
	h, _ = search(ta, "030 1234567", "&region=DE")
	if len(h) != 1 || h[0].ID != schneider {
		t.Fatalf("national phone: %+v", h)
	}
	// Prefix; among equals the caller's own first.
	h, _ = search(ta, "smi", "")
	if len(h) < 3 || h[0].ID != smithA {
		t.Fatalf("owned first: %+v", h)
	}
	h, _ = search(tb, "smi", "&types=contact")
	if len(h) != 2 || h[0].ID != smithB {
		t.Fatalf("owned first for bob: %+v", h)
	}
	// Exact beats prefix.
	h, _ = search(ta, "anna smith", "&types=contact")
	if len(h) == 0 || h[0].ID != smithB || h[0].Match != "exact" {
		t.Fatalf("exact first: %+v", h)
	}
	// Paging: limit 1 walks every hit once, in order.
	all, _ := search(ta, "smi", "&limit=50")
	var walked []hit
	cursor := ""
	for i := 0; i < 10; i++ {
		page, next := search(ta, "smi", "&limit=1&cursor="+url.QueryEscape(cursor))
		walked = append(walked, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(walked) != fmt.Sprint(all) {
		t.Fatalf("paging: %+v vs %+v", walked, all)
	}
	// Bad input.
	for _, q := range []string{"?q=", "?q=x&types=widget", "?q=x&cursor=%21%21", "?q=" + strings.Repeat("a", 201), "?q=x&limit=500"} {
		r := env.Do("GET", "/api/v1/search"+q, nil, ta)
		mustStatus(t, r, 400)
	}
}

func TestRecentWindowAndBatch(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	env := servertest.New(t)
	u := env.CreateUser("carol", models.RoleUser)
	tok := env.Login(u.ID)
	ctx := context.Background()
	if err := env.Store.DB(ctx).Exec(`INSERT INTO admin_settings (id, data, updated_at) VALUES (1, '{"recentDays": 7, "batchSize": 2}', ?)`, now).Error; err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < 5; i++ {
		r := env.Do("POST", "/api/v1/accounts", map[string]any{"name": fmt.Sprintf("Account %d", i)}, tok)
		mustStatus(t, r, 201)
		var a idResp
		r.JSON(t, &a)
		ids = append(ids, a.ID)
	}
	// Make one old (outside the 7-day window).
	if err := env.Store.DB(ctx).Exec("UPDATE recent_views SET at = ? WHERE object_id = ?", time.Now().UTC().AddDate(0, 0, -8), ids[0]).Error; err != nil {
		t.Fatal(err)
	}
	var got []int64
	cursor := ""
	pages := 0
	for {
		r := env.Do("GET", "/api/v1/recent?type=account&cursor="+url.QueryEscape(cursor), nil, tok)
		mustStatus(t, r, 200)
		var p struct {
			Items      []struct{ ID int64 }
			NextCursor string
		}
		r.JSON(t, &p)
		if len(p.Items) > 2 {
			t.Fatalf("batch %d", len(p.Items))
		}
		for _, it := range p.Items {
			got = append(got, it.ID)
		}
		pages++
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(got) != 4 || pages != 2 {
		t.Fatalf("recent %v in %d pages", got, pages)
	}
	mustStatus(t, env.Do("GET", "/api/v1/recent?type=widget", nil, tok), 400)
	mustStatus(t, env.Do("GET", "/api/v1/recent?cursor=zz", nil, tok), 400)
}

// seedActivity inserts an activity owned by owner with the contact as
// participant and the attendees as participants.
func seedActivity(t *testing.T, db *gorm.DB, owner, contactID int64, at time.Time, attendees ...int64) int64 {
	t.Helper()
	a := models.Activity{Record: models.Record{OwnerID: owner}, TypeCode: models.ActivityAppointment, Subject: "Meeting", StartAt: &at, Extra: "{}"}
	if err := db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.ActivityParticipant{ActivityID: a.ID, Role: "attendee", ContactID: &contactID, Email: fmt.Sprintf("c%d@example.com", contactID)}).Error; err != nil {
		t.Fatal(err)
	}
	for _, u := range attendees {
		u := u
		if err := db.Create(&models.ActivityParticipant{ActivityID: a.ID, Role: "attendee", UserID: &u, Email: fmt.Sprintf("u%d@corp.example", u)}).Error; err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

func TestConnectionsRanking(t *testing.T) {
	env := servertest.New(t)
	a := env.CreateUser("ann", models.RoleUser)
	b := env.CreateUser("ben", models.RoleUser)
	c := env.CreateUser("cat", models.RoleUser)
	tok := env.Login(a.ID)
	r := env.Do("POST", "/api/v1/contacts", map[string]any{"firstName": "Pat", "lastName": "Client", "email": "pat@client.example"}, tok)
	mustStatus(t, r, 201)
	var ct idResp
	r.JSON(t, &ct)
	db := env.Store.DB(context.Background())
	now := time.Now().UTC()
	// ben: 3 recent interactions; ann: 4 old ones (a year ago); cat: 1 recent as attendee.
	for i := 0; i < 3; i++ {
		seedActivity(t, db, b.ID, ct.ID, now.AddDate(0, 0, -i))
	}
	for i := 0; i < 4; i++ {
		seedActivity(t, db, a.ID, ct.ID, now.AddDate(-1, 0, -i))
	}
	seedActivity(t, db, b.ID, ct.ID, now.AddDate(0, 0, -1), c.ID)
	r = env.Do("GET", fmt.Sprintf("/api/v1/contacts/%d/connections", ct.ID), nil, tok)
	mustStatus(t, r, 200)
	var out struct {
		Items []struct {
			User  struct{ Username string }
			Count int
		}
	}
	r.JSON(t, &out)
	var order []string
	for _, it := range out.Items {
		order = append(order, fmt.Sprintf("%s:%d", it.User.Username, it.Count))
	}
	if strings.Join(order, ",") != "ben:4,cat:1,ann:4" {
		t.Fatalf("order %v", order)
	}
	mustStatus(t, env.Do("GET", "/api/v1/contacts/999999/connections", nil, tok), 404)
	mustStatus(t, env.Do("GET", fmt.Sprintf("/api/v1/contacts/%d/connections?limit=0", ct.ID), nil, tok), 400)
}

func TestContextQueryCount(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("dan", models.RoleUser)
	tok := env.Login(u.ID)
	r := env.Do("POST", "/api/v1/accounts", map[string]any{"name": "Client Co"}, tok)
	mustStatus(t, r, 201)
	var acc idResp
	r.JSON(t, &acc)
	var contacts []int64
	for i := 0; i < 50; i++ {
		r := env.Do("POST", "/api/v1/contacts", map[string]any{"firstName": "P", "lastName": fmt.Sprint("N", i), "email": fmt.Sprintf("p%d@client.example", i), "accountId": acc.ID}, tok)
		mustStatus(t, r, 201)
		var c idResp
		r.JSON(t, &c)
		contacts = append(contacts, c.ID)
		mustStatus(t, env.Do("POST", "/api/v1/opportunities", map[string]any{"name": fmt.Sprint("Deal ", i), "contactId": c.ID, "accountId": acc.ID}, tok), 201)
	}
	db := env.Store.DB(context.Background())
	seedActivity(t, db, u.ID, contacts[0], time.Now().UTC())
	mid := "<abc@mail.example>"
	act := models.Activity{Record: models.Record{OwnerID: u.ID}, TypeCode: models.ActivityEmail, InternetMessageID: &mid, Extra: "{}"}
	if err := db.Create(&act).Error; err != nil {
		t.Fatal(err)
	}

	var queries atomic.Int64
	count := func(*gorm.DB) { queries.Add(1) }
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register("test:count_query", count)
	_ = cb.Row().After("gorm:row").Register("test:count_row", count)
	_ = cb.Raw().After("gorm:raw").Register("test:count_raw", count)
	_ = cb.Create().After("gorm:create").Register("test:count_create", count)

	measure := func(n int, unknown bool) int64 {
		q := url.Values{}
		for i := 0; i < n; i++ {
			q.Add("email", fmt.Sprintf("P N%d <p%d@client.example>", i, i))
		}
		if unknown {
			q.Add("email", "Someone New <someone.new@else.example>")
		}
		q.Set("internetMessageId", mid)
		before := queries.Load()
		r := env.Do("GET", "/api/v1/context?"+q.Encode(), nil, tok)
		mustStatus(t, r, 200)
		var out struct {
			Addresses []struct {
				Kind          string
				SuggestedName string
				Account       *struct{ Name string }
				Opportunities struct {
					Items []any
					Total int
				}
			}
			Shared *struct{ ActivityID int64 }
		}
		r.JSON(t, &out)
		if len(out.Addresses) != len(q["email"]) || out.Shared == nil || out.Shared.ActivityID != act.ID {
			t.Fatalf("context: %s", r.Body)
		}
		if e := out.Addresses[0]; n > 0 && (e.Kind != "contact" || e.Account == nil || e.Opportunities.Total != 50 || len(e.Opportunities.Items) != 5) {
			t.Fatalf("entry 0: %+v", out.Addresses[0])
		}
		if last := out.Addresses[len(out.Addresses)-1]; unknown && (last.Kind != "unknown" || last.SuggestedName != "Someone New") {
			t.Fatalf("unknown: %+v", last)
		}
		return queries.Load() - before
	}
	q1, q50 := measure(1, false), measure(49, true) // 1 and 50 addresses
	t.Logf("queries: 1 address %d, 50 addresses %d", q1, q50)
	if q1 != q50 || q50 > 12 {
		t.Fatalf("query count depends on addresses: %d vs %d", q1, q50)
	}
	q := url.Values{}
	for i := 0; i < 51; i++ {
		q.Add("email", fmt.Sprintf("x%d@example.com", i))
	}
	mustStatus(t, env.Do("GET", "/api/v1/context?"+q.Encode(), nil, tok), 400)
	mustStatus(t, env.Do("GET", "/api/v1/context?email=nope", nil, tok), 400)

	// The matched contacts are now the caller's recent contacts.
	var viewed int64
	if err := db.Model(&models.RecentView{}).Where("user_id = ? AND object_type = 'contact' AND action = 'viewed'", u.ID).Count(&viewed).Error; err != nil {
		t.Fatal(err)
	}
	if viewed != 49 {
		t.Fatalf("%d contacts recorded as viewed, want 49", viewed)
	}
}

// PATCH of accounts, leads and opportunities keeps the fields it is not
// given, moves the version (ETag) and refuses a stale If-Match.
func TestRecordPatchKeepsOtherFields(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("pat", models.RoleUser)
	tok := env.Login(u.ID)
	cases := []struct {
		path         string
		create       map[string]any
		patch        map[string]any
		keep, change string
		want         any
	}{
		{"/api/v1/accounts", map[string]any{"name": "Acme", "website": "acme.example"}, map[string]any{"industry": "Tools"}, "website", "industry", "Tools"},
		{"/api/v1/leads", map[string]any{"name": "Big deal", "company": "Initech"}, map[string]any{"status": "qualified"}, "company", "status", "qualified"},
		{"/api/v1/opportunities", map[string]any{"name": "Renewal", "currency": "EUR", "amountCents": 120000}, map[string]any{"stage": "negotiation"}, "currency", "stage", "negotiation"},
	}
	for _, tc := range cases {
		r := env.Do("POST", tc.path, tc.create, tok)
		mustStatus(t, r, 201)
		var created map[string]any
		r.JSON(t, &created)
		id := int64(created["id"].(float64))
		ver := int64(created["version"].(float64))
		hdr := map[string]string{"Authorization": "Bearer " + tok, "If-Match": fmt.Sprintf(`"%d"`, ver)}
		r = env.DoHeaders("PATCH", fmt.Sprintf("%s/%d", tc.path, id), tc.patch, hdr)
		mustStatus(t, r, 200)
		var got map[string]any
		r.JSON(t, &got)
		if got[tc.change] != tc.want || got[tc.keep] != created[tc.keep] {
			t.Fatalf("%s: after PATCH %v", tc.path, got)
		}
		if nv := int64(got["version"].(float64)); nv <= ver || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, nv) {
			t.Fatalf("%s: version %d, ETag %q", tc.path, nv, r.Header.Get("ETag"))
		}
		r = env.DoHeaders("PATCH", fmt.Sprintf("%s/%d", tc.path, id), tc.patch, hdr)
		mustStatus(t, r, 412)
		r = env.DoHeaders("PATCH", fmt.Sprintf("%s/%d", tc.path, id), map[string]any{"bogus": 1},
			map[string]string{"Authorization": "Bearer " + tok, "If-Match": fmt.Sprintf(`"%d"`, int64(got["version"].(float64)))})
		mustStatus(t, r, 400)
		if r.Fields()["bogus"] == "" {
			t.Fatalf("%s: unknown field not named: %s", tc.path, r.Body)
		}
	}
}
