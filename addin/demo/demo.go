// Package demo seeds demonstration data: sales users with documented
// credentials and a CRM with accounts, contacts, leads, opportunities and
// activities, so every panel feature has something to show.
package demo

import (
	"context"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/salesbridge/salesbridge/models"
)

// Demo credentials, documented in the README.
const (
	AdminUsername = "admin"
	AdminPassword = "salesbridge-admin"
	UserPassword  = "salesbridge-demo"
)

// Users are the demo sales users (the first is the administrator).
var Users = []struct{ Username, Name, Email, Role string }{
	{AdminUsername, "Alex Admin", "admin@contoso.example", models.RoleAdmin},
	{"jsmith", "Jordan Smith", "jordan.smith@contoso.example", models.RoleUser},
	{"mgarcia", "Maria Garcia", "maria.garcia@contoso.example", models.RoleUser},
	{"kchen", "Kai Chen", "kai.chen@contoso.example", models.RoleUser},
	{"pnovak", "Petra Novak", "petra.novak@contoso.example", models.RoleUser},
}

// Seed creates the demo data once; running it again changes nothing.
func Seed(ctx context.Context, s *models.Store) error {
	return s.Tx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		hashes := map[string][]byte{}
		for _, u := range Users {
			var n int64
			if err := db.Model(&models.User{}).Where("lower(username) = lower(?)", u.Username).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			pw := UserPassword
			if u.Role == models.RoleAdmin {
				pw = AdminPassword
			}
			// one hash per documented password keeps start-up quick; the
			// passwords are public anyway
			hash, ok := hashes[pw]
			if !ok {
				h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
				if err != nil {
					return err
				}
				hash = h
				hashes[pw] = h
			}
			now := time.Now().UTC()
			if err := db.Create(&models.User{Username: u.Username, DisplayName: u.Name, Email: u.Email,
				PasswordHash: string(hash), Role: u.Role, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
				return err
			}
		}
		return seedCRM(ctx, s, time.Now().UTC())
	})
}
