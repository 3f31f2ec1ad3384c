package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// workload is what the clients ask for: addresses of existing contacts
// and search queries built from existing names.
type workload struct {
	emails   []string
	searches []string
}

// loadWorkload samples contact addresses and names. Searches mix a
// last-name prefix, a full name, a misspelt last name, an account-name
// prefix and an exact email, the kinds of query a user types in the pane.
func loadWorkload(ctx context.Context, db *sql.DB) (*workload, error) {
	w := &workload{}
	rows, err := db.QueryContext(ctx, `SELECT email_norm, first_name, last_name FROM contacts TABLESAMPLE SYSTEM (5) ORDER BY random() LIMIT 2000`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var e, f, l string
		if err := rows.Scan(&e, &f, &l); err != nil {
			return nil, err
		}
		w.emails = append(w.emails, e)
		switch i % 5 {
		case 0:
			w.searches = append(w.searches, l[:min(len(l), 4)])
		case 1:
			w.searches = append(w.searches, f+" "+l)
		case 2:
			w.searches = append(w.searches, typo(l))
		case 3:
			w.searches = append(w.searches, e)
		case 4:
			w.searches = append(w.searches, f[:min(len(f), 3)]+" "+l[:min(len(l), 3)])
		}
		i++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	arows, err := db.QueryContext(ctx, `SELECT name FROM accounts TABLESAMPLE SYSTEM (10) ORDER BY random() LIMIT 200`)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var n string
		if err := arows.Scan(&n); err != nil {
			return nil, err
		}
		w.searches = append(w.searches, n[:min(len(n), 5)])
	}
	if len(w.emails) < 3 || len(w.searches) == 0 {
		return nil, fmt.Errorf("too little data to sample (%d addresses)", len(w.emails))
	}
	return w, arows.Err()
}

// typo swaps two neighbouring letters in the middle of a word.
func typo(s string) string {
	r := []rune(s)
	if len(r) < 4 {
		return s
	}
	i := len(r) / 2
	r[i-1], r[i] = r[i], r[i-1]
	return string(r)
}

type endpoint struct {
	name string
	path func(rng *rand.Rand) string
}

type result struct {
	name            string
	n, errors       int
	elapsed         time.Duration
	p50, p99, max   time.Duration
	firstErr        string
	statusHistogram map[int]int
}

func (r result) throughput() float64 { return float64(r.n) / r.elapsed.Seconds() }

func endpoints(w *workload) []endpoint {
	return []endpoint{
		{"GET /api/v1/me", func(*rand.Rand) string { return "/api/v1/me" }},
		{"GET /api/v1/context (3 addresses)", func(rng *rand.Rand) string {
			v := url.Values{}
			for range 3 {
				v.Add("email", w.emails[rng.IntN(len(w.emails))])
			}
			return "/api/v1/context?" + v.Encode()
		}},
		{"GET /api/v1/search", func(rng *rand.Rand) string {
			return "/api/v1/search?" + url.Values{"q": {w.searches[rng.IntN(len(w.searches))]}}.Encode()
		}},
	}
}

// loadRun drives each endpoint in turn with o.clients concurrent clients
// over keep-alive connections: a warm-up, then o.duration measured.
func loadRun(ctx context.Context, base, token string, w *workload, o options) ([]result, error) {
	tr := &http.Transport{MaxIdleConns: o.clients, MaxIdleConnsPerHost: o.clients, MaxConnsPerHost: o.clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var out []result
	for _, ep := range endpoints(w) {
		if o.warmup > 0 {
			drive(ctx, client, base, token, ep, o.clients, o.warmup)
		}
		r := drive(ctx, client, base, token, ep, o.clients, o.duration)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, r)
	}
	return out, nil
}

func drive(ctx context.Context, client *http.Client, base, token string, ep endpoint, clients int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	res := result{name: ep.name, statusHistogram: map[int]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			var lat []time.Duration
			statuses := map[int]int{}
			errs, firstErr := 0, ""
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodGet, base+ep.path(rng), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				el := time.Since(t)
				if ctx.Err() != nil {
					break // cut by the deadline: not a complete sample
				}
				statuses[resp.StatusCode]++
				if resp.StatusCode != http.StatusOK {
					errs++
					if firstErr == "" {
						firstErr = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
					}
					continue
				}
				lat = append(lat, el)
			}
			mu.Lock()
			all = append(all, lat...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			for k, v := range statuses {
				res.statusHistogram[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.n = len(all)
	if len(all) > 0 {
		res.p50 = all[len(all)*50/100]
		res.p99 = all[min(len(all)-1, len(all)*99/100)]
		res.max = all[len(all)-1]
	}
	return res
}

func printResults(w io.Writer, rs []result, o options) {
	fmt.Fprintf(w, "\n== load: %d clients, %s per endpoint (after %s warm-up), real server over loopback ==\n", o.clients, o.duration, o.warmup)
	fmt.Fprintf(w, "%-36s %9s %9s %9s %9s %10s %8s %7s\n", "endpoint", "requests", "p50 ms", "p99 ms", "max ms", "req/s", "ratio", "errors")
	var ref float64
	for _, r := range rs {
		if ref == 0 {
			ref = r.throughput()
		}
		fmt.Fprintf(w, "%-36s %9d %9.2f %9.2f %9.2f %10.0f %8.3f %7d\n", r.name, r.n, ms(r.p50), ms(r.p99), ms(r.max), r.throughput(), r.throughput()/ref, r.errors)
		if r.errors > 0 {
			fmt.Fprintf(w, "    first error: %s; statuses %v\n", r.firstErr, r.statusHistogram)
		}
	}
	fmt.Fprintln(w, "ratio = throughput / throughput of GET /api/v1/me in the same run")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
