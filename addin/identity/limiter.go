package identity

import (
	"context"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// Abuse limits of the sign-in steps (per IP and per username).
const (
	SignInLimit  = 10
	SignInWindow = time.Minute
)

// SignInAttempt records one sign-in attempt under each of keys (e.g.
// "ip:203.0.113.9", "user:alice") and refuses it with rate_limited when any
// key already saw SignInLimit attempts in the last SignInWindow. The
// counts live in the database so the limit holds across replicas; call it
// outside the request's transaction so a refused or failed sign-in still
// counts.
func (s *Service) SignInAttempt(ctx context.Context, keys ...string) error {
	now := s.now()
	since := now.Add(-SignInWindow)
	return s.Store.Tx(ctx, func(ctx context.Context) error {
		db := s.Store.DB(ctx)
		for _, k := range keys {
			h := s.Keys.HashToken("signin:" + k)
			var n int64
			if err := db.Table("signin_attempts").Where("key_hash = ? AND at > ?", h, since).Count(&n).Error; err != nil {
				return err
			}
			if n >= SignInLimit {
				var oldest struct{ At time.Time }
				retry := int(SignInWindow.Seconds())
				if db.Table("signin_attempts").Select("at").Where("key_hash = ? AND at > ?", h, since).
					Order("at").Limit(1).Scan(&oldest).Error == nil && !oldest.At.IsZero() {
					retry = int(oldest.At.Add(SignInWindow).Sub(now).Seconds()) + 1
				}
				if retry < 1 {
					retry = 1
				}
				return &models.Error{Code: models.CodeRateLimited, Message: "Too many sign-in attempts. Please wait a minute and try again.",
					Details: map[string]any{"retryAfter": retry}}
			}
		}
		for _, k := range keys {
			if err := db.Exec("INSERT INTO signin_attempts (key_hash, at) VALUES (?, ?)", s.Keys.HashToken("signin:"+k), now).Error; err != nil {
				return err
			}
		}
		return db.Exec("DELETE FROM signin_attempts WHERE at < ?", now.Add(-10*SignInWindow)).Error
	})
}
