package e2e_test

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/assets"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server/servertest"
)

// front serves the pages, sessions, the side panel (context, search,
// recent, favorites, contacts, address formats, connections) and everything
// else from the real engine, and from the contract stub the endpoints of
// features not merged here yet: sync, built to their OpenAPI
// fragments, and optionally the connect dialog without the Microsoft round
// trip. A feature's real route replaces its stub entry once it lands.
type front struct {
	real http.Handler
	stub *http.ServeMux

	mu   sync.Mutex
	drop map[string]int
}

// DropNext makes the next n requests of a path fail as if the network
// were down.
func (f *front) DropNext(path string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drop == nil {
		f.drop = map[string]int{}
	}
	f.drop[path] = n
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	drop := f.drop[r.URL.Path] > 0
	if drop {
		f.drop[r.URL.Path]--
	}
	f.mu.Unlock()
	if drop { // a broken answer, then nothing
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_, _ = conn.Write([]byte("\x00\x01 connection lost\r\n\r\n"))
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if _, pattern := f.stub.Handler(r); pattern != "" {
		f.stub.ServeHTTP(w, r)
		return
	}
	f.real.ServeHTTP(w, r)
}

type contractStub struct {
	env *servertest.Env
	// UserID is the sales user the fake sign-in connects.
	UserID int64
	// realConnect leaves connect and sessions to the identity feature.
	realConnect bool

	mu        sync.Mutex
	handoffs  map[string]bool
	refresh   map[string]*models.Session
	conflicts []stubConflict
	resolved  map[int64]map[string]string
	calls     map[string]int
}

type stubConflict struct {
	ID        int64                `json:"id"`
	Type      string               `json:"objectType"`
	CrmID     int64                `json:"crmId"`
	CreatedAt time.Time            `json:"createdAt"`
	Fields    map[string]stubField `json:"fields"`
}

type stubField struct {
	Server string `json:"server"`
	Client string `json:"client"`
}

func newStub(env *servertest.Env, userID int64) *contractStub {
	s := &contractStub{env: env, UserID: userID, handoffs: map[string]bool{}, refresh: map[string]*models.Session{},
		resolved: map[int64]map[string]string{}, calls: map[string]int{}}
	s.conflicts = []stubConflict{{ID: 1, Type: "contact", CrmID: 1, CreatedAt: time.Now().UTC().Add(-time.Hour),
		Fields: map[string]stubField{"jobTitle": {"CFO", "Chief Financial Officer"}, "phone": {"+12125550100", "+12125550199"}}}}
	return s
}

func (s *contractStub) Calls(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string, fields map[string]string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg, "fields": fields}})
}

func (s *contractStub) Handler() *http.ServeMux {
	m := http.NewServeMux()
	if !s.realConnect {
		m.HandleFunc("GET /connect/start", s.connectStart)
		m.HandleFunc("POST /api/v1/session", s.session)
		m.HandleFunc("POST /api/v1/session/refresh", s.sessionRefresh)
	}
	authed := func(key string, h func(http.ResponseWriter, *http.Request, identity.Principal)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			s.mu.Lock()
			s.calls[key]++
			s.mu.Unlock()
			p, err := s.env.App.Sessions.Authenticate(r.Context(), tok)
			if err != nil {
				writeErr(w, 401, "unauthenticated", "Your session is missing, expired or revoked. Please connect again.", nil)
				return
			}
			h(w, r, p)
		}
	}
	m.HandleFunc("GET /api/v1/sync/status", authed("sync", s.syncStatus))
	m.HandleFunc("POST /api/v1/sync/run", authed("sync-run", func(w http.ResponseWriter, r *http.Request, p identity.Principal) {
		writeJSON(w, 202, map[string]any{"runId": 1, "status": "queued"})
	}))
	m.HandleFunc("GET /api/v1/sync/conflicts", authed("conflicts", s.listConflicts))
	m.HandleFunc("POST /api/v1/sync/conflicts/{id}/resolve", authed("resolve", s.resolve))
	return m
}

var closePage = template.Must(template.ParseFS(assets.FS, "web/close.html"))

// connectStart stands for the whole connect dialog (sales sign-in, then
// Microsoft): it answers with close.html carrying a fresh handoff code.
func (s *contractStub) connectStart(w http.ResponseWriter, r *http.Request) {
	code := identity.RandomToken(16)
	s.mu.Lock()
	s.handoffs[code] = r.URL.Query().Get("trusted") == "true"
	s.mu.Unlock()
	res, _ := json.Marshal(map[string]string{"status": "connected", "handoff": code})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = closePage.Execute(w, map[string]any{"ResultJSON": template.JS(res), "OK": true, "Message": "You are connected."})
}

func (s *contractStub) issue(w http.ResponseWriter, ctx context.Context, sess *models.Session, tok string, exp time.Time, oldRefresh string) {
	var u models.User
	s.env.Store.DB(ctx).First(&u, sess.UserID)
	body := map[string]any{"accessToken": tok, "expiresIn": int(time.Until(exp).Seconds()),
		"user": map[string]any{"id": u.ID, "username": u.Username, "displayName": u.DisplayName, "email": u.Email, "role": u.Role}}
	s.mu.Lock()
	if oldRefresh != "" {
		delete(s.refresh, oldRefresh)
	}
	if sess.Trusted {
		rt := identity.RandomToken(32)
		s.refresh[rt] = sess
		body["refreshToken"] = rt
	}
	s.mu.Unlock()
	writeJSON(w, 200, body)
}

func (s *contractStub) session(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Handoff string `json:"handoff"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	trusted, ok := s.handoffs[req.Handoff]
	delete(s.handoffs, req.Handoff)
	s.mu.Unlock()
	if !ok {
		writeErr(w, 401, "unauthenticated", "This sign-in has expired. Connect again.", nil)
		return
	}
	sess, tok, exp, err := s.env.App.Sessions.Create(r.Context(), s.UserID, trusted, "pane")
	if err != nil {
		writeErr(w, 500, "internal", "internal error", nil)
		return
	}
	s.issue(w, r.Context(), sess, tok, exp, "")
}

func (s *contractStub) sessionRefresh(w http.ResponseWriter, r *http.Request) {
	var req struct{ RefreshToken string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	sess := s.refresh[req.RefreshToken]
	s.calls["refresh"]++
	s.mu.Unlock()
	if sess == nil {
		writeErr(w, 401, "unauthenticated", "Your connection has ended. Connect again.", nil)
		return
	}
	tok, exp, err := s.env.App.Sessions.AccessToken(r.Context(), sess)
	if err != nil {
		writeErr(w, 500, "internal", "internal error", nil)
		return
	}
	s.issue(w, r.Context(), sess, tok, exp, req.RefreshToken)
}

func (s *contractStub) syncStatus(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	start := time.Now().Add(-40 * time.Minute).UTC()
	writeJSON(w, 200, map[string]any{"state": "enabled", "authorized": true, "running": nil,
		"lastRun": map[string]any{"id": 1, "trigger": "standard", "startedAt": start, "finishedAt": start.Add(12 * time.Second),
			"status": "succeeded_with_conflicts", "graphMs": 800, "crmMs": 150, "counts": map[string]any{}, "error": ""}})
}

func (s *contractStub) listConflicts(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []stubConflict{}
	for _, c := range s.conflicts {
		if s.resolved[c.ID] == nil {
			items = append(items, c)
		}
	}
	writeJSON(w, 200, map[string]any{"conflicts": items})
}

func (s *contractStub) resolve(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var req struct {
		Choice string            `json:"choice"`
		Fields map[string]string `json:"fields"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if req.Choice != "fields" {
		writeErr(w, 400, "invalid_argument", "choice", map[string]string{"choice": "must be fields"})
		return
	}
	s.mu.Lock()
	s.resolved[id] = req.Fields
	s.mu.Unlock()
	w.WriteHeader(204)
}

func (s *contractStub) Resolved(id int64) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resolved[id]
}
