package identity

import (
	"context"
	"errors"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// Grant is a new or refreshed session as the pane receives it.
type Grant struct {
	AccessToken  string
	ExpiresAt    time.Time
	RefreshToken string // only for trusted sessions
	User         models.User
}

// ErrRefreshReused is returned when a rotated refresh token is presented
// again: the whole family (the session) has been revoked and the caller
// must commit that before answering 401.
var ErrRefreshReused = &models.Error{Code: models.CodeUnauthenticated,
	Message: "This refresh token was already used; the session has been signed out for safety. Please connect again."}

var errHandoff = &models.Error{Code: models.CodeUnauthenticated, Message: "The connect code is unknown, expired or already used. Click Connect again."}

var errRefresh = &models.Error{Code: models.CodeUnauthenticated, Message: "The refresh token is unknown, expired or revoked. Please connect again."}

// ExchangeHandoff trades a one-time handoff code for a pane session; the
// refresh token comes only with a trusted connect.
func (s *Service) ExchangeHandoff(ctx context.Context, code string) (*Grant, error) {
	if code == "" || len(code) > 200 {
		return nil, errHandoff
	}
	db := s.Store.DB(ctx)
	var h models.HandoffCode
	hash := s.Keys.HashToken("handoff:" + code)
	res := db.Where("code_hash = ?", hash).Limit(1).Find(&h)
	if res.Error != nil {
		return nil, res.Error
	}
	now := s.now()
	if res.RowsAffected == 0 || h.UsedAt != nil || !h.ExpiresAt.After(now) {
		return nil, errHandoff
	}
	res = db.Model(&models.HandoffCode{}).Where("code_hash = ? AND used_at IS NULL", hash).Update("used_at", now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, errHandoff
	}
	return s.grant(ctx, h.UserID, h.Trusted, "pane")
}

func (s *Service) grant(ctx context.Context, uid int64, trusted bool, kind string) (*Grant, error) {
	var u models.User
	if err := s.Store.DB(ctx).First(&u, uid).Error; err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, errBadCredentials
	}
	sess, tok, exp, err := s.Sessions.Create(ctx, uid, trusted, kind)
	if err != nil {
		return nil, err
	}
	g := &Grant{AccessToken: tok, ExpiresAt: exp, User: u}
	if sess.Trusted {
		if g.RefreshToken, err = s.newRefreshToken(ctx, sess); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (s *Service) newRefreshToken(ctx context.Context, sess *models.Session) (string, error) {
	rt := RandomToken(32)
	row := &models.RefreshToken{SessionID: sess.ID, TokenHash: s.Keys.HashToken("refresh:" + rt), ExpiresAt: sess.ExpiresAt, CreatedAt: s.now()}
	return rt, s.Store.DB(ctx).Create(row).Error
}

// Refresh rotates a refresh token: the presented one is spent and a new
// one and a new access token are returned. Presenting a spent token
// revokes its session (ErrRefreshReused).
func (s *Service) Refresh(ctx context.Context, token string) (*Grant, error) {
	if token == "" || len(token) > 200 {
		return nil, errRefresh
	}
	db := s.Store.DB(ctx)
	now := s.now()
	var rt models.RefreshToken
	res := db.Where("token_hash = ?", s.Keys.HashToken("refresh:"+token)).Limit(1).Find(&rt)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errRefresh
	}
	if rt.RotatedAt != nil {
		if err := s.Sessions.RevokeUserSession(ctx, rt.SessionID); err != nil {
			return nil, err
		}
		return nil, ErrRefreshReused
	}
	var sess models.Session
	if err := db.Where("id = ?", rt.SessionID).First(&sess).Error; err != nil {
		return nil, errRefresh
	}
	if sess.RevokedAt != nil || !sess.ExpiresAt.After(now) || !rt.ExpiresAt.After(now) {
		return nil, errRefresh
	}
	res = db.Model(&models.RefreshToken{}).Where("id = ? AND rotated_at IS NULL", rt.ID).Update("rotated_at", now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		if err := s.Sessions.RevokeUserSession(ctx, rt.SessionID); err != nil {
			return nil, err
		}
		return nil, ErrRefreshReused
	}
	var u models.User
	if err := db.First(&u, sess.UserID).Error; err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, errRefresh
	}
	tok, exp, err := s.Sessions.AccessToken(ctx, &sess)
	if err != nil {
		return nil, err
	}
	next, err := s.newRefreshToken(ctx, &sess)
	if err != nil {
		return nil, err
	}
	db.Model(&models.Session{}).Where("id = ?", sess.ID).Update("last_seen_at", now)
	return &Grant{AccessToken: tok, ExpiresAt: exp, RefreshToken: next, User: u}, nil
}

// PasswordSignIn opens an admin console session from a username and
// password alone; only administrators may (PRODUCT §3.6).
func (s *Service) PasswordSignIn(ctx context.Context, username, password string) (*Grant, error) {
	u, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if u.Role != models.RoleAdmin {
		return nil, models.Errorf(models.CodePermissionDenied,
			"Password sign-in is for administrators. Sales users sign in from Outlook: open the SalesBridge pane and click Connect.")
	}
	return s.grant(ctx, u.ID, false, "admin")
}

// SignOut revokes the caller's session (and with it its refresh tokens).
func (s *Service) SignOut(ctx context.Context, sessionID string) error {
	return s.Sessions.RevokeUserSession(ctx, sessionID)
}

// RevokeUserSession revokes one session, idempotently.
func (s *Sessions) RevokeUserSession(ctx context.Context, sessionID string) error {
	err := s.Revoke(ctx, sessionID)
	if err != nil && err.Error() == "session not found" {
		return nil
	}
	return err
}

// IsRefreshReused reports whether err is the reuse-detection failure.
func IsRefreshReused(err error) bool { return errors.Is(err, ErrRefreshReused) }
