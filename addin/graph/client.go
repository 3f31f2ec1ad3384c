package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Graph's v1.0 root. Tests and operators point the client
// elsewhere through Options.BaseURL.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Options configures a Client. Only Tokens is required.
type Options struct {
	// BaseURL is the API version root, default DefaultBaseURL.
	BaseURL string
	// HTTPClient carries the transport (the server builds one that trusts
	// extra CA roots). Its Timeout should stay below the DB limiter's lease
	// TTL so a hung request cannot outlive its slot. Default: a client with
	// a 60 s timeout.
	HTTPClient *http.Client
	// Tokens yields access tokens per user.
	Tokens TokenSource
	// Limiter bounds concurrency and volume per mailbox. Default: an
	// in-process MemoryLimiter with the Graph mailbox limits.
	Limiter Limiter
	// Clock drives retry waits. Default SystemClock.
	Clock Clock
	// MaxAttempts bounds tries per request (and per throttled batch item),
	// default 5.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential backoff used when the
	// server gives no Retry-After; defaults 500 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest server-requested wait the client sits
	// through; a longer Retry-After is returned to the caller (a sync job
	// should reschedule rather than hold a worker). Default 2 min.
	MaxRetryAfter time.Duration
	// PageSize is sent as Prefer: odata.maxpagesize on delta and list
	// calls unless a call sets its own. Default 100.
	PageSize int
	// MaxResponseBytes caps a response body, default 64 MiB.
	MaxResponseBytes int64
	// Rand returns values in [0,1) for backoff jitter; default math/rand/v2.
	Rand func() float64
}

// Client is a Microsoft Graph client for many mailboxes. It is safe for
// concurrent use; every method takes the SalesBridge user id whose token and
// mailbox limits apply.
type Client struct {
	base       *url.URL
	baseStr    string
	hc         *http.Client
	tokens     TokenSource
	limiter    Limiter
	clock      Clock
	attempts   int
	minBackoff time.Duration
	maxBackoff time.Duration
	maxRetry   time.Duration
	pageSize   int
	maxBody    int64
	rnd        func() float64
}

// New builds a Client.
func New(o Options) (*Client, error) {
	if o.Tokens == nil {
		return nil, errors.New("graph: Options.Tokens is required")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("graph: bad base URL %q", o.BaseURL)
	}
	c := &Client{
		base: u, baseStr: u.String(), hc: o.HTTPClient, tokens: o.Tokens,
		limiter: o.Limiter, clock: o.Clock, attempts: o.MaxAttempts,
		minBackoff: o.MinBackoff, maxBackoff: o.MaxBackoff, maxRetry: o.MaxRetryAfter,
		pageSize: o.PageSize, maxBody: o.MaxResponseBytes, rnd: o.Rand,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if c.clock == nil {
		c.clock = SystemClock
	}
	if c.limiter == nil {
		c.limiter = NewMemoryLimiter(LimitConfig{Clock: c.clock})
	}
	if c.attempts <= 0 {
		c.attempts = 5
	}
	if c.minBackoff <= 0 {
		c.minBackoff = 500 * time.Millisecond
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 30 * time.Second
	}
	if c.maxRetry <= 0 {
		c.maxRetry = 2 * time.Minute
	}
	if c.pageSize <= 0 {
		c.pageSize = 100
	}
	if c.maxBody <= 0 {
		c.maxBody = 64 << 20
	}
	if c.rnd == nil {
		c.rnd = rand.Float64
	}
	return c, nil
}

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.baseStr }

// call describes one logical request; send turns it into HTTP attempts.
type call struct {
	method string
	// path is relative to the base URL ("/me/contacts"); link, when set, is
	// an absolute @odata.nextLink/deltaLink to follow verbatim.
	path  string
	link  string
	query url.Values
	// prefer lists extra Prefer tokens besides IdType="ImmutableId".
	prefer  []string
	header  map[string]string
	body    []byte
	hasBody bool
	// retrySafe: resending after a transport error cannot duplicate a
	// write (GET, PATCH, DELETE, or POST with a transactionId).
	retrySafe bool
	// weight is what the request costs against the mailbox budget (the
	// number of requests inside a $batch).
	weight int
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("graph: encode request: %w", err)
	}
	return b, nil
}

// encodeQuery keeps OData's "$" keys literal and encodes spaces as %20:
// Graph reads "+" in a $filter literally on some endpoints.
func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(url.QueryEscape(k), "%24", "$"))
			b.WriteByte('=')
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return b.String()
}

func (c *Client) target(cl *call) (string, error) {
	if cl.link != "" {
		// Follow server links only back to the configured Graph host: a
		// bearer token must never be sent anywhere else.
		u, err := url.Parse(cl.link)
		if err != nil || !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) ||
			!strings.HasPrefix(u.Path, c.base.Path) {
			return "", &Error{Kind: ErrBadRequest, Method: cl.method, Path: "(link)",
				Message: "next/delta link is not under the configured Graph base URL"}
		}
		return cl.link, nil
	}
	s := c.baseStr + cl.path
	if q := encodeQuery(cl.query); q != "" {
		s += "?" + q
	}
	return s, nil
}

func (cl *call) logPath() string {
	if cl.link != "" {
		if u, err := url.Parse(cl.link); err == nil {
			return u.Path
		}
		return "(link)"
	}
	return cl.path
}

// send performs cl with retries and decodes a 2xx JSON body into out (if
// non-nil). 429 and 503 are always retried: Graph did not process the
// request. 504 and transport errors leave the outcome unknown, so they are
// retried only when resending cannot duplicate a write (GET, PATCH, DELETE,
// an event POST with a transactionId); a contact or task create fails with
// ErrNetwork/ErrServer instead and sync recovers it by CRM id lookup.
func (c *Client) send(ctx context.Context, userID string, cl *call, out any) (*result, error) {
	var prevAmbiguous bool
	for attempt := 1; ; attempt++ {
		res, err := c.once(ctx, userID, cl)
		if err == nil {
			if out != nil && len(res.body) > 0 && res.status != http.StatusNoContent {
				if derr := json.Unmarshal(res.body, out); derr != nil {
					return res, &Error{Kind: ErrBadRequest, StatusCode: res.status, Method: cl.method,
						Path: cl.logPath(), Message: "undecodable response", Err: derr}
				}
			}
			return res, nil
		}
		// A DELETE that may already have gone through before a transport
		// failure is done if the item is now gone.
		if prevAmbiguous && cl.method == http.MethodDelete && errors.Is(err, ErrNotFound) {
			return &result{status: http.StatusNoContent}, nil
		}
		var ge *Error
		if !errors.As(err, &ge) || attempt >= c.attempts || !c.retryable(ge, cl) {
			return res, err
		}
		prevAmbiguous = ge.Kind == ErrNetwork || ge.StatusCode == http.StatusGatewayTimeout
		wait := c.backoff(attempt, ge.RetryAfter)
		if ge.RetryAfter > c.maxRetry {
			return res, err
		}
		if serr := c.clock.Sleep(ctx, wait); serr != nil {
			return res, fmt.Errorf("graph: waiting to retry: %w (last error: %v)", serr, err)
		}
	}
}

func (c *Client) retryable(e *Error, cl *call) bool {
	switch {
	case e.Kind == ErrNetwork:
		return cl.retrySafe
	case e.StatusCode == http.StatusTooManyRequests, e.StatusCode == http.StatusServiceUnavailable:
		// Graph did not process the request.
		return true
	case e.StatusCode == http.StatusGatewayTimeout:
		// The request may have been applied behind the gateway.
		return cl.retrySafe
	}
	return false
}

// backoff returns how long to wait before attempt+1. With a Retry-After it
// waits at least that long plus up to 10 % (max 1 s) of jitter, so many
// workers released by the same Retry-After do not all return at once.
// Without one it uses "equal jitter" exponential backoff.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		j := retryAfter / 10
		if j > time.Second {
			j = time.Second
		}
		return retryAfter + time.Duration(c.rnd()*float64(j))
	}
	d := c.minBackoff << (attempt - 1)
	if d > c.maxBackoff || d <= 0 {
		d = c.maxBackoff
	}
	half := d / 2
	return half + time.Duration(c.rnd()*float64(half))
}

// once makes one HTTP attempt under the mailbox limiter.
func (c *Client) once(ctx context.Context, userID string, cl *call) (*result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target, err := c.target(cl)
	if err != nil {
		return nil, err
	}
	// The token comes before the limiter slot: a slow refresh must not
	// occupy one of the mailbox's four slots.
	// Token errors pass through unclassified: only the token source knows
	// whether the user must reconnect (it wraps ErrUnauthorized then) or
	// the identity platform merely failed this time.
	tok, err := c.tokens.Token(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("graph: token for %s: %w", userID, err)
	}
	var body io.Reader
	if cl.hasBody {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return nil, &Error{Kind: ErrBadRequest, Method: cl.method, Path: cl.logPath(), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	prefer := append([]string{`IdType="ImmutableId"`}, cl.prefer...)
	req.Header.Set("Prefer", strings.Join(prefer, ", "))
	if cl.hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range cl.header {
		req.Header.Set(k, v)
	}

	release, err := acquire(ctx, c.limiter, userID, cl.weight)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: ErrNetwork, Method: cl.method, Path: cl.logPath(), Err: err}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	resp.Body.Close()
	release()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: ErrNetwork, StatusCode: resp.StatusCode, Method: cl.method, Path: cl.logPath(), Err: err}
	}
	if int64(len(data)) > c.maxBody {
		return nil, &Error{Kind: ErrServer, StatusCode: resp.StatusCode, Method: cl.method, Path: cl.logPath(),
			Message: "response body over " + strconv.FormatInt(c.maxBody, 10) + " bytes"}
	}
	res := &result{status: resp.StatusCode, header: resp.Header, body: data}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, newStatusError(cl.method, cl.logPath(), resp.StatusCode, resp.Header, data, c.clock.Now())
	}
	return res, nil
}

// acquire takes a limiter slot, charging weight requests to the budget when
// the limiter supports it.
func acquire(ctx context.Context, l Limiter, mailbox string, weight int) (func(), error) {
	if weight > 1 {
		if wl, ok := l.(WeightedLimiter); ok {
			return wl.AcquireN(ctx, mailbox, weight)
		}
	}
	return l.Acquire(ctx, mailbox)
}

// simple helpers for the resource files

func (c *Client) get(ctx context.Context, userID, path string, q url.Values, prefer []string, out any) error {
	_, err := c.send(ctx, userID, &call{method: http.MethodGet, path: path, query: q, prefer: prefer, retrySafe: true, weight: 1}, out)
	return err
}

func (c *Client) write(ctx context.Context, userID, method, path string, in any, opts []WriteOption, prefer []string, out any) error {
	cl := &call{method: method, path: path, prefer: prefer, retrySafe: method != http.MethodPost, weight: 1}
	if in != nil {
		b, err := jsonBody(in)
		if err != nil {
			return err
		}
		cl.body, cl.hasBody = b, true
	}
	for _, o := range opts {
		o(cl)
	}
	_, err := c.send(ctx, userID, cl, out)
	return err
}

// WriteOption modifies an update or delete.
type WriteOption func(*call)

// IfMatch makes the write conditional on the item's current @odata.etag
// (W/"<changeKey>"); a stale etag fails with ErrPreconditionFailed instead
// of overwriting the user's newer edit.
func IfMatch(etag string) WriteOption {
	return func(c *call) {
		if etag != "" {
			if c.header == nil {
				c.header = map[string]string{}
			}
			c.header["If-Match"] = etag
		}
	}
}

// ETagFromChangeKey builds the If-Match value for a stored changeKey.
func ETagFromChangeKey(changeKey string) string { return `W/"` + changeKey + `"` }

func itemPath(prefix, id string) string { return prefix + "/" + url.PathEscape(id) }

// odataString quotes a string literal for $filter, doubling embedded quotes.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
