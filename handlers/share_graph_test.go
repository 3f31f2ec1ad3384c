package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/share"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

func TestShareByItemIDReadsTheMessageThroughGraph(t *testing.T) {
	fake := graphtest.New()
	defer fake.Close()
	mbx := fake.AddMailbox("alice", graphtest.MailboxOptions{Address: "alice@contoso.example"})
	env := servertest.New(t, func(cfg *server.Config, opts *server.Options) {
		cfg.GraphURL = fake.URL()
		opts.GraphTokens = graph.TokenFunc(func(context.Context, string) (string, error) { return "alice", nil })
	})
	alice := env.CreateUser("alice", models.RoleUser)
	c := seedCRM(t, env, alice.ID)
	tok := env.Login(alice.ID)
	id, err := mbx.Create(graphtest.Messages, map[string]any{
		"subject":      "From the mailbox",
		"body":         map[string]any{"contentType": "html", "content": "<p>Read <i>through</i> Graph</p><script>x()</script>"},
		"from":         map[string]any{"emailAddress": map[string]any{"name": "Bob", "address": "bob.buyer@acme.example"}},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "alice@contoso.example"}}},
		"sentDateTime": time.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := env.Do("POST", "/api/v1/shares/email", map[string]any{"itemId": id, "source": "ribbon"}, tok)
	if r.Status != http.StatusCreated {
		t.Fatalf("share by id %d %s", r.Status, r.Body)
	}
	var a activity
	r.JSON(t, &a)
	if a.Subject != "From the mailbox" || a.BodyText != "Read through Graph" || a.InternetMessageID == "" ||
		len(a.Associations) != 2 || a.Associations[0].ID != c.contact.ID || a.SharedBy[0].Source != "ribbon" {
		t.Fatalf("activity %+v", a)
	}
	// The category marking job was enqueued with the share.
	var jobs int64
	env.Store.DB(context.Background()).Raw("SELECT COUNT(*) FROM river_job WHERE kind = 'share.mark_category'").Scan(&jobs)
	if jobs != 1 {
		t.Fatalf("%d marking jobs", jobs)
	}
	// The same item again is the same activity.
	if r := env.Do("POST", "/api/v1/shares/email", map[string]any{"itemId": id}, tok); r.Status != 200 {
		t.Fatalf("again %d %s", r.Status, r.Body)
	}
	// An item the mailbox does not have.
	if r := env.Do("POST", "/api/v1/shares/email", map[string]any{"itemId": "AAMk-nope"}, tok); r.Status != 404 {
		t.Fatalf("unknown item %d %s", r.Status, r.Body)
	}
}

func TestInstantSyncTickEnqueuesDueUsersOnce(t *testing.T) {
	env := servertest.New(t)
	db := env.Store.DB(context.Background())
	now := time.Now().UTC()
	var users []*models.User
	for _, name := range []string{"alice", "bob", "carol"} {
		u := env.CreateUser(name, models.RoleUser)
		users = append(users, u)
		if err := db.Create(&models.UserMapping{UserID: u.ID, MSEmail: u.Email, MSEmailNorm: u.Email, Authorized: name != "carol",
			SyncState: models.SyncActive, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Bob ran five minutes ago: not due with the default ten minutes.
	recent := now.Add(-5 * time.Minute)
	db.Create(&models.ShareSyncState{UserID: users[1].ID, LastRunAt: &recent, UpdatedAt: now})
	svc := &share.Service{Store: env.Store, Queue: env.App.Queue, Graph: env.App.Graph}
	for i := 0; i < 2; i++ {
		n, err := svc.EnqueueDue(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("round %d: %d %v", i, n, err)
		}
	}
	var jobs int64
	db.Raw("SELECT COUNT(*) FROM river_job WHERE kind = 'share.instant_sync'").Scan(&jobs)
	if jobs != 1 {
		t.Fatalf("%d instant sync jobs for one due user", jobs)
	}
}
