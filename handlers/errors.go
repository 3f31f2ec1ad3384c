// Package handlers holds the Gin handlers of the JSON API: each decodes and
// validates a request type, calls one addin service and encodes a response
// type. The one mapping from typed errors to HTTP responses lives here.
package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/models"
)

// statusOf is the single table from error codes to HTTP statuses (PRODUCT §8).
var statusOf = map[models.Code]int{
	models.CodeInvalidArgument:    http.StatusBadRequest,
	models.CodeUnauthenticated:    http.StatusUnauthorized,
	models.CodePermissionDenied:   http.StatusForbidden,
	models.CodeNotFound:           http.StatusNotFound,
	models.CodeConflict:           http.StatusConflict,
	models.CodePreconditionFailed: http.StatusPreconditionFailed,
	models.CodePayloadTooLarge:    http.StatusRequestEntityTooLarge,
	models.CodeRateLimited:        http.StatusTooManyRequests,
	models.CodeUnavailable:        http.StatusServiceUnavailable,
	models.CodeInternal:           http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error code.
func StatusOf(code models.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON error shape: {"error":{"code","message","fields"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Details map[string]any    `json:"details,omitempty"`
}

// WriteError writes err as the JSON error shape. Internal errors are logged
// with their cause and answered with a generic message.
func WriteError(c *gin.Context, err error) {
	e := models.AsError(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		e = &models.Error{Code: models.CodePayloadTooLarge, Message: "The request body is too large (limit " + strconv.FormatInt(mbe.Limit, 10) + " bytes)."}
	}
	status := StatusOf(e.Code)
	if e.Code == models.CodeInternal {
		slog.ErrorContext(c.Request.Context(), "internal error", "err", err, "request_id", c.GetString(RequestIDKey), "path", c.FullPath())
	}
	if ra, ok := e.Details["retryAfter"]; ok {
		switch v := ra.(type) {
		case int:
			c.Header("Retry-After", strconv.Itoa(v))
		case int64:
			c.Header("Retry-After", strconv.FormatInt(v, 10))
		}
	}
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{
		Code: string(e.Code), Message: e.Message, Fields: e.Fields, Details: e.Details,
	}})
}

// RequestIDKey is the gin context key holding the request id.
const RequestIDKey = "request_id"

// NotFound answers unknown routes.
func NotFound(c *gin.Context) {
	WriteError(c, models.Errorf(models.CodeNotFound, "No such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
}

// MethodNotAllowed answers known routes called with the wrong method.
func MethodNotAllowed(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, ErrorBody{Error: ErrorDetail{
		Code: "method_not_allowed", Message: "Method " + c.Request.Method + " is not allowed here.",
	}})
}
