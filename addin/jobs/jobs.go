// Package jobs is the seam between the product's logic and the durable job
// queue: services enqueue River jobs through Queue, inside the transaction
// of the data change that needs them.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/riverqueue/river"

	"github.com/salesbridge/salesbridge/models"
)

// Enqueuer inserts a job, in the transaction carried by ctx when there is
// one, so the job exists if and only if the data change commits.
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Queue is the Enqueuer backed by the process's River client. The client is
// set once it exists (workers are built before it).
type Queue struct {
	mu     sync.RWMutex
	client *river.Client[*sql.Tx]
}

var _ Enqueuer = (*Queue)(nil)

// SetClient installs the River client.
func (q *Queue) SetClient(c *river.Client[*sql.Tx]) {
	q.mu.Lock()
	q.client = c
	q.mu.Unlock()
}

// Client returns the River client (nil before SetClient).
func (q *Queue) Client() *river.Client[*sql.Tx] {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.client
}

// Enqueue inserts args, joining the transaction of ctx when present.
func (q *Queue) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	c := q.Client()
	if c == nil {
		return errors.New("job queue not started")
	}
	if tx, ok := models.SQLTx(ctx); ok {
		_, err := c.InsertTx(ctx, tx, args, opts)
		return err
	}
	_, err := c.Insert(ctx, args, opts)
	return err
}
