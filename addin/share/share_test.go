package share_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/share"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

type fixture struct {
	store *models.Store
	fake  *graphtest.Server
	mbx   *graphtest.Mailbox
	svc   *share.Service
	user  *models.User
	ctx   context.Context
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t)
	now := time.Now().UTC()
	u := &models.User{Username: "alice", DisplayName: "Alice", Email: "alice@contoso.example", Role: models.RoleUser,
		Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := store.DB(ctx).Create(u).Error; err != nil {
		t.Fatal(err)
	}
	if err := store.DB(ctx).Create(&models.UserMapping{UserID: u.ID, MSEmail: u.Email, MSEmailNorm: u.Email,
		Authorized: true, SyncState: models.SyncActive, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	fake := graphtest.New()
	t.Cleanup(fake.Close)
	mbx := fake.AddMailbox("alice", graphtest.MailboxOptions{Address: u.Email, DisplayName: "Alice"})
	gc, err := graph.New(graph.Options{BaseURL: fake.URL(), Tokens: graph.StaticTokens{strconv.FormatInt(u.ID, 10): "alice"},
		MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, fake: fake, mbx: mbx, user: u, ctx: ctx, svc: &share.Service{Store: store, Graph: gc}}
}

func (f *fixture) message(t *testing.T, subject string, tagged bool) string {
	t.Helper()
	cats := []string{}
	if tagged {
		cats = []string{"Shared with Sales"}
	}
	id, err := f.mbx.Create(graphtest.Messages, map[string]any{
		"subject": subject, "categories": cats,
		"body":         map[string]any{"contentType": "html", "content": "<p>Hello <b>" + subject + "</b></p>"},
		"from":         map[string]any{"emailAddress": map[string]any{"name": "Ext", "address": "ext@acme.example"}},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"name": "Alice", "address": "alice@contoso.example"}}},
		"sentDateTime": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) event(t *testing.T, subject string, tagged bool) string {
	t.Helper()
	cats := []string{}
	if tagged {
		cats = []string{"Shared with Sales"}
	}
	start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	id, err := f.mbx.Create(graphtest.Events, map[string]any{
		"subject": subject, "categories": cats,
		"start":     map[string]any{"dateTime": start.Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		"end":       map[string]any{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		"attendees": []any{map[string]any{"type": "required", "emailAddress": map[string]any{"name": "Ext", "address": "ext@acme.example"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := f.store.DB(f.ctx).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMarkCategoryCreatesMasterCategoryOnce(t *testing.T) {
	f := newFixture(t)
	m1 := f.message(t, "one", false)
	m2 := f.message(t, "two", false)
	ev := f.event(t, "meeting", false)
	for _, it := range []struct{ id, kind string }{{m1, share.ItemMessage}, {m2, share.ItemMessage}, {ev, share.ItemEvent}, {m1, share.ItemMessage}} {
		if err := f.svc.MarkCategory(f.ctx, f.user.ID, it.id, it.kind); err != nil {
			t.Fatalf("mark %s: %v", it.id, err)
		}
	}
	if cats := f.mbx.MasterCategories(); cats["Shared with Sales"] != share.CategoryColor {
		t.Fatalf("master categories %v", cats)
	}
	st := f.fake.Stats("alice")
	if n := st.Endpoints["POST /me/outlook/masterCategories"]; n != 1 {
		t.Fatalf("master category created %d times", n)
	}
	for _, k := range []struct {
		kind graphtest.Kind
		id   string
	}{{graphtest.Messages, m1}, {graphtest.Messages, m2}, {graphtest.Events, ev}} {
		it, _ := f.mbx.Get(k.kind, k.id)
		cats, _ := it["categories"].([]any)
		if len(cats) != 1 || cats[0] != "Shared with Sales" {
			t.Fatalf("%s categories %v", k.id, cats)
		}
	}
	// The message already carrying the category was not written again.
	if n := st.Endpoints["PATCH /me/messages/{id}"]; n != 2 {
		t.Fatalf("message patches %d", n)
	}
}

func TestInstantSyncSharesTaggedItemsOnceAcrossRunsAndThrottling(t *testing.T) {
	f := newFixture(t)
	f.message(t, "tagged one", true)
	untagged := f.message(t, "untagged", false)
	f.message(t, "tagged two", true)
	f.event(t, "tagged meeting", true)
	f.event(t, "other meeting", false)

	f.fake.InjectFault(graphtest.Fault{Mailbox: "alice", Endpoint: "GET /me/messages", Kind: graphtest.FaultThrottle})
	r, err := f.svc.InstantSync(f.ctx, f.user.ID)
	if err == nil || !errors.Is(err, graph.ErrThrottled) {
		t.Fatalf("run 1: want throttled, got %v (%+v)", err, r)
	}
	if r.Shared != 1 || r.Events != 1 {
		t.Fatalf("run 1: %+v", r)
	}
	r, err = f.svc.InstantSync(f.ctx, f.user.ID)
	if err != nil || r.Shared != 2 || r.Messages != 2 {
		t.Fatalf("run 2: %+v %v", r, err)
	}
	r, err = f.svc.InstantSync(f.ctx, f.user.ID)
	if err != nil || r.Shared != 0 {
		t.Fatalf("run 3: %+v %v", r, err)
	}
	if n := f.count(t, "activities"); n != 3 {
		t.Fatalf("activities %d", n)
	}
	var sources []string
	f.store.DB(f.ctx).Table("activity_shares").Distinct().Pluck("source", &sources)
	if len(sources) != 1 || sources[0] != share.SourceInstant {
		t.Fatalf("share sources %v", sources)
	}
	// Tagging another message in Outlook shares it at the next run.
	if err := f.mbx.Update(graphtest.Messages, untagged, map[string]any{"categories": []string{"Shared with Sales"}}); err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.InstantSync(f.ctx, f.user.ID)
	if err != nil || r.Shared != 1 {
		t.Fatalf("run 4: %+v %v", r, err)
	}
	if n := f.count(t, "activities"); n != 4 {
		t.Fatalf("activities %d", n)
	}
	var st models.ShareSyncState
	if err := f.store.DB(f.ctx).First(&st, "user_id = ?", f.user.ID).Error; err != nil {
		t.Fatal(err)
	}
	if st.MessagesSince == nil || st.EventsDeltaLink == "" || st.LeaseUntil != nil || st.SharedCount != 4 {
		t.Fatalf("state %+v", st)
	}
	// The shared email resolved the sender and stored the sanitised body.
	var act models.Activity
	f.store.DB(f.ctx).Where("subject = ?", "tagged one").First(&act)
	if !strings.Contains(act.BodyText, "Hello tagged one") || act.TypeCode != models.ActivityEmail {
		t.Fatalf("activity %+v", act)
	}
}

func TestInstantSyncRunsOfOneUserNeverOverlap(t *testing.T) {
	f := newFixture(t)
	until := time.Now().UTC().Add(time.Minute)
	if err := f.store.DB(f.ctx).Create(&models.ShareSyncState{UserID: f.user.ID, LeaseUntil: &until, UpdatedAt: time.Now().UTC()}).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.InstantSync(f.ctx, f.user.ID); !errors.Is(err, share.ErrBusy) {
		t.Fatalf("want busy, got %v", err)
	}
	if n := f.fake.Stats("alice").Requests; n != 0 {
		t.Fatalf("a refused run called Graph %d times", n)
	}
}

func TestSanitizer(t *testing.T) {
	html, text := share.Body(`<div onclick="steal()"><p style="color:red" onmouseover="x()">Hi &amp; welcome</p>`+
		`<script>alert(1)</script><img src="javascript:alert(2)" onerror="x()"><a href="javascript:alert(3)">link</a>`+
		`<iframe src="https://evil.example"></iframe><p>Line two</p></div>`, "")
	for _, bad := range []string{"onclick", "onmouseover", "onerror", "<script", "alert(1)", "javascript:", "<iframe"} {
		if strings.Contains(html, bad) {
			t.Fatalf("sanitised HTML keeps %q: %s", bad, html)
		}
	}
	if !strings.Contains(html, "Hi &amp; welcome") {
		t.Fatalf("html %s", html)
	}
	if text != "Hi & welcome\nlink\nLine two" {
		t.Fatalf("text %q", text)
	}
}

func TestMarkCategoryJobWaitsOutThrottlingAndEndsOnGoneItems(t *testing.T) {
	f := newFixture(t)
	m := f.message(t, "one", false)
	w := &share.MarkCategoryWorker{Service: f.svc}
	job := &river.Job[share.MarkCategoryArgs]{JobRow: &rivertype.JobRow{Attempt: 1},
		Args: share.MarkCategoryArgs{UserID: f.user.ID, ItemID: m, Item: share.ItemMessage}}
	f.fake.InjectFault(graphtest.Fault{Mailbox: "alice", Endpoint: "PATCH /me/messages/{id}", Kind: graphtest.FaultThrottle, RetryAfter: 7 * time.Second})
	var snooze *river.JobSnoozeError
	if err := w.Work(f.ctx, job); !errors.As(err, &snooze) || snooze.Duration != 7*time.Second {
		t.Fatalf("throttled: want a 7 s snooze, got %v", err)
	}
	if err := w.Work(f.ctx, job); err != nil {
		t.Fatalf("retry: %v", err)
	}
	it, _ := f.mbx.Get(graphtest.Messages, m)
	if cats, _ := it["categories"].([]any); len(cats) != 1 {
		t.Fatalf("categories %v", it["categories"])
	}
	// An item deleted in Outlook before the job ran ends the job.
	if err := f.mbx.Delete(graphtest.Messages, m); err != nil {
		t.Fatal(err)
	}
	var cancel *river.JobCancelError
	if err := w.Work(f.ctx, job); !errors.As(err, &cancel) {
		t.Fatalf("gone item: want cancel, got %v", err)
	}
}
