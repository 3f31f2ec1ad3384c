package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/salesbridge/salesbridge/addin/identity"
)

// register stores the add-in's app registration, as the admin page does,
// for operators who configure by command.
func register(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	appID := fs.String("application-id", "", "Application (client) ID of the Azure AD app registration")
	key := fs.String("application-key", "", "Application Key (client secret value); prefer --application-key-file")
	keyFile := fs.String("application-key-file", "", "file holding the Application Key")
	name := fs.String("name", "SalesBridge", "display name of the add-in")
	dbURL := fs.String("database-url", "", "database URL (default SALESBRIDGE_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := *key
	if *keyFile != "" {
		if secret != "" {
			return errors.New("give --application-key or --application-key-file, not both")
		}
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		secret = strings.TrimSpace(string(b))
	}
	a, err := offlineApp(ctx, getenv, "--database-url", *dbURL)
	if err != nil {
		return err
	}
	defer a.Close()
	upd := identity.RegistrationUpdate{ApplicationID: *appID, Name: *name}
	if secret != "" {
		upd.ApplicationKey = &secret
	}
	err = a.Store.Tx(ctx, func(ctx context.Context) error {
		_, err := a.Identity.SetRegistration(ctx, 0, upd)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "registered the add-in %q (application id %s); reply URL %s\n", *name, *appID, a.Identity.RedirectURI())
	return nil
}
