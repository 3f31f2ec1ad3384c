package address

import "strings"

// token is one piece of a layout line: a field letter, or literal text when
// field is 0.
type token struct {
	field byte
	lit   string
}

// layout is a parsed format string: one token list per line.
type layout [][]token

// parseLayout splits a format string such as "%N%n%O%n%A%n%C, %S %Z" into
// lines of field and literal tokens. Unknown escapes are kept as literals.
func parseLayout(s string) layout {
	var (
		out  layout
		line []token
		lit  strings.Builder
	)
	flushLit := func() {
		if lit.Len() > 0 {
			line = append(line, token{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			lit.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			flushLit()
			out = append(out, line)
			line = nil
		case 'N', 'O', 'A', 'D', 'C', 'S', 'Z', 'X':
			flushLit()
			line = append(line, token{field: c})
		default:
			lit.WriteByte('%')
			lit.WriteByte(c)
		}
	}
	flushLit()
	return append(out, line)
}

// Format lays out an address as the country writes it on mail, one line per
// layout line, without the country name. Input is normalised first (see
// Normalize); empty fields are skipped together with the punctuation that
// only made sense next to them, empty lines are dropped, and fields the
// country writes in capitals (its "upper" rule) are upper-cased. Fields the
// country's layout has no place for are left out. For a country code missing
// from the table a generic layout is used. Format never fails; an address
// with no content gives "".
func Format(a Address) string { return formatWith(a, false) }

// FormatLatin is Format using the country's layout for romanised addresses
// where it has one (for example Japan, China, Korea), and Format's layout
// elsewhere.
func FormatLatin(a Address) string { return formatWith(a, true) }

// FormatInternational is Format with the country's postal name appended as
// the last line when the address is in another country than from (an ISO
// code; "" always appends it).
func FormatInternational(a Address, from string) string {
	s := Format(a)
	i := index(a.Country)
	if s == "" || i < 0 || (from != "" && index(from) == i) {
		return s
	}
	return s + "\n" + table[i].postalName
}

// Format formats an address with this country's layout, whatever a.Country
// says.
func (f CountryFormat) Format(a Address) string {
	a.Country = f.Country
	return Format(a)
}

func formatWith(a Address, latin bool) string {
	n := Normalize(a)
	if !hasContent(&n) {
		return ""
	}
	l, upper := genericLayout, ""
	if i := index(n.Country); i >= 0 {
		c := get(i)
		l, upper = c.layout, table[i].upper
		if latin {
			l = c.latinLayout
		}
	}
	var out []string
	for _, line := range l {
		out = renderLine(out, line, &n, upper)
	}
	return strings.Join(out, "\n")
}

func hasContent(a *Address) bool {
	return a.Name != "" || a.Organization != "" || len(a.Lines) > 0 || a.DependentLocality != "" ||
		a.Locality != "" || a.Region != "" || a.PostalCode != "" || a.SortingCode != ""
}

// value returns a (normalised) address's value for a layout letter; street
// lines are joined with ", " when they share a layout line with other text.
func value(a *Address, field byte, upper string) string {
	var v string
	switch field {
	case 'N':
		v = a.Name
	case 'O':
		v = a.Organization
	case 'A':
		v = strings.Join(a.Lines, ", ")
	case 'D':
		v = a.DependentLocality
	case 'C':
		v = a.Locality
	case 'S':
		v = a.Region
	case 'Z':
		v = a.PostalCode
	case 'X':
		v = a.SortingCode
	}
	if v != "" && strings.IndexByte(upper, field) >= 0 {
		v = strings.ToUpper(v)
	}
	return v
}

// renderLine appends the output lines of one layout line to out.
//
// Literal text is kept only where it belongs to a field that is present: a
// prefix before the line's first field (such as "〒" or "CH-") is written only
// if that field is; between two present fields the literal that followed the
// earlier one is used (so "%C, %S %Z" with no state gives "City, 12345"); a
// suffix after the line's last field only if that field is present. A line
// with no fields at all is constant text and always written.
func renderLine(out []string, line []token, a *Address, upper string) []string {
	var fields []int
	for i, t := range line {
		if t.field != 0 {
			fields = append(fields, i)
		}
	}
	if len(fields) == 0 {
		var b strings.Builder
		for _, t := range line {
			b.WriteString(t.lit)
		}
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
		return out
	}
	// A line holding only the street address gets one output line per
	// street line.
	if len(fields) == 1 && line[fields[0]].field == 'A' && onlySpaceLiterals(line) {
		up := strings.IndexByte(upper, 'A') >= 0
		for _, l := range a.Lines {
			if up {
				l = strings.ToUpper(l)
			}
			out = append(out, l)
		}
		return out
	}
	var b strings.Builder
	prev := -1 // token index of the previous present field
	for k, i := range fields {
		v := value(a, line[i].field, upper)
		if v == "" {
			continue
		}
		switch {
		case prev < 0 && k == 0 && i > 0:
			b.WriteString(line[i-1].lit) // prefix of the first field
		case prev >= 0 && line[prev+1].field == 0:
			b.WriteString(line[prev+1].lit) // separator after the previous field
		}
		b.WriteString(v)
		prev = i
	}
	if prev < 0 {
		return out
	}
	if prev == fields[len(fields)-1] && prev+1 < len(line) {
		b.WriteString(line[prev+1].lit) // suffix of the last field
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func onlySpaceLiterals(line []token) bool {
	for _, t := range line {
		if t.field == 0 && strings.TrimSpace(t.lit) != "" {
			return false
		}
	}
	return true
}
