package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/maintenance"
	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

func TestHealthReadyAndPages(t *testing.T) {
	env := servertest.New(t)
	if r := env.Do("GET", "/healthz", nil, ""); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := env.Do("GET", "/readyz", nil, ""); r.Status != 200 {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"/crmUI/osc365/web/index.html", "/crmUI/osc365/web/close.html", "/sales/office365/jet/close.html",
		"/crmUI/office365/jet/close.html", "/crmUI/osc365/web/commands.html", "/crmUI/osc365/web/signin.html"} {
		r := env.Do("GET", p, nil, "")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", p, r.Status, r.Header.Get("Content-Type"))
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'self' https://outlook.office.com") || strings.Contains(csp, "frame-ancestors *") {
			t.Fatalf("%s: CSP %q", p, csp)
		}
		if r.Header.Get("Cache-Control") == "" {
			t.Fatalf("%s: no Cache-Control", p)
		}
	}
	r := env.Do("GET", "/admin/", nil, "")
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("admin: %d %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
	r = env.Do("GET", "/metrics", nil, "")
	if r.Status != 200 || !strings.Contains(string(r.Body), "salesbridge_http_requests_total") {
		t.Fatalf("metrics: %d", r.Status)
	}
}

func TestErrorsAre404And405And413AndPanicsAre500(t *testing.T) {
	env := servertest.New(t)
	r := env.Do("GET", "/api/v1/nope", nil, "")
	if r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	r = env.Do("DELETE", "/healthz", nil, "")
	if r.Status != 405 {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
	big := `{"x":"` + strings.Repeat("a", 2<<20) + `"}`
	r = env.Do("POST", "/api/v1/me", big, "")
	if r.Status != 413 || r.ErrorCode() != "payload_too_large" {
		t.Fatalf("oversized: %d %s", r.Status, r.Body[:min(len(r.Body), 200)])
	}
	env.App.Engine.GET("/test/panic", func(c *gin.Context) { panic("secret internal detail") })
	r = env.Do("GET", "/test/panic", nil, "")
	if r.Status != 500 || r.ErrorCode() != "internal" || strings.Contains(string(r.Body), "secret") {
		t.Fatalf("panic: %d %s", r.Status, r.Body)
	}
}

func TestAuthMiddleware(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("ann", models.RoleUser)
	tok := env.Login(u.ID)
	if r := env.Do("GET", "/api/v1/me", nil, tok); r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	for name, bad := range map[string]string{
		"missing":   "",
		"malformed": "not-a-jwt",
		"alg none":  "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwic2lkIjoieCJ9.",
		"tampered":  tok[:len(tok)-2] + "xx",
	} {
		if r := env.Do("GET", "/api/v1/me", nil, bad); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	env.Store.DB(context.Background()).Model(&models.User{}).Where("id = ?", u.ID).Update("active", false)
	if r := env.Do("GET", "/api/v1/me", nil, tok); r.Status != 401 {
		t.Fatalf("inactive user: %d", r.Status)
	}
}

func TestCleanupJob(t *testing.T) {
	env := servertest.New(t)
	ctx := context.Background()
	u := env.CreateUser("bob", models.RoleUser)
	db := env.Store.DB(ctx)
	past := env.App.Now().Add(-48 * 3600e9)
	db.Create(&models.HandoffCode{CodeHash: "h1", UserID: u.ID, ExpiresAt: past, CreatedAt: past})
	db.Create(&models.ConnectAttempt{ID: "a1", StateHash: "s1", ExpiresAt: past, CreatedAt: past})
	db.Create(&models.Session{ID: "old", UserID: u.ID, Kind: "pane", ExpiresAt: past, CreatedAt: past})
	live := env.Login(u.ID)
	res, err := (&maintenance.CleanupWorker{Store: env.Store}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != 1 || res.HandoffCodes != 1 || res.ConnectAttempts != 1 {
		t.Fatalf("cleanup result %+v", res)
	}
	if r := env.Do("GET", "/api/v1/me", nil, live); r.Status != http.StatusOK {
		t.Fatalf("live session removed: %d", r.Status)
	}
	// Through the real River client: the periodic job runs on start.
	db.Create(&models.HandoffCode{CodeHash: "h2", UserID: u.ID, ExpiresAt: past, CreatedAt: past})
	if err := env.App.StartWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	sub, cancel := env.App.River.Subscribe("job_completed")
	defer cancel()
	for ev := range sub {
		if ev.Job.Kind == (maintenance.CleanupArgs{}).Kind() {
			break
		}
	}
	var n int64
	db.Model(&models.HandoffCode{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d handoff codes left after the River job", n)
	}
}

func TestConfigValidationNamesTheVariable(t *testing.T) {
	cases := map[string]string{
		"SALESBRIDGE_ADDR":          "nope",
		"SALESBRIDGE_DATABASE_URL":  "mysql://x",
		"SALESBRIDGE_PUBLIC_URL":    "ftp://x",
		"SALESBRIDGE_WORKERS":       "maybe",
		"SALESBRIDGE_AUTHORITY_URL": "https://login.example.com",
		"SALESBRIDGE_BODY_LIMIT":    "-3",
		"SALESBRIDGE_SECRET_KEY":    "short",
	}
	for v, val := range cases {
		_, err := server.LoadConfig(nil, func(k string) string {
			if k == v {
				return val
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Fatalf("%s=%s: %v", v, val, err)
		}
	}
	cfg, err := server.LoadConfig([]string{"--addr", ":9999"}, func(k string) string {
		if k == "SALESBRIDGE_ADDR" {
			return ":7777"
		}
		return ""
	})
	if err != nil || cfg.Addr != ":9999" {
		t.Fatalf("flag should win: %v %v", cfg, err)
	}
	pg, _ := server.LoadConfig(nil, func(k string) string {
		if k == "SALESBRIDGE_DATABASE_URL" {
			return "postgres://localhost/x"
		}
		return ""
	})
	if err := pg.EnsureSecretKey(); err == nil || !strings.Contains(err.Error(), "SALESBRIDGE_SECRET_KEY") {
		t.Fatalf("postgres without key: %v", err)
	}
	dir := t.TempDir()
	c1, _ := server.LoadConfig([]string{"--database-url", "sqlite://" + dir + "/x.db"}, func(string) string { return "" })
	c2, _ := server.LoadConfig([]string{"--database-url", "sqlite://" + dir + "/x.db"}, func(string) string { return "" })
	if err := c1.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if err := c2.EnsureSecretKey(); err != nil || c1.SecretKey != c2.SecretKey || len(c1.SecretKey) < 32 {
		t.Fatalf("generated key not reused: %v", err)
	}
}

func TestReadyzIs503WhenSchemaIsNotCurrent(t *testing.T) {
	env := servertest.New(t)
	if err := env.Store.DB(context.Background()).Exec("DELETE FROM schema_migrations WHERE version = 1").Error; err != nil {
		t.Fatal(err)
	}
	r := env.Do("GET", "/readyz", nil, "")
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "not current") {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
}

func TestRequestIDIsEchoed(t *testing.T) {
	env := servertest.New(t)
	r := env.DoHeaders("GET", "/healthz", nil, map[string]string{"X-Request-Id": "abc-123"})
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id %q", r.Header.Get("X-Request-Id"))
	}
	r = env.DoHeaders("GET", "/healthz", nil, map[string]string{"X-Request-Id": "bad id with spaces"})
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("request id %q", got)
	}
}

func TestMalformedJSONNamesTheField(t *testing.T) {
	env := servertest.New(t)
	u := env.CreateUser("cid", models.RoleUser)
	_ = env.Login(u.ID)
	// BindJSON is exercised through a throwaway route on the real engine.
	type req struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	env.App.Engine.POST("/test/bind", func(c *gin.Context) {
		var r req
		if err := handlers.BindJSON(c, &r); err != nil {
			handlers.WriteError(c, err)
			return
		}
		c.JSON(200, r)
	})
	cases := map[string]string{
		`{"name": 3}`:           "name",
		`{"count": "x"}`:        "count",
		`{"bogus": 1}`:          "bogus",
		`{"name": "a"`:          "body",
		``:                      "body",
		`{"name":"a"} {"x": 1}`: "body",
	}
	for body, field := range cases {
		r := env.Do("POST", "/test/bind", body, "")
		if r.Status != 400 || r.Fields()[field] == "" {
			t.Fatalf("%q: %d %s", body, r.Status, r.Body)
		}
	}
}
