package e2e_test

import (
	"net/http"
	"sync"
)

// front passes every request to the real engine. It counts requests per
// path and can make the next requests of a path fail as if the network
// were down; it answers nothing itself.
type front struct {
	real http.Handler

	mu    sync.Mutex
	drop  map[string]int
	calls map[string]int
}

// DropNext makes the next n requests of a path fail as if the network
// were down.
func (f *front) DropNext(path string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop[path] = n
}

// Calls is how many requests of a path reached the server.
func (f *front) Calls(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	drop := f.drop[r.URL.Path] > 0
	if drop {
		f.drop[r.URL.Path]--
	} else {
		f.calls[r.URL.Path]++
	}
	f.mu.Unlock()
	if drop { // a broken answer, then nothing
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_, _ = conn.Write([]byte("\x00\x01 connection lost\r\n\r\n"))
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	f.real.ServeHTTP(w, r)
}
