package graphtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiPrefix is the version segment the fake serves under, so clients use
// Server.URL exactly as they would use https://graph.microsoft.com/v1.0.
const apiPrefix = "/v1.0"

// Server is the fake Graph. Create one with New or NewTLS.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex // guards mailboxes and their data
	mailboxes map[string]*Mailbox
	tokens    map[string]string

	statsMu sync.Mutex // guards stats, faults and the rng
	stats   map[string]*mailboxStats
	faults  []*Fault
	random  *randomFaults

	now         func() time.Time
	pageSize    int
	latency     time.Duration
	maxInFlight int
	autoCreate  bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock behind lastModifiedDateTime, the request log and
// HTTP-date Retry-After values.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithPageSize sets the page size used when a request sends no
// Prefer: odata.maxpagesize (Graph's default is 10 for most Outlook lists).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// WithLatency delays every top-level request, e.g. 20 ms to model Graph in
// load tests, or to let concurrent requests overlap.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithMailboxConcurrency makes the fake enforce Graph's per-mailbox
// concurrency limit: a request beyond n in flight gets 429
// (ApplicationThrottled, MailboxConcurrency) with Retry-After 1.
func WithMailboxConcurrency(n int) Option { return func(s *Server) { s.maxInFlight = n } }

// WithAutoMailboxes creates a mailbox for any unknown bearer token, for
// load tests with many users.
func WithAutoMailboxes() Option { return func(s *Server) { s.autoCreate = true } }

func newServer(opts []Option) *Server {
	s := &Server{mailboxes: map[string]*Mailbox{}, tokens: map[string]string{},
		stats: map[string]*mailboxStats{}, now: time.Now, pageSize: 10}
	for _, o := range opts {
		o(s)
	}
	return s
}

// New starts a fake Graph on a plain-HTTP loopback listener.
func New(opts ...Option) *Server {
	s := newServer(opts)
	s.srv = httptest.NewServer(s)
	return s
}

// NewTLS starts a fake Graph over HTTPS with httptest's self-signed
// certificate; use HTTPClient (or its CA) to trust it.
func NewTLS(opts ...Option) *Server {
	s := newServer(opts)
	s.srv = httptest.NewTLSServer(s)
	return s
}

// URL is the API root to configure as the client's base URL.
func (s *Server) URL() string { return s.srv.URL + apiPrefix }

// HTTPClient returns a client that trusts the server (needed for NewTLS).
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Certificate returns the TLS server's certificate in PEM-encodable form,
// for tests of the server's extra-CA wiring.
func (s *Server) Certificate() []byte {
	if c := s.srv.Certificate(); c != nil {
		return c.Raw
	}
	return nil
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddMailbox creates a mailbox; its id is also its bearer token.
func (s *Server) AddMailbox(id string, o MailboxOptions) *Mailbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.mailboxes[id]; ok {
		return m
	}
	m := newMailbox(s, id, o)
	s.mailboxes[id] = m
	return m
}

// Mailbox returns a mailbox by id, or nil.
func (s *Server) Mailbox(id string) *Mailbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailboxes[id]
}

// MapToken makes a bearer token address a mailbox (besides its own id).
func (s *Server) MapToken(token, mailboxID string) {
	s.mu.Lock()
	s.tokens[token] = mailboxID
	s.mu.Unlock()
}

// RevokeToken makes a token answer 401 from now on.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	s.tokens[token] = ""
	s.mu.Unlock()
}

func (s *Server) mailboxFor(token string) *Mailbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, mapped := s.tokens[token]
	if mapped && id == "" {
		return nil
	}
	if !mapped {
		id = token
	}
	m := s.mailboxes[id]
	if m == nil && s.autoCreate && !mapped && token != "" {
		m = newMailbox(s, id, MailboxOptions{})
		s.mailboxes[id] = m
	}
	return m
}

// --- statistics -------------------------------------------------------------

// Stats are the counters of one mailbox.
type Stats struct {
	// Requests counts HTTP requests; a $batch is one.
	Requests int
	// Endpoints counts requests per "METHOD /pattern" (e.g.
	// "GET /me/contacts/{id}"), including the items inside batches.
	Endpoints map[string]int
	// BatchItems counts requests carried inside $batch, including those
	// answered 424 without running.
	BatchItems int
	// MaxInFlight is the most top-level requests this mailbox had in
	// progress at once.
	MaxInFlight int
	// MeetingMessages counts invitations and updates Exchange would have
	// sent to attendees: an organizer's create of an event with attendees,
	// or a change of time, place or attendees of such an event.
	MeetingMessages int
	// MeetingCancellations counts deletes of an organizer's event with
	// attendees.
	MeetingCancellations int
	// Faults counts injected faults.
	Faults int
	// MissingImmutableID counts requests without Prefer: IdType="ImmutableId".
	MissingImmutableID int
	// Writes counts applied POST/PATCH/DELETE requests (items included).
	Writes int
}

// Record is one entry of a mailbox's request log.
type Record struct {
	Start, End time.Time
	Method     string
	Endpoint   string
	Status     int
	InBatch    bool
}

type mailboxStats struct {
	Stats
	inFlight int
	log      []Record
}

const maxLog = 20000

func (s *Server) statsOf(mbx string) *mailboxStats {
	st := s.stats[mbx]
	if st == nil {
		st = &mailboxStats{Stats: Stats{Endpoints: map[string]int{}}}
		s.stats[mbx] = st
	}
	return st
}

// Stats returns a copy of a mailbox's counters.
func (s *Server) Stats(mailbox string) Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.statsOf(mailbox)
	c := st.Stats
	c.Endpoints = map[string]int{}
	for k, v := range st.Endpoints {
		c.Endpoints[k] = v
	}
	return c
}

// Log returns a mailbox's request log (the last 20,000 requests).
func (s *Server) Log(mailbox string) []Record {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return append([]Record(nil), s.statsOf(mailbox).log...)
}

// ResetStats clears all counters and logs.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for k, st := range s.stats {
		s.stats[k] = &mailboxStats{Stats: Stats{Endpoints: map[string]int{}}, inFlight: st.inFlight}
	}
}

func (s *Server) count(mbx string, f func(*mailboxStats)) {
	s.statsMu.Lock()
	f(s.statsOf(mbx))
	s.statsMu.Unlock()
}

func (s *Server) logRecord(mbx string, r Record) {
	s.count(mbx, func(st *mailboxStats) {
		if len(st.log) >= maxLog {
			st.log = append(st.log[:0], st.log[len(st.log)/2:]...)
		}
		st.log = append(st.log, r)
	})
}

// --- HTTP -------------------------------------------------------------------

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	tok := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	m := s.mailboxFor(tok)
	if m == nil {
		writeError(w, s.now(), http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix)
	if !ok {
		writeError(w, s.now(), http.StatusBadRequest, "BadRequest", "Invalid version.")
		return
	}
	rt, params := match(r.Method, path)
	endpoint := "? " + path
	if rt != nil {
		endpoint = r.Method + " " + rt.pattern
	}

	var over bool
	s.count(m.id, func(st *mailboxStats) {
		st.Requests++
		st.Endpoints[endpoint]++
		st.inFlight++
		if st.inFlight > st.MaxInFlight {
			st.MaxInFlight = st.inFlight
		}
		if s.maxInFlight > 0 && st.inFlight > s.maxInFlight {
			over = true
		}
		if !hasImmutablePrefer(r.Header) {
			st.MissingImmutableID++
		}
	})
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	defer func() {
		s.count(m.id, func(st *mailboxStats) { st.inFlight-- })
		s.logRecord(m.id, Record{Start: start, End: s.now(), Method: r.Method, Endpoint: endpoint, Status: rec.status})
	}()

	if s.latency > 0 {
		if !sleepCtx(r.Context(), s.latency) {
			return
		}
	}
	if over {
		s.count(m.id, func(st *mailboxStats) { st.Faults++ })
		writeThrottle(rec, s.now(), time.Second, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
		return
	}
	f := s.pickFault(m.id, endpoint)
	if f != nil {
		if f.Latency > 0 && !sleepCtx(r.Context(), f.Latency) {
			return
		}
		switch f.Kind {
		case FaultThrottle, FaultUnavailable:
			writeFault(rec, s.now(), f)
			return
		case FaultReset:
			resetConn(w)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return
	}
	if rt == nil {
		writeError(rec, s.now(), http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+path+"'.")
		return
	}
	ctx := &reqCtx{s: s, m: m, r: r, header: r.Header, query: r.URL.Query(), params: params, body: body, path: path, endpoint: endpoint}
	if f != nil && f.Kind == FaultAfterApply {
		// Apply the request, then drop the connection: the client sees a
		// failure for a write that happened.
		rt.handle(ctx, httptest.NewRecorder())
		resetConn(w)
		return
	}
	rt.handle(ctx, rec)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func hasImmutablePrefer(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(v, " ", "")), `idtype="immutableid"`) {
			return true
		}
	}
	return false
}

// prefer returns the value of one Prefer token (e.g. odata.maxpagesize).
func prefer(h http.Header, name string) (string, bool) {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), name) {
				return strings.Trim(strings.TrimSpace(val), `"`), true
			}
		}
	}
	return "", false
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConn aborts the connection with a TCP RST so the client sees a
// transport error rather than an HTTP answer.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// --- responses --------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func requestID(now time.Time) string {
	h := sha256.Sum256([]byte(now.String()))
	b := hex.EncodeToString(h[:16])
	return b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
}

// writeError writes Graph's error envelope (error-generic.json shape; the
// innerError keys follow error-429-throttling.json).
func writeError(w http.ResponseWriter, now time.Time, status int, code, msg string) {
	rid := requestID(now)
	w.Header().Set("request-id", rid)
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": now.UTC().Format("2006-01-02T15:04:05"), "request-id": rid},
	}})
}

func formatRetryAfter(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// writeThrottle writes a 429 as in error-429-throttling.http.
func writeThrottle(w http.ResponseWriter, now time.Time, retryAfter time.Duration, code, msg string) {
	rid := requestID(now)
	w.Header().Set("Retry-After", formatRetryAfter(retryAfter))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"code": "429", "date": now.UTC().Format("2006-01-02T15:04:05"),
			"message": "Please retry after", "request-id": rid, "status": "429"},
	}})
}

// --- routing ----------------------------------------------------------------

type reqCtx struct {
	s        *Server
	m        *Mailbox
	r        *http.Request
	header   http.Header
	query    url.Values
	params   map[string]string
	body     []byte
	path     string
	endpoint string
	inBatch  bool
}

func (c *reqCtx) base() string {
	return c.s.URL()
}

type route struct {
	method  string
	pattern string
	segs    []string
	handle  func(*reqCtx, http.ResponseWriter)
}

var routes []*route

func addRoute(method, pattern string, h func(*reqCtx, http.ResponseWriter)) {
	routes = append(routes, &route{method: method, pattern: pattern, segs: strings.Split(strings.Trim(pattern, "/"), "/"), handle: h})
}

// match finds a route; literal segments match case-insensitively, as
// Graph's do (its own nextLinks say "contactfolders").
func match(method, escapedPath string) (*route, map[string]string) {
	raw := strings.Split(strings.Trim(escapedPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil
		}
		segs[i] = u
	}
	for _, rt := range routes {
		if rt.method != method || len(rt.segs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
				continue
			}
			if !strings.EqualFold(p, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}

func (s *Server) String() string { return fmt.Sprintf("graphtest server at %s", s.URL()) }
