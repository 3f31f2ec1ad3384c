package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/assets"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server/servertest"
)

// front serves the pages, /me and everything else from the real engine,
// and the feature endpoints the contract stub implements from the stub:
// connect (the dialog without the Microsoft round trip), context, search,
// recent, favorites, contacts, address formats, shares and sync, built to
// the contracts of those features. The stub answers in the shapes of their
// OpenAPI fragments, so a feature's real route can replace its stub entry
// once its data is seeded the way the flows expect.
type front struct {
	real http.Handler
	stub *http.ServeMux
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	expired   map[string]bool
	issued    []string
	conflicts []stubConflict
	resolved  map[int64]map[string]string
	calls     map[string]int
	drop      map[string]int
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
		expired: map[string]bool{}, resolved: map[int64]map[string]string{}, calls: map[string]int{}, drop: map[string]int{}}
	s.conflicts = []stubConflict{{ID: 1, Type: "contact", CrmID: 1, CreatedAt: time.Now().UTC().Add(-time.Hour),
		Fields: map[string]stubField{"jobTitle": {"CFO", "Chief Financial Officer"}, "phone": {"+12125550100", "+12125550199"}}}}
	return s
}

// ExpireAccessTokens makes every access token issued so far answer 401,
// as if it had expired.
func (s *contractStub) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.issued {
		s.expired[t] = true
	}
}

// DropNext makes the next n calls of an endpoint fail as if the network
// were down.
func (s *contractStub) DropNext(key string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[key] = n
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
			exp := s.expired[tok]
			drop := s.drop[key] > 0
			if drop {
				s.drop[key]--
			}
			s.mu.Unlock()
			if drop { // the network went away: a broken answer, then nothing
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						_, _ = conn.Write([]byte("\x00\x01 connection lost\r\n\r\n"))
						_ = conn.Close()
						return
					}
				}
				panic(http.ErrAbortHandler)
			}
			p, err := s.env.App.Sessions.Authenticate(r.Context(), tok)
			if err != nil || exp {
				writeErr(w, 401, "unauthenticated", "Your session is missing, expired or revoked. Please connect again.", nil)
				return
			}
			h(w, r, p)
		}
	}
	m.HandleFunc("GET /api/v1/context", authed("context", s.context))
	m.HandleFunc("POST /api/v1/shares/email", authed("share", s.share))
	m.HandleFunc("POST /api/v1/shares/appointment", authed("share", s.share))
	m.HandleFunc("GET /api/v1/search", authed("search", s.search))
	m.HandleFunc("GET /api/v1/recent", authed("recent", s.recent))
	m.HandleFunc("GET /api/v1/favorites", authed("favorites", s.favorites))
	m.HandleFunc("PUT /api/v1/favorites/{type}/{id}", authed("favorite", s.favorite))
	m.HandleFunc("DELETE /api/v1/favorites/{type}/{id}", authed("favorite", s.favorite))
	m.HandleFunc("GET /api/v1/address-formats/{cc}", authed("address", s.addressFormat))
	m.HandleFunc("POST /api/v1/contacts", authed("contacts", s.createContact))
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
	s.issued = append(s.issued, tok)
	delete(s.expired, tok) // a token signed in the same second as an expired one is identical
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

type rec struct {
	Type     string `json:"type"`
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Detail   string `json:"detail,omitempty"`
	Favorite bool   `json:"favorite"`
}

func (s *contractStub) isFav(ctx context.Context, uid int64, typ string, id int64) bool {
	var n int64
	s.env.Store.DB(ctx).Model(&models.Favorite{}).Where("user_id = ? AND object_type = ? AND object_id = ?", uid, typ, id).Count(&n)
	return n > 0
}

func (s *contractStub) context(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	db := s.env.Store.DB(ctx)
	var people []map[string]any
	for _, email := range r.URL.Query()["email"] {
		norm := strings.ToLower(strings.TrimSpace(email))
		person := map[string]any{"email": email, "kind": "unknown"}
		var c models.Contact
		var u models.User
		switch {
		case db.Where("email_norm = ?", norm).First(&c).Error == nil:
			person["kind"] = "contact"
			person["name"] = c.FirstName + " " + c.LastName
			person["contact"] = map[string]any{"id": c.ID, "firstName": c.FirstName, "lastName": c.LastName, "jobTitle": c.JobTitle,
				"email": c.Email, "phone": c.Phone, "favorite": s.isFav(ctx, p.UserID, "contact", c.ID)}
			if c.AccountID != nil {
				var a models.Account
				db.First(&a, *c.AccountID)
				person["account"] = map[string]any{"id": a.ID, "name": a.Name, "favorite": s.isFav(ctx, p.UserID, "account", a.ID)}
				var opps []models.Opportunity
				db.Where("account_id = ? AND status = 'open'", a.ID).Order("id DESC").Limit(5).Find(&opps)
				var os []map[string]any
				for _, o := range opps {
					os = append(os, map[string]any{"id": o.ID, "name": o.Name, "stage": o.Stage, "amountCents": o.AmountCents, "currency": o.Currency, "closeDate": o.CloseDate})
				}
				person["opportunities"] = os
				var leads []models.Lead
				db.Where("account_id = ?", a.ID).Limit(5).Find(&leads)
				var ls []map[string]any
				for _, l := range leads {
					ls = append(ls, map[string]any{"id": l.ID, "name": l.Name, "status": l.Status})
				}
				person["leads"] = ls
			}
			var acts []models.Activity
			db.Joins("JOIN activity_associations aa ON aa.activity_id = activities.id AND aa.object_type = 'contact' AND aa.object_id = ?", c.ID).
				Order("activities.created_at DESC").Limit(5).Find(&acts)
			var as []map[string]any
			for _, a := range acts {
				as = append(as, map[string]any{"id": a.ID, "type": a.TypeCode, "subject": a.Subject, "at": a.CreatedAt})
			}
			person["activities"] = as
			person["connections"] = []map[string]any{{"userId": 2, "name": "Jordan Smith", "count": 3, "lastAt": time.Now().AddDate(0, 0, -3)}}
		case db.Where("lower(email) = ?", norm).First(&u).Error == nil:
			person["kind"] = "user"
			person["name"] = u.DisplayName
		}
		people = append(people, person)
	}
	out := map[string]any{"people": people, "shared": nil}
	var a models.Activity
	q := r.URL.Query()
	if id := q.Get("internetMessageId"); id != "" && db.Where("internet_message_id = ?", id).First(&a).Error == nil {
		out["shared"] = map[string]any{"activityId": a.ID}
	} else if id := q.Get("iCalUId"); id != "" && db.Where("ical_uid = ?", id).First(&a).Error == nil {
		out["shared"] = map[string]any{"activityId": a.ID}
	}
	writeJSON(w, 200, out)
}

func (s *contractStub) share(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var req struct {
		InternetMessageID, ICalUID, Subject, OutlookItemID, ConversationID string
		Associations                                                       []struct {
			Type string
			ID   int64
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 400, "invalid_argument", "bad body", nil)
		return
	}
	ctx := r.Context()
	db := s.env.Store.DB(ctx)
	var a models.Activity
	created := false
	key, val := "internet_message_id", req.InternetMessageID
	if strings.HasSuffix(r.URL.Path, "appointment") {
		key, val = "ical_uid", req.ICalUID
	}
	if db.Where(key+" = ?", val).First(&a).Error != nil {
		a = models.Activity{Record: models.Record{OwnerID: p.UserID}, TypeCode: models.ActivityEmail, Subject: req.Subject,
			OutlookItemID: req.OutlookItemID, ConversationID: req.ConversationID, Source: "pane"}
		if key == "ical_uid" {
			a.TypeCode, a.ICalUID = models.ActivityAppointment, &val
		} else {
			a.InternetMessageID = &val
		}
		if err := db.Create(&a).Error; err != nil {
			writeErr(w, 500, "internal", err.Error(), nil)
			return
		}
		created = true
	}
	for _, as := range req.Associations {
		db.Exec("INSERT INTO activity_associations (activity_id, object_type, object_id, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			a.ID, as.Type, as.ID, p.UserID, time.Now().UTC())
	}
	status := 200
	if created {
		status = 201
	}
	writeJSON(w, status, map[string]any{"id": a.ID, "type": a.TypeCode, "subject": a.Subject})
}

func (s *contractStub) page(w http.ResponseWriter, r *http.Request, items []rec, size int) {
	off, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	end := off + size
	out := map[string]any{"items": []rec{}}
	if off < len(items) {
		if end > len(items) {
			end = len(items)
		}
		out["items"] = items[off:end]
		if end < len(items) {
			out["nextCursor"] = strconv.Itoa(end)
		}
	}
	writeJSON(w, 200, out)
}

func (s *contractStub) search(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	q := strings.ToLower(r.URL.Query().Get("q")) + "%"
	var accs []models.Account
	s.env.Store.DB(ctx).Where("lower(name) LIKE ?", q).Order("name").Limit(20).Find(&accs)
	var cs []models.Contact
	s.env.Store.DB(ctx).Where("lower(first_name) LIKE ? OR lower(last_name) LIKE ?", q, q).Order("id").Limit(20).Find(&cs)
	var items []rec
	for _, a := range accs {
		items = append(items, rec{"account", a.ID, a.Name, a.Address.Locality, s.isFav(ctx, p.UserID, "account", a.ID)})
	}
	for _, c := range cs {
		items = append(items, rec{"contact", c.ID, c.FirstName + " " + c.LastName, c.JobTitle, s.isFav(ctx, p.UserID, "contact", c.ID)})
	}
	s.page(w, r, items, 10)
}

func (s *contractStub) recent(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	var accs []models.Account
	s.env.Store.DB(ctx).Order("id").Limit(25).Find(&accs)
	var items []rec
	for _, a := range accs {
		items = append(items, rec{"account", a.ID, a.Name, "viewed", s.isFav(ctx, p.UserID, "account", a.ID)})
	}
	s.page(w, r, items, 10)
}

func (s *contractStub) favorites(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	var favs []models.Favorite
	s.env.Store.DB(ctx).Where("user_id = ?", p.UserID).Order("created_at").Find(&favs)
	var items []rec
	for _, f := range favs {
		name := ""
		switch f.ObjectType {
		case "account":
			var a models.Account
			s.env.Store.DB(ctx).First(&a, f.ObjectID)
			name = a.Name
		case "contact":
			var c models.Contact
			s.env.Store.DB(ctx).First(&c, f.ObjectID)
			name = c.FirstName + " " + c.LastName
		}
		items = append(items, rec{f.ObjectType, f.ObjectID, name, "", true})
	}
	s.page(w, r, items, 10)
}

func (s *contractStub) favorite(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	db := s.env.Store.DB(r.Context())
	if r.Method == http.MethodPut {
		db.Exec("INSERT INTO favorites (user_id, object_type, object_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", p.UserID, r.PathValue("type"), id, time.Now().UTC())
	} else {
		db.Exec("DELETE FROM favorites WHERE user_id = ? AND object_type = ? AND object_id = ?", p.UserID, r.PathValue("type"), id)
	}
	w.WriteHeader(204)
}

type addrField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Required bool   `json:"required"`
}

var stubFormats = map[string]struct {
	fields []addrField
	postal *regexp.Regexp
}{
	"DE": {[]addrField{{"line1", "Straße und Hausnummer", true}, {"line2", "Adresszusatz", false}, {"postalCode", "PLZ", true}, {"locality", "Ort", true}}, regexp.MustCompile(`^\d{5}$`)},
	"US": {[]addrField{{"line1", "Street address", true}, {"line2", "Apt, suite", false}, {"locality", "City", true}, {"region", "State", true}, {"postalCode", "ZIP code", true}}, regexp.MustCompile(`^\d{5}(-\d{4})?$`)},
}

func (s *contractStub) addressFormat(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cc := strings.ToUpper(r.PathValue("cc"))
	f, ok := stubFormats[cc]
	if !ok {
		f = stubFormats["US"]
	}
	writeJSON(w, 200, map[string]any{"country": cc, "fields": f.fields, "postalCodePattern": f.postal.String()})
}

func (s *contractStub) createContact(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var req struct {
		FirstName, LastName, Email, JobTitle, Phone string
		Address                                     map[string]string
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	fields := map[string]string{}
	f, ok := stubFormats[req.Address["country"]]
	if !ok {
		fields["address.country"] = "Unknown country"
	} else {
		for _, fl := range f.fields {
			if fl.Required && strings.TrimSpace(req.Address[fl.Name]) == "" {
				fields["address."+fl.Name] = fl.Label + " is required"
			}
		}
		if pc := req.Address["postalCode"]; pc != "" && !f.postal.MatchString(pc) {
			fields["address.postalCode"] = fmt.Sprintf("%q is not a valid postal code", html.EscapeString(pc))
		}
	}
	if len(fields) > 0 {
		writeErr(w, 400, "invalid_argument", "Some fields are invalid.", fields)
		return
	}
	norm := strings.ToLower(strings.TrimSpace(req.Email))
	c := models.Contact{Record: models.Record{OwnerID: p.UserID}, FirstName: req.FirstName, LastName: req.LastName, Email: req.Email, EmailNorm: norm,
		DupKey: strings.ToLower(req.FirstName) + "|" + strings.ToLower(req.LastName) + "|" + norm, JobTitle: req.JobTitle, Phone: req.Phone,
		Address: models.Address{Country: req.Address["country"], Line1: req.Address["line1"], PostalCode: req.Address["postalCode"], Locality: req.Address["locality"]}}
	if err := s.env.Store.DB(r.Context()).Create(&c).Error; err != nil {
		writeErr(w, 500, "internal", err.Error(), nil)
		return
	}
	writeJSON(w, 201, map[string]any{"id": c.ID, "firstName": c.FirstName, "lastName": c.LastName})
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
