package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"gorm.io/gorm/clause"

	"github.com/salesbridge/salesbridge/models"
)

// tokenCache is MSAL's external cache over one user's encrypted
// token_caches row. MSAL replaces its whole in-memory cache from it, so a
// tokenCache belongs to exactly one client instance, used for one user.
type tokenCache struct {
	s      *Service
	userID int64
}

var _ cache.ExportReplace = (*tokenCache)(nil)

func cacheAAD(userID int64) string { return "token-cache:" + strconv.FormatInt(userID, 10) }

func (t *tokenCache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	var row models.TokenCache
	res := t.s.Store.DB(ctx).Where("user_id = ?", t.userID).Limit(1).Find(&row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return u.Unmarshal([]byte("{}"))
	}
	pt, err := t.s.Keys.Open(row.CacheEnc, cacheAAD(t.userID))
	if err != nil {
		return err
	}
	return u.Unmarshal(pt)
}

func (t *tokenCache) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	enc, err := t.s.Keys.Seal(b, cacheAAD(t.userID))
	if err != nil {
		return err
	}
	row := models.TokenCache{UserID: t.userID, CacheEnc: enc, UpdatedAt: t.s.now()}
	return t.s.Store.DB(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"cache_enc", "updated_at"})}).Create(&row).Error
}

// client builds an MSAL confidential client; with userID != 0 it works on
// that user's token cache.
func (s *Service) client(ctx context.Context, userID int64) (confidential.Client, string, error) {
	appID, secret, err := s.credentials(ctx)
	if err != nil {
		return confidential.Client{}, "", err
	}
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		return confidential.Client{}, "", models.Internal(err)
	}
	opts := []confidential.Option{}
	if s.HTTPClient != nil {
		opts = append(opts, confidential.WithHTTPClient(s.HTTPClient))
	}
	if u, err := url.Parse(s.AuthorityURL); err == nil && !isMicrosoftHost(u.Hostname()) {
		opts = append(opts, confidential.WithInstanceDiscovery(false))
	}
	if userID != 0 {
		opts = append(opts, confidential.WithCache(&tokenCache{s: s, userID: userID}))
	}
	c, err := confidential.New(s.AuthorityURL, appID, cred, opts...)
	if err != nil {
		return confidential.Client{}, "", models.Internal(fmt.Errorf("msal client: %w", err))
	}
	return c, appID, nil
}

func isMicrosoftHost(h string) bool {
	h = strings.ToLower(h)
	return h == "login.microsoftonline.com" || strings.HasSuffix(h, ".microsoftonline.com") || h == "login.microsoftonline.us" ||
		h == "login.partner.microsoftonline.cn" || h == "login.microsoftonline.de"
}

// TokenSource gives other packages (the Graph client) a Microsoft Graph
// access token for a sales user.
type TokenSource interface {
	Token(ctx context.Context, userID string) (string, error)
}

var _ TokenSource = (*Service)(nil)

// Token returns a Graph access token for the sales user with decimal id
// userID, silently from the user's cache (refreshing when needed). When
// the user must connect again the error wraps ErrReconnect.
func (s *Service) Token(ctx context.Context, userID string) (string, error) {
	uid, err := strconv.ParseInt(userID, 10, 64)
	if err != nil || uid <= 0 {
		return "", fmt.Errorf("invalid user id %q: %w", userID, ErrReconnect)
	}
	var tok string
	err = s.Store.Tx(ctx, func(ctx context.Context) error {
		var err error
		tok, err = s.silent(ctx, uid)
		return err
	})
	return tok, err
}

// silent acquires a token through the user's cache, in ctx's transaction.
func (s *Service) silent(ctx context.Context, uid int64) (string, error) {
	var m models.UserMapping
	res := s.Store.DB(ctx).Where("user_id = ?", uid).Limit(1).Find(&m)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 0 || m.MSHomeAccountID == "" {
		return "", fmt.Errorf("user %d has no Microsoft 365 mapping: %w", uid, ErrReconnect)
	}
	c, _, err := s.client(ctx, uid)
	if err != nil {
		return "", err
	}
	acct, err := c.Account(ctx, m.MSHomeAccountID)
	if err != nil {
		return "", err
	}
	if acct.HomeAccountID == "" {
		return "", fmt.Errorf("no cached Microsoft account for user %d: %w", uid, ErrReconnect)
	}
	ar, err := c.AcquireTokenSilent(ctx, graphScopes, confidential.WithSilentAccount(acct))
	if err != nil {
		return "", classify(err)
	}
	return ar.AccessToken, nil
}

// TransientError is a failure worth retrying (network, 5xx, 429).
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// classify maps an MSAL failure to ErrReconnect (invalid_grant,
// interaction required, no refresh token) or a TransientError.
func classify(err error) error {
	var ce msalerrors.CallErr
	if errors.As(err, &ce) {
		status := 0
		if ce.Resp != nil {
			status = ce.Resp.StatusCode
		}
		text := ce.Error()
		switch {
		case status == 429 || status >= 500:
			return &TransientError{Err: err}
		case strings.Contains(text, "invalid_grant"), strings.Contains(text, "interaction_required"),
			strings.Contains(text, "consent_required"), strings.Contains(text, "login_required"), status == 400, status == 401:
			return fmt.Errorf("%w: %s", ErrReconnect, reasonOf(text))
		}
		return &TransientError{Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "no token found") || strings.Contains(msg, "refresh token") {
		return fmt.Errorf("%w: %s", ErrReconnect, msg)
	}
	return &TransientError{Err: err}
}

func reasonOf(text string) string {
	for _, r := range []string{"invalid_grant", "interaction_required", "consent_required", "login_required"} {
		if strings.Contains(text, r) {
			return r
		}
	}
	return "authorization refused"
}

// RefreshUser refreshes one user's Microsoft tokens and records the
// outcome on the mapping: authorized, or not authorized with the reason.
// Transient failures are returned (the job retries) without changing the
// mapping.
func (s *Service) RefreshUser(ctx context.Context, uid int64) error {
	var outcome error
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		_, err := s.silent(ctx, uid)
		var te *TransientError
		if errors.As(err, &te) {
			outcome = err
			return nil
		}
		upd := map[string]any{"authorized": true, "auth_error": "", "updated_at": s.now()}
		if err != nil {
			if !errors.Is(err, ErrReconnect) {
				return err
			}
			upd = map[string]any{"authorized": false, "auth_error": strings.TrimPrefix(err.Error(), ErrReconnect.Error()+": "), "updated_at": s.now()}
		}
		return s.Store.DB(ctx).Model(&models.UserMapping{}).Where("user_id = ?", uid).Updates(upd).Error
	})
	if err != nil {
		return err
	}
	return outcome
}

// RefreshCandidates are the users whose tokens the refresh job keeps fresh:
// mapped, active, sync not disabled.
func (s *Service) RefreshCandidates(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.Store.DB(ctx).Raw(`SELECT m.user_id FROM user_mappings m JOIN users u ON u.id = m.user_id
		WHERE u.active AND m.sync_state <> ? AND m.ms_home_account_id <> '' ORDER BY m.user_id`, models.SyncDisabled).Scan(&ids).Error
	return ids, err
}
