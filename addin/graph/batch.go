package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxBatchSize is Graph's limit of requests in one $batch.
const MaxBatchSize = 20

// BatchRequest is one request inside a $batch.
type BatchRequest struct {
	// ID identifies the request in the response; assigned ("1", "2", …)
	// when empty.
	ID     string
	Method string
	// URL is relative to the version root, e.g. "/me/contacts/{id}",
	// optionally with a query string.
	URL     string
	Headers map[string]string
	// Body is encoded as JSON; nil sends none.
	Body any
	// DependsOn lists ids that must succeed first; Graph answers 424 for a
	// request whose dependency failed.
	DependsOn []string

	retrySafe bool
}

// BatchResponse is the answer to one BatchRequest.
type BatchResponse struct {
	ID      string
	Status  int
	Headers map[string]string
	Body    json.RawMessage
	// Err is nil for a 2xx status, else a *Error of the matching kind.
	Err error
}

// Decode unmarshals the item's JSON body.
func (r *BatchResponse) Decode(v any) error {
	if len(r.Body) == 0 || string(r.Body) == "null" {
		return fmt.Errorf("graph: batch item %s has no body", r.ID)
	}
	return json.Unmarshal(r.Body, v)
}

type batchItemWire struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchResponseWire struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

// Batch sends up to MaxBatchSize requests as one $batch. The returned
// responses are in request order whatever order Graph answers in. Items
// answered 429 are resubmitted alone (with the items that failed 424
// because they depended on them) after the longest Retry-After among them;
// the rest of the batch is not repeated. A batch-level failure (the $batch
// POST itself failing after retries) is returned as the error; otherwise
// per-item failures are in BatchResponse.Err.
func (c *Client) Batch(ctx context.Context, userID string, reqs []BatchRequest) ([]BatchResponse, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	if len(reqs) > MaxBatchSize {
		return nil, &Error{Kind: ErrBadRequest, Method: http.MethodPost, Path: "/$batch",
			Message: fmt.Sprintf("%d requests in one batch, Graph allows %d", len(reqs), MaxBatchSize)}
	}
	items := make([]batchItemWire, len(reqs))
	pos := map[string]int{}
	for i, r := range reqs {
		id := r.ID
		if id == "" {
			id = strconv.Itoa(i + 1)
		}
		if _, dup := pos[id]; dup {
			return nil, &Error{Kind: ErrBadRequest, Method: http.MethodPost, Path: "/$batch", Message: "duplicate batch id " + id}
		}
		pos[id] = i
		w, err := c.batchItem(id, r)
		if err != nil {
			return nil, err
		}
		items[i] = w
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := pos[d]; !ok {
				return nil, &Error{Kind: ErrBadRequest, Method: http.MethodPost, Path: "/$batch",
					Message: "batch item " + it.ID + " depends on unknown id " + d}
			}
		}
	}

	out := make([]BatchResponse, len(reqs))
	pending := items
	for attempt := 1; ; attempt++ {
		got, err := c.sendBatch(ctx, userID, pending, reqs, pos)
		if err != nil {
			return nil, err
		}
		var retry []batchItemWire
		retryIDs := map[string]bool{}
		var wait time.Duration
		throttled := false
		for _, it := range pending {
			r, ok := got[it.ID]
			if !ok {
				r = BatchResponse{ID: it.ID, Status: 0, Err: &Error{Kind: ErrServer, Method: it.Method,
					Path: pathOnly(it.URL), BatchID: it.ID, Message: "missing from batch response"}}
			}
			out[pos[it.ID]] = r
			if r.Status == http.StatusTooManyRequests && attempt < c.attempts {
				retry = append(retry, it)
				retryIDs[it.ID] = true
				throttled = true
				if ra, ok := RetryAfter(r.Err); ok && ra > wait {
					wait = ra
				}
			}
		}
		if !throttled {
			return out, nil
		}
		// Pull in items that failed only because a throttled item they
		// depend on did not run, in request order, repeating until stable
		// so chains are covered.
		for changed := true; changed; {
			changed = false
			for _, it := range pending {
				if retryIDs[it.ID] || out[pos[it.ID]].Status != http.StatusFailedDependency {
					continue
				}
				for _, d := range it.DependsOn {
					if retryIDs[d] {
						retryIDs[it.ID] = true
						changed = true
						break
					}
				}
			}
		}
		retry = retry[:0]
		for _, it := range pending {
			if retryIDs[it.ID] {
				deps := it.DependsOn[:0:0]
				for _, d := range it.DependsOn {
					if retryIDs[d] {
						deps = append(deps, d)
					}
				}
				it.DependsOn = deps
				retry = append(retry, it)
			}
		}
		if wait > c.maxRetry {
			return out, nil
		}
		if err := c.clock.Sleep(ctx, c.backoff(attempt, wait)); err != nil {
			return nil, err
		}
		pending = retry
	}
}

// BatchAll sends any number of requests as consecutive batches of
// MaxBatchSize, in order, and returns the responses in request order. IDs
// are assigned per chunk when empty; dependsOn may only name requests of the
// same chunk of 20. It stops at the first batch-level error, returning the
// responses gathered so far.
func (c *Client) BatchAll(ctx context.Context, userID string, reqs []BatchRequest) ([]BatchResponse, error) {
	out := make([]BatchResponse, 0, len(reqs))
	for start := 0; start < len(reqs); start += MaxBatchSize {
		end := min(start+MaxBatchSize, len(reqs))
		got, err := c.Batch(ctx, userID, reqs[start:end])
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (c *Client) batchItem(id string, r BatchRequest) (batchItemWire, error) {
	u := r.URL
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	w := batchItemWire{ID: id, Method: strings.ToUpper(r.Method), URL: u, DependsOn: r.DependsOn,
		Headers: map[string]string{"Prefer": `IdType="ImmutableId"`}}
	if strings.HasPrefix(pathOnly(u), "/me/events") || strings.HasPrefix(pathOnly(u), "/me/calendarView") {
		w.Headers["Prefer"] += ", " + preferUTC
	}
	for k, v := range r.Headers {
		w.Headers[k] = v
	}
	if r.Body != nil {
		b, err := jsonBody(r.Body)
		if err != nil {
			return w, err
		}
		w.Body = b
		// Graph rejects a batch item body without its content type.
		if _, ok := w.Headers["Content-Type"]; !ok {
			w.Headers["Content-Type"] = "application/json"
		}
	}
	return w, nil
}

func pathOnly(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// sendBatch posts one $batch and indexes the answers by id.
func (c *Client) sendBatch(ctx context.Context, userID string, items []batchItemWire, reqs []BatchRequest, pos map[string]int) (map[string]BatchResponse, error) {
	body, err := jsonBody(struct {
		Requests []batchItemWire `json:"requests"`
	}{items})
	if err != nil {
		return nil, err
	}
	// Resending the whole batch after a transport error is only safe when
	// no item could create a duplicate.
	safe := true
	for _, it := range items {
		if it.Method == http.MethodPost && !reqs[pos[it.ID]].retrySafe {
			safe = false
		}
	}
	cl := &call{method: http.MethodPost, path: "/$batch", body: body, hasBody: true, retrySafe: safe, weight: len(items)}
	var wire batchResponseWire
	if _, err := c.send(ctx, userID, cl, &wire); err != nil {
		return nil, err
	}
	now := c.clock.Now()
	got := make(map[string]BatchResponse, len(wire.Responses))
	for _, r := range wire.Responses {
		br := BatchResponse{ID: r.ID, Status: r.Status, Headers: r.Headers, Body: r.Body}
		if r.Status < 200 || r.Status > 299 {
			i, ok := pos[r.ID]
			method, path := "", ""
			if ok {
				method, path = items[indexOf(items, r.ID)].Method, pathOnly(reqs[i].URL)
			}
			e := newStatusError(method, path, r.Status, headerOf(r.Headers), r.Body, now)
			e.BatchID = r.ID
			br.Err = e
		}
		got[r.ID] = br
	}
	return got, nil
}

func indexOf(items []batchItemWire, id string) int {
	for i, it := range items {
		if it.ID == id {
			return i
		}
	}
	return 0
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// Request builders for batching sync writes. Each mirrors the single call
// of the same name.

// CreateContactRequest is CreateContact as a batch item.
func CreateContactRequest(ct *Contact) BatchRequest {
	return BatchRequest{Method: http.MethodPost, URL: "/me/contacts", Body: ct}
}

// UpdateContactRequest is UpdateContact as a batch item; etag may be empty.
func UpdateContactRequest(id string, p Patch, etag string) BatchRequest {
	return withIfMatch(BatchRequest{Method: http.MethodPatch, URL: itemPath("/me/contacts", id), Body: p}, etag)
}

// DeleteContactRequest is DeleteContact as a batch item.
func DeleteContactRequest(id string) BatchRequest {
	return BatchRequest{Method: http.MethodDelete, URL: itemPath("/me/contacts", id)}
}

// CreateEventRequest is CreateEvent as a batch item (transactionId filled
// in, which makes the item safe to resend).
func CreateEventRequest(ev *Event) BatchRequest {
	in := *ev
	if in.TransactionID == "" {
		in.TransactionID = NewTransactionID()
	}
	return BatchRequest{Method: http.MethodPost, URL: "/me/events", Body: &in, retrySafe: true}
}

// UpdateEventRequest is UpdateEvent as a batch item.
func UpdateEventRequest(id string, p Patch, etag string) BatchRequest {
	return withIfMatch(BatchRequest{Method: http.MethodPatch, URL: itemPath("/me/events", id), Body: p}, etag)
}

// DeleteEventRequest is DeleteEvent as a batch item.
func DeleteEventRequest(id string) BatchRequest {
	return BatchRequest{Method: http.MethodDelete, URL: itemPath("/me/events", id)}
}

// GetEventRequest reads an event with its CRM id, e.g. for the events a
// calendarView delta reported (which cannot expand properties itself).
func GetEventRequest(id string) BatchRequest {
	return BatchRequest{Method: http.MethodGet, URL: itemPath("/me/events", id) + "?" +
		encodeQuery(url.Values{"$expand": {expandCRMID()}})}
}

// CreateTaskRequest is CreateTask as a batch item.
func CreateTaskRequest(listID string, t *TodoTask) BatchRequest {
	return BatchRequest{Method: http.MethodPost, URL: taskPath(listID, ""), Body: t}
}

// UpdateTaskRequest is UpdateTask as a batch item.
func UpdateTaskRequest(listID, id string, p Patch, etag string) BatchRequest {
	return withIfMatch(BatchRequest{Method: http.MethodPatch, URL: taskPath(listID, id), Body: p}, etag)
}

// DeleteTaskRequest is DeleteTask as a batch item.
func DeleteTaskRequest(listID, id string) BatchRequest {
	return BatchRequest{Method: http.MethodDelete, URL: taskPath(listID, id)}
}

func withIfMatch(r BatchRequest, etag string) BatchRequest {
	if etag != "" {
		r.Headers = map[string]string{"If-Match": etag}
	}
	return r
}
