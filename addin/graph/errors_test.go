package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   error
	}{
		{429, "TooManyRequests", ErrThrottled},
		{404, "ErrorItemNotFound", ErrNotFound},
		{412, "", ErrPreconditionFailed},
		{409, "ErrorIrresolvableConflict", ErrPreconditionFailed},
		{409, "ErrorFolderExists", ErrConflict},
		{401, "InvalidAuthenticationToken", ErrUnauthorized},
		{403, "ErrorAccessDenied", ErrForbidden},
		{410, "", ErrResyncRequired},
		{410, "syncStateNotFound", ErrResyncRequired},
		{400, "resyncRequired", ErrResyncRequired},
		{400, "SyncStateInvalid", ErrResyncRequired},
		{500, "UnknownError", ErrServer},
		{503, "serviceNotAvailable", ErrServer},
		{504, "", ErrServer},
		{400, "RequestBodyRead", ErrBadRequest},
		{405, "", ErrBadRequest},
	} {
		if got := classify(tc.status, tc.code); got != tc.want {
			t.Errorf("classify(%d, %q) = %v, want %v", tc.status, tc.code, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"2":                             2 * time.Second,
		"2.128":                         2128 * time.Millisecond,
		"0.0001":                        time.Millisecond, // rounded up, never down
		"-1":                            0,
		"soon":                          0,
		"Fri, 01 May 2026 09:00:30 GMT": 30 * time.Second,
		"Fri, 01 May 2026 08:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestErrorWrapsKindAndCause(t *testing.T) {
	e := &Error{Kind: ErrNetwork, Method: "GET", Path: "/me", Err: context.DeadlineExceeded}
	if !errors.Is(e, ErrNetwork) || !errors.Is(e, context.DeadlineExceeded) || errors.Is(e, ErrThrottled) {
		t.Error("errors.Is does not see kind and cause")
	}
	if IsRetryable(&Error{Kind: ErrBadRequest}) || !IsRetryable(e) {
		t.Error("IsRetryable")
	}
	h := http.Header{}
	h.Set("Retry-After", "3")
	s := newStatusError("PATCH", "/me/events/x", 429, h, []byte(`{"error":{"code":"TooManyRequests","message":"slow down"}}`), time.Now()).Error()
	for _, part := range []string{"throttled", "PATCH /me/events/x", "429", "TooManyRequests", "slow down", "3s"} {
		if !strings.Contains(s, part) {
			t.Errorf("%q lacks %q", s, part)
		}
	}
}

func TestDateTimeTimeZone(t *testing.T) {
	d := NewDateTimeTimeZone(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	if d.DateTime != "2026-01-02T02:04:05.0000000" || d.TimeZone != "UTC" {
		t.Errorf("%+v", d)
	}
	for _, z := range []string{"Europe/Paris", "W. Europe Standard Time", "utc"} {
		if _, err := (DateTimeTimeZone{DateTime: "2026-06-01T10:00:00", TimeZone: z}).Time(); err != nil {
			t.Errorf("%s: %v", z, err)
		}
	}
	if _, err := (DateTimeTimeZone{DateTime: "2026-06-01T10:00:00", TimeZone: "Mars Standard Time"}).Time(); err == nil {
		t.Error("unknown zone accepted")
	}
}

func TestEncodeQuery(t *testing.T) {
	got := encodeQuery(map[string][]string{"$filter": {"a eq 'b c+d'"}, "$top": {"5"}})
	if got != "$filter=a%20eq%20%27b%20c%2Bd%27&$top=5" {
		t.Error(got)
	}
	if odataString("O'Brien") != "'O''Brien'" {
		t.Error(odataString("O'Brien"))
	}
}
