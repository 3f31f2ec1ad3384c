package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/addin/settings"
	"github.com/salesbridge/salesbridge/assets"
	"github.com/salesbridge/salesbridge/models"
)

// Identity serves the connect dialog pages, the session API, the user
// mappings and the add-in registration.
type Identity struct {
	Store   *models.Store
	Service *identity.Service
	// SecureCookies marks the dialog cookie Secure (public URL is https).
	SecureCookies bool
}

const connectCookie = "sb_connect"

var pageTemplates = template.Must(template.ParseFS(assets.FS, "web/signin.html", "web/close.html"))

// Register mounts the JSON API. Pages are mounted by RegisterPages.
func (h *Identity) Register(api, authed, admin *gin.RouterGroup) {
	api.POST("/session", Tx(h.Store, h.createSession))
	api.POST("/session/refresh", h.refreshSession)
	api.POST("/session/password", h.passwordSession)
	authed.DELETE("/session", Tx(h.Store, h.deleteSession))
	authed.GET("/me", Tx(h.Store, h.me))
	admin.GET("/mappings", Tx(h.Store, h.listMappings))
	admin.PATCH("/mappings/:id", Tx(h.Store, h.updateMapping))
	admin.DELETE("/mappings/:id", Tx(h.Store, h.deleteMapping))
	admin.GET("/registration", Tx(h.Store, h.getRegistration))
	admin.PUT("/registration", Tx(h.Store, h.putRegistration))
}

// ---- pages ----

type signinPage struct {
	Attempt string
	Error   string
	Fatal   bool
}

type connectResult struct {
	Status  string `json:"status"`
	Handoff string `json:"handoff,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type closePage struct {
	ResultJSON template.JS
	Message    string
	OK         bool
}

func renderPage(c *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		slog.ErrorContext(c.Request.Context(), "render page", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func connectErrorOf(err error) (*identity.ConnectError, bool) {
	var ce *identity.ConnectError
	if errors.As(err, &ce) {
		return ce, true
	}
	return nil, false
}

// StartConnect is GET /connect/start?trusted=true|false.
func (h *Identity) StartConnect(c *gin.Context) {
	trusted := c.Query("trusted") == "true" || c.Query("trusted") == "1"
	var id, browser string
	err := h.Store.Tx(c.Request.Context(), func(ctx context.Context) error {
		var err error
		id, browser, err = h.Service.StartConnect(ctx, trusted)
		return err
	})
	if err != nil {
		if ce, ok := connectErrorOf(err); ok {
			renderPage(c, http.StatusPreconditionFailed, "signin.html", signinPage{Error: ce.Message, Fatal: true})
			return
		}
		slog.ErrorContext(c.Request.Context(), "connect start", "err", err)
		renderPage(c, http.StatusInternalServerError, "signin.html", signinPage{Error: "Something went wrong. Please try again.", Fatal: true})
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: connectCookie, Value: browser, Path: "/", MaxAge: int(identity.ConnectAttemptTTL.Seconds()),
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, "/crmUI/osc365/web/signin.html?attempt="+id)
}

// SigninPage is GET /crmUI/osc365/web/signin.html?attempt=….
func (h *Identity) SigninPage(c *gin.Context) {
	attempt := c.Query("attempt")
	browser, _ := c.Cookie(connectCookie)
	if err := h.Service.CheckAttempt(c.Request.Context(), attempt, browser); err != nil {
		msg := "This sign-in window has expired or was already used. Close it and click Connect again."
		if ce, ok := connectErrorOf(err); ok {
			msg = ce.Message
		}
		renderPage(c, http.StatusOK, "signin.html", signinPage{Error: msg, Fatal: true})
		return
	}
	renderPage(c, http.StatusOK, "signin.html", signinPage{Attempt: attempt})
}

// SignIn is POST /connect/signin (form: username, password, attempt).
func (h *Identity) SignIn(c *gin.Context) {
	attempt := c.PostForm("attempt")
	username := c.PostForm("username")
	password := c.PostForm("password")
	browser, _ := c.Cookie(connectCookie)
	if err := h.Service.SignInAttempt(c.Request.Context(), "ip:"+c.ClientIP(), "user:"+strings.ToLower(strings.TrimSpace(username))); err != nil {
		e := models.AsError(err)
		if ra, ok := e.Details["retryAfter"].(int); ok {
			c.Header("Retry-After", strconv.Itoa(ra))
		}
		renderPage(c, StatusOf(e.Code), "signin.html", signinPage{Attempt: attempt, Error: e.Message})
		return
	}
	var loc string
	err := h.Store.Tx(c.Request.Context(), func(ctx context.Context) error {
		var err error
		loc, err = h.Service.SignIn(ctx, attempt, browser, username, password)
		return err
	})
	if err != nil {
		if ce, ok := connectErrorOf(err); ok {
			switch ce.Code {
			case identity.ErrCodeBadCredentials:
				renderPage(c, http.StatusUnauthorized, "signin.html", signinPage{Attempt: attempt, Error: ce.Message})
			default:
				renderPage(c, http.StatusBadRequest, "signin.html", signinPage{Error: ce.Message, Fatal: true})
			}
			return
		}
		slog.ErrorContext(c.Request.Context(), "connect sign-in", "err", err)
		renderPage(c, http.StatusInternalServerError, "signin.html", signinPage{Attempt: attempt, Error: "Something went wrong. Please try again."})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, loc)
}

// Close is GET on each reply URL (close.html): finish the connect and hand
// the result to the pane.
func (h *Identity) Close(c *gin.Context) {
	browser, _ := c.Cookie(connectCookie)
	cb := identity.Callback{State: c.Query("state"), Code: c.Query("code"), Error: c.Query("error"),
		ErrorDescription: c.Query("error_description"), BrowserToken: browser}
	var res connectResult
	if cb.State == "" && cb.Code == "" && cb.Error == "" {
		res = connectResult{Status: "error", Code: identity.ErrCodeStateMissing, Message: "This page finishes a Connect; open the SalesBridge pane in Outlook and click Connect."}
	} else if handoff, err := h.Service.FinishConnect(c.Request.Context(), cb); err != nil {
		if ce, ok := connectErrorOf(err); ok {
			if ce.Cause != nil {
				slog.WarnContext(c.Request.Context(), "connect failed", "code", ce.Code, "err", ce.Cause)
			}
			res = connectResult{Status: "error", Code: ce.Code, Message: ce.Message}
		} else {
			slog.ErrorContext(c.Request.Context(), "connect finish", "err", err)
			res = connectResult{Status: "error", Code: "internal", Message: "Something went wrong while finishing the sign-in. Please click Connect again."}
		}
	} else {
		res = connectResult{Status: "connected", Handoff: handoff}
	}
	if browser != "" {
		http.SetCookie(c.Writer, &http.Cookie{Name: connectCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	b, _ := json.Marshal(res)
	page := closePage{ResultJSON: template.JS(b), OK: res.Status == "connected", Message: res.Message}
	if page.OK {
		page.Message = "You are connected. This window closes by itself; if it does not, close it."
	}
	renderPage(c, http.StatusOK, "close.html", page)
}

// ---- sessions ----

// SessionRequest is POST /api/v1/session.
type SessionRequest struct {
	Handoff string `json:"handoff"`
}

// RefreshRequest is POST /api/v1/session/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

// PasswordRequest is POST /api/v1/session/password.
type PasswordRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// SessionResponse is a new or refreshed session.
type SessionResponse struct {
	AccessToken  string       `json:"accessToken"`
	ExpiresIn    int64        `json:"expiresIn"`
	RefreshToken string       `json:"refreshToken,omitempty"`
	User         UserResponse `json:"user"`
}

func toSessionResponse(g *identity.Grant, now time.Time) SessionResponse {
	exp := int64(g.ExpiresAt.Sub(now).Seconds())
	if exp < 0 {
		exp = 0
	}
	return SessionResponse{AccessToken: g.AccessToken, ExpiresIn: exp, RefreshToken: g.RefreshToken, User: ToUserResponse(&g.User)}
}

func (h *Identity) now() time.Time {
	if h.Service.Now != nil {
		return h.Service.Now()
	}
	return time.Now()
}

func (h *Identity) createSession(c *gin.Context, ctx context.Context) (Result, error) {
	var req SessionRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if req.Handoff == "" {
		return Result{}, models.InvalidField("handoff", "is required")
	}
	g, err := h.Service.ExchangeHandoff(ctx, req.Handoff)
	if err != nil {
		return Result{}, err
	}
	return OK(toSessionResponse(g, h.now())), nil
}

// refreshSession commits a reuse-triggered revocation before answering 401.
func (h *Identity) refreshSession(c *gin.Context) {
	var req RefreshRequest
	if err := BindJSON(c, &req); err != nil {
		WriteError(c, err)
		return
	}
	if req.RefreshToken == "" {
		WriteError(c, models.InvalidField("refreshToken", "is required"))
		return
	}
	var g *identity.Grant
	var after error
	err := h.Store.Tx(c.Request.Context(), func(ctx context.Context) error {
		var err error
		g, err = h.Service.Refresh(ctx, req.RefreshToken)
		if identity.IsRefreshReused(err) {
			after = err
			return nil
		}
		return err
	})
	if err == nil {
		err = after
	}
	if err != nil {
		WriteError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toSessionResponse(g, h.now()))
}

func (h *Identity) passwordSession(c *gin.Context) {
	var req PasswordRequest
	if err := BindJSON(c, &req); err != nil {
		WriteError(c, err)
		return
	}
	fields := map[string]string{}
	if strings.TrimSpace(req.Username) == "" {
		fields["username"] = "is required"
	}
	if req.Password == "" {
		fields["password"] = "is required"
	}
	if len(fields) > 0 {
		WriteError(c, models.Invalid(fields))
		return
	}
	if err := h.Service.SignInAttempt(c.Request.Context(), "ip:"+c.ClientIP(), "user:"+strings.ToLower(strings.TrimSpace(req.Username))); err != nil {
		WriteError(c, err)
		return
	}
	Tx(h.Store, func(c *gin.Context, ctx context.Context) (Result, error) {
		g, err := h.Service.PasswordSignIn(ctx, req.Username, req.Password)
		if err != nil {
			return Result{}, err
		}
		return OK(toSessionResponse(g, h.now())), nil
	})(c)
}

func (h *Identity) deleteSession(c *gin.Context, ctx context.Context) (Result, error) {
	if err := h.Service.SignOut(ctx, Caller(c).SessionID); err != nil {
		return Result{}, err
	}
	return NoContent(), nil
}

// ---- me ----

// MappingStatus is the caller's Microsoft 365 mapping.
type MappingStatus struct {
	MSEmail       string     `json:"msEmail"`
	Authorized    bool       `json:"authorized"`
	AuthError     string     `json:"authError,omitempty"`
	SyncState     string     `json:"syncState"`
	LastConnectAt *time.Time `json:"lastConnectAt,omitempty"`
}

// PaneSettings are the effective settings the pane needs.
type PaneSettings struct {
	RecentDays           int    `json:"recentDays"`
	BatchSize            int    `json:"batchSize"`
	ConflictPolicy       string `json:"conflictPolicy"`
	AllowUserOverride    bool   `json:"allowUserOverride"`
	CategoryName         string `json:"categoryName"`
	AdvancedSharingMode  bool   `json:"advancedSharingMode"`
	AllowInviteesToShare bool   `json:"allowInviteesToShare"`
	ClientUsageTracking  bool   `json:"clientUsageTracking"`
}

// MeResponse is GET /api/v1/me.
type MeResponse struct {
	User     UserResponse   `json:"user"`
	Role     string         `json:"role"`
	Session  SessionInfo    `json:"session"`
	Mapping  *MappingStatus `json:"mapping"`
	Settings PaneSettings   `json:"settings"`
}

// SessionInfo describes the caller's session.
type SessionInfo struct {
	Kind    string `json:"kind"`
	Trusted bool   `json:"trusted"`
}

func (h *Identity) me(c *gin.Context, ctx context.Context) (Result, error) {
	p := Caller(c)
	var u models.User
	if err := h.Store.DB(ctx).First(&u, p.UserID).Error; err != nil {
		return Result{}, err
	}
	m, err := h.Service.MappingOf(ctx, u.ID)
	if err != nil {
		return Result{}, err
	}
	st, err := settings.Load(ctx, h.Store)
	if err != nil {
		return Result{}, err
	}
	out := MeResponse{User: ToUserResponse(&u), Role: u.Role, Session: SessionInfo{Kind: p.Kind, Trusted: p.Trusted},
		Settings: PaneSettings{RecentDays: st.RecentDays, BatchSize: st.BatchSize, ConflictPolicy: st.ConflictPolicy,
			AllowUserOverride: st.AllowUserOverride, CategoryName: st.CategoryName, AdvancedSharingMode: st.AdvancedSharingMode,
			AllowInviteesToShare: st.AllowInviteesToShare, ClientUsageTracking: st.ClientUsageTracking}}
	if m != nil {
		out.Mapping = &MappingStatus{MSEmail: m.MSEmail, Authorized: m.Authorized, AuthError: m.AuthError, SyncState: m.SyncState, LastConnectAt: m.LastConnectAt}
	}
	return OK(out), nil
}

// ---- mappings ----

// MappingResponse is a user mapping for administrators.
type MappingResponse struct {
	ID            int64      `json:"id"`
	UserID        int64      `json:"userId"`
	Username      string     `json:"username"`
	DisplayName   string     `json:"displayName"`
	UserActive    bool       `json:"userActive"`
	MSEmail       string     `json:"msEmail"`
	MSObjectID    string     `json:"msObjectId"`
	MSTenantID    string     `json:"msTenantId"`
	Authorized    bool       `json:"authorized"`
	AuthError     string     `json:"authError"`
	SyncState     string     `json:"syncState"`
	LastConnectAt *time.Time `json:"lastConnectAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// MappingListResponse is one page of mappings.
type MappingListResponse struct {
	Items      []MappingResponse `json:"items"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

// MappingPatchRequest is PATCH /api/v1/admin/mappings/{id}.
type MappingPatchRequest struct {
	MSEmail *string `json:"msEmail"`
	UserID  *int64  `json:"userId"`
}

func toMappingResponse(m *identity.MappingView) MappingResponse {
	return MappingResponse{ID: m.ID, UserID: m.UserID, Username: m.Username, DisplayName: m.DisplayName, UserActive: m.UserActive,
		MSEmail: m.MSEmail, MSObjectID: m.MSObjectID, MSTenantID: m.MSTenantID, Authorized: m.Authorized, AuthError: m.AuthError,
		SyncState: m.SyncState, LastConnectAt: m.LastConnectAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

func (h *Identity) listMappings(c *gin.Context, ctx context.Context) (Result, error) {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Result{}, models.InvalidField("limit", "must be an integer between 1 and 200")
		}
		if n < 1 {
			return Result{}, models.InvalidField("limit", "must be between 1 and 200")
		}
		limit = n
	}
	page, err := h.Service.ListMappings(ctx, c.Query("q"), limit, c.Query("cursor"))
	if err != nil {
		return Result{}, err
	}
	out := MappingListResponse{Items: []MappingResponse{}, NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Items = append(out.Items, toMappingResponse(&page.Items[i]))
	}
	return OK(out), nil
}

func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.NotFound("user mapping")
	}
	return id, nil
}

func (h *Identity) updateMapping(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := pathID(c)
	if err != nil {
		return Result{}, err
	}
	var req MappingPatchRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	if req.MSEmail == nil && req.UserID == nil {
		return Result{}, models.InvalidField("body", "set msEmail and/or userId")
	}
	m, err := h.Service.UpdateMapping(ctx, Caller(c).UserID, id, identity.MappingUpdate{MSEmail: req.MSEmail, UserID: req.UserID})
	if err != nil {
		return Result{}, err
	}
	return OK(toMappingResponse(m)), nil
}

func (h *Identity) deleteMapping(c *gin.Context, ctx context.Context) (Result, error) {
	id, err := pathID(c)
	if err != nil {
		return Result{}, err
	}
	if err := h.Service.DeleteMapping(ctx, Caller(c).UserID, id); err != nil {
		return Result{}, err
	}
	return NoContent(), nil
}

// ---- registration ----

// RegistrationResponse shows the registration; the key never leaves.
type RegistrationResponse struct {
	ApplicationID     string     `json:"applicationId"`
	Name              string     `json:"name"`
	ApplicationKeySet bool       `json:"applicationKeySet"`
	RedirectURI       string     `json:"redirectUri"`
	UpdatedAt         *time.Time `json:"updatedAt"`
}

// RegistrationRequest is PUT /api/v1/admin/registration.
type RegistrationRequest struct {
	ApplicationID  string  `json:"applicationId"`
	ApplicationKey *string `json:"applicationKey"`
	Name           string  `json:"name"`
}

func (h *Identity) toRegistration(r models.Registration) RegistrationResponse {
	out := RegistrationResponse{ApplicationID: r.ApplicationID, Name: r.Name, ApplicationKeySet: len(r.ApplicationKeyEnc) > 0, RedirectURI: h.Service.RedirectURI()}
	if !r.UpdatedAt.IsZero() {
		t := r.UpdatedAt
		out.UpdatedAt = &t
	}
	return out
}

func (h *Identity) getRegistration(c *gin.Context, ctx context.Context) (Result, error) {
	r, err := h.Service.Registration(ctx)
	if err != nil {
		return Result{}, err
	}
	return OK(h.toRegistration(r)), nil
}

func (h *Identity) putRegistration(c *gin.Context, ctx context.Context) (Result, error) {
	var req RegistrationRequest
	if err := BindJSON(c, &req); err != nil {
		return Result{}, err
	}
	r, err := h.Service.SetRegistration(ctx, Caller(c).UserID, identity.RegistrationUpdate{ApplicationID: req.ApplicationID, ApplicationKey: req.ApplicationKey, Name: req.Name})
	if err != nil {
		return Result{}, err
	}
	return OK(h.toRegistration(r)), nil
}

// UserResponse is a sales user as the API shows it.
type UserResponse struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	TimeZone    string `json:"timeZone"`
}

// ToUserResponse converts a stored user.
func ToUserResponse(u *models.User) UserResponse {
	return UserResponse{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Role: u.Role, TimeZone: u.TimeZone}
}
