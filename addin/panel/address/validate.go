package address

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// FieldErrors maps a field key (the Field* constants) to a message fit to
// show next to that input. An empty or nil FieldErrors means valid.
type FieldErrors map[string]string

// Error joins the messages in field order, so FieldErrors can be returned
// as an error by callers that want one.
func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return strings.Join(parts, "; ")
}

// Validate checks an address against its country's rules, after Normalize:
//   - the country must be a known ISO code;
//   - fields the country requires must be present;
//   - fields the country's layout has no place for must be empty;
//   - the postal code must match the country's pattern as a whole, and the
//     start of it must fit the region where the data says so;
//   - a region must be one of the country's regions where the data lists
//     them (by key, name, romanised name or ISO code);
//   - at most MaxLines street lines, each value at most MaxValueLength
//     characters.
//
// It returns nil when the address is valid.
func Validate(a Address) FieldErrors {
	n := Normalize(a)
	errs := FieldErrors{}
	checkLen := func(key, v string) {
		if utf8.RuneCountInString(v) > MaxValueLength {
			errs[key] = fmt.Sprintf("Must be at most %d characters", MaxValueLength)
		}
	}
	checkLen(FieldName, n.Name)
	checkLen(FieldOrganization, n.Organization)
	for i, l := range n.Lines {
		if utf8.RuneCountInString(l) > MaxValueLength {
			errs[FieldLines] = fmt.Sprintf("Line %d must be at most %d characters", i+1, MaxValueLength)
			break
		}
	}
	if len(n.Lines) > MaxLines {
		errs[FieldLines] = fmt.Sprintf("Use at most %d address lines", MaxLines)
	}
	values := []struct {
		letter byte
		key    string
		v      string
	}{
		{'D', FieldDependentLocality, n.DependentLocality},
		{'C', FieldLocality, n.Locality},
		{'S', FieldRegion, n.Region},
		{'Z', FieldPostalCode, n.PostalCode},
		{'X', FieldSortingCode, n.SortingCode},
	}
	for _, f := range values {
		checkLen(f.key, f.v)
	}

	i := index(n.Country)
	if i < 0 {
		if n.Country == "" {
			errs[FieldCountry] = "Country is required"
		} else {
			errs[FieldCountry] = "Unknown country"
		}
		return result(errs)
	}
	d, c := &table[i], get(i)

	if _, bad := errs[FieldLines]; !bad {
		switch {
		case len(n.Lines) == 0 && c.uses('A') && strings.IndexByte(d.require, 'A') >= 0:
			errs[FieldLines] = "Street address is required"
		case len(n.Lines) > 0 && !c.uses('A'):
			errs[FieldLines] = "Not used in addresses in " + d.name
		}
	}
	for _, f := range values {
		if _, bad := errs[f.key]; bad {
			continue
		}
		switch {
		case f.v == "" && c.uses(f.letter) && strings.IndexByte(d.require, f.letter) >= 0:
			errs[f.key] = fieldLabel(d, f.letter) + " is required"
		case f.v != "" && !c.uses(f.letter):
			errs[f.key] = "Not used in addresses in " + d.name
		}
	}

	region := -1
	if _, bad := errs[FieldRegion]; !bad && n.Region != "" && len(d.regions) > 0 {
		region, _ = matchRegion(i, n.Region)
		if region < 0 {
			errs[FieldRegion] = "Unknown " + strings.ToLower(fieldLabel(d, 'S')) + " for " + d.name
		}
	}

	if _, bad := errs[FieldPostalCode]; !bad && n.PostalCode != "" && c.postal != nil {
		zl := fieldLabel(d, 'Z')
		switch {
		case !c.postal.MatchString(n.PostalCode):
			msg := "Enter a valid " + lowerFirst(zl)
			if ex, _, _ := strings.Cut(d.zipex, ","); ex != "" {
				msg += ", e.g. " + ex
			}
			errs[FieldPostalCode] = msg
		case region >= 0 && c.regionZips[region] != nil && !c.regionZips[region].MatchString(n.PostalCode):
			r := &d.regions[region]
			name := r.name
			if r.lname != "" {
				name = r.lname
			}
			errs[FieldPostalCode] = zl + " does not match " + name
		}
	}
	return result(errs)
}

func result(errs FieldErrors) FieldErrors {
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// lowerFirst lower-cases a label's first letter unless it starts with an
// acronym ("ZIP code", "PIN code") or is a name ("Eircode").
func lowerFirst(s string) string {
	if s == "Eircode" || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
