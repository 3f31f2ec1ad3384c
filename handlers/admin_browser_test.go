package handlers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
)

// chromium finds Debian's chromium; locally a missing browser skips the
// test with the reason, under CI=true it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("skipping the browser test: chromium not found on PATH (apt-get install chromium)")
	return ""
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("SALESBRIDGE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "salesbridge-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAdminPagesInBrowser(t *testing.T) {
	bin := chromium(t)
	env, _, _, bob := adminEnv(t, func(cfg *server.Config, _ *server.Options) { cfg.PublicURL = "https://crm.contoso.example" })
	mapUser(t, env, bob, models.SyncActive, models.RunSucceeded, models.RunFailed)
	carol := env.CreateUser("carol", models.RoleUser)
	mapUser(t, env, carol, models.SyncActive)
	if _, err := env.App.CreateUser(context.Background(), server.NewUser{Username: "root", Password: "correct-horse-battery",
		Email: "root@contoso.example", Admin: true}); err != nil {
		t.Fatal(err)
	}

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	base := env.Server.URL
	fail := func(name string, err error) {
		t.Helper()
		if shot, e := chromedp.Run(ctx, chromedp.FullScreenshot(100)); e == nil {
			_ = os.WriteFile(filepath.Join(artifactsDir(t), "admin-failure.png"), shot, 0o644)
		}
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nbody: %.3000s", name, err, html)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			fail(name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("text of "+sel, err)
		}
		return strings.TrimSpace(v)
	}
	value := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			fail("value of "+sel, err)
		}
		return v
	}
	screenshot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			fail("screenshot", err)
		}
		if err := os.WriteFile(filepath.Join(artifactsDir(t), name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := func(contains string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(fmt.Sprintf(`//p[@id="status"][contains(., %q)]`, contains))
	}

	// Sign in with the sales sign-in (a wrong password first).
	step("open sign-in", chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	step("wrong password",
		chromedp.SendKeys(chromedp.CSS(`#signin-form input[name="username"]`), "root"),
		chromedp.SendKeys(chromedp.CSS(`#signin-form input[name="password"]`), "wrong-password"),
		chromedp.Click(chromedp.CSS(`#signin-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin-form p.error`)))
	step("sign in",
		chromedp.SetValue(chromedp.CSS(`#signin-form input[name="password"]`), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS(`#signin-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#settings-form[data-loaded="true"]`)))

	// Before registering, the manifest names what is missing.
	step("manifest without registration",
		chromedp.Click(chromedp.CSS("#download-manifest")),
		chromedp.WaitVisible(`//p[@id="manifest-error"][contains(., "applicationId")]`))
	step("register the add-in",
		chromedp.SendKeys(chromedp.CSS(`#registration-form input[name="applicationId"]`), "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"),
		chromedp.SendKeys(chromedp.CSS(`#registration-form input[name="name"]`), "Contoso Sales"),
		chromedp.SendKeys(chromedp.CSS(`#registration-form input[name="applicationKey"]`), "s3cret~value"),
		chromedp.Click(chromedp.CSS(`#registration-form button[type="submit"]`)),
		status("Registration saved."),
		chromedp.WaitVisible(`//span[@id="registration-note"][contains(., "application key is stored")]`),
		chromedp.Click(chromedp.CSS("#download-manifest")),
		status("Downloaded manifest.xml."))

	// Change settings and see them saved.
	step("change settings",
		chromedp.SetValue(chromedp.CSS(`input[name="batchSize"]`), "25"),
		chromedp.Click(chromedp.CSS(`#f-allowInviteesToShare`)),
		chromedp.Click(chromedp.CSS("#save-settings")),
		status("Settings saved (2 changes)"))
	st, err := settings.Load(context.Background(), env.Store)
	if err != nil || st.BatchSize != 25 || st.AllowInviteesToShare {
		t.Fatalf("saved settings = %+v, %v", st, err)
	}
	// An invalid value shows the server's message beside its field.
	step("invalid value",
		chromedp.SetValue(chromedp.CSS(`input[name="recentDays"]`), "999"),
		chromedp.Click(chromedp.CSS("#save-settings")),
		chromedp.WaitVisible(chromedp.CSS(`p[data-error-for="recentDays"]`)))
	if msg := text(`p[data-error-for="recentDays"]`); !strings.Contains(msg, "between 1 and 365") {
		t.Fatalf("inline error = %q", msg)
	}
	step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#settings-form[data-loaded="true"]`)))
	if v := value(`input[name="batchSize"]`); v != "25" {
		t.Fatalf("batch size after reload = %q", v)
	}
	screenshot("admin-manage.png")

	// Monitor: cards, chart, actions on selected users.
	step("open monitor", chromedp.Navigate(base+"/admin/#monitor"),
		chromedp.WaitVisible(chromedp.CSS(`#monitor-table[data-loaded="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart[data-days="14"]`)))
	if n := text(`[data-card="failed"] .n`); n != "1" {
		t.Fatalf("failed card = %q", n)
	}
	var n int64
	step("run one",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-user-id="%d"] input[type=checkbox]`, bob.ID))),
		chromedp.Click(chromedp.CSS(`[data-action="run"]`)),
		status("run: applied to 1 of 1"))
	env.Store.DB(context.Background()).Raw("SELECT COUNT(*) FROM river_job WHERE kind = 'sync.run'").Scan(&n)
	if n != 1 {
		t.Fatalf("sync.run jobs = %d", n)
	}
	step("suspend all",
		chromedp.Click(chromedp.CSS("#select-all")),
		chromedp.Click(chromedp.CSS(`[data-action="suspend"]`)),
		status("suspend: applied to 2 of 2"),
		chromedp.WaitVisible(`//td[@class="active"][contains(., "suspended")]`))
	env.Store.DB(context.Background()).Model(&models.UserMapping{}).Where("sync_state = ?", models.SyncSuspended).Count(&n)
	if n != 2 {
		t.Fatalf("suspended = %d", n)
	}
	step("resume and show runs",
		chromedp.Click(chromedp.CSS("#select-all")),
		chromedp.Click(chromedp.CSS(`[data-action="resume"]`)),
		status("resume: applied to 2 of 2"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[data-user="%d"]`, bob.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#user-runs .runs-run`)))
	screenshot("admin-monitor.png")
	t.Logf("screenshots in %s", artifactsDir(t))
}
