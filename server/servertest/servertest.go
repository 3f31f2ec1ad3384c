// Package servertest runs the real SalesBridge HTTP stack (Gin engine,
// middleware, handlers, store) against a fresh test database, and checks
// every /api/v1 response it sees against the OpenAPI document.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/salesbridge/salesbridge/handlers/openapi"
	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/models/dbtest"
	"github.com/salesbridge/salesbridge/server"
)

// Env is one running server for a test.
type Env struct {
	T      testing.TB
	App    *server.App
	Store  *models.Store
	Server *httptest.Server
	// Client follows no redirects and keeps cookies.
	Client *http.Client
}

// Option adjusts the configuration or options before the App is built.
type Option func(cfg *server.Config, opts *server.Options)

// New starts a server on a fresh database. Workers are not started unless
// a test calls App.StartWorkers.
func New(t testing.TB, options ...Option) *Env {
	t.Helper()
	store := dbtest.Open(t)
	cfg, err := server.LoadConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretKey = "test-secret-key-0123456789abcdef0123456789"
	cfg.DatabaseURL = "sqlite://unused.db"
	opts := server.Options{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range options {
		o(cfg, &opts)
	}
	app, err := server.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("servertest: build app: %v", err)
	}
	srv := httptest.NewServer(app.Engine)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.StopWorkers(ctx)
		app.Close()
	})
	jar := newJar()
	return &Env{T: t, App: app, Store: store, Server: srv, Client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode is the "code" of an error body.
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Fields are the "fields" of an error body.
func (r *Response) Fields() map[string]string {
	var e struct {
		Error struct{ Fields map[string]string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Fields
}

// Do sends a request (body marshalled as JSON unless it is []byte or
// string) with an optional bearer token, validates /api/v1 responses
// against the OpenAPI document, and returns the response.
func (e *Env) Do(method, path string, body any, token string) *Response {
	e.T.Helper()
	return e.DoHeaders(method, path, body, map[string]string{"Authorization": bearer(token)})
}

func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// DoHeaders is Do with arbitrary headers.
func (e *Env) DoHeaders(method, path string, body any, headers map[string]string) *Response {
	e.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		ct = "application/json"
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(buf)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if strings.HasPrefix(req.URL.Path, "/api/v1/") && req.URL.Path != "/api/v1/openapi.yaml" {
		ValidateResponse(e.T, req, r)
	}
	return r
}

var (
	docOnce   sync.Once
	docRouter routers.Router
	docErr    error
)

func router() (routers.Router, error) {
	docOnce.Do(func() {
		b, err := openapi.YAML()
		if err != nil {
			docErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(b)
		if err != nil {
			docErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			docErr = err
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
		docRouter, docErr = gorillamux.NewRouter(doc)
	})
	return docRouter, docErr
}

// ValidateResponse fails the test when a response to req is not described
// by the OpenAPI document: an undocumented path, method or status, or a
// body that does not match its schema.
func ValidateResponse(t testing.TB, req *http.Request, r *Response) {
	t.Helper()
	rt, err := router()
	if err != nil {
		t.Fatalf("openapi document: %v", err)
	}
	vreq := req.Clone(context.Background())
	vreq.URL = &url.URL{Path: req.URL.Path, RawQuery: req.URL.RawQuery}
	vreq.Host = ""
	route, params, err := rt.FindRoute(vreq)
	if err != nil {
		if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed || r.Status == http.StatusRequestEntityTooLarge {
			return // unknown routes answer with the documented error shape
		}
		t.Fatalf("openapi: %s %s is not documented: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{ExcludeRequestBody: true, ExcludeRequestQueryParams: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.Status,
		Header:                 r.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("openapi: response to %s %s (%d) does not match the document: %v\nbody: %s", req.Method, req.URL.Path, r.Status, err, truncate(r.Body))
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// CreateUser adds a sales user directly in the database.
func (e *Env) CreateUser(username string, role string) *models.User {
	e.T.Helper()
	now := time.Now().UTC()
	u := &models.User{Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:], Email: username + "@contoso.example",
		Role: role, Active: true, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if err := e.Store.DB(context.Background()).Create(u).Error; err != nil {
		e.T.Fatal(err)
	}
	return u
}

// Login opens a real session for a user and returns its access token.
func (e *Env) Login(userID int64) string {
	e.T.Helper()
	var tok string
	err := e.Store.Tx(context.Background(), func(ctx context.Context) error {
		_, t, _, err := e.App.Sessions.Create(ctx, userID, true, "pane")
		tok = t
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}
