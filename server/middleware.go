package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/salesbridge/salesbridge/handlers"
	"github.com/salesbridge/salesbridge/models"
)

// requestID gives every request an id (kept from a trusted X-Request-Id
// when well-formed) and echoes it in the response.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			id = uuid.NewString()
		}
		c.Set(handlers.RequestIDKey, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("request_id", c.GetString(handlers.RequestIDKey)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// recovery turns a panic into the JSON 500 error, logging the stack but
// sending no internals.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic in handler", "request_id", c.GetString(handlers.RequestIDKey),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if c.Writer.Written() {
					c.Abort()
					return
				}
				handlers.WriteError(c, models.Internal(fmt.Errorf("panic: %v", r)))
			}
		}()
		c.Next()
	}
}

// bodyLimit caps request bodies; routes under a larger-limit prefix (shares
// carrying email bodies) get that limit instead. A declared Content-Length
// over the limit is refused at once.
func bodyLimit(def int64, larger map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := def
		for prefix, l := range larger {
			if strings.HasPrefix(c.Request.URL.Path, prefix) {
				limit = l
			}
		}
		if c.Request.ContentLength > limit {
			handlers.WriteError(c, &models.Error{Code: models.CodePayloadTooLarge,
				Message: fmt.Sprintf("The request body is too large (limit %d bytes).", limit)})
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// outlookFrameAncestors are the hosts allowed to frame the add-in's pages:
// Outlook on the web, Office and Microsoft 365 (desktop clients host the
// pages in a web view without an ancestor).
var outlookFrameAncestors = []string{
	"'self'",
	"https://outlook.office.com",
	"https://outlook.office365.com",
	"https://outlook.live.com",
	"https://outlook.cloud.microsoft",
	"https://*.office.com",
	"https://*.office365.com",
	"https://*.officeapps.live.com",
	"https://*.microsoft365.com",
	"https://*.cloud.microsoft",
}

// pageCSP is the Content-Security-Policy of the add-in pages. Office.js is
// the only external script; form-action allows the Microsoft sign-in
// redirect that follows the sales sign-in form.
func pageCSP(authorityOrigin string) string {
	formAction := "'self'"
	if authorityOrigin != "" {
		formAction += " " + authorityOrigin
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' https://appsforoffice.microsoft.com",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action " + formAction,
		"frame-ancestors " + strings.Join(outlookFrameAncestors, " "),
	}, "; ")
}

// adminCSP forbids framing of the admin pages and the API.
const adminCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries; pages get the
// Outlook-framable CSP, everything else frame-ancestors 'none'.
func securityHeaders(authorityOrigin string) gin.HandlerFunc {
	page := pageCSP(authorityOrigin)
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		p := c.Request.URL.Path
		if isPanePath(p) {
			h.Set("Content-Security-Policy", page)
		} else {
			h.Set("Content-Security-Policy", adminCSP)
			h.Set("X-Frame-Options", "DENY")
		}
		c.Next()
	}
}

func isPanePath(p string) bool {
	return strings.HasPrefix(p, "/crmUI/") || strings.HasPrefix(p, "/sales/office365/") || strings.HasPrefix(p, "/connect/")
}
