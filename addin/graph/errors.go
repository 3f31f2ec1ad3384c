package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel error kinds. Every error the client returns for a failed Graph
// call wraps exactly one of them, so callers branch with errors.Is and never
// on status codes or message text.
var (
	// ErrThrottled: Graph answered 429. The *Error carries RetryAfter.
	ErrThrottled = errors.New("graph: throttled")
	// ErrNotFound: the item does not exist (404), e.g. deleted in Outlook.
	ErrNotFound = errors.New("graph: not found")
	// ErrPreconditionFailed: the If-Match etag / changeKey is stale (412, or
	// 409 ErrorIrresolvableConflict); re-read the item and merge.
	ErrPreconditionFailed = errors.New("graph: precondition failed")
	// ErrConflict: any other 409, e.g. a master category that already exists.
	ErrConflict = errors.New("graph: conflict")
	// ErrUnauthorized: 401, or a token source that says the user must
	// reconnect (wrap this sentinel in the token source's error).
	ErrUnauthorized = errors.New("graph: unauthorized")
	// ErrForbidden: 403, the app lacks a permission or the mailbox is off.
	ErrForbidden = errors.New("graph: forbidden")
	// ErrResyncRequired: the delta token is no longer valid (410 Gone,
	// syncStateNotFound, resyncRequired); start a full delta and rematch.
	ErrResyncRequired = errors.New("graph: resync required")
	// ErrServer: a 5xx answer that retries did not cure.
	ErrServer = errors.New("graph: server error")
	// ErrBadRequest: 400 and other 4xx the client does not classify further;
	// retrying the same request will not help.
	ErrBadRequest = errors.New("graph: bad request")
	// ErrNetwork: the request may or may not have reached Graph (connection
	// reset, timeout). For a create, look the item up by CRM id before
	// creating it again.
	ErrNetwork = errors.New("graph: network error")
)

// Error is a failed Graph call, or one failed item of a $batch.
type Error struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// StatusCode is the HTTP status (0 for a network error).
	StatusCode int
	// Code and Message come from Graph's {"error":{…}} body.
	Code    string
	Message string
	// InnerCode, RequestID and Date come from error.innerError.
	InnerCode string
	RequestID string
	Date      string
	// RetryAfter is the parsed Retry-After header (zero when absent).
	RetryAfter time.Duration
	// Method and Path identify the request (path without query string, so
	// filters carrying personal data stay out of logs).
	Method string
	Path   string
	// BatchID is the id of the $batch item that failed, if any.
	BatchID string
	// Err is the underlying transport or decoding error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Method != "" {
		fmt.Fprintf(&b, " (%s %s", e.Method, e.Path)
		if e.BatchID != "" {
			fmt.Fprintf(&b, " batch item %s", e.BatchID)
		}
		b.WriteString(")")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause, so errors.Is works for
// ErrThrottled as well as for context.DeadlineExceeded underneath.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// RetryAfter reports the server's requested wait carried by err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ge *Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return ge.RetryAfter, true
	}
	return 0, false
}

// IsRetryable reports whether err is worth trying again later (throttling,
// unavailability, network failure) as opposed to a permanent answer.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrNetwork) ||
		errors.Is(err, ErrServer)
}

// errorBody is Graph's error envelope (concepts/errors.md).
type errorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Code            string `json:"code"`
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			RequestIDCamel  string `json:"requestId"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newStatusError classifies a non-2xx answer.
func newStatusError(method, path string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{StatusCode: status, Method: method, Path: path}
	var eb errorBody
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil {
		e.Code = eb.Error.Code
		e.Message = eb.Error.Message
		e.InnerCode = eb.Error.InnerError.Code
		e.Date = eb.Error.InnerError.Date
		e.RequestID = eb.Error.InnerError.RequestID
		if e.RequestID == "" {
			e.RequestID = eb.Error.InnerError.RequestIDCamel
		}
	}
	if e.RequestID == "" && header != nil {
		e.RequestID = header.Get("request-id")
	}
	if header != nil {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}
	e.Kind = classify(status, e.Code)
	return e
}

func classify(status int, code string) error {
	switch strings.ToLower(code) {
	case "syncstatenotfound", "resyncrequired", "syncstateinvalid":
		return ErrResyncRequired
	case "errorirresolvableconflict":
		return ErrPreconditionFailed
	}
	switch {
	case status == http.StatusTooManyRequests:
		return ErrThrottled
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusGone:
		return ErrResyncRequired
	case status >= 500:
		return ErrServer
	default:
		return ErrBadRequest
	}
}

// parseRetryAfter accepts delta-seconds, including the fractional form
// Graph documents ("Retry-After: 2.128"), and HTTP dates.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Round up to the millisecond so "at least that long" holds.
		return time.Duration(secs*1000+0.999999) * time.Millisecond
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
