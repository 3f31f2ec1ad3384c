package graph

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DBLimiter is a Limiter whose state lives in the database, so the
// per-mailbox limits hold across every worker process on the same database
// (PRODUCT §10: N replicas on one PostgreSQL).
//
// In-flight slots are rows of graph_limit_leases, MaxInFlight per mailbox.
// A slot is taken with a compare-and-set UPDATE … WHERE expires_at < now;
// release clears it (only if this holder still owns it), and a lease left by
// a crashed process expires after LeaseTTL. Waiting callers poll with
// jittered backoff; a process first queues its own callers on a local
// semaphore so 50 goroutines of one process do not all poll the database.
//
// The budget is graph_limit_budget, a counter per mailbox and time bucket.
// One transaction adds the caller's weight to the current bucket, sums the
// window and takes a slot; over budget or without a slot it rolls back and
// waits (for the oldest bucket to leave the window, or a poll interval).
// The upsert locks the mailbox's bucket row, so concurrent attempts on one
// mailbox queue behind each other for the few statements of a transaction
// and every admitted request is counted before the next one is checked.
//
// Timestamps come from the configured Clock (unix ms), so replicas need
// roughly synchronised clocks; skew only shifts lease expiry by the skew.
//
// Use it with PostgreSQL replicas. The embedded SQLite deployment is one
// process, where MemoryLimiter holds the same limits for free; if a
// DBLimiter is put on SQLite anyway, give it its own *sql.DB: with River's
// single-connection pool, a job calling Graph inside its own transaction
// would wait forever for the connection the limiter needs.
type DBLimiter struct {
	db  *sql.DB
	pg  bool
	cfg LimitConfig

	qSeed, qTake, qRelease, qCharge, qSum, qCleanup string

	mu          sync.Mutex
	local       map[string]chan struct{}
	seeded      map[string]bool
	lastCleanup time.Time
}

var _ WeightedLimiter = (*DBLimiter)(nil)

// NewDBLimiter returns a limiter over db, whose schema is the 0400
// graph_limits migration. dialect is "sqlite" or "postgres".
func NewDBLimiter(db *sql.DB, dialect string, cfg LimitConfig) (*DBLimiter, error) {
	var pg bool
	switch dialect {
	case "sqlite":
	case "postgres":
		pg = true
	default:
		return nil, fmt.Errorf("graph: unknown dialect %q (want sqlite or postgres)", dialect)
	}
	l := &DBLimiter{db: db, pg: pg, cfg: cfg.withDefaults(), local: map[string]chan struct{}{}, seeded: map[string]bool{}}
	rb := func(q string) string {
		if !pg {
			return q
		}
		return rebindDollar(q)
	}
	var seed strings.Builder
	seed.WriteString("INSERT INTO graph_limit_leases (mailbox, slot, holder, expires_at) VALUES ")
	for i := 0; i < l.cfg.MaxInFlight; i++ {
		if i > 0 {
			seed.WriteString(", ")
		}
		fmt.Fprintf(&seed, "(?, %d, '', 0)", i)
	}
	seed.WriteString(" ON CONFLICT (mailbox, slot) DO NOTHING")
	l.qSeed = rb(seed.String())
	l.qTake = rb("UPDATE graph_limit_leases SET holder = ?, expires_at = ? WHERE mailbox = ? AND slot = ? AND expires_at < ?")
	l.qRelease = rb("UPDATE graph_limit_leases SET holder = '', expires_at = 0 WHERE mailbox = ? AND slot = ? AND holder = ?")
	l.qCharge = rb("INSERT INTO graph_limit_budget (mailbox, bucket, requests) VALUES (?, ?, ?) " +
		"ON CONFLICT (mailbox, bucket) DO UPDATE SET requests = graph_limit_budget.requests + excluded.requests")
	l.qSum = rb("SELECT COALESCE(SUM(requests), 0) FROM graph_limit_budget WHERE mailbox = ? AND bucket >= ?")
	l.qCleanup = rb("DELETE FROM graph_limit_budget WHERE bucket < ?")
	return l, nil
}

// rebindDollar turns ? placeholders into $1, $2, … (none of our queries has
// a ? inside a literal).
func rebindDollar(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Acquire implements Limiter.
func (l *DBLimiter) Acquire(ctx context.Context, mailbox string) (func(), error) {
	return l.AcquireN(ctx, mailbox, 1)
}

// AcquireN implements WeightedLimiter.
func (l *DBLimiter) AcquireN(ctx context.Context, mailbox string, n int) (func(), error) {
	if n < 1 {
		n = 1
	}
	if n > l.cfg.Budget {
		return nil, errTooHeavy
	}
	sem := l.localSem(mailbox)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	slot, holder, err := l.wait(ctx, mailbox, n)
	if err != nil {
		<-sem
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The caller's ctx may be gone; the release must still happen,
			// or the slot stays taken until the lease expires.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = l.inTx(rctx, func(tx *sql.Tx) (bool, error) {
				_, err := tx.ExecContext(rctx, l.qRelease, mailbox, slot, holder)
				return err == nil, err
			})
			cancel()
			<-sem
		})
	}, nil
}

func (l *DBLimiter) localSem(mailbox string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.local[mailbox]
	if s == nil {
		s = make(chan struct{}, l.cfg.MaxInFlight)
		l.local[mailbox] = s
	}
	return s
}

// inTx runs f in a transaction, committing when it returns true. On
// PostgreSQL the commit does not wait for the WAL flush: limiter state is
// ephemeral (a lost lease expires, a lost charge only under-counts a
// crash's last milliseconds), and the flush would otherwise dominate the
// cost of every Graph request.
func (l *DBLimiter) inTx(ctx context.Context, f func(*sql.Tx) (bool, error)) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if l.pg {
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	keep, err := f(tx)
	if err != nil || !keep {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// wait loops until one attempt both fits the budget and wins a slot.
func (l *DBLimiter) wait(ctx context.Context, mailbox string, n int) (int, string, error) {
	if err := l.seed(ctx, mailbox); err != nil {
		return 0, "", err
	}
	var hb [12]byte
	_, _ = rand.Read(hb[:])
	holder := hex.EncodeToString(hb[:])
	poll := 5 * time.Millisecond
	for {
		slot, got, overBudget, err := l.attempt(ctx, mailbox, n, holder)
		if err != nil {
			return 0, "", fmt.Errorf("graph limiter: %w", err)
		}
		if got {
			return slot, holder, nil
		}
		var d time.Duration
		if overBudget {
			d = l.cfg.untilNextBucket(l.cfg.Clock.Now())
		} else {
			d = poll/2 + time.Duration(mrand.Int64N(int64(poll/2)+1))
			if poll *= 2; poll > l.cfg.PollInterval {
				poll = l.cfg.PollInterval
			}
		}
		if err := l.cfg.Clock.Sleep(ctx, d); err != nil {
			return 0, "", err
		}
	}
}

// attempt charges n to the current bucket, checks the window and takes a
// free slot, all in one transaction: either everything is kept or nothing
// is, so a caller that must wait leaves no charge behind. The budget row's
// lock also queues concurrent attempts on one mailbox, so processes do not
// race each other for the same slot.
func (l *DBLimiter) attempt(ctx context.Context, mailbox string, n int, holder string) (slot int, got, overBudget bool, err error) {
	now := l.cfg.Clock.Now()
	cur := l.cfg.bucketOf(now)
	oldest := cur - l.cfg.windowBuckets() + 1
	l.maybeCleanup(ctx, now, oldest)
	err = l.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, l.qCharge, mailbox, cur, n); err != nil {
			return false, fmt.Errorf("charge budget: %w", err)
		}
		var sum int64
		if err := tx.QueryRowContext(ctx, l.qSum, mailbox, oldest).Scan(&sum); err != nil {
			return false, fmt.Errorf("read budget: %w", err)
		}
		if sum > int64(l.cfg.Budget) {
			overBudget = true
			return false, nil
		}
		nowMS, exp := now.UnixMilli(), now.Add(l.cfg.LeaseTTL).UnixMilli()
		start := mrand.IntN(l.cfg.MaxInFlight)
		for i := 0; i < l.cfg.MaxInFlight; i++ {
			s := (start + i) % l.cfg.MaxInFlight
			res, err := tx.ExecContext(ctx, l.qTake, holder, exp, mailbox, s, nowMS)
			if err != nil {
				return false, fmt.Errorf("take slot: %w", err)
			}
			if k, err := res.RowsAffected(); err == nil && k == 1 {
				slot, got = s, true
				return true, nil
			}
		}
		return false, nil
	})
	return slot, got, overBudget, err
}

func (l *DBLimiter) maybeCleanup(ctx context.Context, now time.Time, oldest int64) {
	l.mu.Lock()
	due := now.Sub(l.lastCleanup) > 5*l.cfg.Bucket
	if due {
		l.lastCleanup = now
	}
	l.mu.Unlock()
	if due {
		// Best effort: stale buckets are ignored by the sum anyway.
		_, _ = l.db.ExecContext(ctx, l.qCleanup, oldest)
	}
}

func (l *DBLimiter) seed(ctx context.Context, mailbox string) error {
	l.mu.Lock()
	done := l.seeded[mailbox]
	l.mu.Unlock()
	if done {
		return nil
	}
	args := make([]any, l.cfg.MaxInFlight)
	for i := range args {
		args[i] = mailbox
	}
	if _, err := l.db.ExecContext(ctx, l.qSeed, args...); err != nil {
		return fmt.Errorf("graph limiter: create slots: %w", err)
	}
	l.mu.Lock()
	l.seeded[mailbox] = true
	l.mu.Unlock()
	return nil
}

// String describes the limits, for start-up logs.
func (l *DBLimiter) String() string {
	return fmt.Sprintf("graph database limiter: %d in flight, %d requests per %s, lease %s",
		l.cfg.MaxInFlight, l.cfg.Budget, l.cfg.Window, l.cfg.LeaseTTL)
}
