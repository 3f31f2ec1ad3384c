// Package e2e_test drives the task pane, the ribbon's function file and the
// sign-in pages in headless Chromium against a real server on a demo
// database, with Office.js replaced by a test shim.
package e2e_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
	"github.com/salesbridge/salesbridge/addin/identity/idptest"
	syncer "github.com/salesbridge/salesbridge/addin/sync"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
	"github.com/salesbridge/salesbridge/server/servertest"
)

//go:embed testdata/office-shim.js
var officeShim string

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI=true (apt-get install chromium)")
	}
	t.Skip("Chromium not found: install Debian's chromium to run the browser tests")
	return ""
}

// item is the Outlook item the shim shows.
type item struct {
	Kind              string   `json:"kind"`
	Subject           string   `json:"subject"`
	From              *person  `json:"from,omitempty"`
	To                []person `json:"to,omitempty"`
	Cc                []person `json:"cc,omitempty"`
	InternetMessageID string   `json:"internetMessageId,omitempty"`
	ConversationID    string   `json:"conversationId,omitempty"`
	Organizer         *person  `json:"organizer,omitempty"`
	Attendees         []person `json:"attendees,omitempty"`
	Start             string   `json:"start,omitempty"`
	End               string   `json:"end,omitempty"`
	ICalUID           string   `json:"iCalUId,omitempty"`
	Body              string   `json:"body,omitempty"`
}

type person struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string

	mu   sync.Mutex
	item *item
}

func newBrowser(t *testing.T, base string) *browser {
	exe := chromiumPath(t)
	dir := os.Getenv("SALESBRIDGE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "e2e-"+strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, base: base, artifacts: dir}
	// Office.js comes from Microsoft's CDN host, which the browser resolves
	// to a local TLS server answering with the shim and the current item.
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		cfg, _ := json.Marshal(map[string]any{"item": b.item, "user": person{"jordan.smith@contoso.example", "Jordan Smith"}})
		b.mu.Unlock()
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "window.__SHIM_CONFIG = "+string(cfg)+";\n"+officeShim)
	}))
	t.Cleanup(cdn.Close)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(420, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-popup-blocking", true),
		// the CDN shim and the fake identity platform use test certificates
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("host-resolver-rules", "MAP appsforoffice.microsoft.com "+cdn.Listener.Addr().String()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) setItem(it *item) {
	b.mu.Lock()
	b.item = it
	b.mu.Unlock()
}

// run runs actions with a timeout, failing the test with a screenshot.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + what)
		tctx, tcancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer tcancel()
		text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.getElementById('view') || document.body).innerText`))
		b.t.Fatalf("%s: %v\npane text: %s", what, err, text)
	}
}

func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(b.artifacts, name+".png"), buf, 0o644)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		b.shot("failed-eval")
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path))
}

const pane = "/crmUI/osc365/web/index.html"

type fixture struct {
	env     *servertest.Env
	b       *browser
	user    models.User
	contact models.Contact
	account models.Account
	idp     *idptest.IDP
	front   *front
	skew    atomic.Int64 // how far the server's clock is ahead

	// graph is the fake Microsoft Graph the App's client talks to; mbx is
	// the user's mailbox there.
	graph  *graphtest.Server
	mbx    *graphtest.Mailbox
	tokens graph.StaticTokens
}

// advance moves the server's clock forward.
func (f *fixture) advance(d time.Duration) { f.skew.Add(int64(d)) }

// setup runs the real server on a demo database, with the fake Microsoft
// identity platform for the connect dialog and a fake Microsoft Graph for
// sync and share. Every request of the browser reaches the real engine.
func setup(t *testing.T) *fixture {
	chromiumPath(t)
	fr := &front{drop: map[string]int{}, calls: map[string]int{}}
	srv := httptest.NewServer(fr)
	t.Cleanup(srv.Close)
	f := &fixture{front: fr, tokens: graph.StaticTokens{}}
	f.idp = idptest.New(e2eAppID, e2eAppSecret)
	t.Cleanup(f.idp.Close)
	f.graph = graphtest.New()
	t.Cleanup(f.graph.Close)
	env := servertest.New(t, func(cfg *server.Config, opts *server.Options) {
		cfg.PublicURL = srv.URL
		opts.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(f.skew.Load())) }
		cfg.AuthorityURL = f.idp.Authority()
		// the identity platform's client trusts its test certificate; the
		// Graph fake is plain HTTP
		opts.HTTPClient = f.idp.Client()
		cfg.GraphURL = f.graph.URL()
		opts.GraphTokens = f.tokens
	})
	ctx := context.Background()
	if err := demo.Seed(ctx, env.Store); err != nil {
		t.Fatal(err)
	}
	f.env = env
	db := env.Store.DB(ctx)
	if err := db.Where("username = ?", "jsmith").First(&f.user).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Where("account_id IS NOT NULL").Order("id").First(&f.contact).Error; err != nil {
		t.Fatal(err)
	}
	db.First(&f.account, *f.contact.AccountID)
	f.mbx = f.graph.AddMailbox("mbx-jsmith", graphtest.MailboxOptions{Address: f.user.Email, DisplayName: f.user.DisplayName})
	f.tokens[syncer.GraphUser(f.user.ID)] = "mbx-jsmith"
	f.idp.Select(idptest.Account{Email: f.user.Email, ObjectID: "oid-jsmith"})
	fr.real = env.App.Engine
	var admin models.User
	db.Where("username = ?", demo.AdminUsername).First(&admin)
	r := env.Do("PUT", "/api/v1/admin/registration", map[string]any{"applicationId": e2eAppID, "applicationKey": e2eAppSecret, "name": "SalesBridge"}, env.Login(admin.ID))
	if r.Status != 200 {
		t.Fatalf("register the add-in: %d %s", r.Status, r.Body)
	}
	f.b = newBrowser(t, srv.URL)
	return f
}

// connect clicks Connect on the pane and goes through the real dialog: the
// sales sign-in page, the fake Microsoft identity platform, close.html and
// the handoff the pane trades for a session.
func (f *fixture) connect(t *testing.T, trusted bool, shot string) {
	t.Helper()
	b := f.b
	b.run("connect screen", chromedp.WaitVisible(chromedp.CSS(`#connect`)))
	if trusted {
		b.run("trusted", chromedp.Click(chromedp.CSS(`#trusted`)))
	}
	before := map[target.ID]bool{}
	if infos, err := chromedp.Targets(b.ctx); err == nil {
		for _, in := range infos {
			before[in.TargetID] = true
		}
	}
	b.run("connect", chromedp.Click(chromedp.CSS(`#connect`)))
	var popup target.ID
	deadline := time.Now().Add(15 * time.Second)
	for popup == "" && time.Now().Before(deadline) {
		infos, _ := chromedp.Targets(b.ctx)
		for _, in := range infos {
			if in.Type == "page" && !before[in.TargetID] && (strings.Contains(in.URL, "/connect/") || strings.Contains(in.URL, "signin")) {
				popup = in.TargetID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if popup == "" {
		t.Fatal("the connect dialog did not open")
	}
	pctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(popup))
	defer cancel()
	tctx, tcancel := context.WithTimeout(pctx, 20*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`#signin-form #username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), f.user.Username), chromedp.SendKeys(chromedp.CSS(`#password`), demo.UserPassword)); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	if shot != "" {
		if buf, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(b.artifacts, shot+".png"), buf, 0o644)
		}
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#signin-submit`))); err != nil {
		t.Fatalf("submit: %v", err)
	}
	b.run("connected", chromedp.WaitVisible(chromedp.CSS(`.person[data-contact]`)))
}

const (
	e2eAppID     = "11111111-2222-3333-4444-555555555555"
	e2eAppSecret = "e2e-app-secret"
)

func (f *fixture) email(n int, from person) *item {
	return &item{Kind: "email", Subject: fmt.Sprintf("Proposal %d", n), From: &from,
		To:                []person{{f.user.Email, f.user.DisplayName}},
		Cc:                []person{{"new.person@unknown-corp.example", "Nina Neumann"}},
		InternetMessageID: fmt.Sprintf("<e2e-%d@mail.example>", n), ConversationID: fmt.Sprintf("conv-%d", n), Body: "Hello from the test"}
}

func (f *fixture) sender() person {
	return person{f.contact.Email, f.contact.FirstName + " " + f.contact.LastName}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
