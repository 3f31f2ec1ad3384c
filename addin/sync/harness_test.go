package sync_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/settings"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

const category = "Shared with Sales"

type harness struct {
	t      testing.TB
	ctx    context.Context
	store  *models.Store
	fake   *graphtest.Server
	clock  *graphtest.Clock
	client *graph.Client
	eng    *syncer.Engine
	user   int64
	mbx    *graphtest.Mailbox
}

func newHarness(t testing.TB, fakeOpts ...graphtest.Option) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), store: dbtest.Open(t)}
	h.clock = graphtest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	h.fake = graphtest.New(fakeOpts...)
	t.Cleanup(h.fake.Close)
	u := models.User{Username: "alice", DisplayName: "Alice", Email: "alice@example.com", Role: models.RoleUser, Active: true}
	if err := h.store.DB(h.ctx).Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	h.user = u.ID
	h.mbx = h.fake.AddMailbox("mbx-alice", graphtest.MailboxOptions{})
	um := models.UserMapping{UserID: u.ID, MSEmail: "alice@contoso.example", MSEmailNorm: "alice@contoso.example",
		Authorized: true, SyncState: models.SyncActive}
	if err := h.store.DB(h.ctx).Create(&um).Error; err != nil {
		t.Fatal(err)
	}
	var err error
	h.client, err = graph.New(graph.Options{BaseURL: h.fake.URL(), HTTPClient: h.fake.HTTPClient(),
		Tokens: graph.StaticTokens{syncer.GraphUser(u.ID): "mbx-alice"}, Clock: h.clock, MinBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = &syncer.Engine{Store: h.store, Graph: h.client, Now: h.clock.Now}
	return h
}

func (h *harness) setSettings(f func(*settings.Settings)) {
	s := settings.Defaults()
	f(&s)
	b, _ := json.Marshal(s)
	row := models.AdminSettings{ID: 1, Data: string(b), UpdatedAt: time.Now()}
	if err := h.store.DB(h.ctx).Save(&row).Error; err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) sync() *models.SyncRun {
	h.t.Helper()
	run, err := h.eng.SyncNow(h.ctx, h.user, syncer.TriggerManual)
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	if run.Status == models.RunFailed {
		h.t.Fatalf("run failed: %s", run.Error)
	}
	return run
}

func (h *harness) crmContact(first, last, email string) *models.Contact {
	h.t.Helper()
	c := &models.Contact{Record: models.Record{OwnerID: h.user}, FirstName: first, LastName: last, Email: email}
	if err := h.store.DB(h.ctx).Create(c).Error; err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) updateCRM(id int64, f func(c *models.Contact)) {
	h.t.Helper()
	var c models.Contact
	if err := h.store.DB(h.ctx).First(&c, id).Error; err != nil {
		h.t.Fatal(err)
	}
	f(&c)
	if err := h.store.DB(h.ctx).Save(&c).Error; err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) deleteCRM(id int64) {
	h.t.Helper()
	if err := h.store.SoftDelete(h.ctx, "contacts", id); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) outlookContact(first, last, email string, cats ...string) string {
	h.t.Helper()
	if cats == nil {
		cats = []string{category}
	}
	g := graph.Contact{GivenName: first, Surname: last, DisplayName: first + " " + last, Categories: cats}
	if email != "" {
		g.EmailAddresses = []graph.EmailAddress{{Address: email}}
	}
	id, err := h.mbx.Create(graphtest.Contacts, g)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) crmContacts() []models.Contact {
	var cs []models.Contact
	if err := h.store.DB(h.ctx).Where("owner_id = ?", h.user).Order("id").Find(&cs).Error; err != nil {
		h.t.Fatal(err)
	}
	return cs
}

func (h *harness) outlookContacts() []graph.Contact {
	var out []graph.Contact
	for _, m := range h.mbx.List(graphtest.Contacts) {
		b, _ := json.Marshal(m)
		var c graph.Contact
		_ = json.Unmarshal(b, &c)
		out = append(out, c)
	}
	return out
}

func (h *harness) events(runID int64) []models.SyncRecordEvent {
	var evs []models.SyncRecordEvent
	h.store.DB(h.ctx).Where("run_id = ?", runID).Order("id").Find(&evs)
	return evs
}

func outcomes(evs []models.SyncRecordEvent) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Direction+":"+e.Outcome]++
	}
	return m
}
