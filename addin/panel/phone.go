package panel

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// normalizePhone returns the E.164 form of a phone number, reading national
// numbers in region. ok is false when the number is not a valid one.
func normalizePhone(raw, region string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 64 {
		return "", false
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// looksLikePhone reports whether a search query is meant as a phone number:
// only digits and phone punctuation, with at least six digits.
func looksLikePhone(q string) bool {
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() ./", r):
		default:
			return false
		}
	}
	return digits >= 6
}
