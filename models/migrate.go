package models

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema step. A step is either one file
// (NNNN_name.sql, with dialect tokens) or a pair of dialect files
// (NNNN_name.sqlite.sql and NNNN_name.postgres.sql).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// binary than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this SalesBridge binary")

// migrationLockKey serialises migrations of concurrent replicas on PostgreSQL.
const migrationLockKey = 727374001

var dialectTokens = map[Dialect]*strings.Replacer{
	SQLite: strings.NewReplacer(
		"{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{TS}}", "DATETIME",
		"{{BLOB}}", "BLOB",
		"{{TEXT}}", "TEXT",
	),
	Postgres: strings.NewReplacer(
		"{{ID}}", "BIGSERIAL PRIMARY KEY",
		"{{TS}}", "TIMESTAMPTZ",
		"{{BLOB}}", "BYTEA",
		"{{TEXT}}", "TEXT",
	),
}

// Migrations lists the embedded migrations for a dialect, in order.
func Migrations(d Dialect) ([]Migration, error) {
	return loadMigrations(migrationFS, d)
}

func loadMigrations(fsys fs.FS, d Dialect) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]Migration{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		variant := ""
		if i := strings.LastIndex(base, "."); i >= 0 {
			variant = base[i+1:]
			base = base[:i]
		}
		if variant != "" && variant != string(SQLite) && variant != string(Postgres) {
			return nil, fmt.Errorf("migration %s: unknown dialect %q", name, variant)
		}
		if variant != "" && variant != string(d) {
			continue
		}
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		if prev, dup := byVersion[v]; dup {
			return nil, fmt.Errorf("migration version %d defined twice (%s, %s)", v, prev.Name, label)
		}
		byVersion[v] = Migration{Version: v, Name: label, SQL: dialectTokens[d].Replace(string(body))}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
)`

// MigrateResult says what Migrate did.
type MigrateResult struct {
	Applied []Migration
	Current int
}

// Migrate applies every pending migration, each in its own transaction
// recorded in schema_migrations, then River's migrations. Concurrent
// replicas on PostgreSQL serialise on an advisory lock. A database that
// holds a version this binary does not know is refused with ErrSchemaTooNew.
func (s *Store) Migrate(ctx context.Context) (*MigrateResult, error) {
	ms, err := Migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	res := &MigrateResult{}
	if err := s.lockedTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(createVersionTable).Error
	}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := s.checkNotTooNew(ctx, ms); err != nil {
		return nil, err
	}
	for _, m := range ms {
		m := m
		applied := false
		err := s.lockedTx(ctx, func(tx *gorm.DB) error {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := tx.Exec(m.SQL).Error; err != nil {
				return err
			}
			applied = true
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			res.Applied = append(res.Applied, m)
		}
		res.Current = m.Version
	}
	if err := s.migrateRiver(ctx); err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	return res, nil
}

func (s *Store) lockedTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

func (s *Store) checkNotTooNew(ctx context.Context, known []Migration) error {
	var applied []int
	if err := s.gdb.WithContext(ctx).Raw("SELECT version FROM schema_migrations").Scan(&applied).Error; err != nil {
		return err
	}
	knownSet := map[int]bool{}
	maxKnown := 0
	for _, m := range known {
		knownSet[m.Version] = true
		maxKnown = max(maxKnown, m.Version)
	}
	for _, v := range applied {
		if !knownSet[v] {
			return fmt.Errorf("%w: the database has migration %d, this binary knows up to %d; run a newer SalesBridge (or restore a backup made for this version)", ErrSchemaTooNew, v, maxKnown)
		}
	}
	return nil
}

// Pending returns how many known migrations are not applied yet (for
// /readyz). A schema newer than the binary is an error.
func (s *Store) Pending(ctx context.Context) (int, error) {
	ms, err := Migrations(s.dialect)
	if err != nil {
		return 0, err
	}
	var applied []int
	if err := s.gdb.WithContext(ctx).Raw("SELECT version FROM schema_migrations").Scan(&applied).Error; err != nil {
		return len(ms), nil
	}
	if err := s.checkNotTooNew(ctx, ms); err != nil {
		return 0, err
	}
	have := map[int]bool{}
	for _, v := range applied {
		have[v] = true
	}
	n := 0
	for _, m := range ms {
		if !have[m.Version] {
			n++
		}
	}
	return n, nil
}

func (s *Store) migrateRiver(ctx context.Context) error {
	if s.dialect == Postgres {
		// River's PostgreSQL migrations add enum values and so cannot share
		// one transaction; each runs in its own, serialised across replicas
		// by a session-level advisory lock held on a dedicated connection.
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return err
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey)
		}()
		m, err := rivermigrate.New(riverdatabasesql.New(s.sqlDB), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	// SQLite serialises writers itself.
	m, err := rivermigrate.New(riversqlite.New(s.sqlDB), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
