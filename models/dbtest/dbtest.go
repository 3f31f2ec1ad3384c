// Package dbtest gives each test its own migrated database: a copy of a
// migrated SQLite template file, or a PostgreSQL database created from a
// migrated template database and dropped when the test ends. Which engine
// is chosen by SALESBRIDGE_TEST_DB (sqlite, the default, or postgres).
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for admin statements

	"github.com/salesbridge/salesbridge/models"
)

// Engine is the engine the suite runs on.
func Engine() models.Dialect {
	if os.Getenv("SALESBRIDGE_TEST_DB") == "postgres" {
		return models.Postgres
	}
	return models.SQLite
}

// PostgresURL is the server the PostgreSQL suite uses (any database on it;
// test databases are created beside it).
func PostgresURL() string {
	if u := os.Getenv("SALESBRIDGE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Open returns a fresh migrated store for t, closed and removed when t ends.
func Open(t testing.TB) *models.Store {
	t.Helper()
	url := NewDatabaseURL(t)
	s, err := models.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", Engine(), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// NewDatabaseURL creates a fresh migrated database for t and returns its
// SALESBRIDGE_DATABASE_URL.
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	if Engine() == models.Postgres {
		return newPostgres(t)
	}
	return newSQLite(t)
}

var (
	sqliteOnce sync.Once
	sqliteTpl  string
	sqliteErr  error
)

func newSQLite(t testing.TB) string {
	sqliteOnce.Do(func() {
		dir, err := os.MkdirTemp("", "salesbridge-dbtest-")
		if err != nil {
			sqliteErr = err
			return
		}
		sqliteTpl = filepath.Join(dir, "template.db")
		ctx := context.Background()
		s, err := models.Open(ctx, "sqlite://"+sqliteTpl)
		if err != nil {
			sqliteErr = err
			return
		}
		if _, err := s.Migrate(ctx); err != nil {
			sqliteErr = err
			_ = s.Close()
			return
		}
		// Fold the WAL into the main file so a plain copy is complete.
		_, _ = s.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		sqliteErr = s.Close()
	})
	if sqliteErr != nil {
		t.Fatalf("dbtest: migrate SQLite template: %v", sqliteErr)
	}
	dst := filepath.Join(t.TempDir(), "test.db")
	if err := copyFile(sqliteTpl, dst); err != nil {
		t.Fatalf("dbtest: copy template: %v", err)
	}
	return "sqlite://" + dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

var (
	pgOnce sync.Once
	pgTpl  string
	pgErr  error
)

// migrationsHash names the template so a changed schema gets a new one.
func migrationsHash() string {
	ms, err := models.Migrations(models.Postgres)
	if err != nil {
		return "x"
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d %s\n%s\n", m.Version, m.Name, m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	return u.String()
}

func pgAdmin() (*sql.DB, error) {
	db, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// RequirePostgres skips (or, under CI=true, fails) when PostgreSQL is not
// reachable.
func RequirePostgres(t testing.TB) {
	t.Helper()
	db, err := pgAdmin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true and is not reachable at %s: %v", PostgresURL(), err)
		}
		t.Skipf("PostgreSQL not reachable at %s (%v); skipping", PostgresURL(), err)
	}
	_ = db.Close()
}

func newPostgres(t testing.TB) string {
	t.Helper()
	RequirePostgres(t)
	pgOnce.Do(func() { pgTpl, pgErr = ensurePGTemplate() })
	if pgErr != nil {
		t.Fatalf("dbtest: PostgreSQL template: %v", pgErr)
	}
	admin, err := pgAdmin()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	name := "sbtest_" + randomHex(8)
	var lastErr error
	for i := 0; i < 50; i++ {
		_, lastErr = admin.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, pgTpl))
		if lastErr == nil || !strings.Contains(lastErr.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("dbtest: create database: %v", lastErr)
	}
	t.Cleanup(func() {
		admin, err := pgAdmin()
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(PostgresURL(), name)
}

func ensurePGTemplate() (string, error) {
	name := "sbtpl_" + migrationsHash()
	admin, err := pgAdmin()
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Packages run in parallel processes: one builds the template, the
	// others wait on the lock and then find it.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727374002)"); err != nil {
		return "", err
	}
	defer func() { _, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(727374002)") }()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return "", err
	}
	s, err := models.Open(ctx, withDatabase(PostgresURL(), building))
	if err != nil {
		return "", err
	}
	_, err = s.Migrate(ctx)
	_ = s.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	// Templates of earlier schemas are of no further use.
	rows, err := conn.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'sbtpl\\_%' AND datname <> $1", name)
	if err == nil {
		var stale []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil && !strings.HasSuffix(n, "_building") {
				stale = append(stale, n)
			}
		}
		_ = rows.Close()
		for _, n := range stale {
			_, _ = conn.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s", n))
		}
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
