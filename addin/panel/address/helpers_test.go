package address

import "regexp"

func regexpMatchPrefix(prefix, s string) bool {
	return regexp.MustCompile(`(?i)^(?:` + prefix + `)`).MatchString(s)
}
