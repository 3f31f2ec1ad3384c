package graphtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResp struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// handleBatch runs a JSON $batch. Items run one at a time in an order that
// respects dependsOn (Graph runs at most four at once, in no promised
// order). An item whose dependency failed gets 424 without running. Each
// item meets faults for its own endpoint, so a test can make one item of a
// batch answer 429.
func handleBatch(c *reqCtx, w http.ResponseWriter) {
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil {
		writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	if len(in.Requests) == 0 {
		writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	if len(in.Requests) > 20 {
		writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Batch request cannot have more than 20 requests.")
		return
	}
	idx := map[string]int{}
	for i, it := range in.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Each batch request needs id, method and url.")
			return
		}
		if _, dup := idx[it.ID]; dup {
			writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Batch request ids must be unique: "+it.ID)
			return
		}
		idx[it.ID] = i
	}
	order, ok := topoOrder(in.Requests, idx)
	if !ok {
		writeError(w, c.s.now(), http.StatusBadRequest, "BadRequest", "Batch dependsOn refers to an unknown id or forms a cycle.")
		return
	}
	// Graph counts every request of a batch against its limits, executed
	// or not.
	c.s.count(c.m.id, func(st *mailboxStats) { st.BatchItems += len(in.Requests) })
	status := map[string]int{}
	resps := make([]batchResp, 0, len(in.Requests))
	for _, i := range order {
		it := in.Requests[i]
		var failedDep bool
		for _, d := range it.DependsOn {
			if s := status[d]; s < 200 || s > 299 {
				failedDep = true
			}
		}
		var br batchResp
		if failedDep {
			br = batchResp{ID: it.ID, Status: http.StatusFailedDependency, Body: errBody(c.s.now(), "FailedDependency",
				"The request was not executed because a request it depends on failed.")}
		} else {
			br = c.s.runItem(c, it)
		}
		status[it.ID] = br.Status
		resps = append(resps, br)
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": resps})
}

func errBody(now time.Time, code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": now.UTC().Format("2006-01-02T15:04:05"), "request-id": requestID(now)}}}
}

// topoOrder orders items so dependencies come first, otherwise keeping
// request order.
func topoOrder(items []batchItem, idx map[string]int) ([]int, bool) {
	state := make([]int, len(items)) // 0 new, 1 visiting, 2 done
	var order []int
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		for _, d := range items[i].DependsOn {
			j, ok := idx[d]
			if !ok || !visit(j) {
				return false
			}
		}
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range items {
		if !visit(i) {
			return nil, false
		}
	}
	return order, true
}

// runItem executes one batch item through the normal handlers.
func (s *Server) runItem(parent *reqCtx, it batchItem) batchResp {
	m := parent.m
	u, err := url.Parse(it.URL)
	if err != nil {
		return batchResp{ID: it.ID, Status: 400, Body: errBody(s.now(), "BadRequest", "Invalid request URL.")}
	}
	path := "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	path = strings.TrimPrefix(path, apiPrefix)
	method := strings.ToUpper(it.Method)
	rt, params := match(method, path)
	endpoint := "? " + path
	if rt != nil {
		endpoint = method + " " + rt.pattern
	}
	header := http.Header{}
	for k, v := range it.Headers {
		header.Set(k, v)
	}
	s.count(m.id, func(st *mailboxStats) {
		st.Endpoints[endpoint]++
		if !hasImmutablePrefer(header) {
			st.MissingImmutableID++
		}
	})
	start := s.now()
	rec := httptest.NewRecorder()
	defer func() {
		s.logRecord(m.id, Record{Start: start, End: s.now(), Method: method, Endpoint: endpoint, Status: rec.Code, InBatch: true})
	}()
	f := s.pickFault(m.id, endpoint)
	if f != nil && f.Latency > 0 {
		sleepCtx(parent.r.Context(), f.Latency)
	}
	if f != nil {
		switch f.Kind {
		case FaultThrottle, FaultUnavailable:
			writeFault(rec, s.now(), f)
			return toBatchResp(it.ID, rec)
		case FaultReset:
			writeError(rec, s.now(), http.StatusGatewayTimeout, "GatewayTimeout", "The request timed out.")
			return toBatchResp(it.ID, rec)
		}
	}
	if rt == nil {
		writeError(rec, s.now(), http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+path+"'.")
		return toBatchResp(it.ID, rec)
	}
	body := []byte(it.Body)
	if len(body) > 0 && !strings.Contains(strings.ToLower(header.Get("Content-Type")), "json") {
		writeError(rec, s.now(), http.StatusBadRequest, "BadRequest", "Content-Type header is required for a request with a body.")
		return toBatchResp(it.ID, rec)
	}
	req, _ := http.NewRequestWithContext(parent.r.Context(), method, s.URL()+path+"?"+u.RawQuery, bytes.NewReader(body))
	req.Header = header
	ctx := &reqCtx{s: s, m: m, r: req, header: header, query: u.Query(), params: params, body: body,
		path: path, endpoint: endpoint, inBatch: true}
	rt.handle(ctx, rec)
	if f != nil && f.Kind == FaultAfterApply {
		rec = httptest.NewRecorder()
		writeError(rec, s.now(), http.StatusGatewayTimeout, "GatewayTimeout", "The request timed out.")
	}
	return toBatchResp(it.ID, rec)
}

func toBatchResp(id string, rec *httptest.ResponseRecorder) batchResp {
	br := batchResp{ID: id, Status: rec.Code, Headers: map[string]string{}}
	for k, v := range rec.Header() {
		if len(v) > 0 && k != "Content-Length" {
			br.Headers[k] = v[0]
		}
	}
	if b := rec.Body.Bytes(); len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			br.Body = v
		}
	}
	if len(br.Headers) == 0 {
		br.Headers = nil
	}
	return br
}
