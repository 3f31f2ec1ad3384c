package usage

import (
	"context"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// DayTotal is one kind of usage on one day, over every user.
type DayTotal struct {
	Day   string
	Kind  string
	Count int64
	Users int64 // distinct users with this kind on this day
}

// MaxReportDays bounds a report's range.
const MaxReportDays = 366

// ParseRange reads a report range of YYYY-MM-DD dates (inclusive).
// Empty from/to default to the 30 days ending today.
func ParseRange(fromS, toS string, now time.Time) (string, string, error) {
	bad := map[string]string{}
	to := now.UTC()
	if toS != "" {
		t, err := time.Parse(time.DateOnly, toS)
		if err != nil {
			bad["to"] = "must be a date such as 2026-01-31"
		}
		to = t
	}
	from := to.AddDate(0, 0, -29)
	if fromS != "" {
		f, err := time.Parse(time.DateOnly, fromS)
		if err != nil {
			bad["from"] = "must be a date such as 2026-01-01"
		}
		from = f
	}
	if len(bad) == 0 {
		switch {
		case from.After(to):
			bad["from"] = "must not be after to"
		case to.Sub(from) >= MaxReportDays*24*time.Hour:
			bad["from"] = "the range may span at most 366 days"
		}
	}
	if len(bad) > 0 {
		return "", "", models.Invalid(bad)
	}
	return from.Format(time.DateOnly), to.Format(time.DateOnly), nil
}

// Totals returns per-day, per-kind totals between two days (inclusive,
// YYYY-MM-DD), ordered by day then kind.
func Totals(ctx context.Context, s *models.Store, from, to string) ([]DayTotal, error) {
	var out []DayTotal
	err := s.DB(ctx).Raw(`SELECT day, kind, SUM(count) AS count, COUNT(DISTINCT user_id) AS users
FROM usage_events WHERE day >= ? AND day <= ? GROUP BY day, kind ORDER BY day, kind`, from, to).Scan(&out).Error
	return out, err
}
