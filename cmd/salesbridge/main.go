// Command salesbridge runs the SalesBridge server and its administrative
// subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/salesbridge/salesbridge/server"
)

const usage = `usage: salesbridge <command> [flags]

commands:
  serve        run the server (migrates at start unless --no-migrate)
  migrate      apply database migrations and exit
  seed-demo    add the demo users and CRM data (idempotent)
  create-user  --username U --password P --email E --name N [--admin]
  manifest     --out FILE [--format xml|json]: write the add-in manifest
  register     --application-id ID --application-key[-file] KEY --name NAME
  healthcheck  exit 0 when the local server answers /healthz (for containers)

Every serve flag has a SALESBRIDGE_* environment variable; run
"salesbridge serve --help" for the list.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "salesbridge:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := server.LoadConfig(args, getenv)
		if err != nil {
			return err
		}
		return server.Run(ctx, cfg)
	case "migrate":
		cfg, err := server.LoadConfig(args, getenv)
		if err != nil {
			return err
		}
		return server.Migrate(ctx, cfg, out)
	case "seed-demo":
		cfg, err := server.LoadConfig(args, getenv)
		if err != nil {
			return err
		}
		cfg.Demo = true
		cfg.Workers = false
		a, err := server.New(ctx, cfg, server.Options{})
		if err != nil {
			return err
		}
		a.Close()
		fmt.Fprintln(out, "demo data is in place")
		return nil
	case "create-user":
		return createUser(ctx, args, out, getenv)
	case "manifest":
		return manifestCmd(ctx, args, out, getenv)
	case "register":
		return register(ctx, args, out, getenv)
	case "healthcheck":
		addr := getenv("SALESBRIDGE_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		c := &http.Client{Timeout: 3 * time.Second}
		resp, err := c.Get("http://127.0.0.1" + portOf(addr) + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz answered %d", resp.StatusCode)
		}
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

// portOf returns ":port" of a listen address.
func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i:]
		}
	}
	return ":8080"
}

// commandConfig loads the serve configuration for a one-shot command; flags
// are serve flags and values ("--database-url", url, …), empty values
// meaning "from the environment".
func commandConfig(getenv func(string) string, flags ...string) (*server.Config, error) {
	var args []string
	for i := 0; i+1 < len(flags); i += 2 {
		if flags[i+1] != "" {
			args = append(args, flags[i], flags[i+1])
		}
	}
	cfg, err := server.LoadConfig(args, getenv)
	if err != nil {
		return nil, err
	}
	cfg.Workers = false
	return cfg, nil
}

// offlineApp opens (and migrates) the configured database for a one-shot
// command: no listener, no workers.
func offlineApp(ctx context.Context, getenv func(string) string, flags ...string) (*server.App, error) {
	cfg, err := commandConfig(getenv, flags...)
	if err != nil {
		return nil, err
	}
	return server.New(ctx, cfg, server.Options{})
}
