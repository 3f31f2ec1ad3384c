package server

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/models"
)

// Migrate applies the migrations of cfg's database and reports the result.
func Migrate(ctx context.Context, cfg *Config, out io.Writer) error {
	s, err := models.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "applied %d migration(s); schema version %d\n", len(res.Applied), res.Current)
	return nil
}

// NewUser is a sales user to create.
type NewUser struct {
	Username, Password, Email, DisplayName string
	Admin                                  bool
}

// CreateUser validates and stores a sales user with a hashed password.
func (a *App) CreateUser(ctx context.Context, n NewUser) (*models.User, error) {
	fields := map[string]string{}
	if n.Username == "" || len(n.Username) > 64 || strings.ContainsAny(n.Username, " \t\r\n") {
		fields["username"] = "is required: 1–64 characters without spaces"
	}
	if len(n.Password) < 8 || len(n.Password) > 128 {
		fields["password"] = "must be 8–128 characters"
	}
	if _, err := mail.ParseAddress(n.Email); err != nil || n.Email == "" {
		fields["email"] = "must be an email address"
	}
	if n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	if len(fields) > 0 {
		return nil, models.Invalid(fields)
	}
	hash, err := identity.HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	role := models.RoleUser
	if n.Admin {
		role = models.RoleAdmin
	}
	now := time.Now().UTC()
	u := &models.User{Username: n.Username, DisplayName: n.DisplayName, Email: n.Email, PasswordHash: hash,
		Role: role, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := a.Store.Tx(ctx, func(ctx context.Context) error { return a.Store.DB(ctx).Create(u).Error }); err != nil {
		if models.ErrorCode(err) == models.CodeConflict {
			return nil, models.Errorf(models.CodeConflict, "a user named %q already exists", n.Username)
		}
		return nil, err
	}
	return u, nil
}
