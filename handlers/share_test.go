package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

type activity struct {
	ID                int64  `json:"id"`
	Type              string `json:"type"`
	Subject           string `json:"subject"`
	BodyHTML          string `json:"bodyHtml"`
	BodyText          string `json:"bodyText"`
	Private           bool   `json:"private"`
	Masked            bool   `json:"masked"`
	Location          string `json:"location"`
	InternetMessageID string `json:"internetMessageId"`
	Participants      []struct {
		Role      string `json:"role"`
		Email     string `json:"email"`
		Name      string `json:"name"`
		ContactID *int64 `json:"contactId"`
		UserID    *int64 `json:"userId"`
	} `json:"participants"`
	Associations []struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
	} `json:"associations"`
	SharedBy []struct {
		UserID int64  `json:"userId"`
		Source string `json:"source"`
	} `json:"sharedBy"`
	Attachments []struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	} `json:"attachments"`
}

type crm struct {
	account *models.Account
	contact *models.Contact
	opp     *models.Opportunity
}

func seedCRM(t *testing.T, env *servertest.Env, owner int64) crm {
	t.Helper()
	ctx := context.Background()
	db := env.Store.DB(ctx)
	acc := &models.Account{Record: models.Record{OwnerID: owner}, Name: "Acme"}
	if err := db.Create(acc).Error; err != nil {
		t.Fatal(err)
	}
	c := &models.Contact{Record: models.Record{OwnerID: owner}, AccountID: &acc.ID, FirstName: "Bob", LastName: "Buyer",
		Email: "Bob.Buyer@Acme.example", EmailNorm: "bob.buyer@acme.example"}
	if err := db.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	o := &models.Opportunity{Record: models.Record{OwnerID: owner}, AccountID: &acc.ID, Name: "Acme renewal", Stage: "prospecting", Status: "open", Currency: "USD"}
	if err := db.Create(o).Error; err != nil {
		t.Fatal(err)
	}
	return crm{acc, c, o}
}

func emailBody(imid string) map[string]any {
	return map[string]any{
		"itemId": "AAMk-" + imid, "internetMessageId": imid, "conversationId": "conv-1", "subject": "Renewal",
		"from":   map[string]any{"email": "BOB.buyer@acme.example", "name": "Bob Buyer"},
		"to":     []any{map[string]any{"email": "alice@contoso.example", "name": "Alice"}},
		"cc":     []any{map[string]any{"email": "stranger@elsewhere.example", "name": "Stranger"}, map[string]any{"email": "carol@contoso.example"}},
		"sentAt": "2026-11-02T10:00:00Z",
		"bodyHtml": `<p onclick="steal()">Let's renew</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>` +
			`<img src="x" onerror="alert(3)">`,
		"attachments": []any{map[string]any{"name": "quote.pdf", "size": 12345, "contentType": "application/pdf"}},
	}
}

func TestShareEmailResolvesParticipantsAndDefaults(t *testing.T) {
	env := servertest.New(t)
	alice := env.CreateUser("alice", models.RoleUser)
	carol := env.CreateUser("carol", models.RoleUser)
	c := seedCRM(t, env, alice.ID)
	tok := env.Login(alice.ID)

	r := env.Do("POST", "/api/v1/shares/email", emailBody("<m1@acme.example>"), tok)
	if r.Status != http.StatusCreated {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	var a activity
	r.JSON(t, &a)
	if a.Type != models.ActivityEmail || a.InternetMessageID != "<m1@acme.example>" || a.Subject != "Renewal" {
		t.Fatalf("activity %+v", a)
	}
	for _, bad := range []string{"<script", "onclick", "onerror", "javascript:"} {
		if strings.Contains(a.BodyHTML, bad) {
			t.Fatalf("body keeps %q: %s", bad, a.BodyHTML)
		}
	}
	if !strings.Contains(a.BodyText, "Let's renew") || strings.Contains(a.BodyText, "alert") {
		t.Fatalf("text %q", a.BodyText)
	}
	got := map[string]string{}
	for _, p := range a.Participants {
		switch {
		case p.ContactID != nil:
			got[p.Role+":"+p.Email] = fmt.Sprintf("contact %d", *p.ContactID)
		case p.UserID != nil:
			got[p.Role+":"+p.Email] = fmt.Sprintf("user %d", *p.UserID)
		default:
			got[p.Role+":"+p.Email] = "bare"
		}
	}
	want := map[string]string{
		"from:bob.buyer@acme.example":   fmt.Sprintf("contact %d", c.contact.ID),
		"to:alice@contoso.example":      fmt.Sprintf("user %d", alice.ID),
		"cc:stranger@elsewhere.example": "bare",
		"cc:carol@contoso.example":      fmt.Sprintf("user %d", carol.ID),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("participants %v, want %v", got, want)
	}
	if len(a.Associations) != 2 || a.Associations[0].Type != "contact" || a.Associations[0].ID != c.contact.ID ||
		a.Associations[1].Type != "account" || a.Associations[1].ID != c.account.ID {
		t.Fatalf("default associations %+v", a.Associations)
	}
	if len(a.Attachments) != 1 || a.Attachments[0].Name != "quote.pdf" || len(a.SharedBy) != 1 || a.SharedBy[0].Source != "pane" {
		t.Fatalf("attachments/shares %+v %+v", a.Attachments, a.SharedBy)
	}
	// Recent views and usage.
	var recent []models.RecentView
	env.Store.DB(context.Background()).Where("user_id = ? AND action = 'shared'", alice.ID).Find(&recent)
	if len(recent) != 2 {
		t.Fatalf("recent %+v", recent)
	}
	var used models.UsageEvent
	env.Store.DB(context.Background()).Where("user_id = ? AND kind = 'share'", alice.ID).First(&used)
	if used.Count != 1 {
		t.Fatalf("usage %+v", used)
	}

	// GET and list by the related contact.
	r = env.Do("GET", fmt.Sprintf("/api/v1/activities/%d", a.ID), nil, tok)
	if r.Status != 200 {
		t.Fatalf("get %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", fmt.Sprintf("/api/v1/activities?type=EMAIL&relatedType=contact&relatedId=%d", c.contact.ID), nil, tok)
	var page struct{ Items []activity }
	r.JSON(t, &page)
	if r.Status != 200 || len(page.Items) != 1 || page.Items[0].ID != a.ID {
		t.Fatalf("list %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", fmt.Sprintf("/api/v1/activities?relatedType=opportunity&relatedId=%d", c.opp.ID), nil, tok)
	r.JSON(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("list by opportunity %s", r.Body)
	}
	if r := env.Do("GET", "/api/v1/activities?cursor=bogus", nil, tok); r.Status != 400 || r.Fields()["cursor"] == "" {
		t.Fatalf("bad cursor %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/activities/999999", nil, tok); r.Status != 404 {
		t.Fatalf("missing %d", r.Status)
	}
}

func TestReshareFromSecondUserReturnsTheSameActivity(t *testing.T) {
	env := servertest.New(t)
	alice := env.CreateUser("alice", models.RoleUser)
	dave := env.CreateUser("dave", models.RoleUser)
	c := seedCRM(t, env, alice.ID)
	ta, td := env.Login(alice.ID), env.Login(dave.ID)

	r := env.Do("POST", "/api/v1/shares/email", emailBody("<m2@acme.example>"), ta)
	if r.Status != 201 {
		t.Fatalf("first %d %s", r.Status, r.Body)
	}
	var first activity
	r.JSON(t, &first)
	// Dave got the same email and shares it with an explicit association.
	body := emailBody("<m2@acme.example>")
	body["itemId"] = "AAMk-dave-copy"
	body["associations"] = []any{map[string]any{"type": "opportunity", "id": c.opp.ID}}
	r = env.Do("POST", "/api/v1/shares/email", body, td)
	if r.Status != 200 {
		t.Fatalf("reshare %d %s", r.Status, r.Body)
	}
	var second activity
	r.JSON(t, &second)
	if second.ID != first.ID || len(second.SharedBy) != 2 || len(second.Associations) != 3 {
		t.Fatalf("reshare %+v", second)
	}
	// The same user again, from another device: nothing new.
	r = env.Do("POST", "/api/v1/shares/email", emailBody("<m2@acme.example>"), ta)
	var third activity
	r.JSON(t, &third)
	if r.Status != 200 || third.ID != first.ID || len(third.SharedBy) != 2 {
		t.Fatalf("same user again %d %s", r.Status, r.Body)
	}
	var n int64
	env.Store.DB(context.Background()).Model(&models.Activity{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d activities", n)
	}

	// Explicit associations are checked.
	bad := emailBody("<m3@acme.example>")
	bad["associations"] = []any{map[string]any{"type": "account", "id": 424242}}
	r = env.Do("POST", "/api/v1/shares/email", bad, ta)
	if r.Status != 400 || r.Fields()["associations[0].id"] == "" {
		t.Fatalf("bad associations %d %s", r.Status, r.Body)
	}
	bad["associations"] = []any{map[string]any{"type": "planet", "id": 1}}
	r = env.Do("POST", "/api/v1/shares/email", bad, ta)
	if r.Status != 400 || r.Fields()["associations[0].type"] == "" {
		t.Fatalf("bad association type %d %s", r.Status, r.Body)
	}
	// Invalid emails and dates are named.
	bad = emailBody("<m4@acme.example>")
	bad["to"] = []any{map[string]any{"email": "not an email"}}
	bad["sentAt"] = "yesterday"
	r = env.Do("POST", "/api/v1/shares/email", bad, ta)
	if r.Status != 400 || r.Fields()["sentAt"] == "" {
		t.Fatalf("bad input %d %s", r.Status, r.Body)
	}
	bad["sentAt"] = "2026-11-02T10:00:00Z"
	r = env.Do("POST", "/api/v1/shares/email", bad, ta)
	if r.Status != 400 || r.Fields()["to[0].email"] == "" {
		t.Fatalf("bad email %d %s", r.Status, r.Body)
	}

	// PATCH: a sharer may edit, someone else may not.
	r = env.Do("PATCH", fmt.Sprintf("/api/v1/activities/%d", first.ID), map[string]any{
		"subject": "Renewal 2027", "associations": []any{map[string]any{"type": "opportunity", "id": c.opp.ID}}}, td)
	var patched activity
	r.JSON(t, &patched)
	if r.Status != 200 || patched.Subject != "Renewal 2027" || len(patched.Associations) != 1 {
		t.Fatalf("patch %d %s", r.Status, r.Body)
	}
	eve := env.CreateUser("eve", models.RoleUser)
	r = env.Do("PATCH", fmt.Sprintf("/api/v1/activities/%d", first.ID), map[string]any{"subject": "x"}, env.Login(eve.ID))
	if r.Status != 403 {
		t.Fatalf("stranger patch %d %s", r.Status, r.Body)
	}
}

func TestShareAppointmentWithAttendeesAndPrivateFlag(t *testing.T) {
	env := servertest.New(t)
	alice := env.CreateUser("alice", models.RoleUser)
	bob := env.CreateUser("bobby", models.RoleUser)
	c := seedCRM(t, env, alice.ID)
	tok := env.Login(alice.ID)
	body := map[string]any{
		"itemId": "AAMk-ev1", "iCalUId": "040000008200E00074C5B7101A82E008-1", "subject": "Pricing review",
		"start": "2026-12-10T14:00:00Z", "end": "2026-12-10T15:00:00Z", "timeZone": "Pacific Standard Time",
		"location": "Room 4", "organizer": map[string]any{"email": "alice@contoso.example", "name": "Alice"},
		"attendees": []any{map[string]any{"email": "bob.buyer@acme.example"}, map[string]any{"email": "who@nowhere.example"}},
		"bodyHtml":  "<p>Agenda</p>", "isPrivate": true,
	}
	r := env.Do("POST", "/api/v1/shares/appointment", body, tok)
	if r.Status != 201 {
		t.Fatalf("share %d %s", r.Status, r.Body)
	}
	var a activity
	r.JSON(t, &a)
	if a.Type != models.ActivityAppointment || !a.Private || a.Masked || a.Location != "Room 4" || len(a.Participants) != 3 {
		t.Fatalf("appointment %+v", a)
	}
	if len(a.Associations) != 2 || a.Associations[0].ID != c.contact.ID {
		t.Fatalf("default associations %+v", a.Associations)
	}
	// A colleague sees that a private meeting exists, not what it is.
	r = env.Do("GET", fmt.Sprintf("/api/v1/activities/%d", a.ID), nil, env.Login(bob.ID))
	var seen activity
	r.JSON(t, &seen)
	if !seen.Masked || seen.Subject == "Pricing review" || seen.Location != "" || len(seen.Participants) != 0 {
		t.Fatalf("masked view %+v", seen)
	}
	// Same meeting again: the existing activity.
	if r := env.Do("POST", "/api/v1/shares/appointment", body, tok); r.Status != 200 {
		t.Fatalf("reshare %d %s", r.Status, r.Body)
	}
	// Invitees may not share when the administrator turned it off.
	setSettings(t, env, `{"allowInviteesToShare": false}`)
	body["iCalUId"] = "other-uid"
	body["organizer"] = map[string]any{"email": "bob.buyer@acme.example"}
	if r := env.Do("POST", "/api/v1/shares/appointment", body, tok); r.Status != 403 {
		t.Fatalf("invitee share %d %s", r.Status, r.Body)
	}
	delete(body, "start")
	body["end"] = "soon"
	if r := env.Do("POST", "/api/v1/shares/appointment", body, tok); r.Status != 400 || r.Fields()["end"] == "" {
		t.Fatalf("bad times %d %s", r.Status, r.Body)
	}
}

func setSettings(t *testing.T, env *servertest.Env, data string) {
	t.Helper()
	err := env.Store.DB(context.Background()).Exec(
		"INSERT INTO admin_settings (id, data, updated_at) VALUES (1, ?, ?)", data, time.Now().UTC()).Error
	if err != nil {
		t.Fatal(err)
	}
}

func TestShareRefusedWhenActivityTypeDisabled(t *testing.T) {
	env := servertest.New(t)
	admin := env.CreateUser("root", models.RoleAdmin)
	alice := env.CreateUser("alice", models.RoleUser)
	ta, tu := env.Login(admin.ID), env.Login(alice.ID)
	r := env.Do("GET", "/api/v1/admin/activity-types", nil, ta)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"EMAIL"`) {
		t.Fatalf("types %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/activity-types", nil, tu); r.Status != 403 {
		t.Fatalf("non-admin %d", r.Status)
	}
	r = env.Do("PATCH", "/api/v1/admin/activity-types/email", map[string]any{"enabled": false, "subtypes": []string{"Inbound", "Outbound"}}, ta)
	if r.Status != 200 {
		t.Fatalf("disable %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/v1/shares/email", emailBody("<m5@acme.example>"), tu)
	if r.Status != 412 || !strings.Contains(string(r.Body), "enable the Email activity type in Manage Activity Type and Subtype") {
		t.Fatalf("disabled type %d %s", r.Status, r.Body)
	}
	env.Do("PATCH", "/api/v1/admin/activity-types/EMAIL", map[string]any{"enabled": true}, ta)
	body := emailBody("<m5@acme.example>")
	body["subtype"] = "Sideways"
	if r := env.Do("POST", "/api/v1/shares/email", body, tu); r.Status != 400 || r.Fields()["subtype"] == "" {
		t.Fatalf("unknown subtype %d %s", r.Status, r.Body)
	}
	body["subtype"] = "Inbound"
	if r := env.Do("POST", "/api/v1/shares/email", body, tu); r.Status != 201 {
		t.Fatalf("re-enabled %d %s", r.Status, r.Body)
	}
	if r := env.Do("PATCH", "/api/v1/admin/activity-types/NOPE", map[string]any{"enabled": true}, ta); r.Status != 404 {
		t.Fatalf("unknown type %d", r.Status)
	}
}

func TestAdvancedSharingModeMandatoryFields(t *testing.T) {
	env := servertest.New(t)
	admin := env.CreateUser("root", models.RoleAdmin)
	alice := env.CreateUser("alice", models.RoleUser)
	c := seedCRM(t, env, alice.ID)
	ta, tu := env.Login(admin.ID), env.Login(alice.ID)
	r := env.Do("PUT", "/api/v1/admin/layouts/email", map[string]any{"mandatoryFields": []string{"opportunity", "subject"}}, ta)
	if r.Status != 200 {
		t.Fatalf("put layout %d %s", r.Status, r.Body)
	}
	if r := env.Do("PUT", "/api/v1/admin/layouts/email", map[string]any{"mandatoryFields": []string{"colour"}}, ta); r.Status != 400 {
		t.Fatalf("bad layout %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/layouts/email", nil, ta); r.Status != 200 || !strings.Contains(string(r.Body), `"opportunity"`) {
		t.Fatalf("get layout %d %s", r.Status, r.Body)
	}
	var req struct {
		AdvancedSharingMode bool     `json:"advancedSharingMode"`
		MandatoryFields     []string `json:"mandatoryFields"`
	}
	env.Do("GET", "/api/v1/shares/requirements/email", nil, tu).JSON(t, &req)
	if req.AdvancedSharingMode || len(req.MandatoryFields) != 0 {
		t.Fatalf("requirements with the mode off %+v", req)
	}
	// Off: the layout is not enforced.
	if r := env.Do("POST", "/api/v1/shares/email", emailBody("<m6@acme.example>"), tu); r.Status != 201 {
		t.Fatalf("mode off %d %s", r.Status, r.Body)
	}
	setSettings(t, env, `{"advancedSharingMode": true}`)
	env.Do("GET", "/api/v1/shares/requirements/email", nil, tu).JSON(t, &req)
	if !req.AdvancedSharingMode || len(req.MandatoryFields) != 2 {
		t.Fatalf("requirements %+v", req)
	}
	if r := env.Do("GET", "/api/v1/shares/requirements/task", nil, tu); r.Status != 404 {
		t.Fatalf("unknown object %d", r.Status)
	}
	body := emailBody("<m7@acme.example>")
	body["subject"] = ""
	r = env.Do("POST", "/api/v1/shares/email", body, tu)
	if r.Status != 400 || r.Fields()["associations.opportunity"] == "" || r.Fields()["subject"] == "" {
		t.Fatalf("mandatory %d %s", r.Status, r.Body)
	}
	body["subject"] = "Renewal"
	body["associations"] = []any{map[string]any{"type": "opportunity", "id": c.opp.ID}}
	if r := env.Do("POST", "/api/v1/shares/email", body, tu); r.Status != 201 {
		t.Fatalf("complete %d %s", r.Status, r.Body)
	}
}

func TestShareBodyCap(t *testing.T) {
	env := servertest.New(t, func(cfg *server.Config, _ *server.Options) { cfg.ShareBodyLimit = 64 << 10 })
	alice := env.CreateUser("alice", models.RoleUser)
	tok := env.Login(alice.ID)
	body := emailBody("<big@acme.example>")
	body["bodyHtml"] = "<p>" + strings.Repeat("x", 100<<10) + "</p>"
	r := env.Do("POST", "/api/v1/shares/email", body, tok)
	if r.Status != 413 || r.ErrorCode() != "payload_too_large" {
		t.Fatalf("cap %d %s", r.Status, r.Body)
	}
	// Under the cap but over the general 1 MB limit of other endpoints is fine
	// with the default share limit.
	env2 := servertest.New(t)
	u2 := env2.CreateUser("alice", models.RoleUser)
	body["bodyHtml"] = "<p>" + strings.Repeat("y", 2<<20) + "</p>"
	if r := env2.Do("POST", "/api/v1/shares/email", body, env2.Login(u2.ID)); r.Status != 201 {
		t.Fatalf("2 MB body %d %.300s", r.Status, r.Body)
	}
}

func TestConcurrentSharesOfOneMessageMakeOneActivity(t *testing.T) {
	if dbtest.Engine() != models.Postgres {
		t.Skip("the concurrency test runs on PostgreSQL (SALESBRIDGE_TEST_DB=postgres); SQLite serialises writers")
	}
	env := servertest.New(t)
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		u := env.CreateUser(fmt.Sprintf("user%02d", i), models.RoleUser)
		tokens[i] = env.Login(u.ID)
	}
	payload, _ := json.Marshal(emailBody("<race@acme.example>"))
	statuses := make([]int, n)
	ids := make([]int64, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", env.Server.URL+"/api/v1/shares/email", bytes.NewReader(payload))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			var a activity
			_ = json.NewDecoder(resp.Body).Decode(&a)
			ids[i] = a.ID
		}(i)
	}
	close(start)
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch s {
		case 201:
			created++
		case 200:
		default:
			t.Fatalf("share %d answered %d", i, s)
		}
		if ids[i] != ids[0] || ids[i] == 0 {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	var acts, shares int64
	db := env.Store.DB(context.Background())
	db.Model(&models.Activity{}).Count(&acts)
	db.Model(&models.ActivityShare{}).Count(&shares)
	if created != 1 || acts != 1 || shares != n {
		t.Fatalf("created %d, activities %d, owner links %d", created, acts, shares)
	}
}
