package identity

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/salesbridge/salesbridge/models"
)

// Session lifetimes (PRODUCT §3.4).
const (
	AccessTokenTTL      = 15 * time.Minute
	TrustedSessionTTL   = 30 * 24 * time.Hour
	UntrustedSessionTTL = 8 * time.Hour
	AdminSessionTTL     = 8 * time.Hour
)

const (
	jwtIssuer   = "salesbridge"
	jwtAudience = "salesbridge-api"
)

// Principal is the authenticated caller of an API request.
type Principal struct {
	UserID    int64
	SessionID string
	Role      string
	Username  string
	Trusted   bool
	Kind      string
}

// IsAdmin reports whether the caller has the admin role.
func (p Principal) IsAdmin() bool { return p.Role == models.RoleAdmin }

type accessClaims struct {
	SessionID string `json:"sid"`
	Role      string `json:"role"`
	jwt.RegisteredClaims
}

// Sessions issues and verifies sessions. It is safe for concurrent use.
type Sessions struct {
	Store *models.Store
	Keys  *Keys
	Now   func() time.Time
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Create opens a session for a user and returns it with a signed access
// token. kind is "pane" or "admin". It runs in the transaction of ctx.
func (s *Sessions) Create(ctx context.Context, userID int64, trusted bool, kind string) (*models.Session, string, time.Time, error) {
	now := s.now()
	ttl := UntrustedSessionTTL
	switch {
	case kind == "admin":
		ttl = AdminSessionTTL
		trusted = false
	case trusted:
		ttl = TrustedSessionTTL
	}
	sess := &models.Session{ID: RandomToken(24), UserID: userID, Trusted: trusted, Kind: kind, ExpiresAt: now.Add(ttl), CreatedAt: now, LastSeenAt: &now}
	if err := s.Store.DB(ctx).Create(sess).Error; err != nil {
		return nil, "", time.Time{}, err
	}
	tok, exp, err := s.AccessToken(ctx, sess)
	return sess, tok, exp, err
}

// AccessToken signs a 15-minute access JWT for a session (never outliving
// the session itself).
func (s *Sessions) AccessToken(ctx context.Context, sess *models.Session) (string, time.Time, error) {
	var u models.User
	if err := s.Store.DB(ctx).First(&u, sess.UserID).Error; err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	exp := now.Add(AccessTokenTTL)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	claims := accessClaims{
		SessionID: sess.ID,
		Role:      u.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    jwtIssuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.ClaimStrings{jwtAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = s.Keys.kid()
	signed, err := t.SignedString(s.Keys.current.jwt)
	return signed, exp, err
}

var errUnauthenticated = &models.Error{Code: models.CodeUnauthenticated, Message: "Your session is missing, expired or revoked. Please connect again."}

// Authenticate verifies an access token (signature with the algorithm
// pinned to HS256, issuer, audience, expiry) and that its session is live
// and its user active. Every failure is unauthenticated.
func (s *Sessions) Authenticate(ctx context.Context, raw string) (Principal, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		return s.Keys.current.jwt, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(jwtIssuer),
		jwt.WithAudience(jwtAudience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil || claims.SessionID == "" {
		return Principal{}, errUnauthenticated
	}
	uid, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil {
		return Principal{}, errUnauthenticated
	}
	var row struct {
		UserID    int64
		Trusted   bool
		Kind      string
		ExpiresAt time.Time
		RevokedAt *time.Time
		Role      string
		Username  string
		Active    bool
	}
	err = s.Store.DB(ctx).Raw(`SELECT s.user_id, s.trusted, s.kind, s.expires_at, s.revoked_at, u.role, u.username, u.active
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, claims.SessionID).Scan(&row).Error
	if err != nil {
		return Principal{}, err
	}
	if row.UserID == 0 || row.UserID != uid || row.RevokedAt != nil || !row.Active || !row.ExpiresAt.After(s.now()) {
		return Principal{}, errUnauthenticated
	}
	return Principal{UserID: row.UserID, SessionID: claims.SessionID, Role: row.Role, Username: row.Username, Trusted: row.Trusted, Kind: row.Kind}, nil
}

// RevokeUser revokes every live session of a user (mapping deleted, user
// deactivated).
func (s *Sessions) RevokeUser(ctx context.Context, userID int64) error {
	return s.Store.DB(ctx).Model(&models.Session{}).
		Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", s.now()).Error
}

// Revoke revokes one session.
func (s *Sessions) Revoke(ctx context.Context, sessionID string) error {
	res := s.Store.DB(ctx).Model(&models.Session{}).Where("id = ? AND revoked_at IS NULL", sessionID).Update("revoked_at", s.now())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errors.New("session not found")
	}
	return nil
}
