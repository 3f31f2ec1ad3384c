package address

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns a cleaned copy of an address, as Validate and Format see
// it:
//   - the country code is trimmed and upper-cased;
//   - every value is trimmed, runs of white space and control characters
//     become one space, and invalid UTF-8 is replaced;
//   - street lines are split at line breaks, and empty lines are dropped;
//   - the postal code is upper-cased for countries with a postal pattern;
//   - a region given by name, romanised name or ISO code is replaced by the
//     form the country writes on mail (e.g. "california" → "CA"); a
//     romanised name stays romanised ("tokyo" → "Tokyo").
//
// Normalize is idempotent.
func Normalize(a Address) Address {
	n := Address{
		Country:           strings.ToUpper(clean(a.Country)),
		Name:              clean(a.Name),
		Organization:      clean(a.Organization),
		DependentLocality: clean(a.DependentLocality),
		Locality:          clean(a.Locality),
		Region:            clean(a.Region),
		PostalCode:        clean(a.PostalCode),
		SortingCode:       clean(a.SortingCode),
	}
	for _, l := range a.Lines {
		for _, part := range strings.FieldsFunc(l, isLineBreak) {
			if part = clean(part); part != "" {
				n.Lines = append(n.Lines, part)
			}
		}
	}
	i := index(n.Country)
	if i < 0 {
		return n
	}
	d := &table[i]
	if d.zip != "" {
		n.PostalCode = strings.ToUpper(n.PostalCode)
	}
	if n.Region != "" {
		if j, canon := matchRegion(i, n.Region); j >= 0 {
			n.Region = canon
		}
	}
	return n
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// clean trims a value and collapses white space and control characters.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	simple := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c < ' ' || c == 0x7f || (c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			simple = false
			break
		}
	}
	if simple {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// regionFolds holds the folded spellings of a country's regions.
type regionFolds struct{ key, name, lname string }

// matchRegion finds a region of country table[i] by key, name, romanised name or
// ISO 3166-2 code (with or without the "CC-" prefix), ignoring case,
// diacritics and a trailing full stop. It returns the region's index and
// the canonical value to store, or -1.
func matchRegion(i int, s string) (int, string) {
	d := &table[i]
	if len(d.regions) == 0 {
		return -1, ""
	}
	want := foldRegion(s)
	if want == "" {
		return -1, ""
	}
	iso := ""
	if len(s) > 3 && strings.EqualFold(s[:3], d.code+"-") {
		iso = s[3:]
	}
	folds := get(i).regionFolds
	for j := range d.regions {
		r, f := &d.regions[j], &folds[j]
		switch {
		case f.key == want:
			return j, r.key
		case f.lname != "" && f.lname == want:
			return j, r.lname
		case f.name == want:
			return j, r.key
		case r.iso != "" && (strings.EqualFold(r.iso, iso) || (hasLetter(r.iso) && strings.EqualFold(r.iso, s))):
			return j, r.key
		}
	}
	return -1, ""
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// foldRegion lower-cases, strips diacritics and a trailing full stop.
func foldRegion(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}
