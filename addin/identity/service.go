package identity

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// ReplyPaths are the three OAuth reply URLs (PRODUCT §2). The first is the
// one the connect flow sends to Microsoft; all three finish a connect.
var ReplyPaths = []string{
	"/crmUI/osc365/web/close.html",
	"/sales/office365/jet/close.html",
	"/crmUI/office365/jet/close.html",
}

// Scopes are the delegated permissions the add-in asks for (the admin
// guide's list).
var Scopes = []string{"openid", "profile", "offline_access", "User.Read", "Contacts.ReadWrite",
	"Calendars.ReadWrite", "Tasks.ReadWrite", "Mail.ReadWrite", "MailboxSettings.ReadWrite"}

// graphScopes are the resource scopes asked for silently (MSAL adds the
// OpenID ones itself).
var graphScopes = Scopes[3:]

// Lifetimes of the connect flow.
const (
	ConnectAttemptTTL = 10 * time.Minute
	HandoffTTL        = 60 * time.Second
)

// Service is the identity logic: connect flow, mappings, registration,
// session grants and Microsoft tokens. It is safe for concurrent use.
type Service struct {
	Store      *models.Store
	Keys       *Keys
	Sessions   *Sessions
	HTTPClient *http.Client
	// AuthorityURL is https://host/TENANT (SALESBRIDGE_AUTHORITY_URL).
	AuthorityURL string
	// PublicURL is the external base URL; the reply URL is built from it.
	PublicURL string
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// RedirectURI is the reply URL registered with Microsoft.
func (s *Service) RedirectURI() string {
	return strings.TrimRight(s.PublicURL, "/") + ReplyPaths[0]
}

// ErrReconnect means the user's Microsoft authorization is gone (no
// mapping, refresh token revoked or expired, consent withdrawn): only a new
// Connect fixes it.
var ErrReconnect = errors.New("the user must connect to Microsoft 365 again")

// ErrNotRegistered means the administrator has not registered the add-in.
var ErrNotRegistered = &models.Error{Code: models.CodePreconditionFailed,
	Message: "The administrator has not registered the add-in yet (Application ID and Application Key). Ask your administrator to register it under Manage Office 365."}

var errBadCredentials = &models.Error{Code: models.CodeUnauthenticated, Message: "Invalid username or password."}

// NormEmail is the comparison form of an email address.
func NormEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkPassword finds an active user by username and checks the password.
// Every failure is the same generic error.
func (s *Service) checkPassword(ctx context.Context, username, password string) (*models.User, error) {
	username = strings.TrimSpace(username)
	if username == "" || password == "" || len(username) > 256 || len(password) > 1024 {
		VerifyPassword("", password)
		return nil, errBadCredentials
	}
	var u models.User
	res := s.Store.DB(ctx).Where("lower(username) = ?", strings.ToLower(username)).Limit(1).Find(&u)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		VerifyPassword("", password)
		return nil, errBadCredentials
	}
	if !VerifyPassword(u.PasswordHash, password) || !u.Active {
		return nil, errBadCredentials
	}
	return &u, nil
}

func (s *Service) audit(ctx context.Context, actor int64, action, target, oldV, newV string) error {
	var a *int64
	if actor != 0 {
		a = &actor
	}
	return s.Store.DB(ctx).Create(&models.AuditEntry{ActorID: a, Action: action, Target: target, OldValue: oldV, NewValue: newV, At: s.now()}).Error
}
