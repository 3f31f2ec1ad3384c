package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/salesbridge/salesbridge/models"
)

// ConnectError is a failure of the connect dialog, shown on signin.html or
// passed to the pane by close.html. Code is stable, Message is for people.
type ConnectError struct {
	Code    string
	Message string
	Cause   error
}

func (e *ConnectError) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *ConnectError) Unwrap() error { return e.Cause }

func connectErr(code, msg string) *ConnectError { return &ConnectError{Code: code, Message: msg} }

// Connect error codes.
const (
	ErrCodeNotRegistered   = "not_registered"
	ErrCodeAttempt         = "attempt_invalid"
	ErrCodeStateMissing    = "state_missing"
	ErrCodeStateInvalid    = "state_invalid"
	ErrCodeStateExpired    = "state_expired"
	ErrCodeStateReused     = "state_reused"
	ErrCodeMicrosoft       = "microsoft_error"
	ErrCodeTokenExchange   = "token_exchange_failed"
	ErrCodeAccount         = "account_unreadable"
	ErrCodeMappingUser     = "mapping_user_conflict"
	ErrCodeMappingAccount  = "mapping_account_conflict"
	ErrCodeBadCredentials  = "invalid_credentials"
	ErrCodeRateLimited     = "rate_limited"
	errMsgAttemptNotActive = "This sign-in window has expired or was already used. Close it and click Connect again."
)

// StartConnect opens a connect attempt (10 minutes, single use). The
// browser token is set as a cookie on the dialog and bound to the attempt,
// so only the browser that started it can finish it.
func (s *Service) StartConnect(ctx context.Context, trusted bool) (attemptID, browserToken string, err error) {
	if _, _, err := s.credentials(ctx); err != nil {
		if errors.Is(err, ErrNotRegistered) {
			return "", "", &ConnectError{Code: ErrCodeNotRegistered, Message: ErrNotRegistered.Message}
		}
		return "", "", err
	}
	now := s.now()
	attemptID = RandomToken(24)
	browserToken = RandomToken(24)
	a := &models.ConnectAttempt{ID: attemptID, StateHash: s.Keys.HashToken("pending:" + attemptID), Trusted: trusted,
		RedirectURI: s.RedirectURI(), BrowserHash: s.Keys.HashToken(browserToken), ExpiresAt: now.Add(ConnectAttemptTTL), CreatedAt: now}
	if err := s.Store.DB(ctx).Create(a).Error; err != nil {
		return "", "", err
	}
	return attemptID, browserToken, nil
}

// loadAttempt finds a live, not yet signed-in attempt of this browser.
func (s *Service) loadAttempt(ctx context.Context, attemptID, browserToken string) (*models.ConnectAttempt, error) {
	var a models.ConnectAttempt
	res := s.Store.DB(ctx).Where("id = ?", attemptID).Limit(1).Find(&a)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 || a.UsedAt != nil || a.UserID != nil || !a.ExpiresAt.After(s.now()) ||
		subtle.ConstantTimeCompare([]byte(a.BrowserHash), []byte(s.Keys.HashToken(browserToken))) != 1 {
		return nil, connectErr(ErrCodeAttempt, errMsgAttemptNotActive)
	}
	return &a, nil
}

// CheckAttempt reports whether the sign-in step of an attempt may be shown.
func (s *Service) CheckAttempt(ctx context.Context, attemptID, browserToken string) error {
	_, err := s.loadAttempt(ctx, attemptID, browserToken)
	return err
}

// SignIn verifies the sales user of a connect attempt and returns the
// Microsoft authorize URL (authorization code + PKCE S256, state bound to
// the attempt).
func (s *Service) SignIn(ctx context.Context, attemptID, browserToken, username, password string) (string, error) {
	a, err := s.loadAttempt(ctx, attemptID, browserToken)
	if err != nil {
		return "", err
	}
	u, err := s.checkPassword(ctx, username, password)
	if err != nil {
		if models.ErrorCode(err) == models.CodeUnauthenticated {
			return "", connectErr(ErrCodeBadCredentials, "Invalid username or password.")
		}
		return "", err
	}
	c, appID, err := s.client(ctx, 0)
	if err != nil {
		if errors.Is(err, ErrNotRegistered) {
			return "", &ConnectError{Code: ErrCodeNotRegistered, Message: ErrNotRegistered.Message}
		}
		return "", err
	}
	hint := u.Email
	var m models.UserMapping
	if res := s.Store.DB(ctx).Where("user_id = ?", u.ID).Limit(1).Find(&m); res.Error != nil {
		return "", res.Error
	} else if res.RowsAffected == 1 {
		hint = m.MSEmail
	}
	verifier := RandomToken(64)
	state := RandomToken(32)
	venc, err := s.Keys.Seal([]byte(verifier), "connect-verifier:"+a.ID)
	if err != nil {
		return "", err
	}
	res := s.Store.DB(ctx).Model(&models.ConnectAttempt{}).Where("id = ? AND user_id IS NULL AND used_at IS NULL", a.ID).
		Updates(map[string]any{"user_id": u.ID, "state_hash": s.Keys.HashToken("state:" + state), "verifier_enc": venc})
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected != 1 {
		return "", connectErr(ErrCodeAttempt, errMsgAttemptNotActive)
	}
	var opts []confidential.AuthCodeURLOption
	if hint != "" {
		opts = append(opts, confidential.WithLoginHint(hint))
	}
	raw, err := c.AuthCodeURL(ctx, appID, a.RedirectURI, Scopes, opts...)
	if err != nil {
		return "", &ConnectError{Code: ErrCodeMicrosoft, Message: "The Microsoft sign-in service cannot be reached. Try again in a moment.", Cause: err}
	}
	au, err := url.Parse(raw)
	if err != nil {
		return "", models.Internal(err)
	}
	q := au.Query()
	sum := sha256.Sum256([]byte(verifier))
	q.Set("state", state)
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	q.Set("prompt", "select_account")
	au.RawQuery = q.Encode()
	return au.String(), nil
}

// Callback is what Microsoft sent to a reply URL.
type Callback struct {
	State, Code, Error, ErrorDescription string
	BrowserToken                         string
}

// MSAccount is the Microsoft account read from the token response.
type MSAccount struct {
	Email, ObjectID, TenantID, HomeAccountID string
}

// consumeAttempt checks the state and marks its attempt used (in its own
// transaction: a failed finish must not make the state reusable).
func (s *Service) consumeAttempt(ctx context.Context, cb Callback) (*models.ConnectAttempt, error) {
	if cb.State == "" {
		return nil, connectErr(ErrCodeStateMissing, "The sign-in answer carries no state. Close this window and click Connect again.")
	}
	var a models.ConnectAttempt
	err := s.Store.Tx(ctx, func(ctx context.Context) error {
		res := s.Store.DB(ctx).Where("state_hash = ?", s.Keys.HashToken("state:"+cb.State)).Limit(1).Find(&a)
		if res.Error != nil {
			return res.Error
		}
		switch {
		case res.RowsAffected == 0 || a.UserID == nil:
			return connectErr(ErrCodeStateInvalid, "This sign-in answer does not belong to a Connect started here. Close this window and click Connect again.")
		case a.UsedAt != nil:
			return connectErr(ErrCodeStateReused, "This sign-in answer was already used. Close this window and click Connect again.")
		case !a.ExpiresAt.After(s.now()):
			return connectErr(ErrCodeStateExpired, "The sign-in took longer than 10 minutes. Close this window and click Connect again.")
		case subtle.ConstantTimeCompare([]byte(a.BrowserHash), []byte(s.Keys.HashToken(cb.BrowserToken))) != 1:
			return connectErr(ErrCodeStateInvalid, "This sign-in answer was opened in another browser than the one that started Connect. Click Connect again.")
		}
		now := s.now()
		res = s.Store.DB(ctx).Model(&models.ConnectAttempt{}).Where("id = ? AND used_at IS NULL", a.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return connectErr(ErrCodeStateReused, "This sign-in answer was already used. Close this window and click Connect again.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// FinishConnect handles a reply: checks and consumes the state, redeems
// the code with the PKCE verifier, applies the mapping rules, stores the
// user's MSAL cache encrypted and returns a one-time handoff code. ctx must
// not carry a transaction (the state is consumed in its own).
func (s *Service) FinishConnect(ctx context.Context, cb Callback) (string, error) {
	if cb.Error != "" && cb.State == "" {
		return "", microsoftError(cb)
	}
	a, err := s.consumeAttempt(ctx, cb)
	if err != nil {
		return "", err
	}
	if cb.Error != "" {
		return "", microsoftError(cb)
	}
	if cb.Code == "" {
		return "", connectErr(ErrCodeMicrosoft, "Microsoft returned no authorization code. Close this window and click Connect again.")
	}
	var handoff string
	err = s.Store.Tx(ctx, func(ctx context.Context) error {
		uid := *a.UserID
		verifier, err := s.Keys.Open(a.VerifierEnc, "connect-verifier:"+a.ID)
		if err != nil {
			return models.Internal(err)
		}
		c, appID, err := s.client(ctx, uid)
		if err != nil {
			if errors.Is(err, ErrNotRegistered) {
				return &ConnectError{Code: ErrCodeNotRegistered, Message: ErrNotRegistered.Message}
			}
			return err
		}
		_ = appID
		ar, err := c.AcquireTokenByAuthCode(ctx, cb.Code, a.RedirectURI, Scopes, confidential.WithChallenge(string(verifier)))
		if err != nil {
			return &ConnectError{Code: ErrCodeTokenExchange, Message: "Microsoft did not accept the sign-in (" + reasonOf(err.Error()) + "). Close this window and click Connect again.", Cause: err}
		}
		acct := MSAccount{ObjectID: ar.IDToken.Oid, TenantID: ar.IDToken.TenantID, HomeAccountID: ar.Account.HomeAccountID}
		for _, e := range []string{ar.IDToken.Email, ar.IDToken.PreferredUsername, ar.IDToken.UPN, ar.Account.PreferredUsername} {
			if strings.Contains(e, "@") {
				acct.Email = strings.TrimSpace(e)
				break
			}
		}
		if acct.TenantID == "" {
			acct.TenantID = ar.Account.Realm
		}
		if acct.ObjectID == "" {
			acct.ObjectID = ar.Account.LocalAccountID
		}
		if acct.Email == "" || acct.HomeAccountID == "" {
			return connectErr(ErrCodeAccount, "The Microsoft account has no email address or user principal name; it cannot be mapped.")
		}
		if err := s.applyMapping(ctx, uid, acct); err != nil {
			return err
		}
		handoff = RandomToken(32)
		now := s.now()
		return s.Store.DB(ctx).Create(&models.HandoffCode{CodeHash: s.Keys.HashToken("handoff:" + handoff), UserID: uid, Trusted: a.Trusted,
			ExpiresAt: now.Add(HandoffTTL), CreatedAt: now}).Error
	})
	if err != nil {
		return "", err
	}
	return handoff, nil
}

func microsoftError(cb Callback) error {
	desc := cb.ErrorDescription
	if i := strings.IndexAny(desc, "\r\n"); i >= 0 {
		desc = desc[:i]
	}
	if len(desc) > 300 {
		desc = desc[:300]
	}
	msg := "Microsoft sign-in failed (" + cb.Error + ")"
	if desc != "" {
		msg += ": " + desc
	}
	if cb.Error == "access_denied" || cb.Error == "consent_required" {
		msg += ". Your administrator may need to grant consent to the add-in's permissions."
	}
	return connectErr(ErrCodeMicrosoft, msg)
}

// applyMapping enforces PRODUCT §3.5: the first connect maps; a different
// Microsoft account for a mapped sales user, or a Microsoft account mapped
// to another sales user, is refused until an administrator changes the
// mapping.
func (s *Service) applyMapping(ctx context.Context, uid int64, acct MSAccount) error {
	db := s.Store.DB(ctx)
	norm := NormEmail(acct.Email)
	now := s.now()
	var mine models.UserMapping
	res := db.Where("user_id = ?", uid).Limit(1).Find(&mine)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		if mine.MSEmailNorm != norm {
			return connectErr(ErrCodeMappingUser, fmt.Sprintf(
				"Your sales account is already mapped to the Microsoft account %s, not %s. Sign in with %s, or ask your administrator to update or delete your user mapping.",
				mine.MSEmail, acct.Email, mine.MSEmail))
		}
		return db.Model(&models.UserMapping{}).Where("id = ?", mine.ID).Updates(map[string]any{
			"ms_email": acct.Email, "ms_object_id": acct.ObjectID, "ms_tenant_id": acct.TenantID, "ms_home_account_id": acct.HomeAccountID,
			"authorized": true, "auth_error": "", "last_connect_at": now, "updated_at": now}).Error
	}
	var n int64
	if err := db.Model(&models.UserMapping{}).Where("ms_email_norm = ?", norm).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return connectErr(ErrCodeMappingAccount, fmt.Sprintf(
			"The Microsoft account %s is already mapped to another sales user. Ask your administrator to update or delete that user mapping.", acct.Email))
	}
	m := &models.UserMapping{UserID: uid, MSEmail: acct.Email, MSEmailNorm: norm, MSObjectID: acct.ObjectID, MSTenantID: acct.TenantID,
		MSHomeAccountID: acct.HomeAccountID, Authorized: true, SyncState: models.SyncActive, LastConnectAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := db.Create(m).Error; err != nil {
		if models.ErrorCode(models.MapErr(err)) == models.CodeConflict {
			return connectErr(ErrCodeMappingAccount, "This Microsoft account or sales user was mapped by a concurrent connect. Ask your administrator to check the user mappings.")
		}
		return err
	}
	return nil
}
