package models

import "time"

// UserSettings are a user's own settings (migration 0600).
type UserSettings struct {
	UserID         int64 `gorm:"primaryKey;autoIncrement:false"`
	ConflictPolicy string
	UpdatedAt      time.Time
}

// SQLDay is an SQL expression of the UTC day (YYYY-MM-DD) of a timestamp
// column. On SQLite the driver stores times as text ("2006-01-02
// 15:04:05.999999999 -0700 MST"), which SQLite's date functions cannot
// read; every time the project writes is UTC, so the day is the prefix.
func (s *Store) SQLDay(col string) string {
	if s.dialect == Postgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(" + col + ", 1, 10)"
}

// SQLMillisBetween is an SQL expression of the milliseconds from timestamp
// column a to b (NULL when either is NULL).
func (s *Store) SQLMillisBetween(a, b string) string {
	if s.dialect == Postgres {
		return "(EXTRACT(EPOCH FROM (" + b + " - " + a + ")) * 1000)"
	}
	return "((julianday(" + sqliteISO(b) + ") - julianday(" + sqliteISO(a) + ")) * 86400000.0)"
}

// sqliteISO rewrites a stored SQLite time ("2006-01-02 15:04:05.999 +0000
// UTC") as "2006-01-02T15:04:05.999", which julianday reads.
func sqliteISO(col string) string {
	return "(substr(" + col + ", 1, 10) || 'T' || substr(" + col + ", 12, instr(substr(" + col + ", 12), ' ') - 1))"
}
