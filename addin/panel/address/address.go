// Package address knows how postal addresses are written in each country:
// which fields a country uses, in what order, what they are called, which are
// required, what its postal codes look like, and how a finished address is
// laid out on an envelope.
//
// The per-country rules come from Google's address metadata, the data set
// behind libaddressinput (see README.md and NOTICE). The table is generated
// into table_gen.go by ./internal/gen.
//
// Typical use in the side panel:
//
//	f, ok := address.Lookup("DE")      // build the form
//	errs := address.Validate(a)        // field key -> message
//	label := address.Format(a)         // multi-line label
package address

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -src ${ADDRESS_DATA} -out table_gen.go

// Field keys used in CountryFormat.Fields and as keys of FieldErrors. They
// match the JSON names of the Address fields.
const (
	FieldCountry           = "country"
	FieldName              = "name"
	FieldOrganization      = "organization"
	FieldLines             = "lines"
	FieldDependentLocality = "dependentLocality"
	FieldLocality          = "locality"
	FieldRegion            = "region"
	FieldPostalCode        = "postalCode"
	FieldSortingCode       = "sortingCode"
)

// Limits enforced by Validate.
const (
	MaxLines       = 3   // street address lines
	MaxValueLength = 200 // characters (runes) per value
)

// Address is a postal address as entered in the panel. Name and Organization
// are optional and only used by Format; Validate checks the address fields.
type Address struct {
	Country           string   `json:"country"` // ISO 3166-1 alpha-2, e.g. "DE"
	Name              string   `json:"name,omitempty"`
	Organization      string   `json:"organization,omitempty"`
	Lines             []string `json:"lines,omitempty"` // street address, 1–3 lines
	DependentLocality string   `json:"dependentLocality,omitempty"`
	Locality          string   `json:"locality,omitempty"`
	Region            string   `json:"region,omitempty"` // state, province, prefecture, ...
	PostalCode        string   `json:"postalCode,omitempty"`
	SortingCode       string   `json:"sortingCode,omitempty"` // e.g. French CEDEX
}

// Country is one entry of Countries.
type Country struct {
	Code string `json:"code"` // ISO 3166-1 alpha-2
	Name string `json:"name"` // English short name
}

// Field is one input of a country's address form.
type Field struct {
	Key       string `json:"key"`   // one of the Field* constants
	Label     string `json:"label"` // English label, e.g. "ZIP code", "Prefecture"
	Required  bool   `json:"required"`
	Uppercase bool   `json:"uppercase,omitempty"` // written in capitals on the label
}

// Region is a first-level sub-region (state, province, ...) of a country.
type Region struct {
	Key       string `json:"key"`                 // value written on the label, e.g. "CA", "東京都"
	Name      string `json:"name"`                // e.g. "California"
	LatinName string `json:"latinName,omitempty"` // romanised name where the key is not Latin, e.g. "Tokyo"
	ISOCode   string `json:"isoCode,omitempty"`   // ISO 3166-2 suffix, e.g. "CA" for US-CA
	// PostalPrefix is a pattern that postal codes of the region start with.
	PostalPrefix string `json:"postalPrefix,omitempty"`
}

// CountryFormat describes how one country's addresses are written.
type CountryFormat struct {
	Country    string `json:"country"`    // ISO 3166-1 alpha-2
	Name       string `json:"name"`       // English short name, e.g. "Germany"
	PostalName string `json:"postalName"` // name as written on mail, e.g. "GERMANY"
	// Layout is the source format string, e.g. "%N%n%O%n%A%n%C %S %Z":
	// %N name, %O organisation, %A street lines, %D dependent locality,
	// %C locality, %S region, %Z postal code, %X sorting code, %n new line.
	Layout string `json:"layout"`
	// LatinLayout is the layout for romanised addresses, where it differs.
	LatinLayout string `json:"latinLayout,omitempty"`
	// Fields are the address inputs in the order of the layout (name and
	// organisation are not included).
	Fields []Field `json:"fields"`
	// PostalPattern is the unanchored regular expression (RE2 syntax) that a
	// whole postal code must match; empty where the country has none.
	PostalPattern  string   `json:"postalPattern,omitempty"`
	PostalExamples []string `json:"postalExamples,omitempty"`
	// The *Type values are the raw name types of the source data, e.g.
	// "state", "prefecture", "zip", "pin", "post_town", "neighborhood".
	RegionType            string   `json:"regionType"`
	PostalCodeType        string   `json:"postalCodeType"`
	LocalityType          string   `json:"localityType"`
	DependentLocalityType string   `json:"dependentLocalityType"`
	Regions               []Region `json:"regions,omitempty"`
}

// Field returns the form field with the given key, if the country uses it.
func (f CountryFormat) Field(key string) (Field, bool) {
	for _, fl := range f.Fields {
		if fl.Key == key {
			return fl, true
		}
	}
	return Field{}, false
}

// countryData is one generated table row (see internal/gen).
type countryData struct {
	code, name, postalName, layout, latinLayout, require, upper, zip, zipex string
	stateType, zipType, localityType, sublocalityType                       string
	regions                                                                 []regionData
}

type regionData struct{ key, name, lname, iso, zip string }

// compiled holds what is derived from a table row on first use.
type compiled struct {
	once        sync.Once
	layout      layout
	latinLayout layout
	fieldSet    string // field letters present in the layout
	postal      *regexp.Regexp
	regionZips  []*regexp.Regexp
	regionFolds []regionFolds
	format      CountryFormat
}

var compiledTable [len(table)]compiled

// genericLayout is used by Format for countries missing from the table.
var genericLayout = parseLayout("%N%n%O%n%A%n%D%n%C %S %Z %X")

// index returns the table position of a country code ("de", " DE " work).
func index(cc string) int {
	cc = strings.ToUpper(strings.TrimSpace(cc))
	if len(cc) != 2 {
		return -1
	}
	i, ok := slices.BinarySearchFunc(table[:], cc, func(c countryData, code string) int {
		return strings.Compare(c.code, code)
	})
	if !ok {
		return -1
	}
	return i
}

// get returns the compiled form of table row i.
func get(i int) *compiled {
	c := &compiledTable[i]
	c.once.Do(func() { c.build(&table[i]) })
	return c
}

func (c *compiled) build(d *countryData) {
	c.layout = parseLayout(d.layout)
	c.latinLayout = c.layout
	if d.latinLayout != "" {
		c.latinLayout = parseLayout(d.latinLayout)
	}
	if d.zip != "" {
		// The generator checked every pattern compiles.
		c.postal = regexp.MustCompile(`(?i)^(?:` + d.zip + `)$`)
	}
	c.regionZips = make([]*regexp.Regexp, len(d.regions))
	c.regionFolds = make([]regionFolds, len(d.regions))
	for j, r := range d.regions {
		c.regionFolds[j] = regionFolds{foldRegion(r.key), foldRegion(r.name), foldRegion(r.lname)}
		if r.zip != "" {
			c.regionZips[j] = regexp.MustCompile(`(?i)^(?:` + r.zip + `)`)
		}
	}
	f := CountryFormat{
		Country:               d.code,
		Name:                  d.name,
		PostalName:            d.postalName,
		Layout:                d.layout,
		LatinLayout:           d.latinLayout,
		PostalPattern:         d.zip,
		RegionType:            d.stateType,
		PostalCodeType:        d.zipType,
		LocalityType:          d.localityType,
		DependentLocalityType: d.sublocalityType,
	}
	if d.zipex != "" {
		f.PostalExamples = strings.Split(d.zipex, ",")
	}
	var seen strings.Builder
	for _, line := range c.layout {
		for _, t := range line {
			if t.field == 0 || strings.IndexByte(seen.String(), t.field) >= 0 {
				continue
			}
			seen.WriteByte(t.field)
			key := fieldKey(t.field)
			if key == FieldName || key == FieldOrganization {
				continue
			}
			f.Fields = append(f.Fields, Field{
				Key:       key,
				Label:     fieldLabel(d, t.field),
				Required:  strings.IndexByte(d.require, t.field) >= 0,
				Uppercase: strings.IndexByte(d.upper, t.field) >= 0,
			})
		}
	}
	c.fieldSet = seen.String()
	for _, r := range d.regions {
		f.Regions = append(f.Regions, Region{Key: r.key, Name: r.name, LatinName: r.lname, ISOCode: r.iso, PostalPrefix: r.zip})
	}
	c.format = f
}

// uses reports whether the country's layout has the field letter.
func (c *compiled) uses(field byte) bool { return strings.IndexByte(c.fieldSet, field) >= 0 }

// Lookup returns the address format of a country by ISO 3166-1 alpha-2 code
// (case-insensitive). The returned slices are copies the caller may keep.
func Lookup(cc string) (CountryFormat, bool) {
	i := index(cc)
	if i < 0 {
		return CountryFormat{}, false
	}
	f := get(i).format
	f.Fields = slices.Clone(f.Fields)
	f.PostalExamples = slices.Clone(f.PostalExamples)
	f.Regions = slices.Clone(f.Regions)
	return f, true
}

// Countries lists every country in the table, sorted by English name.
func Countries() []Country {
	out := make([]Country, len(byName))
	for i, idx := range byName {
		out[i] = Country{Code: table[idx].code, Name: table[idx].name}
	}
	return out
}

// fieldKey maps a layout letter to a Field* key.
func fieldKey(letter byte) string {
	switch letter {
	case 'N':
		return FieldName
	case 'O':
		return FieldOrganization
	case 'A':
		return FieldLines
	case 'D':
		return FieldDependentLocality
	case 'C':
		return FieldLocality
	case 'S':
		return FieldRegion
	case 'Z':
		return FieldPostalCode
	case 'X':
		return FieldSortingCode
	}
	return ""
}

// nameTypeLabels turns the source data's *_name_type values into English
// form labels.
var nameTypeLabels = map[string]string{
	// state_name_type
	"area":       "Area",
	"county":     "County",
	"department": "Department",
	"district":   "District",
	"do_si":      "Do/Si",
	"emirate":    "Emirate",
	"island":     "Island",
	"oblast":     "Oblast",
	"parish":     "Parish",
	"prefecture": "Prefecture",
	"province":   "Province",
	"state":      "State",
	// zip_name_type
	"zip":     "ZIP code",
	"postal":  "Postal code",
	"pin":     "PIN code",
	"eircode": "Eircode",
	// locality_name_type
	"city":      "City",
	"post_town": "Post town",
	"suburb":    "Suburb",
	// sublocality_name_type
	"neighborhood":     "Neighborhood",
	"village_township": "Village/Township",
	"townland":         "Townland",
}

func label(nameType, fallback string) string {
	if l, ok := nameTypeLabels[nameType]; ok {
		return l
	}
	if nameType == "" {
		return fallback
	}
	return strings.ToUpper(nameType[:1]) + strings.ReplaceAll(nameType[1:], "_", " ")
}

func fieldLabel(d *countryData, letter byte) string {
	switch letter {
	case 'A':
		return "Street address"
	case 'D':
		return label(d.sublocalityType, "Suburb")
	case 'C':
		return label(d.localityType, "City")
	case 'S':
		return label(d.stateType, "Province")
	case 'Z':
		return label(d.zipType, "Postal code")
	case 'X':
		return "Sorting code"
	}
	return ""
}
