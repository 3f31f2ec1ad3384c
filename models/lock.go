package models

import (
	"context"
	"errors"
	"hash/fnv"
)

// LockKey serialises the transactions of ctx that lock the same scope and
// key until they end, for check-then-insert sequences that no unique index
// can guard (such as the duplicate check of contacts, which a reason may
// override). On PostgreSQL it takes a transaction-scoped advisory lock on a
// 64-bit hash of scope and key (a hash collision only serialises two
// unrelated writers); on SQLite every write transaction is already
// exclusive (BEGIN IMMEDIATE), so there is nothing to do. ctx must carry a
// transaction.
func (s *Store) LockKey(ctx context.Context, scope, key string) error {
	if !InTx(ctx) {
		return Internal(errors.New("LockKey outside a transaction"))
	}
	if s.dialect != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return s.DB(ctx).Exec("SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())).Error
}
