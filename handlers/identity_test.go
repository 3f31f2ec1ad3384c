package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/addin/identity/idptest"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

const (
	appID     = "0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0"
	appSecret = "client-secret-value-~Xq8Q"
	password  = "correct horse battery"
)

type fixture struct {
	t     *testing.T
	env   *servertest.Env
	idp   *idptest.IDP
	admin string
	now   time.Time
}

func setup(t *testing.T, register bool) *fixture {
	t.Helper()
	idp := idptest.New(appID, appSecret)
	t.Cleanup(idp.Close)
	f := &fixture{t: t, idp: idp, now: time.Now().UTC()}
	f.env = servertest.New(t, func(cfg *server.Config, opts *server.Options) {
		cfg.AuthorityURL = idp.Authority()
		opts.HTTPClient = idp.Client()
		opts.Now = func() time.Time { return f.now }
	})
	adm := f.user("root", models.RoleAdmin)
	f.admin = f.env.Login(adm.ID)
	if register {
		r := f.env.Do("PUT", "/api/v1/admin/registration", map[string]any{"applicationId": appID, "applicationKey": appSecret, "name": "SalesBridge"}, f.admin)
		if r.Status != 200 {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
	}
	return f
}

func (f *fixture) user(name, role string) *models.User {
	u := f.env.CreateUser(name, role)
	h, err := identity.HashPassword(password)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.env.Store.DB(context.Background()).Model(u).Update("password_hash", h).Error; err != nil {
		f.t.Fatal(err)
	}
	return u
}

var resultRe = regexp.MustCompile(`(?s)<script type="application/json" id="connect-result">(.*?)</script>`)

type connectResult struct {
	Status, Handoff, Code, Message string
}

// browser is a cookie-keeping client that follows redirects, trusting the
// fake identity platform; redirects to the configured public URL are sent
// to the test server.
func (f *fixture) browser() *http.Client {
	base, _ := url.Parse(f.env.Server.URL)
	return &http.Client{
		Jar:       f.env.Client.Jar,
		Transport: f.idp.Client().Transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "localhost:8080" {
				req.URL.Scheme, req.URL.Host, req.Host = base.Scheme, base.Host, ""
			}
			return nil
		},
	}
}

// connect runs the dialog: start → sign in → Microsoft → close.html.
func (f *fixture) connect(username string, trusted bool, acct idptest.Account) connectResult {
	f.t.Helper()
	f.idp.Select(acct)
	b := f.browser()
	q := "false"
	if trusted {
		q = "true"
	}
	resp, err := b.Get(f.env.Server.URL + "/connect/start?trusted=" + q)
	if err != nil {
		f.t.Fatal(err)
	}
	page := readBody(f.t, resp)
	m := regexp.MustCompile(`name="attempt" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		f.t.Fatalf("no sign-in form (%d): %s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `id="signin-form"`) {
		f.t.Fatal("form id missing")
	}
	resp, err = b.PostForm(f.env.Server.URL+"/connect/signin", url.Values{"attempt": {m[1]}, "username": {username}, "password": {password}})
	if err != nil {
		f.t.Fatal(err)
	}
	return parseResult(f.t, resp)
}

func parseResult(t *testing.T, resp *http.Response) connectResult {
	t.Helper()
	page := readBody(t, resp)
	m := resultRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("not close.html (%d %s): %s", resp.StatusCode, resp.Request.URL, page)
	}
	var r connectResult
	if err := json.Unmarshal([]byte(m[1]), &r); err != nil {
		t.Fatalf("result %q: %v", m[1], err)
	}
	return r
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type session struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
}

func (f *fixture) session(handoff string) session {
	f.t.Helper()
	r := f.env.Do("POST", "/api/v1/session", map[string]string{"handoff": handoff}, "")
	if r.Status != 200 {
		f.t.Fatalf("session: %d %s", r.Status, r.Body)
	}
	var s session
	r.JSON(f.t, &s)
	return s
}

func TestConnectEndToEnd(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(map[bool]string{true: "trusted", false: "untrusted"}[trusted], func(t *testing.T) {
			f := setup(t, true)
			f.user("alice", models.RoleUser)
			res := f.connect("alice", trusted, idptest.Account{Email: "Alice@contoso.example", ObjectID: "oid-alice"})
			if res.Status != "connected" || res.Handoff == "" {
				t.Fatalf("connect: %+v", res)
			}
			s := f.session(res.Handoff)
			if trusted != (s.RefreshToken != "") {
				t.Fatalf("trusted=%v refresh token %q", trusted, s.RefreshToken)
			}
			if s.ExpiresIn <= 0 || s.ExpiresIn > 900 {
				t.Fatalf("expiresIn %d", s.ExpiresIn)
			}
			// The handoff is single use.
			if r := f.env.Do("POST", "/api/v1/session", map[string]string{"handoff": res.Handoff}, ""); r.Status != 401 {
				t.Fatalf("reused handoff: %d", r.Status)
			}
			r := f.env.Do("GET", "/api/v1/me", nil, s.AccessToken)
			var me struct {
				User    struct{ Username string }
				Mapping struct {
					MSEmail    string
					Authorized bool
				}
				Session struct{ Trusted bool }
			}
			r.JSON(t, &me)
			if r.Status != 200 || me.User.Username != "alice" || me.Mapping.MSEmail != "Alice@contoso.example" || !me.Mapping.Authorized || me.Session.Trusted != trusted {
				t.Fatalf("me: %d %s", r.Status, r.Body)
			}
			// Graph tokens come from the user's encrypted cache.
			tok, err := f.env.App.Identity.Token(context.Background(), "2")
			if err != nil || !strings.HasPrefix(tok, "at-") {
				t.Fatalf("token source: %q %v", tok, err)
			}
			if !trusted {
				f.now = f.now.Add(8*time.Hour + time.Second)
				if r := f.env.Do("GET", "/api/v1/me", nil, s.AccessToken); r.Status != 401 {
					t.Fatalf("untrusted session after 8 h: %d", r.Status)
				}
			}
			if r := f.env.Do("DELETE", "/api/v1/session", nil, s.AccessToken); trusted && r.Status != 204 {
				t.Fatalf("sign out: %d", r.Status)
			}
			if r := f.env.Do("GET", "/api/v1/me", nil, s.AccessToken); r.Status != 401 {
				t.Fatalf("after sign out: %d", r.Status)
			}
		})
	}
}

func TestConnectNotRegistered(t *testing.T) {
	f := setup(t, false)
	resp, err := f.browser().Get(f.env.Server.URL + "/connect/start?trusted=true")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(page, "administrator has not registered the add-in") {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
	r := f.env.Do("GET", "/api/v1/admin/registration", nil, f.admin)
	var reg struct{ ApplicationKeySet bool }
	r.JSON(t, &reg)
	if r.Status != 200 || reg.ApplicationKeySet {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

func TestMappingRules(t *testing.T) {
	f := setup(t, true)
	f.user("alice", models.RoleUser)
	f.user("bob", models.RoleUser)
	alice := idptest.Account{Email: "alice@contoso.example", ObjectID: "oid-a"}
	other := idptest.Account{Email: "alice2@contoso.example", ObjectID: "oid-a2"}
	steps := []struct {
		name, user string
		acct       idptest.Account
		want       string
	}{
		{"first connect maps", "alice", alice, "connected"},
		{"same pair reconnects", "alice", idptest.Account{Email: "ALICE@contoso.example", ObjectID: "oid-a"}, "connected"},
		{"mapped user, other Microsoft account", "alice", other, identity.ErrCodeMappingUser},
		{"other user, mapped Microsoft account", "bob", alice, identity.ErrCodeMappingAccount},
		{"other user, free account", "bob", other, "connected"},
	}
	for _, s := range steps {
		res := f.connect(s.user, false, s.acct)
		got := res.Status
		if got == "error" {
			got = res.Code
		}
		if got != s.want {
			t.Fatalf("%s: got %+v, want %s", s.name, res, s.want)
		}
	}
	// Admin API: list, filter, update, delete.
	r := f.env.Do("GET", "/api/v1/admin/mappings?q=ALICE2&limit=1", nil, f.admin)
	var page struct {
		Items []struct {
			ID       int64
			Username string
			MSEmail  string
		}
	}
	r.JSON(t, &page)
	if r.Status != 200 || len(page.Items) != 1 || page.Items[0].Username != "bob" {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	bobMap := page.Items[0].ID
	r = f.env.Do("GET", "/api/v1/admin/mappings?limit=1", nil, f.admin)
	var p1 struct{ NextCursor string }
	r.JSON(t, &p1)
	if p1.NextCursor == "" {
		t.Fatalf("no cursor: %s", r.Body)
	}
	if r := f.env.Do("PATCH", "/api/v1/admin/mappings/"+itoa(bobMap), map[string]string{"msEmail": "alice@contoso.example"}, f.admin); r.Status != 409 {
		t.Fatalf("conflicting patch: %d %s", r.Status, r.Body)
	}
	if r := f.env.Do("PATCH", "/api/v1/admin/mappings/"+itoa(bobMap), map[string]string{"msEmail": "not an email"}, f.admin); r.Status != 400 || r.Fields()["msEmail"] == "" {
		t.Fatalf("bad patch: %d %s", r.Status, r.Body)
	}
	if r := f.env.Do("PATCH", "/api/v1/admin/mappings/"+itoa(bobMap), map[string]string{"msEmail": "bob@contoso.example"}, f.admin); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if res := f.connect("bob", false, idptest.Account{Email: "bob@contoso.example", ObjectID: "oid-b"}); res.Status != "connected" {
		t.Fatalf("connect after patch: %+v", res)
	}
	bobSess := f.session(f.connect("bob", true, idptest.Account{Email: "bob@contoso.example", ObjectID: "oid-b"}).Handoff)
	if r := f.env.Do("DELETE", "/api/v1/admin/mappings/"+itoa(bobMap), nil, f.admin); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := f.env.Do("GET", "/api/v1/me", nil, bobSess.AccessToken); r.Status != 401 {
		t.Fatalf("session after mapping delete: %d", r.Status)
	}
	if r := f.env.Do("POST", "/api/v1/session/refresh", map[string]string{"refreshToken": bobSess.RefreshToken}, ""); r.Status != 401 {
		t.Fatalf("refresh after mapping delete: %d", r.Status)
	}
	if _, err := f.env.App.Identity.Token(context.Background(), "3"); err == nil || !strings.Contains(err.Error(), identity.ErrReconnect.Error()) {
		t.Fatalf("token after delete: %v", err)
	}
	// The next connect maps afresh, to another account.
	if res := f.connect("bob", false, idptest.Account{Email: "robert@contoso.example", ObjectID: "oid-r"}); res.Status != "connected" {
		t.Fatalf("connect after delete: %+v", res)
	}
	if r := f.env.Do("DELETE", "/api/v1/admin/mappings/999", nil, f.admin); r.Status != 404 {
		t.Fatalf("delete unknown: %d", r.Status)
	}
}

func itoa(n int64) string { return strings.TrimSpace(strings.Replace(jsonString(n), `"`, "", -1)) }

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestReplyFailures(t *testing.T) {
	f := setup(t, true)
	f.user("alice", models.RoleUser)
	acct := idptest.Account{Email: "alice@contoso.example", ObjectID: "oid-a"}
	close := func(q url.Values) connectResult {
		resp, err := f.browser().Get(f.env.Server.URL + identity.ReplyPaths[1] + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return parseResult(t, resp)
	}
	// signIn stops at the authorize URL and returns its query.
	signIn := func() url.Values {
		b := f.browser()
		b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, _ := b.Get(f.env.Server.URL + "/connect/start?trusted=false")
		resp.Body.Close()
		resp, _ = b.Get(f.env.Server.URL + resp.Header.Get("Location"))
		m := regexp.MustCompile(`name="attempt" value="([^"]+)"`).FindStringSubmatch(readBody(t, resp))
		resp, err := b.PostForm(f.env.Server.URL+"/connect/signin", url.Values{"attempt": {m[1]}, "username": {"alice"}, "password": {password}})
		if err != nil || resp.StatusCode != 302 {
			t.Fatalf("sign-in: %v %v", resp, err)
		}
		resp.Body.Close()
		u, _ := url.Parse(resp.Header.Get("Location"))
		q := u.Query()
		for _, k := range []string{"state", "code_challenge", "client_id", "redirect_uri"} {
			if q.Get(k) == "" {
				t.Fatalf("authorize URL lacks %s: %s", k, u)
			}
		}
		if q.Get("code_challenge_method") != "S256" || q.Get("prompt") != "select_account" || !strings.Contains(q.Get("scope"), "Calendars.ReadWrite") {
			t.Fatalf("authorize URL: %s", u)
		}
		return q
	}
	f.idp.Select(acct)

	if r := close(url.Values{"code": {"x"}}); r.Code != identity.ErrCodeStateMissing {
		t.Fatalf("missing state: %+v", r)
	}
	if r := close(url.Values{"code": {"x"}, "state": {"forged"}}); r.Code != identity.ErrCodeStateInvalid {
		t.Fatalf("unknown state: %+v", r)
	}
	if r := close(url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined"}}); r.Code != identity.ErrCodeMicrosoft {
		t.Fatalf("microsoft error: %+v", r)
	}
	// Microsoft error with a valid state consumes the attempt.
	q := signIn()
	if r := close(url.Values{"state": {q.Get("state")}, "error": {"access_denied"}}); r.Code != identity.ErrCodeMicrosoft || !strings.Contains(r.Message, "access_denied") {
		t.Fatalf("microsoft error: %+v", r)
	}
	// Reused state.
	q = signIn()
	loc, _ := f.idp.AuthorizeURL(authURL(q))
	lu, _ := url.Parse(loc)
	if r := close(lu.Query()); r.Status != "connected" {
		t.Fatalf("first use: %+v", r)
	}
	if r := close(lu.Query()); r.Code != identity.ErrCodeStateReused {
		t.Fatalf("reused: %+v", r)
	}
	// Expired state.
	q = signIn()
	loc, _ = f.idp.AuthorizeURL(authURL(q))
	lu, _ = url.Parse(loc)
	f.now = f.now.Add(11 * time.Minute)
	if r := close(lu.Query()); r.Code != identity.ErrCodeStateExpired {
		t.Fatalf("expired: %+v", r)
	}
	f.now = f.now.Add(-11 * time.Minute)
	// Wrong PKCE verifier: the code was issued for another challenge.
	q = signIn()
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	loc, _ = f.idp.AuthorizeURL(authURL(q))
	lu, _ = url.Parse(loc)
	if r := close(lu.Query()); r.Code != identity.ErrCodeTokenExchange {
		t.Fatalf("wrong verifier: %+v", r)
	}
	// Opened outside a connect.
	if r := close(url.Values{}); r.Status != "error" {
		t.Fatalf("bare page: %+v", r)
	}
}

func authURL(q url.Values) string { return "https://idp.invalid/authorize?" + q.Encode() }

func TestSessionTokensAndRefresh(t *testing.T) {
	f := setup(t, true)
	f.user("alice", models.RoleUser)
	s := f.session(f.connect("alice", true, idptest.Account{Email: "alice@contoso.example", ObjectID: "oid-a"}).Handoff)

	// Refresh rotation and reuse detection.
	r := f.env.Do("POST", "/api/v1/session/refresh", map[string]string{"refreshToken": s.RefreshToken}, "")
	var s2 session
	r.JSON(t, &s2)
	if r.Status != 200 || s2.RefreshToken == "" || s2.RefreshToken == s.RefreshToken {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	if r := f.env.Do("POST", "/api/v1/session/refresh", map[string]string{"refreshToken": s.RefreshToken}, ""); r.Status != 401 {
		t.Fatalf("reuse: %d", r.Status)
	}
	if r := f.env.Do("POST", "/api/v1/session/refresh", map[string]string{"refreshToken": s2.RefreshToken}, ""); r.Status != 401 {
		t.Fatalf("family not revoked: %d", r.Status)
	}
	if r := f.env.Do("GET", "/api/v1/me", nil, s2.AccessToken); r.Status != 401 {
		t.Fatalf("session not revoked: %d", r.Status)
	}
	if r := f.env.Do("POST", "/api/v1/session/refresh", map[string]any{"refreshToken": 5}, ""); r.Status != 400 || r.Fields()["refreshToken"] == "" {
		t.Fatalf("bad body: %d %s", r.Status, r.Body)
	}

	// Every token failure is 401.
	bob := f.user("bob", models.RoleUser)
	good := f.env.Login(bob.ID)
	parts := strings.Split(good, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	wrongKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(mustMap(claims))).SignedString([]byte("another key of 32 bytes........."))
	expired := func() string {
		f.now = f.now.Add(-time.Hour)
		defer func() { f.now = f.now.Add(time.Hour) }()
		return f.env.Login(bob.ID)
	}()
	cases := map[string]string{
		"missing": "", "malformed": "not.a.jwt", "alg none": none, "wrong signature": wrongKey, "expired": expired,
		"tampered": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(claims), `"role":"user"`, `"role":"admin"`, 1))) + "." + parts[2],
	}
	for name, tok := range cases {
		if r := f.env.Do("GET", "/api/v1/me", nil, tok); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Inactive user → 401; admin routes for non-admins → 403.
	if r := f.env.Do("GET", "/api/v1/admin/mappings", nil, good); r.Status != 403 {
		t.Fatalf("non-admin: %d", r.Status)
	}
	if r := f.env.Do("PUT", "/api/v1/admin/registration", map[string]string{"applicationId": appID, "name": "x"}, good); r.Status != 403 {
		t.Fatalf("non-admin: %d", r.Status)
	}
	f.env.Store.DB(context.Background()).Model(bob).Update("active", false)
	if r := f.env.Do("GET", "/api/v1/me", nil, good); r.Status != 401 {
		t.Fatalf("inactive: %d", r.Status)
	}
}

func mustMap(b []byte) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

func TestPasswordSignInAndLimits(t *testing.T) {
	f := setup(t, false)
	f.user("carol", models.RoleUser)
	r := f.env.Do("POST", "/api/v1/session/password", map[string]string{"username": "root", "password": password}, "")
	var s session
	r.JSON(t, &s)
	if r.Status != 200 || s.RefreshToken != "" {
		t.Fatalf("admin sign-in: %d %s", r.Status, r.Body)
	}
	if r := f.env.Do("GET", "/api/v1/admin/registration", nil, s.AccessToken); r.Status != 200 {
		t.Fatalf("admin session: %d", r.Status)
	}
	if r := f.env.Do("POST", "/api/v1/session/password", map[string]string{"username": "carol", "password": password}, ""); r.Status != 403 {
		t.Fatalf("non-admin: %d", r.Status)
	}
	for i := 0; i < 8; i++ {
		r := f.env.Do("POST", "/api/v1/session/password", map[string]string{"username": "root", "password": "wrong"}, "")
		if r.Status != 401 || !strings.Contains(string(r.Body), "Invalid username or password") {
			t.Fatalf("wrong password: %d %s", r.Status, r.Body)
		}
	}
	r = f.env.Do("POST", "/api/v1/session/password", map[string]string{"username": "nobody", "password": "x"}, "")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("limit: %d %v %s", r.Status, r.Header, r.Body)
	}
	f.now = f.now.Add(2 * time.Minute)
	if r := f.env.Do("POST", "/api/v1/session/password", map[string]string{"username": "root", "password": password}, ""); r.Status != 200 {
		t.Fatalf("after window: %d", r.Status)
	}
}

func TestNoSecretsInClear(t *testing.T) {
	f := setup(t, true)
	f.user("alice", models.RoleUser)
	res := f.connect("alice", true, idptest.Account{Email: "alice@contoso.example", ObjectID: "oid-a"})
	s := f.session(res.Handoff)
	db := f.env.Store.DB(context.Background())
	var dump []string
	for _, table := range []string{"registrations", "token_caches", "refresh_tokens", "handoff_codes", "connect_attempts", "sessions", "user_mappings"} {
		rows, err := db.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					dump = append(dump, string(x))
				case string:
					dump = append(dump, x)
				}
			}
		}
		rows.Close()
	}
	all := strings.Join(dump, "\n")
	for name, secret := range map[string]string{"client secret": appSecret, "refresh token": s.RefreshToken, "handoff": res.Handoff, "access token": s.AccessToken, "MS token prefix": "at-"} {
		if strings.Contains(all, secret) {
			t.Errorf("%s stored in clear", name)
		}
	}
	var n int64
	db.Table("token_caches").Count(&n)
	if n != 1 {
		t.Fatalf("token caches: %d", n)
	}
}

func TestTokenRefreshJob(t *testing.T) {
	f := setup(t, true)
	f.user("alice", models.RoleUser)
	f.idp.AccessTokenTTL = time.Minute // inside MSAL's 5-minute margin: every silent call refreshes
	f.connect("alice", true, idptest.Account{Email: "alice@contoso.example", ObjectID: "oid-a"})
	svc := f.env.App.Identity
	ctx := context.Background()
	ids, err := svc.RefreshCandidates(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("candidates %v %v", ids, err)
	}
	uid := ids[0]
	authorized := func() (bool, string) {
		m, err := svc.MappingOf(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return m.Authorized, m.AuthError
	}
	before := f.idp.Requests("refresh_token")
	if err := svc.RefreshUser(ctx, uid); err != nil {
		t.Fatalf("success: %v", err)
	}
	if ok, _ := authorized(); !ok || f.idp.Requests("refresh_token") != before+1 {
		t.Fatalf("success: authorized=%v requests=%d", ok, f.idp.Requests("refresh_token"))
	}
	// Transient 503: returned (River retries), mapping unchanged; the retry succeeds.
	f.idp.FailTokenRequests(503)
	err = svc.RefreshUser(ctx, uid)
	var te *identity.TransientError
	if !errorsAs(err, &te) {
		t.Fatalf("503: %v", err)
	}
	if ok, _ := authorized(); !ok {
		t.Fatal("503 changed the mapping")
	}
	if err := svc.RefreshUser(ctx, uid); err != nil {
		t.Fatalf("retry: %v", err)
	}
	// invalid_grant → not authorized, shown by /me.
	f.idp.RevokeAll("alice@contoso.example")
	if err := svc.RefreshUser(ctx, uid); err != nil {
		t.Fatalf("invalid_grant should end the job: %v", err)
	}
	if ok, reason := authorized(); ok || reason != "invalid_grant" {
		t.Fatalf("invalid_grant: authorized=%v reason=%q", ok, reason)
	}
	if _, err := svc.Token(ctx, "2"); !errorsIs(err, identity.ErrReconnect) {
		t.Fatalf("token source: %v", err)
	}
}
