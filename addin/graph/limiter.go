package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Graph's documented Outlook limits per app and mailbox: 4 concurrent
// requests and 10,000 requests per 10 minutes. The default budget stays
// 10 % below so other apps and clock skew do not push a mailbox into 429s.
const (
	DefaultMaxInFlight = 4
	DefaultBudget      = 9000
	DefaultWindow      = 10 * time.Minute
	DefaultBucket      = time.Minute
)

// Limiter bounds the Graph requests of one mailbox. Acquire blocks until the
// caller may send one request (a $batch counts as one) and returns the
// function that gives the slot back; it fails only when ctx ends.
type Limiter interface {
	Acquire(ctx context.Context, mailbox string) (release func(), err error)
}

// WeightedLimiter is a Limiter that can charge a $batch for every request
// inside it against the budget (Graph counts batch items individually)
// while still holding a single in-flight slot.
type WeightedLimiter interface {
	Limiter
	AcquireN(ctx context.Context, mailbox string, n int) (release func(), err error)
}

// LimitConfig holds the per-mailbox limits shared by both limiters.
type LimitConfig struct {
	MaxInFlight int           // default 4
	Budget      int           // requests per Window, default 9000
	Window      time.Duration // default 10 min
	Bucket      time.Duration // budget granularity, default 1 min
	Clock       Clock         // default SystemClock

	// DB limiter only.
	LeaseTTL     time.Duration // a dead process's slot frees after this, default 2 min
	PollInterval time.Duration // max wait between DB slot polls, default 200 ms
}

func (c LimitConfig) withDefaults() LimitConfig {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Bucket <= 0 || c.Bucket > c.Window {
		c.Bucket = DefaultBucket
		if c.Bucket > c.Window {
			c.Bucket = c.Window
		}
	}
	if c.Clock == nil {
		c.Clock = SystemClock
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	return c
}

// bucketOf numbers fixed budget buckets.
func (c LimitConfig) bucketOf(t time.Time) int64 { return t.UnixNano() / int64(c.Bucket) }

// windowBuckets is how many buckets are summed. A real window of length W
// can straddle W/B+1 buckets, so summing that many (current included)
// guarantees no sliding window ever sees more than Budget requests.
func (c LimitConfig) windowBuckets() int64 {
	return int64((c.Window+c.Bucket-1)/c.Bucket) + 1
}

// untilNextBucket is how long until the oldest counted bucket drops out.
func (c LimitConfig) untilNextBucket(now time.Time) time.Duration {
	next := time.Unix(0, (c.bucketOf(now)+1)*int64(c.Bucket))
	return next.Sub(now)
}

// errTooHeavy is returned when a single acquisition asks for more than the
// whole budget and so could never be granted.
var errTooHeavy = errors.New("graph: request weight exceeds the mailbox budget")

// MemoryLimiter is the in-process Limiter, for a single server process.
type MemoryLimiter struct {
	cfg LimitConfig
	mu  sync.Mutex
	mbx map[string]*memMailbox
}

type memMailbox struct {
	slots   chan struct{}
	buckets map[int64]int
}

var _ WeightedLimiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an in-process limiter.
func NewMemoryLimiter(cfg LimitConfig) *MemoryLimiter {
	return &MemoryLimiter{cfg: cfg.withDefaults(), mbx: map[string]*memMailbox{}}
}

func (l *MemoryLimiter) mailbox(id string) *memMailbox {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.mbx[id]
	if m == nil {
		m = &memMailbox{slots: make(chan struct{}, l.cfg.MaxInFlight), buckets: map[int64]int{}}
		l.mbx[id] = m
	}
	return m
}

// Acquire implements Limiter.
func (l *MemoryLimiter) Acquire(ctx context.Context, mailbox string) (func(), error) {
	return l.AcquireN(ctx, mailbox, 1)
}

// AcquireN implements WeightedLimiter. The budget is charged before the
// slot is taken: a caller waiting for budget must not sit on a slot that
// others could use for requests already paid for.
func (l *MemoryLimiter) AcquireN(ctx context.Context, mailbox string, n int) (func(), error) {
	if n < 1 {
		n = 1
	}
	if n > l.cfg.Budget {
		return nil, errTooHeavy
	}
	m := l.mailbox(mailbox)
	for {
		wait, ok := l.charge(m, n)
		if ok {
			break
		}
		if err := l.cfg.Clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-m.slots }) }, nil
}

func (l *MemoryLimiter) charge(m *memMailbox, n int) (time.Duration, bool) {
	now := l.cfg.Clock.Now()
	cur := l.cfg.bucketOf(now)
	oldest := cur - l.cfg.windowBuckets() + 1
	l.mu.Lock()
	defer l.mu.Unlock()
	sum := 0
	for b, c := range m.buckets {
		if b < oldest {
			delete(m.buckets, b)
			continue
		}
		sum += c
	}
	if sum+n > l.cfg.Budget {
		return l.cfg.untilNextBucket(now), false
	}
	m.buckets[cur] += n
	return 0, true
}

// String describes the limits, for start-up logs.
func (l *MemoryLimiter) String() string {
	return fmt.Sprintf("graph memory limiter: %d in flight, %d requests per %s", l.cfg.MaxInFlight, l.cfg.Budget, l.cfg.Window)
}
