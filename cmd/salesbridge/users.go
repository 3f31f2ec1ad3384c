package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/salesbridge/salesbridge/server"
)

func createUser(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("create-user", flag.ContinueOnError)
	username := fs.String("username", "", "sign-in name")
	password := fs.String("password", "", "password (at least 8 characters)")
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "give the administrator role")
	dbURL := fs.String("database-url", "", "database URL (default SALESBRIDGE_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := offlineApp(ctx, getenv, "--database-url", *dbURL)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.CreateUser(ctx, server.NewUser{Username: strings.TrimSpace(*username), Password: *password,
		Email: strings.TrimSpace(*email), DisplayName: strings.TrimSpace(*name), Admin: *admin})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created user %s (id %d, role %s)\n", u.Username, u.ID, u.Role)
	return nil
}
