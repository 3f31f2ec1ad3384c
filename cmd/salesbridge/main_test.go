package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestMigrateTwiceThenRefuseNewerSchema(t *testing.T) {
	url := dbtest.NewDatabaseURL(t)
	vars := map[string]string{"SALESBRIDGE_DATABASE_URL": url, "SALESBRIDGE_SECRET_KEY": strings.Repeat("k", 40)}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, &out, env(vars)); err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate"}, &out, env(vars)); err != nil || !strings.Contains(out.String(), "applied 0 migration") {
		t.Fatalf("second migrate: %v %q", err, out.String())
	}
	s, err := models.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB(ctx).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99999, 'from_the_future', ?)", time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	for _, cmd := range [][]string{{"migrate"}, {"serve", "--addr", "127.0.0.1:0"}} {
		err := run(ctx, cmd, &out, env(vars))
		if !errors.Is(err, models.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99999") {
			t.Fatalf("%v on a newer schema: %v", cmd, err)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveUntilHealthy runs serve, waits for /healthz to answer 200, then
// stops it and returns serve's error.
func serveUntilHealthy(t *testing.T, vars map[string]string) error {
	t.Helper()
	addr := freeAddr(t)
	vars["SALESBRIDGE_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"serve"}, &bytes.Buffer{}, env(vars)) }()
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve stopped before answering /healthz: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				cancel()
				return <-errc
			}
		}
		runtime.Gosched()
		time.Sleep(20 * time.Millisecond) // polling interval, not an assertion
	}
}

func TestServeStartsAndStops(t *testing.T) {
	url := dbtest.NewDatabaseURL(t)
	vars := map[string]string{"SALESBRIDGE_DATABASE_URL": url, "SALESBRIDGE_SECRET_KEY": strings.Repeat("k", 40), "SALESBRIDGE_DEMO": "on"}
	if err := serveUntilHealthy(t, vars); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// A second start on the same database migrates nothing and succeeds.
	if err := serveUntilHealthy(t, vars); err != nil {
		t.Fatalf("second serve: %v", err)
	}
}

func TestCreateUser(t *testing.T) {
	url := dbtest.NewDatabaseURL(t)
	vars := map[string]string{"SALESBRIDGE_DATABASE_URL": url, "SALESBRIDGE_SECRET_KEY": strings.Repeat("k", 40)}
	var out bytes.Buffer
	err := run(context.Background(), []string{"create-user", "--username", "zoe", "--password", "correct-horse", "--email", "zoe@example.com", "--name", "Zoe", "--admin"}, &out, env(vars))
	if err != nil || !strings.Contains(out.String(), "role admin") {
		t.Fatalf("create-user: %v %q", err, out.String())
	}
	err = run(context.Background(), []string{"create-user", "--username", "zoe", "--password", "short", "--email", "bad"}, &out, env(vars))
	if models.ErrorCode(err) != models.CodeInvalidArgument {
		t.Fatalf("bad create-user: %v", err)
	}
}
