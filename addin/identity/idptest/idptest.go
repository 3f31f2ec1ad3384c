// Package idptest is a fake Microsoft identity platform for tests: an
// httptest TLS server with the v2.0 OpenID configuration, an authorize
// endpoint that answers for a test-chosen account, and a token endpoint
// that checks the client, the secret, the redirect URI and the PKCE
// verifier, issues access, refresh and id tokens with client_info, rotates
// refresh tokens and answers invalid_grant for revoked ones.
package idptest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Account is a Microsoft account of the fake tenant.
type Account struct {
	Email    string
	ObjectID string
}

// IDP is the fake identity platform.
type IDP struct {
	Server       *httptest.Server
	TenantID     string
	ClientID     string
	ClientSecret string
	// AccessTokenTTL is the expires_in of issued access tokens.
	AccessTokenTTL time.Duration

	mu       sync.Mutex
	selected Account
	codes    map[string]codeGrant
	refresh  map[string]refreshGrant
	failures []int
	// TokenRequests counts calls to the token endpoint by grant type.
	TokenRequests map[string]int
}

type codeGrant struct {
	acct                          Account
	clientID, redirect, challenge string
	method                        string
	expires                       time.Time
}

type refreshGrant struct {
	acct    Account
	revoked bool
}

// New starts a fake platform for one tenant and app registration.
func New(clientID, clientSecret string) *IDP {
	p := &IDP{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: clientID, ClientSecret: clientSecret,
		AccessTokenTTL: time.Hour, codes: map[string]codeGrant{}, refresh: map[string]refreshGrant{}, TokenRequests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", p.authorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", p.token)
	p.Server = httptest.NewTLSServer(mux)
	return p
}

// Close stops the server.
func (p *IDP) Close() { p.Server.Close() }

// Authority is the SALESBRIDGE_AUTHORITY_URL for this tenant.
func (p *IDP) Authority() string { return p.Server.URL + "/" + p.TenantID }

// Client is an HTTP client trusting the fake's certificate.
func (p *IDP) Client() *http.Client { return p.Server.Client() }

// Select chooses the account the authorize endpoint signs in next.
func (p *IDP) Select(a Account) {
	p.mu.Lock()
	p.selected = a
	p.mu.Unlock()
}

// FailTokenRequests makes the next token requests answer with these
// statuses (e.g. 503), one per request.
func (p *IDP) FailTokenRequests(statuses ...int) {
	p.mu.Lock()
	p.failures = append(p.failures, statuses...)
	p.mu.Unlock()
}

// RevokeAll revokes every refresh token of an account (password reset,
// consent withdrawn): refreshing answers invalid_grant.
func (p *IDP) RevokeAll(email string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, g := range p.refresh {
		if strings.EqualFold(g.acct.Email, email) {
			g.revoked = true
			p.refresh[k] = g
		}
	}
}

// Requests returns how many token requests of a grant type were served.
func (p *IDP) Requests(grant string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.TokenRequests[grant]
}

func (p *IDP) discovery(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	base := p.Server.URL + "/" + t
	writeJSON(w, 200, map[string]any{
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"issuer":                                p.Server.URL + "/" + p.TenantID + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

// AuthorizeURL answers an authorize URL the way Microsoft would after the
// selected account signed in: the reply URL with code and state, or with
// error when the request is invalid.
func (p *IDP) AuthorizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return p.answer(u.Query())
}

func (p *IDP) authorize(w http.ResponseWriter, r *http.Request) {
	loc, err := p.answer(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, loc, http.StatusFound)
}

func (p *IDP) answer(q url.Values) (string, error) {
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		return "", fmt.Errorf("AADSTS50011: redirect_uri missing")
	}
	back := url.Values{}
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	fail := func(code, desc string) (string, error) {
		back.Set("error", code)
		back.Set("error_description", desc)
		ru.RawQuery = back.Encode()
		return ru.String(), nil
	}
	switch {
	case q.Get("client_id") != p.ClientID:
		return fail("unauthorized_client", "AADSTS700016: Application not found in the directory.")
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "AADSTS900144: response_type must be code.")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		return fail("invalid_request", "AADSTS9002325: Proof Key for Code Exchange is required.")
	}
	p.mu.Lock()
	acct := p.selected
	if acct.Email == "" {
		p.mu.Unlock()
		return fail("access_denied", "AADSTS65004: User declined to consent to access the app.")
	}
	code := random()
	p.codes[code] = codeGrant{acct: acct, clientID: q.Get("client_id"), redirect: redirect, challenge: q.Get("code_challenge"),
		method: q.Get("code_challenge_method"), expires: time.Now().Add(5 * time.Minute)}
	p.mu.Unlock()
	back.Set("code", code)
	ru.RawQuery = back.Encode()
	return ru.String(), nil
}

func (p *IDP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "AADSTS900144: malformed body")
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.TokenRequests[grant]++
	if len(p.failures) > 0 {
		st := p.failures[0]
		p.failures = p.failures[1:]
		w.Header().Set("Retry-After", "1")
		oauthError(w, st, "temporarily_unavailable", "AADSTS50196: The server is temporarily unavailable.")
		return
	}
	if f.Get("client_id") != p.ClientID {
		oauthError(w, 400, "unauthorized_client", "AADSTS700016: Application not found.")
		return
	}
	if f.Get("client_secret") != p.ClientSecret {
		oauthError(w, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	var acct Account
	switch grant {
	case "authorization_code":
		g, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code"))
		if !ok || time.Now().After(g.expires) {
			oauthError(w, 400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already used.")
			return
		}
		if g.redirect != f.Get("redirect_uri") {
			oauthError(w, 400, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one of the authorization request.")
			return
		}
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, 400, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		acct = g.acct
	case "refresh_token":
		g, ok := p.refresh[f.Get("refresh_token")]
		if !ok || g.revoked {
			oauthError(w, 400, "invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked.")
			return
		}
		g.revoked = true // rotation
		p.refresh[f.Get("refresh_token")] = g
		acct = g.acct
	default:
		oauthError(w, 400, "unsupported_grant_type", "AADSTS70003: unsupported grant type")
		return
	}
	rt := random()
	p.refresh[rt] = refreshGrant{acct: acct}
	now := time.Now()
	idt := map[string]any{"aud": p.ClientID, "iss": p.Server.URL + "/" + p.TenantID + "/v2.0", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "oid": acct.ObjectID, "tid": p.TenantID, "sub": "sub-" + acct.ObjectID,
		"preferred_username": acct.Email, "name": acct.Email, "ver": "2.0"}
	ci, _ := json.Marshal(map[string]string{"uid": acct.ObjectID, "utid": p.TenantID})
	scope := f.Get("scope")
	writeJSON(w, 200, map[string]any{
		"token_type": "Bearer", "scope": scope, "expires_in": int(p.AccessTokenTTL.Seconds()), "ext_expires_in": int(p.AccessTokenTTL.Seconds()),
		"access_token": "at-" + random(), "refresh_token": rt, "id_token": unsignedJWT(idt),
		"client_info": base64.RawURLEncoding.EncodeToString(ci),
	})
}

func unsignedJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "fake"})
	c, _ := json.Marshal(claims)
	e := base64.RawURLEncoding
	return e.EncodeToString(h) + "." + e.EncodeToString(c) + "." + e.EncodeToString([]byte("not-a-signature"))
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}, "timestamp": time.Now().UTC().Format(time.DateTime)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
