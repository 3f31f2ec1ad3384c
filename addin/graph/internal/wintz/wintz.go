// Package wintz resolves the time zone names that Microsoft Graph puts in
// dateTimeTimeZone values. Graph echoes whatever zone the event was created
// in, and Outlook clients create events with Windows zone names ("Pacific
// Standard Time"), so both the client and the Graph fake need the same
// Windows → IANA mapping to turn a start/end into an instant.
package wintz

import (
	"fmt"
	"strings"
	"time"

	// Embedded so a static CGO_ENABLED=0 binary in a minimal image can still
	// resolve zones; events are wrong by hours otherwise.
	_ "time/tzdata"
)

// DateTimeLayout is the layout Graph uses for dateTimeTimeZone.dateTime: a
// wall-clock time without offset and with seven fractional digits.
const DateTimeLayout = "2006-01-02T15:04:05.0000000"

// windows maps the Windows zone ids seen in Outlook data to IANA names. The
// list covers the zones of the CLDR windowsZones table that map to a single
// territory-independent default ("001"); rarer ones fall through to
// time.LoadLocation, which handles any IANA name Graph may echo back.
var windows = map[string]string{
	"utc":                             "UTC",
	"coordinated universal time":      "UTC",
	"gmt standard time":               "Europe/London",
	"greenwich standard time":         "Atlantic/Reykjavik",
	"w. europe standard time":         "Europe/Berlin",
	"central europe standard time":    "Europe/Budapest",
	"romance standard time":           "Europe/Paris",
	"central european standard time":  "Europe/Warsaw",
	"e. europe standard time":         "Europe/Chisinau",
	"fle standard time":               "Europe/Kiev",
	"gtb standard time":               "Europe/Bucharest",
	"russian standard time":           "Europe/Moscow",
	"turkey standard time":            "Europe/Istanbul",
	"israel standard time":            "Asia/Jerusalem",
	"egypt standard time":             "Africa/Cairo",
	"south africa standard time":      "Africa/Johannesburg",
	"w. central africa standard time": "Africa/Lagos",
	"e. africa standard time":         "Africa/Nairobi",
	"morocco standard time":           "Africa/Casablanca",
	"arab standard time":              "Asia/Riyadh",
	"arabian standard time":           "Asia/Dubai",
	"iran standard time":              "Asia/Tehran",
	"pakistan standard time":          "Asia/Karachi",
	"india standard time":             "Asia/Kolkata",
	"sri lanka standard time":         "Asia/Colombo",
	"nepal standard time":             "Asia/Kathmandu",
	"bangladesh standard time":        "Asia/Dhaka",
	"se asia standard time":           "Asia/Bangkok",
	"china standard time":             "Asia/Shanghai",
	"singapore standard time":         "Asia/Singapore",
	"taipei standard time":            "Asia/Taipei",
	"w. australia standard time":      "Australia/Perth",
	"tokyo standard time":             "Asia/Tokyo",
	"korea standard time":             "Asia/Seoul",
	"cen. australia standard time":    "Australia/Adelaide",
	"aus central standard time":       "Australia/Darwin",
	"e. australia standard time":      "Australia/Brisbane",
	"aus eastern standard time":       "Australia/Sydney",
	"tasmania standard time":          "Australia/Hobart",
	"new zealand standard time":       "Pacific/Auckland",
	"hawaiian standard time":          "Pacific/Honolulu",
	"alaskan standard time":           "America/Anchorage",
	"pacific standard time":           "America/Los_Angeles",
	"us mountain standard time":       "America/Phoenix",
	"mountain standard time":          "America/Denver",
	"central standard time":           "America/Chicago",
	"central standard time (mexico)":  "America/Mexico_City",
	"canada central standard time":    "America/Regina",
	"eastern standard time":           "America/New_York",
	"us eastern standard time":        "America/Indianapolis",
	"sa pacific standard time":        "America/Bogota",
	"atlantic standard time":          "America/Halifax",
	"newfoundland standard time":      "America/St_Johns",
	"e. south america standard time":  "America/Sao_Paulo",
	"argentina standard time":         "America/Buenos_Aires",
	"pacific sa standard time":        "America/Santiago",
}

// Location returns the location for a Graph time zone name: "UTC", a
// Windows zone id, or an IANA name.
func Location(name string) (*time.Location, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return time.UTC, nil
	}
	if iana, ok := windows[strings.ToLower(n)]; ok {
		n = iana
	}
	loc, err := time.LoadLocation(n)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// Parse interprets a Graph dateTime wall-clock string in the named zone.
func Parse(dateTime, zone string) (time.Time, error) {
	loc, err := Location(zone)
	if err != nil {
		return time.Time{}, err
	}
	// Parsing accepts any number of fractional digits even though the layout
	// names none, which covers both "…:00" and "…:00.0000000".
	t, err := time.ParseInLocation("2006-01-02T15:04:05", strings.TrimSuffix(dateTime, "Z"), loc)
	if err != nil {
		// All-day values are sometimes given as a bare date.
		t2, err2 := time.ParseInLocation("2006-01-02", dateTime, loc)
		if err2 != nil {
			return time.Time{}, fmt.Errorf("bad dateTime %q: %w", dateTime, err)
		}
		t = t2
	}
	return t, nil
}
