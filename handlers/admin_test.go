package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/manifest/manifesttest"
	"github.com/salesbridge/salesbridge/addin/usage"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

func adminEnv(t *testing.T, opts ...servertest.Option) (*servertest.Env, string, string, *models.User) {
	env := servertest.New(t, opts...)
	admin := env.CreateUser("ada", models.RoleAdmin)
	user := env.CreateUser("bob", models.RoleUser)
	return env, env.Login(admin.ID), env.Login(user.ID), user
}

func TestAdminSettingsAPI(t *testing.T) {
	env, admin, user, _ := adminEnv(t)

	if r := env.Do("GET", "/api/v1/admin/settings", nil, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", r.Status)
	}
	if r := env.Do("GET", "/api/v1/admin/settings", nil, user); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin: %d", r.Status)
	}
	if r := env.Do("PUT", "/api/v1/admin/settings", map[string]any{"batchSize": 5}, user); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin put: %d", r.Status)
	}

	r := env.Do("GET", "/api/v1/admin/settings", nil, admin)
	var got handlers.SettingsResponse
	r.JSON(t, &got)
	if r.Status != 200 || got.Settings.ConflictPolicy != "server_wins" || got.Settings.BatchSize != 10 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}

	// Invalid values are refused with a message per field; nothing is saved.
	r = env.Do("PUT", "/api/v1/admin/settings", map[string]any{
		"conflictPolicy": "newest", "recentDays": 0, "contacts": map[string]any{"upperLimit": -5},
		"standardSyncMinutes": 5, "categoryName": "",
	}, admin)
	if r.Status != http.StatusBadRequest {
		t.Fatalf("invalid: %d %s", r.Status, r.Body)
	}
	for _, f := range []string{"conflictPolicy", "recentDays", "contacts.upperLimit", "standardSyncMinutes", "categoryName"} {
		if r.Fields()[f] == "" {
			t.Errorf("no field error for %s: %s", f, r.Body)
		}
	}
	for body, field := range map[string]string{
		`{"batchSize":"ten"}`:              "batchSize",
		`{"contacts":{"upperLimit":true}}`: "contacts.upperLimit",
		`{"nonsense":1}`:                   "nonsense",
		`{"allowInviteesToShare":"no"}`:    "allowInviteesToShare",
	} {
		r := env.Do("PUT", "/api/v1/admin/settings", body, admin)
		if r.Status != 400 || r.Fields()[field] == "" {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
		}
	}

	// A partial body changes only what it names; each change is audited.
	r = env.Do("PUT", "/api/v1/admin/settings", map[string]any{
		"allowUserOverride": true, "tasks": map[string]any{"enabled": false, "createNew": true, "deleteOld": true, "upperLimit": 250},
		"allowInviteesToShare": false,
	}, admin)
	r.JSON(t, &got)
	if r.Status != 200 || !got.Settings.AllowUserOverride || got.Settings.Tasks.UpperLimit != 250 || got.Settings.BatchSize != 10 || len(got.Changes) != 4 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/audit", nil, admin)
	var audit handlers.AuditResponse
	r.JSON(t, &audit)
	if r.Status != 200 || len(audit.Entries) != 4 {
		t.Fatalf("audit: %s", r.Body)
	}
	targets := map[string]handlers.AuditEntryResponse{}
	for _, e := range audit.Entries {
		targets[e.Target] = e
		if e.Actor != "ada" || e.Action != "settings.update" || e.At.IsZero() {
			t.Errorf("entry %+v", e)
		}
	}
	if e := targets["tasks.upperLimit"]; e.OldValue != "5000" || e.NewValue != "250" {
		t.Errorf("tasks.upperLimit: %+v", e)
	}
	if e := targets["tasks.enabled"]; e.OldValue != "true" || e.NewValue != "false" {
		t.Errorf("tasks.enabled: %+v", e)
	}
	r = env.Do("GET", "/api/v1/admin/audit?limit=3", nil, admin)
	r.JSON(t, &audit)
	if len(audit.Entries) != 3 || audit.NextCursor == "" {
		t.Fatalf("page 1: %s", r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/audit?limit=3&cursor="+audit.NextCursor, nil, admin)
	r.JSON(t, &audit)
	if len(audit.Entries) != 1 || audit.NextCursor != "" {
		t.Fatalf("page 2: %s", r.Body)
	}
}

func TestMySettings(t *testing.T) {
	env, admin, user, _ := adminEnv(t)
	r := env.Do("PUT", "/api/v1/me/settings", map[string]any{"conflictPolicy": "client_wins"}, user)
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "does not allow") {
		t.Fatalf("not allowed: %d %s", r.Status, r.Body)
	}
	env.Do("PUT", "/api/v1/admin/settings", map[string]any{"allowUserOverride": true}, admin)
	r = env.Do("PUT", "/api/v1/me/settings", map[string]any{"conflictPolicy": "client_wins"}, user)
	var got handlers.MySettingsResponse
	r.JSON(t, &got)
	if r.Status != 200 || got.ConflictPolicy != "client_wins" || got.DefaultPolicy != "server_wins" {
		t.Fatalf("allowed: %d %s", r.Status, r.Body)
	}
	if r := env.Do("PUT", "/api/v1/me/settings", map[string]any{"conflictPolicy": "x"}, user); r.Status != 400 || r.Fields()["conflictPolicy"] == "" {
		t.Fatalf("invalid: %d %s", r.Status, r.Body)
	}
	env.Do("PUT", "/api/v1/admin/settings", map[string]any{"allowUserOverride": false}, admin)
	r = env.Do("GET", "/api/v1/me/settings", nil, user)
	r.JSON(t, &got)
	if got.ConflictPolicy != "server_wins" || got.OwnConflictPolicy != "client_wins" || got.AllowOverride {
		t.Fatalf("withdrawn: %s", r.Body)
	}
}

func setRegistration(t *testing.T, env *servertest.Env, appID, name string) {
	t.Helper()
	row := models.Registration{ID: 1, ApplicationID: appID, Name: name, UpdatedAt: time.Now().UTC()}
	if err := env.Store.DB(context.Background()).Save(&row).Error; err != nil {
		t.Fatal(err)
	}
}

func TestManifestDownload(t *testing.T) {
	cases := []struct {
		publicURL, appID, name string
		warn                   bool
	}{
		{"https://crm.contoso.example", "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", "Contoso Sales", false},
		{"https://sales.fabrikam.example:8443/crm", "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", "Fabrikam <CRM> & Co", false},
		{"http://localhost:8080", "11111111-2222-3333-4444-555555555555", "Dev", true},
	}
	for _, c := range cases {
		t.Run(c.publicURL, func(t *testing.T) {
			env, admin, user, _ := adminEnv(t, func(cfg *server.Config, _ *server.Options) { cfg.PublicURL = c.publicURL })
			r := env.Do("GET", "/api/v1/admin/manifest", nil, admin)
			if r.Status != http.StatusPreconditionFailed || r.Fields()["applicationId"] == "" || r.Fields()["name"] == "" {
				t.Fatalf("no registration: %d %s", r.Status, r.Body)
			}
			if r := env.Do("GET", "/api/v1/admin/manifest", nil, user); r.Status != 403 {
				t.Fatalf("non-admin: %d", r.Status)
			}
			setRegistration(t, env, c.appID, c.name)
			r = env.Do("GET", "/api/v1/admin/manifest", nil, admin)
			if r.Status != 200 {
				t.Fatalf("manifest: %d %s", r.Status, r.Body)
			}
			if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="manifest.xml"` {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
				t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
			}
			if got := r.Header.Get(handlers.WarningHeader) != ""; got != c.warn {
				t.Errorf("warning = %q", r.Header.Get(handlers.WarningHeader))
			}
			body := string(r.Body)
			for _, want := range []string{"<Id>" + c.appID + "</Id>", "ReadWriteMailbox", "commands.html", "index.html", "<AppDomain>"} {
				if !strings.Contains(body, want) {
					t.Errorf("manifest lacks %s", want)
				}
			}
			manifesttest.ValidateXML(t, r.Body)
			manifesttest.CheckXMLURLs(t, r.Body, c.publicURL)

			r = env.Do("GET", "/api/v1/admin/manifest.json", nil, admin)
			if r.Status != 200 || r.Header.Get("Content-Disposition") != `attachment; filename="manifest.json"` {
				t.Fatalf("json: %d %s", r.Status, r.Body)
			}
			manifesttest.ValidateJSON(t, r.Body)
			manifesttest.CheckJSONURLs(t, r.Body, c.publicURL)
		})
	}
}

func TestManifestNeedsPublicURLAndValidID(t *testing.T) {
	env, admin, _, _ := adminEnv(t, func(cfg *server.Config, _ *server.Options) { cfg.PublicURL = "" })
	setRegistration(t, env, "not-a-guid", "X")
	r := env.Do("GET", "/api/v1/admin/manifest", nil, admin)
	if r.Status != 412 || r.Fields()["publicUrl"] == "" {
		t.Fatalf("no public URL: %d %s", r.Status, r.Body)
	}
	// Plain http is for localhost only.
	env3, admin3, _, _ := adminEnv(t, func(cfg *server.Config, _ *server.Options) { cfg.PublicURL = "http://crm.example.com" })
	setRegistration(t, env3, "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", "X")
	r = env3.Do("GET", "/api/v1/admin/manifest", nil, admin3)
	if r.Status != 412 || !strings.Contains(r.Fields()["publicUrl"], "https") {
		t.Fatalf("http public URL: %d %s", r.Status, r.Body)
	}
	env2, admin2, _, _ := adminEnv(t, func(cfg *server.Config, _ *server.Options) { cfg.PublicURL = "https://crm.example.com" })
	setRegistration(t, env2, "not-a-guid", "X")
	r = env2.Do("GET", "/api/v1/admin/manifest.json", nil, admin2)
	if r.Status != 412 || r.Fields()["applicationId"] == "" {
		t.Fatalf("bad id: %d %s", r.Status, r.Body)
	}
}

func TestUsageReport(t *testing.T) {
	env, admin, user, bob := adminEnv(t)
	ctx := context.Background()
	for _, k := range []string{usage.PaneOpen, usage.PaneOpen, usage.Search, usage.Share} {
		if err := usage.Record(ctx, env.Store, bob.ID, k, 1); err != nil {
			t.Fatal(err)
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	r := env.Do("GET", "/api/v1/admin/usage", nil, admin)
	var got handlers.UsageResponse
	r.JSON(t, &got)
	if r.Status != 200 || len(got.Days) != 1 || got.Days[0].Day != today || got.Days[0].Total != 4 ||
		got.Days[0].Kinds[usage.PaneOpen] != 2 || got.Days[0].Users[usage.PaneOpen] != 1 || got.To != today {
		t.Fatalf("json: %s", r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/usage?format=csv&from="+today+"&to="+today, nil, admin)
	want := "day,kind,count,users\n" + today + ",pane_open,2,1\n" + today + ",search,1,1\n" + today + ",share,1,1\n"
	if r.Status != 200 || string(r.Body) != want || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %q", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/usage?from=2026-02-30", nil, admin); r.Status != 400 || r.Fields()["from"] == "" {
		t.Fatalf("bad from: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/usage?format=xml", nil, admin); r.Status != 400 || r.Fields()["format"] == "" {
		t.Fatalf("bad format: %d %s", r.Status, r.Body)
	}
	if r := env.Do("GET", "/api/v1/admin/usage", nil, user); r.Status != 403 {
		t.Fatalf("non-admin: %d", r.Status)
	}
	// The pane reports its opens.
	if r := env.Do("POST", "/api/v1/me/usage", map[string]any{"kind": "pane_open"}, user); r.Status != http.StatusNoContent {
		t.Fatalf("pane open: %d %s", r.Status, r.Body)
	}
	if r := env.Do("POST", "/api/v1/me/usage", map[string]any{"kind": "search"}, user); r.Status != 400 || r.Fields()["kind"] == "" {
		t.Fatalf("client-reported search: %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/usage", nil, admin)
	r.JSON(t, &got)
	if got.Days[0].Total != 5 || got.Days[0].Kinds[usage.PaneOpen] != 3 {
		t.Fatalf("after pane open: %s", r.Body)
	}
	// With Client Usage Tracking off, nothing more is recorded.
	env.Do("PUT", "/api/v1/admin/settings", map[string]any{"clientUsageTracking": false}, admin)
	_ = usage.Record(ctx, env.Store, bob.ID, usage.Search, 1)
	if r := env.Do("POST", "/api/v1/me/usage", map[string]any{"kind": "pane_open"}, user); r.Status != http.StatusNoContent {
		t.Fatalf("pane open while off: %d %s", r.Status, r.Body)
	}
	r = env.Do("GET", "/api/v1/admin/usage", nil, admin)
	r.JSON(t, &got)
	if got.Days[0].Total != 5 {
		t.Fatalf("recorded while off: %s", r.Body)
	}
}
