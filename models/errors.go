package models

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Code is the machine-readable kind of an Error. The set is closed: the
// handlers map each code to exactly one HTTP status.
type Code string

// The error codes of PRODUCT §8.
const (
	CodeInvalidArgument    Code = "invalid_argument"
	CodeUnauthenticated    Code = "unauthenticated"
	CodePermissionDenied   Code = "permission_denied"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodePreconditionFailed Code = "precondition_failed"
	CodePayloadTooLarge    Code = "payload_too_large"
	CodeRateLimited        Code = "rate_limited"
	CodeUnavailable        Code = "unavailable"
	CodeInternal           Code = "internal"
)

// Error is the one typed error of the project. Message is safe to show to
// a user; Cause is logged and never sent.
type Error struct {
	Code    Code
	Message string
	// Fields names the offending input fields (camelCase JSON paths) and why.
	Fields map[string]string
	// Details carries extra machine-readable facts, e.g. the id of an
	// existing duplicate or a Retry-After in seconds.
	Details map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error with a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is an invalid_argument error naming the fields at fault.
func Invalid(fields map[string]string) *Error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	msg := "The request has invalid fields."
	if len(names) == 1 {
		msg = fmt.Sprintf("Invalid %s: %s", names[0], fields[names[0]])
	}
	return &Error{Code: CodeInvalidArgument, Message: msg, Fields: fields}
}

// InvalidField is Invalid for a single field.
func InvalidField(field, why string) *Error {
	return Invalid(map[string]string{field: why})
}

// NotFound says the named kind of record does not exist (or is not visible).
func NotFound(what string) *Error {
	return Errorf(CodeNotFound, "%s not found", what)
}

// Internal wraps an unexpected error; its text is never sent to clients.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Message: "An internal error occurred.", Cause: cause}
}

// ErrorCode returns the code of err, or internal for foreign errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as *Error, mapping database errors to their kinds and
// wrapping anything else as internal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if mapped := MapErr(err); mapped != err {
		if errors.As(mapped, &e) {
			return e
		}
	}
	return Internal(err)
}

// MapErr turns storage errors into typed errors: record not found →
// not_found, unique violations on either database → conflict. Other errors
// are returned unchanged.
func MapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &Error{Code: CodeNotFound, Message: "record not found", Cause: err}
	}
	if IsUniqueViolation(err) {
		return &Error{Code: CodeConflict, Message: "a record with the same key already exists", Cause: err}
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// PostgreSQL (23505) or SQLite (constraint unique / primary key).
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "constraint failed: PRIMARY KEY") ||
		strings.Contains(msg, "(2067)") || strings.Contains(msg, "(1555)")
}
