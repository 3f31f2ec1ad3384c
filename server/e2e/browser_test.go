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

	"github.com/chromedp/chromedp"

	"github.com/salesbridge/salesbridge/addin/demo"
	"github.com/salesbridge/salesbridge/addin/identity/idptest"
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
	stub    *contractStub
	b       *browser
	user    models.User
	contact models.Contact
	account models.Account
	idp     *idptest.IDP
	front   *front
	skew    atomic.Int64 // how far the server's clock is ahead
}

// advance moves the server's clock forward.
func (f *fixture) advance(d time.Duration) { f.skew.Add(int64(d)) }

// setup runs a server on a demo database behind a front that sends the
// stubbed feature endpoints to the contract stub. With realIdentity the
// connect dialog and sessions are the identity feature's, against the fake
// Microsoft identity platform.
func setup(t *testing.T, realIdentity bool) *fixture {
	chromiumPath(t)
	fr := &front{}
	srv := httptest.NewServer(fr)
	t.Cleanup(srv.Close)
	var idp *idptest.IDP
	f := &fixture{front: fr}
	env := servertest.New(t, func(cfg *server.Config, opts *server.Options) {
		cfg.PublicURL = srv.URL
		opts.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(f.skew.Load())) }
		if realIdentity {
			idp = idptest.New(e2eAppID, e2eAppSecret)
			t.Cleanup(idp.Close)
			cfg.AuthorityURL = idp.Authority()
			opts.HTTPClient = idp.Client()
		}
	})
	ctx := context.Background()
	if err := demo.Seed(ctx, env.Store); err != nil {
		t.Fatal(err)
	}
	f.env, f.idp = env, idp
	db := env.Store.DB(ctx)
	if err := db.Where("username = ?", "jsmith").First(&f.user).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Where("account_id IS NOT NULL").Order("id").First(&f.contact).Error; err != nil {
		t.Fatal(err)
	}
	db.First(&f.account, *f.contact.AccountID)
	f.stub = newStub(env, f.user.ID)
	f.stub.realConnect = realIdentity
	fr.real, fr.stub = env.App.Engine, f.stub.Handler()
	if realIdentity {
		var admin models.User
		db.Where("username = ?", demo.AdminUsername).First(&admin)
		r := env.Do("PUT", "/api/v1/admin/registration", map[string]any{"applicationId": e2eAppID, "applicationKey": e2eAppSecret, "name": "SalesBridge"}, env.Login(admin.ID))
		if r.Status != 200 {
			t.Fatalf("register the add-in: %d %s", r.Status, r.Body)
		}
	}
	f.b = newBrowser(t, srv.URL)
	return f
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
