package address

import (
	"strings"
	"testing"
)

func TestCountries(t *testing.T) {
	cs := Countries()
	if len(cs) < 245 {
		t.Fatalf("Countries() = %d entries, want the whole data set (~250)", len(cs))
	}
	seen := map[string]bool{}
	pos := map[string]int{}
	for i, c := range cs {
		if len(c.Code) != 2 || c.Name == "" {
			t.Errorf("bad entry %+v", c)
		}
		if seen[c.Code] {
			t.Errorf("duplicate %s", c.Code)
		}
		seen[c.Code] = true
		pos[c.Code] = i
		if _, ok := Lookup(c.Code); !ok {
			t.Errorf("Lookup(%q) failed", c.Code)
		}
		if i > 0 && isASCII(cs[i-1].Name) && isASCII(c.Name) && strings.ToLower(cs[i-1].Name) > strings.ToLower(c.Name) {
			t.Errorf("not sorted by name: %q before %q", cs[i-1].Name, c.Name)
		}
	}
	if seen["ZZ"] {
		t.Error("the ZZ default record must not be listed")
	}
	// Collation order: Åland sorts with the A's, Réunion before Romania.
	if pos["AX"] > pos["AL"] || pos["RE"] > pos["RO"] {
		t.Errorf("accented names out of order: AX=%d AL=%d RE=%d RO=%d", pos["AX"], pos["AL"], pos["RE"], pos["RO"])
	}
	for _, cc := range []string{"US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", "NL", "AU", "CN", "ZA", "XK"} {
		if !seen[cc] {
			t.Errorf("%s missing", cc)
		}
	}
}

func TestLookup(t *testing.T) {
	f, ok := Lookup(" de ")
	if !ok || f.Country != "DE" || f.Name != "Germany" || f.PostalName != "GERMANY" {
		t.Fatalf("Lookup(de) = %+v, %v", f, ok)
	}
	for _, cc := range []string{"", "D", "DEU", "ZZ", "QQ", "1A"} {
		if _, ok := Lookup(cc); ok {
			t.Errorf("Lookup(%q) succeeded", cc)
		}
	}
	// Returned slices are copies.
	f.Fields[0].Label = "changed"
	if g, _ := Lookup("DE"); g.Fields[0].Label == "changed" {
		t.Error("Lookup shares its slices with the table")
	}
	us, _ := Lookup("US")
	if len(us.Regions) < 50 {
		t.Errorf("US regions = %d", len(us.Regions))
	}
	if r := us.Regions[8]; r.Key != "CA" || r.Name != "California" || r.ISOCode != "CA" || r.PostalPrefix == "" {
		t.Errorf("US region 8 = %+v", r)
	}
	jp, _ := Lookup("JP")
	if jp.LatinLayout == "" || jp.Regions[12].LatinName != "Tokyo" {
		t.Errorf("JP latin data missing: %q %+v", jp.LatinLayout, jp.Regions[12])
	}
}

type fieldWant struct {
	key, label string
	required   bool
}

func TestFieldsPerCountry(t *testing.T) {
	A := fieldWant{FieldLines, "Street address", true}
	tests := map[string][]fieldWant{
		"US": {A, {FieldLocality, "City", true}, {FieldRegion, "State", true}, {FieldPostalCode, "ZIP code", true}},
		"GB": {A, {FieldLocality, "Post town", true}, {FieldPostalCode, "Postal code", true}},
		"DE": {A, {FieldPostalCode, "Postal code", true}, {FieldLocality, "City", true}},
		"FR": {A, {FieldPostalCode, "Postal code", true}, {FieldLocality, "City", true}},
		"JP": {{FieldPostalCode, "Postal code", true}, {FieldRegion, "Prefecture", true}, A},
		"BR": {A, {FieldDependentLocality, "Neighborhood", false}, {FieldLocality, "City", true}, {FieldRegion, "State", true}, {FieldPostalCode, "Postal code", true}},
		"IN": {A, {FieldLocality, "City", true}, {FieldPostalCode, "PIN code", true}, {FieldRegion, "State", true}},
		"CA": {A, {FieldLocality, "City", true}, {FieldRegion, "Province", true}, {FieldPostalCode, "Postal code", true}},
		"NL": {A, {FieldPostalCode, "Postal code", true}, {FieldLocality, "City", true}},
		"AU": {A, {FieldLocality, "Suburb", true}, {FieldRegion, "State", true}, {FieldPostalCode, "Postal code", true}},
		"IE": {A, {FieldDependentLocality, "Townland", false}, {FieldLocality, "City", true}, {FieldRegion, "County", false}, {FieldPostalCode, "Eircode", false}},
		"KR": {{FieldRegion, "Do/Si", true}, {FieldLocality, "City", true}, {FieldDependentLocality, "District", false}, A, {FieldPostalCode, "Postal code", true}},
		"GP": {A, {FieldPostalCode, "Postal code", true}, {FieldLocality, "City", true}, {FieldSortingCode, "Sorting code", false}},
	}
	for cc, want := range tests {
		f, ok := Lookup(cc)
		if !ok {
			t.Fatalf("Lookup(%s) failed", cc)
		}
		var got []fieldWant
		for _, fl := range f.Fields {
			got = append(got, fieldWant{fl.Key, fl.Label, fl.Required})
		}
		if len(got) != len(want) {
			t.Errorf("%s fields = %v, want %v", cc, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s field %d = %v, want %v", cc, i, got[i], want[i])
			}
		}
	}
	us, _ := Lookup("US")
	if fl, _ := us.Field(FieldLocality); !fl.Uppercase {
		t.Error("US city should be upper-cased on the label")
	}
	if _, ok := us.Field(FieldSortingCode); ok {
		t.Error("US has no sorting code")
	}
}

func TestPostalCodes(t *testing.T) {
	tests := []struct {
		cc           string
		valid, wrong []string
	}{
		{"US", []string{"94043", "94043-1351", " 10001 "}, []string{"9404", "940431", "ABCDE", "94043 1351x"}},
		{"GB", []string{"SW1A 2AA", "sw1a2aa", "EC1Y 8SY", "GIR 0AA", "M1 1AE"}, []string{"SW1A 2A", "QQ1 1AA", "12345"}},
		{"DE", []string{"10117", "01067"}, []string{"1011", "101170", "D-10117"}},
		{"FR", []string{"75004", "97400", "75 004"}, []string{"7500", "7500A", "F-75004"}},
		{"JP", []string{"100-0001", "1000001"}, []string{"100-001", "10000012", "〒100-0001"}},
		{"BR", []string{"01310-100", "01310100"}, []string{"01310-10", "0131-0100"}},
		{"IN", []string{"560001", "110001"}, []string{"56001", "0560001", "56000A"}},
		{"CA", []string{"M5V 3L9", "m5v3l9", "H0H 0H0"}, []string{"M5V 3L", "D5V 3L9", "12345"}},
		{"NL", []string{"1012 JS", "1012js"}, []string{"1012 J5", "AB 1012", "1012"}},
		{"AU", []string{"2000", "0800"}, []string{"200", "20000", "A200"}},
	}
	for _, tc := range tests {
		f, _ := Lookup(tc.cc)
		if f.PostalPattern == "" || len(f.PostalExamples) == 0 {
			t.Errorf("%s: no postal pattern/examples", tc.cc)
		}
		for _, z := range tc.valid {
			if e := Validate(postalOnly(tc.cc, z)); e[FieldPostalCode] != "" {
				t.Errorf("%s %q: unexpected error %q", tc.cc, z, e[FieldPostalCode])
			}
		}
		for _, z := range tc.wrong {
			e := Validate(postalOnly(tc.cc, z))
			if e[FieldPostalCode] == "" {
				t.Errorf("%s %q: accepted", tc.cc, z)
			} else if !strings.Contains(e[FieldPostalCode], "e.g. "+f.PostalExamples[0]) {
				t.Errorf("%s %q: message %q lacks an example", tc.cc, z, e[FieldPostalCode])
			}
		}
	}
	if e := Validate(postalOnly("US", "abcde")); e[FieldPostalCode] != "Enter a valid ZIP code, e.g. 95014" {
		t.Errorf("US message = %q", e[FieldPostalCode])
	}
	if n := Normalize(Address{Country: "gb", PostalCode: " sw1a  2aa "}); n.PostalCode != "SW1A 2AA" {
		t.Errorf("GB postcode normalised to %q", n.PostalCode)
	}
}

// postalOnly builds a US-style address whose only possible problem is the
// postal code: other fields are filled only where the country uses them.
func postalOnly(cc, zip string) Address {
	f, _ := Lookup(cc)
	a := Address{Country: cc, PostalCode: zip}
	for _, fl := range f.Fields {
		switch fl.Key {
		case FieldLines:
			a.Lines = []string{"1 Main Street"}
		case FieldLocality:
			a.Locality = "Town"
		case FieldRegion:
			if len(f.Regions) == 0 {
				a.Region = "Region"
			}
		}
	}
	return a
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		a    Address
		want string
	}{
		{"US", Address{Country: "us", Name: "Jane Roe", Organization: "Acme Inc.", Lines: []string{"1600 Amphitheatre Pkwy", "  Bldg   40 "}, Locality: "Mountain View", Region: "california", PostalCode: "94043"},
			"Jane Roe\nAcme Inc.\n1600 Amphitheatre Pkwy\nBldg 40\nMOUNTAIN VIEW, CA 94043"},
		{"US no state", Address{Country: "US", Lines: []string{"1 Main St"}, Locality: "Springfield", PostalCode: "12345"},
			"1 Main St\nSPRINGFIELD, 12345"},
		{"US no city", Address{Country: "US", Lines: []string{"1 Main St"}, Region: "NY", PostalCode: "10001"},
			"1 Main St\nNY 10001"},
		{"GB", Address{Country: "GB", Organization: "Prime Minister's Office", Lines: []string{"10 Downing Street"}, Locality: "London", PostalCode: "sw1a 2aa"},
			"Prime Minister's Office\n10 Downing Street\nLONDON\nSW1A 2AA"},
		{"DE", Address{Country: "DE", Name: "Erika Mustermann", Lines: []string{"Heidestraße 17"}, Locality: "Köln", PostalCode: "51147"},
			"Erika Mustermann\nHeidestraße 17\n51147 KÖLN"},
		{"FR organisation first", Address{Country: "FR", Name: "Jean Dupont", Organization: "Société X", Lines: []string{"8 rue de Rivoli"}, Locality: "Paris", PostalCode: "75004"},
			"Société X\nJean Dupont\n8 rue de Rivoli\n75004 PARIS"},
		{"JP", Address{Country: "JP", Name: "山田太郎", Lines: []string{"千代田1-1"}, Region: "東京都", PostalCode: "100-0001"},
			"〒100-0001\n東京都\n千代田1-1\n山田太郎"},
		{"JP no postal code drops the 〒", Address{Country: "JP", Lines: []string{"千代田1-1"}, Region: "jp-13"},
			"東京都\n千代田1-1"},
		{"BR", Address{Country: "BR", Lines: []string{"Av. Paulista, 1000"}, DependentLocality: "Bela Vista", Locality: "São Paulo", Region: "São Paulo", PostalCode: "01310-100"},
			"Av. Paulista, 1000\nBela Vista\nSÃO PAULO-SP\n01310-100"},
		{"BR no state", Address{Country: "BR", Lines: []string{"Rua A, 1"}, Locality: "Recife", PostalCode: "50000-000"},
			"Rua A, 1\nRECIFE\n50000-000"},
		{"IN", Address{Country: "IN", Lines: []string{"12 MG Road"}, Locality: "Bengaluru", Region: "karnataka", PostalCode: "560001"},
			"12 MG Road\nBENGALURU 560001\nKarnataka"},
		{"CA", Address{Country: "CA", Lines: []string{"290 Bremner Blvd"}, Locality: "Toronto", Region: "Ontario", PostalCode: "m5v 3l9"},
			"290 BREMNER BLVD\nTORONTO ON M5V 3L9"},
		{"NL", Address{Country: "NL", Lines: []string{"Dam 1"}, Locality: "Amsterdam", PostalCode: "1012 js"},
			"Dam 1\n1012 JS AMSTERDAM"},
		{"AU", Address{Country: "AU", Organization: "NSW Parliament", Lines: []string{"6 Macquarie St"}, Locality: "Sydney", Region: "New South Wales", PostalCode: "2000"},
			"NSW Parliament\n6 Macquarie St\nSYDNEY NSW 2000"},
		{"CH prefix", Address{Country: "CH", Lines: []string{"Bundesplatz 3"}, Locality: "Bern", PostalCode: "3005"},
			"Bundesplatz 3\nCH-3005 Bern"},
		{"CH prefix dropped with its field", Address{Country: "CH", Lines: []string{"Bundesplatz 3"}, Locality: "Bern"},
			"Bundesplatz 3\nBern"},
		{"AX constant line", Address{Country: "AX", Lines: []string{"Torggatan 1"}, Locality: "Mariehamn", PostalCode: "22100"},
			"Torggatan 1\nAX-22100 MARIEHAMN\nÅLAND"},
		{"GP sorting code", Address{Country: "GP", Lines: []string{"1 rue A"}, Locality: "Pointe-à-Pitre", PostalCode: "97110", SortingCode: "cedex 1"},
			"1 RUE A\n97110 POINTE-À-PITRE CEDEX 1"},
		{"CI street shares a line", Address{Country: "CI", Lines: []string{"Rue 12", "Lot 4"}, Locality: "Abidjan", SortingCode: "01 BP 1"},
			"01 BP 1 Rue 12, Lot 4 ABIDJAN 01 BP 1"},
		{"NA layout typo repaired", Address{Country: "NA", Lines: []string{"1 Independence Ave"}, Locality: "Windhoek", PostalCode: "10001"},
			"1 Independence Ave\nWINDHOEK\n10001"},
		{"unused fields left out", Address{Country: "DE", Lines: []string{"A 1"}, Locality: "Berlin", Region: "Berlin", PostalCode: "10117"},
			"A 1\n10117 BERLIN"},
		{"unknown country", Address{Country: "QQ", Lines: []string{"1 Road"}, Locality: "Town", Region: "State", PostalCode: "123"},
			"1 Road\nTown State 123"},
		{"multi-line street field", Address{Country: "DE", Lines: []string{"c/o Muster\nHauptstr. 5\r\n\r\n"}, Locality: "Bonn", PostalCode: "53111"},
			"c/o Muster\nHauptstr. 5\n53111 BONN"},
		{"empty", Address{Country: "DE", Lines: []string{" ", ""}}, ""},
	}
	for _, tc := range tests {
		if got := Format(tc.a); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestFormatVariants(t *testing.T) {
	jp := Address{Country: "JP", Name: "Taro Yamada", Lines: []string{"1-1 Chiyoda", "Chiyoda-ku"}, Region: "tokyo", PostalCode: "1000001"}
	if got, want := FormatLatin(jp), "Taro Yamada\n1-1 Chiyoda, Chiyoda-ku, TOKYO\n1000001"; got != want {
		t.Errorf("FormatLatin(JP) = %q, want %q", got, want)
	}
	de := Address{Country: "DE", Lines: []string{"Unter den Linden 1"}, Locality: "Berlin", PostalCode: "10117"}
	if got := FormatLatin(de); got != Format(de) {
		t.Errorf("FormatLatin(DE) = %q differs from Format", got)
	}
	if got, want := FormatInternational(de, "US"), "Unter den Linden 1\n10117 BERLIN\nGERMANY"; got != want {
		t.Errorf("FormatInternational = %q, want %q", got, want)
	}
	if got := FormatInternational(de, "de"); got != Format(de) {
		t.Errorf("domestic FormatInternational = %q", got)
	}
	f, _ := Lookup("DE")
	if got := f.Format(Address{Country: "US", Lines: []string{"x"}, Locality: "Bonn"}); got != "x\nBONN" {
		t.Errorf("CountryFormat.Format = %q", got)
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("ä", MaxValueLength+1)
	ok := Address{Country: "US", Lines: []string{"1 Main St"}, Locality: "Springfield", Region: "IL", PostalCode: "62701"}
	if e := Validate(ok); e != nil {
		t.Fatalf("valid address: %v", e)
	}
	with := func(f func(a *Address)) Address {
		a := ok
		a.Lines = append([]string(nil), ok.Lines...)
		f(&a)
		return a
	}
	tests := []struct {
		name string
		a    Address
		want map[string]string // key -> substring of message
	}{
		{"no country", with(func(a *Address) { a.Country = " " }), map[string]string{FieldCountry: "required"}},
		{"unknown country", with(func(a *Address) { a.Country = "XX" }), map[string]string{FieldCountry: "Unknown country"}},
		{"unknown country, long line", with(func(a *Address) { a.Country = "XX"; a.Lines = []string{long} }), map[string]string{FieldCountry: "Unknown", FieldLines: "at most 200"}},
		{"missing required", Address{Country: "us"}, map[string]string{FieldLines: "required", FieldLocality: "City is required", FieldRegion: "State is required", FieldPostalCode: "ZIP code is required"}},
		{"blank lines only", with(func(a *Address) { a.Lines = []string{" ", "\t"} }), map[string]string{FieldLines: "required"}},
		{"too many lines", with(func(a *Address) { a.Lines = []string{"a", "b", "c", "d"} }), map[string]string{FieldLines: "at most 3"}},
		{"line too long", with(func(a *Address) { a.Lines = []string{"a", long} }), map[string]string{FieldLines: "Line 2"}},
		{"city too long", with(func(a *Address) { a.Locality = long }), map[string]string{FieldLocality: "at most 200"}},
		{"name too long", with(func(a *Address) { a.Name = long }), map[string]string{FieldName: "at most 200"}},
		{"bad zip", with(func(a *Address) { a.PostalCode = "6270" }), map[string]string{FieldPostalCode: "valid ZIP code"}},
		{"zip of another state", with(func(a *Address) { a.PostalCode = "90210" }), map[string]string{FieldPostalCode: "does not match Illinois"}},
		{"unknown state", with(func(a *Address) { a.Region = "Ontario" }), map[string]string{FieldRegion: "Unknown state"}},
		{"unused field", with(func(a *Address) { a.SortingCode = "CEDEX" }), map[string]string{FieldSortingCode: "Not used"}},
	}
	for _, tc := range tests {
		got := Validate(tc.a)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want keys of %v", tc.name, got, tc.want)
			continue
		}
		for k, sub := range tc.want {
			if !strings.Contains(got[k], sub) {
				t.Errorf("%s: %s = %q, want it to contain %q", tc.name, k, got[k], sub)
			}
		}
		if got.Error() == "" {
			t.Errorf("%s: empty Error()", tc.name)
		}
	}
	// Exactly at the limits is fine.
	edge := with(func(a *Address) { a.Lines = []string{"a", "b", strings.Repeat("x", MaxValueLength)} })
	if e := Validate(edge); e != nil {
		t.Errorf("limits: %v", e)
	}
	// Regions by every accepted spelling.
	for _, cc := range [][2]string{{"US", "Illinois"}, {"US", "il"}, {"US", "US-IL"}, {"US", " illinois. "}} {
		if e := Validate(with(func(a *Address) { a.Region = cc[1] })); e != nil {
			t.Errorf("region %q: %v", cc[1], e)
		}
	}
	for _, a := range []Address{
		{Country: "JP", Lines: []string{"1-1 Chiyoda"}, Region: "Tokyo", PostalCode: "100-0001"},
		{Country: "JP", Lines: []string{"1-1 Chiyoda"}, Region: "JP-13", PostalCode: "100-0001"},
		{Country: "BR", Lines: []string{"Av. Paulista, 1000"}, Locality: "São Paulo", Region: "sao paulo", PostalCode: "01310-100"},
		{Country: "MX", Lines: []string{"Av. Juárez 1"}, Locality: "Aguascalientes", Region: "Ags", PostalCode: "20000"},
		{Country: "GB", Lines: []string{"1 High St"}, Locality: "Oxford", PostalCode: "ox1 1aa"},
		{Country: "CA", Lines: []string{"1 Rue"}, Locality: "Québec", Region: "QC", PostalCode: "G1R 4P5"},
	} {
		if e := Validate(a); e != nil {
			t.Errorf("%+v: %v", a, e)
		}
	}
	if e := Validate(Address{Country: "JP", Lines: []string{"1-1 Chiyoda"}, Region: "Tokyo", PostalCode: "530-0001"}); !strings.Contains(e[FieldPostalCode], "does not match Tokyo") {
		t.Errorf("JP Osaka postcode in Tokyo: %v", e)
	}
}

func TestNormalize(t *testing.T) {
	a := Address{
		Country:  " fr\t",
		Name:     "  Jean\u00a0 Dupont ",
		Lines:    []string{"  8 rue\tde Rivoli ", "", "Bât.\x00 B\n2e étage"},
		Locality: "Paris\x7f",
		Region:   "Île-de-France",
	}
	n := Normalize(a)
	want := Address{Country: "FR", Name: "Jean Dupont", Lines: []string{"8 rue de Rivoli", "Bât. B", "2e étage"}, Locality: "Paris", Region: "Île-de-France"}
	if n.Country != want.Country || n.Name != want.Name || n.Locality != want.Locality || n.Region != want.Region || strings.Join(n.Lines, "|") != strings.Join(want.Lines, "|") {
		t.Errorf("Normalize = %#v\nwant %#v", n, want)
	}
	if bad := Normalize(Address{Locality: "a\xffb"}); bad.Locality != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 kept: %q", bad.Locality)
	}
}

// TestEveryCountry runs every country in the table: examples validate,
// regions normalise to themselves, and formatting works.
func TestEveryCountry(t *testing.T) {
	if len(table) != len(Countries()) {
		t.Fatal("Countries() and the table differ")
	}
	for i := range table {
		d := &table[i]
		f, ok := Lookup(d.code)
		if !ok {
			t.Fatalf("Lookup(%s)", d.code)
		}
		if len(f.Fields) == 0 {
			t.Errorf("%s: no fields", d.code)
		}
		c := get(i)
		for _, ex := range f.PostalExamples {
			if !c.postal.MatchString(ex) {
				t.Errorf("%s: example %q does not match %q", d.code, ex, d.zip)
			}
			a, fits := sample(f, ex)
			if e := Validate(a); fits && e != nil {
				t.Errorf("%s: sample %+v: %v", d.code, a, e)
			}
			out := Format(a)
			if c.uses('Z') && !strings.Contains(out, strings.ToUpper(ex)) {
				t.Errorf("%s: formatted %q lacks the postal code %q", d.code, out, ex)
			}
			if Format(Normalize(a)) != out {
				t.Errorf("%s: Format not stable under Normalize", d.code)
			}
		}
		if len(f.PostalExamples) == 0 {
			a, _ := sample(f, "")
			if e := Validate(a); e != nil {
				t.Errorf("%s: sample %+v: %v", d.code, a, e)
			}
			_ = Format(a)
		}
		for j, r := range d.regions {
			for _, s := range []string{r.key, r.name, r.lname, strings.ToLower(r.name), d.code + "-" + r.iso} {
				if s == "" || s == d.code+"-" {
					continue
				}
				a := Address{Country: d.code, Region: s}
				n := Normalize(a)
				if k, _ := matchRegion(i, s); k != j && foldRegion(s) != foldRegion(d.regions[k].key) && foldRegion(s) != foldRegion(d.regions[k].name) {
					t.Errorf("%s: %q matched region %d, want %d", d.code, s, k, j)
				}
				if n2 := Normalize(n); n2.Region != n.Region {
					t.Errorf("%s: region %q normalises to %q then %q", d.code, s, n.Region, n2.Region)
				}
			}
		}
	}
}

// sample builds a valid address for a country using a postal example. It
// reports false when a required region cannot be chosen because no region's
// postal prefix fits the example (the data has a few such examples).
func sample(f CountryFormat, zip string) (Address, bool) {
	a := Address{Country: f.Country, Name: "Ann Example", Organization: "Example Ltd"}
	fits := true
	for _, fl := range f.Fields {
		switch fl.Key {
		case FieldLines:
			a.Lines = []string{"1 Example Street", "Suite 2"}
		case FieldDependentLocality:
			a.DependentLocality = "Old Town"
		case FieldLocality:
			a.Locality = "Exampletown"
		case FieldPostalCode:
			a.PostalCode = zip
		case FieldSortingCode:
			a.SortingCode = "CEDEX 1"
		case FieldRegion:
			a.Region = "Example Region"
			if len(f.Regions) > 0 {
				a.Region = ""
				for _, r := range f.Regions {
					if r.PostalPrefix == "" || zip == "" || regexpMatchPrefix(r.PostalPrefix, zip) {
						a.Region = r.Key
						break
					}
				}
				if a.Region == "" && fl.Required {
					a.Region = f.Regions[0].Key
					fits = false
				}
			}
		}
	}
	return a, fits
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
