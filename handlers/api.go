package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/addin/identity"
	"github.com/salesbridge/salesbridge/models"
)

// Txer runs a function in one transaction carried by its context.
type Txer interface {
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Result is what a handler body returns: a status and a JSON body, written
// only after the request's transaction committed.
type Result struct {
	Status  int
	Body    any
	Headers map[string]string
}

// OK is a 200 result.
func OK(body any) Result { return Result{Status: http.StatusOK, Body: body} }

// Created is a 201 result.
func Created(body any) Result { return Result{Status: http.StatusCreated, Body: body} }

// NoContent is a 204 result.
func NoContent() Result { return Result{Status: http.StatusNoContent} }

// Tx wraps a handler body so that the whole request is one transaction:
// the body runs inside it and the response is written after commit; any
// error rolls everything back and becomes the JSON error shape.
func Tx(store Txer, fn func(c *gin.Context, ctx context.Context) (Result, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, ok := runTx(c, store, fn)
		if !ok {
			return
		}
		for k, v := range res.Headers {
			c.Header(k, v)
		}
		if c.GetHeader("Cache-Control") == "" {
			c.Header("Cache-Control", "no-store")
		}
		if res.Status == http.StatusNoContent || res.Body == nil {
			c.Status(res.Status)
			return
		}
		c.JSON(res.Status, res.Body)
	}
}

// runTx runs fn in the request's transaction; on error it writes the JSON
// error and reports false.
func runTx[R any](c *gin.Context, store Txer, fn func(c *gin.Context, ctx context.Context) (R, error)) (R, bool) {
	var res R
	err := store.Tx(c.Request.Context(), func(ctx context.Context) error {
		var err error
		res, err = fn(c, ctx)
		return err
	})
	if err != nil {
		WriteError(c, err)
		return res, false
	}
	return res, true
}

// PrincipalKey is the gin context key of the authenticated caller.
const PrincipalKey = "principal"

// Caller returns the authenticated caller set by the auth middleware.
func Caller(c *gin.Context) identity.Principal {
	p, _ := c.Get(PrincipalKey)
	pr, _ := p.(identity.Principal)
	return pr
}

// Authenticator verifies an access token.
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (identity.Principal, error)
}

// RequireSession is the auth middleware of /api/v1: a bearer access token
// whose session is live and whose user is active, else 401.
func RequireSession(auth Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(raw) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="salesbridge"`)
			WriteError(c, &models.Error{Code: models.CodeUnauthenticated, Message: "Sign in first: this endpoint needs a session (Authorization: Bearer …)."})
			return
		}
		p, err := auth.Authenticate(c.Request.Context(), strings.TrimSpace(raw))
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="salesbridge", error="invalid_token"`)
			WriteError(c, err)
			return
		}
		c.Set(PrincipalKey, p)
		c.Next()
	}
}

// RequireAdmin refuses non-admin callers with 403.
func RequireAdmin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !Caller(c).IsAdmin() {
			WriteError(c, models.Errorf(models.CodePermissionDenied, "This needs the administrator role."))
			return
		}
		c.Next()
	}
}

// BindJSON decodes the request body into dst, refusing unknown fields,
// wrong types and malformed JSON with invalid_argument naming the field.
// Oversized bodies become payload_too_large.
func BindJSON(c *gin.Context, dst any) error {
	if c.Request.Body == nil {
		return models.InvalidField("body", "a JSON body is required")
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, dst)
	}
	if dec.More() {
		return models.InvalidField("body", "must hold exactly one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return models.InvalidField("body", "must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error, dst any) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return models.InvalidField("body", "a JSON body is required")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return models.InvalidField("body", "is not valid JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return models.InvalidField(field, fmt.Sprintf("must be %s", jsonKind(typ.Type)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return models.InvalidField(name, "is not a known field")
	}
	return models.InvalidField("body", "cannot be decoded: "+err.Error())
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}
