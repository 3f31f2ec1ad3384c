package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/salesbridge/salesbridge/addin/graph"
	"github.com/salesbridge/salesbridge/addin/graph/graphtest"
)

// The benchmarks put the client next to a hand-written request doing the
// same work (headers, body read, JSON decode into the same type) over three
// transports: "canned" (a recorded response, so only the client's own work
// is measured), "inproc" (the fake's handler as the transport, no TCP) and
// "http" (loopback). The difference between "client" and "raw" is the client's own
// overhead per request: limiter, token source, retry loop, URL building,
// error classification. Batch benchmarks report ns per batched item.

// cpuTime is this process's user+system CPU time. Reported per op next to
// wall time because the project's machines are shared: under load the wall
// figure mostly measures waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs body b.N times and reports CPU ns per op (and per item).
func loop(b *testing.B, items int, body func()) {
	start := cpuTime()
	for b.Loop() {
		body()
	}
	cpu := float64((cpuTime() - start).Nanoseconds())
	b.ReportMetric(cpu/float64(b.N), "cpu-ns/op")
	if items > 1 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
		b.ReportMetric(cpu/float64(b.N*items), "cpu-ns/item")
	}
}

type inProc struct{ h http.Handler }

func (t inProc) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// canned answers every request with one recorded response, so the
// "canned" benchmarks measure the client alone, without the fake's work.
type canned struct{ body []byte }

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

// record fetches one response from the fake for a canned transport.
func record(b *testing.B, hc *http.Client, method, u string, body []byte) []byte {
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+user)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return out
}

type benchEnv struct {
	srv *graphtest.Server
	id  string
	hc  map[string]*http.Client
}

func newBenchEnv(b *testing.B) *benchEnv {
	srv := graphtest.New()
	b.Cleanup(srv.Close)
	mb := srv.AddMailbox(user, graphtest.MailboxOptions{})
	id, err := mb.Create(graphtest.Contacts, graph.Contact{GivenName: "Pavel", Surname: "Bansky",
		EmailAddresses: []graph.EmailAddress{{Address: "pavelb@fabrikam.example"}}, Categories: []string{"Shared with Sales"}})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{srv: srv, id: id, hc: map[string]*http.Client{
		"http":   srv.HTTPClient(),
		"inproc": {Transport: inProc{srv}},
	}}
}

// noBudget keeps the 4-in-flight cap but lifts the 10-minute budget, which
// a benchmark hammering one mailbox would otherwise exhaust within seconds
// (and then wait out, as designed).
var noBudget = graph.LimitConfig{Budget: 1 << 40}

func (e *benchEnv) client(b *testing.B, transport string, l graph.Limiter) *graph.Client {
	if l == nil {
		l = graph.NewMemoryLimiter(noBudget)
	}
	c, err := graph.New(graph.Options{BaseURL: e.srv.URL(), HTTPClient: e.hc[transport], Limiter: l,
		Tokens: graph.StaticTokens{user: user}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func rawGet(b *testing.B, hc *http.Client, u string) {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+user)
	req.Header.Set("Prefer", `IdType="ImmutableId"`)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var c graph.Contact
	if err := json.Unmarshal(body, &c); err != nil || resp.StatusCode != 200 {
		b.Fatal(resp.StatusCode, err)
	}
}

func BenchmarkGetContact(b *testing.B) {
	e := newBenchEnv(b)
	q := url.Values{"$expand": {"singleValueExtendedProperties($filter=id eq '" + graph.CRMIDPropertyID + "')"}}
	rawURL := e.srv.URL() + "/me/contacts/" + e.id + "?" + q.Encode()
	e.hc["canned"] = &http.Client{Transport: canned{record(b, e.hc["inproc"], "GET", rawURL, nil)}}
	for _, tr := range []string{"canned", "inproc", "http"} {
		b.Run("raw-"+tr, func(b *testing.B) {
			loop(b, 1, func() { rawGet(b, e.hc[tr], rawURL) })
		})
		b.Run("client-"+tr, func(b *testing.B) {
			c := e.client(b, tr, nil)
			loop(b, 1, func() {
				if _, err := c.GetContact(context.Background(), user, e.id); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
	for name, f := range map[string]limiterFactory{"sqlite": sqliteFactory, "postgres": postgresFactory} {
		b.Run("client-inproc-"+name+"-limiter", func(b *testing.B) {
			c := e.client(b, "inproc", f(b, 1, noBudget)[0])
			loop(b, 1, func() {
				if _, err := c.GetContact(context.Background(), user, e.id); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func BenchmarkBatch20(b *testing.B) {
	e := newBenchEnv(b)
	var reqs []graph.BatchRequest
	var wire []map[string]any
	for i := 0; i < graph.MaxBatchSize; i++ {
		reqs = append(reqs, graph.BatchRequest{Method: "GET", URL: "/me/contacts/" + e.id})
		wire = append(wire, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/me/contacts/" + e.id,
			"headers": map[string]string{"Prefer": `IdType="ImmutableId"`}})
	}
	body, _ := json.Marshal(map[string]any{"requests": wire})
	e.hc["canned"] = &http.Client{Transport: canned{record(b, e.hc["inproc"], "POST", e.srv.URL()+"/$batch", body)}}
	for _, tr := range []string{"canned", "inproc", "http"} {
		b.Run("raw-"+tr, func(b *testing.B) {
			hc := e.hc[tr]
			loop(b, graph.MaxBatchSize, func() {
				req, _ := http.NewRequest("POST", e.srv.URL()+"/$batch", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+user)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var out struct {
					Responses []struct {
						ID     string          `json:"id"`
						Status int             `json:"status"`
						Body   json.RawMessage `json:"body"`
					} `json:"responses"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				for _, r := range out.Responses {
					var c graph.Contact
					if err := json.Unmarshal(r.Body, &c); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run("client-"+tr, func(b *testing.B) {
			c := e.client(b, tr, nil)
			loop(b, graph.MaxBatchSize, func() {
				out, err := c.Batch(context.Background(), user, reqs)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range out {
					var ct graph.Contact
					if err := r.Decode(&ct); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
