package wintz

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dt, zone string
		want     time.Time
	}{
		{"2017-04-21T10:00:00.0000000", "Pacific Standard Time", time.Date(2017, 4, 21, 17, 0, 0, 0, time.UTC)},
		{"2017-01-21T10:00:00", "pacific standard time", time.Date(2017, 1, 21, 18, 0, 0, 0, time.UTC)},
		{"2026-06-01T10:00:00.0000000", "W. Europe Standard Time", time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)},
		{"2026-06-01T10:00:00", "Asia/Tokyo", time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)},
		{"2026-06-01T10:00:00Z", "UTC", time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-06-01", "UTC", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-06-01T10:00:00", "", time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
	} {
		got, err := Parse(tc.dt, tc.zone)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Parse(%q, %q) = %s, %v; want %s", tc.dt, tc.zone, got.UTC(), err, tc.want)
		}
	}
	if _, err := Parse("2026-06-01T10:00:00", "Mars Standard Time"); err == nil {
		t.Error("unknown zone accepted")
	}
	if _, err := Parse("tomorrow", "UTC"); err == nil {
		t.Error("bad dateTime accepted")
	}
	// Every mapped Windows zone resolves with the embedded tzdata.
	for win := range windows {
		if _, err := Location(win); err != nil {
			t.Errorf("%s: %v", win, err)
		}
	}
}
