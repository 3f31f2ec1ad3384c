package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The pure-Go SQLite driver registers itself as "sqlite".
	_ "modernc.org/sqlite"
)

// Dialect names the database engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database handle shared by the whole process. Requests run in
// one transaction each, carried in the context (see Tx and DB).
type Store struct {
	gdb     *gorm.DB
	sqlDB   *sql.DB
	dialect Dialect
	// path is the SQLite file, empty for PostgreSQL.
	path string
	// dsn is the driver-level connection string.
	dsn string
}

// ParseDatabaseURL splits a SALESBRIDGE_DATABASE_URL into dialect and DSN.
func ParseDatabaseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" {
			return "", "", errors.New("sqlite:// URL needs a file path, e.g. sqlite://./data/salesbridge.db")
		}
		return SQLite, p, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("invalid PostgreSQL URL")
		}
		return Postgres, raw, nil
	default:
		return "", "", errors.New("must start with sqlite:// or postgres://")
	}
}

// sqliteDSN builds the modernc DSN: WAL, foreign keys, busy timeout and
// immediate transactions (a deferred transaction that later writes can fail
// with SQLITE_BUSY instead of waiting).
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Open connects to the database named by a SALESBRIDGE_DATABASE_URL. For
// SQLite the file's directory is created.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	dialect, dsn, err := ParseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                                   logger.Default.LogMode(logger.Silent),
		TranslateError:                           false,
		DisableForeignKeyConstraintWhenMigrating: true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	s := &Store{dialect: dialect}
	switch dialect {
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		s.path = dsn
		s.dsn = sqliteDSN(dsn)
		db, err := sql.Open("sqlite", s.dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.sqlDB = db
		s.gdb, err = gorm.Open(gormsqlite.Dialector{DriverName: "sqlite", Conn: db}, cfg)
		if err != nil {
			return nil, err
		}
	case Postgres:
		s.dsn = dsn
		s.gdb, err = gorm.Open(postgres.Open(dsn), cfg)
		if err != nil {
			return nil, err
		}
		s.sqlDB, err = s.gdb.DB()
		if err != nil {
			return nil, err
		}
		s.sqlDB.SetMaxOpenConns(20)
		s.sqlDB.SetMaxIdleConns(10)
		s.sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.sqlDB.PingContext(pingCtx); err != nil {
		_ = s.sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return s, nil
}

// Dialect reports the database engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLitePath is the database file in embedded mode, "" otherwise.
func (s *Store) SQLitePath() string { return s.path }

// SQLiteDSN is the driver DSN in embedded mode (River opens its own
// one-connection pool on the same file).
func (s *Store) SQLiteDSN() string { return s.dsn }

// SQL returns the underlying pool.
func (s *Store) SQL() *sql.DB { return s.sqlDB }

// Close closes the pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

type txKey struct{}

// DB returns the transaction carried by ctx, or the pool-level handle bound
// to ctx when there is none.
func (s *Store) DB(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.gdb.WithContext(ctx)
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// Tx runs fn in one transaction carried by the context it receives. When
// ctx already carries a transaction, fn joins it. Storage errors returned by
// fn are mapped to typed errors.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if InTx(ctx) {
		return fn(ctx)
	}
	err := s.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
	return MapErr(err)
}

// SQLTx returns the *sql.Tx under the transaction carried by ctx, so that
// River can insert jobs atomically with the data change that needs them.
func SQLTx(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return nil, false
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	return sqlTx, ok
}

// NextVersion takes the next CRM record version. The counter row stays
// locked until the surrounding transaction commits, so versions become
// visible in commit order and a sync watermark ("versions above N") never
// skips a change committed concurrently.
func (s *Store) NextVersion(ctx context.Context) (int64, error) {
	return nextVersion(s.DB(ctx))
}

func nextVersion(db *gorm.DB) (int64, error) {
	var v int64
	err := db.Raw("UPDATE crm_version_counter SET value = value + 1 WHERE id = 1 RETURNING value").Scan(&v).Error
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, errors.New("crm_version_counter row missing")
	}
	return v, nil
}

// CurrentVersion is the highest CRM version committed and visible.
func (s *Store) CurrentVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.DB(ctx).Raw("SELECT value FROM crm_version_counter WHERE id = 1").Scan(&v).Error
	return v, err
}
