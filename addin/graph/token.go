package graph

import (
	"context"
	"fmt"
)

// TokenSource hands out a Graph access token for a SalesBridge user. The
// identity package implements it over MSAL's per-user token cache. When a
// user must sign in again (refresh token revoked, consent withdrawn) it
// should return an error wrapping ErrUnauthorized, so sync marks the user
// "not authorized" instead of retrying.
type TokenSource interface {
	Token(ctx context.Context, userID string) (string, error)
}

// TokenFunc adapts a function to TokenSource.
type TokenFunc func(ctx context.Context, userID string) (string, error)

// Token implements TokenSource.
func (f TokenFunc) Token(ctx context.Context, userID string) (string, error) { return f(ctx, userID) }

// StaticTokens maps user ids to fixed tokens; for tests and tools. An
// unknown user gets ErrUnauthorized, like a user who never connected.
type StaticTokens map[string]string

// Token implements TokenSource.
func (s StaticTokens) Token(_ context.Context, userID string) (string, error) {
	if t, ok := s[userID]; ok {
		return t, nil
	}
	return "", fmt.Errorf("no token for user %q: %w", userID, ErrUnauthorized)
}
