package graphtest

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

// Fault kinds.
const (
	// FaultThrottle answers 429 TooManyRequests with Retry-After.
	FaultThrottle FaultKind = iota + 1
	// FaultUnavailable answers 503 ServiceUnavailable with Retry-After.
	FaultUnavailable
	// FaultReset drops the connection before doing anything (inside a
	// batch: the item fails with 504 and is not applied).
	FaultReset
	// FaultAfterApply performs the request, then drops the connection
	// (inside a batch: the item is applied but answers 504), so the client
	// sees an error for a write that happened.
	FaultAfterApply
	// FaultLatency only delays the request by Latency.
	FaultLatency
)

// Fault is a scripted fault. It hits the next Times requests (default 1)
// that match Mailbox and Endpoint; empty matches any. Endpoint is
// "METHOD /pattern" as in Stats.Endpoints ("POST /me/contacts",
// "POST /$batch", "GET /me/calendarView/delta"); a fault for an item
// endpoint also hits that item inside a $batch.
type Fault struct {
	Mailbox    string
	Endpoint   string
	Kind       FaultKind
	RetryAfter time.Duration // 429/503; default 1 s
	Latency    time.Duration // extra delay before the fault (any kind)
	Times      int
}

// InjectFault queues a scripted fault; faults fire in the order queued.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	s.statsMu.Lock()
	s.faults = append(s.faults, &f)
	s.statsMu.Unlock()
}

// RandomFaults sets rates (0..1) at which requests fail at random.
type RandomFaults struct {
	Throttle    float64
	Unavailable float64
	Reset       float64
	AfterApply  float64
	// LatencyRate requests get Latency added.
	LatencyRate float64
	Latency     time.Duration
	RetryAfter  time.Duration // default 1 s
	// Mailbox limits the faults to one mailbox; empty means all.
	Mailbox string
}

type randomFaults struct {
	RandomFaults
	rng *rand.Rand
}

// SetRandomFaults makes requests fail at the given rates, drawn from a PCG
// seeded with seed: the same sequence of requests meets the same faults.
func (s *Server) SetRandomFaults(seed uint64, r RandomFaults) {
	if r.RetryAfter <= 0 {
		r.RetryAfter = time.Second
	}
	s.statsMu.Lock()
	s.random = &randomFaults{RandomFaults: r, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	s.statsMu.Unlock()
}

// ClearFaults removes scripted and random faults.
func (s *Server) ClearFaults() {
	s.statsMu.Lock()
	s.faults, s.random = nil, nil
	s.statsMu.Unlock()
}

// pickFault consumes the first matching scripted fault, else draws a
// random one.
func (s *Server) pickFault(mbx, endpoint string) *Fault {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for i, f := range s.faults {
		if f.Mailbox != "" && f.Mailbox != mbx {
			continue
		}
		if f.Endpoint != "" && !strings.EqualFold(f.Endpoint, endpoint) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		s.statsOf(mbx).Faults++
		c := *f
		return &c
	}
	r := s.random
	if r == nil || (r.Mailbox != "" && r.Mailbox != mbx) {
		return nil
	}
	var f *Fault
	x := r.rng.Float64()
	switch {
	case x < r.Throttle:
		f = &Fault{Kind: FaultThrottle}
	case x < r.Throttle+r.Unavailable:
		f = &Fault{Kind: FaultUnavailable}
	case x < r.Throttle+r.Unavailable+r.Reset:
		f = &Fault{Kind: FaultReset}
	case x < r.Throttle+r.Unavailable+r.Reset+r.AfterApply:
		f = &Fault{Kind: FaultAfterApply}
	}
	if r.LatencyRate > 0 && r.rng.Float64() < r.LatencyRate {
		if f == nil {
			f = &Fault{Kind: FaultLatency}
		}
		f.Latency = r.Latency
	}
	if f != nil {
		f.RetryAfter = r.RetryAfter
		if f.Kind != FaultLatency {
			s.statsOf(mbx).Faults++
		}
	}
	return f
}

func writeFault(w http.ResponseWriter, now time.Time, f *Fault) {
	switch f.Kind {
	case FaultThrottle:
		writeThrottle(w, now, f.RetryAfter, "TooManyRequests", "Please retry again later.")
	case FaultUnavailable:
		w.Header().Set("Retry-After", formatRetryAfter(f.RetryAfter))
		writeError(w, now, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.")
	}
}
