// Package phone normalises phone numbers typed into the panel or found in
// mail signatures, using libphonenumber's metadata (the
// github.com/nyaruka/phonenumbers port).
//
//	e164, err := phone.Normalize("(030) 123-4567", "DE") // "+49301234567"
//	key := phone.SearchKey("030 1234567", "DE")          // "49301234567"
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is matched by every error this package returns:
// errors.Is(err, phone.ErrInvalid).
var ErrInvalid = errors.New("invalid phone number")

// Reason says why a number was rejected.
type Reason int

const (
	ReasonEmpty              Reason = iota + 1 // nothing but blanks
	ReasonInvalidRegion                        // national number with an unknown or missing default region
	ReasonInvalidCountryCode                   // "+" followed by no known country calling code
	ReasonNotANumber                           // no phone number in the text
	ReasonTooShort                             // too few digits
	ReasonTooLong                              // too many digits or characters
	ReasonInvalidNumber                        // well-formed, but no such number in its country's plan
)

var reasonText = map[Reason]string{
	ReasonEmpty:              "phone number is empty",
	ReasonInvalidRegion:      "phone number needs a country: start it with + and the country code",
	ReasonInvalidCountryCode: "unknown country calling code",
	ReasonNotANumber:         "not a phone number",
	ReasonTooShort:           "phone number is too short",
	ReasonTooLong:            "phone number is too long",
	ReasonInvalidNumber:      "not a valid phone number",
}

func (r Reason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return "invalid phone number"
}

// Error is the typed error of Normalize and Parse.
type Error struct {
	Input  string // the raw input
	Region string // the default region used, upper-cased
	Reason Reason
	Err    error // underlying parser error, if any
}

func (e *Error) Error() string { return "phone: " + e.Reason.String() }

// Unwrap returns the parser's error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Number is a parsed, valid phone number.
type Number struct {
	E164          string `json:"e164"`                // "+49301234567"
	Extension     string `json:"extension,omitempty"` // "12" from "... ext. 12"
	Region        string `json:"region"`              // ISO 3166-1 region of the number, "001" for non-geographic
	National      string `json:"national"`            // "030 1234567", with " ext. 12" if any
	International string `json:"international"`       // "+49 30 1234567", with " ext. 12" if any
}

// maxInput bounds the text handed to the parser (libphonenumber's limit).
const maxInput = 250

// regionAliases maps common non-ISO spellings to ISO 3166-1 codes.
var regionAliases = map[string]string{"UK": "GB", "EL": "GR"}

// region upper-cases a default region and reports whether the parser knows
// it.
func region(r string) (string, bool) {
	r = strings.ToUpper(strings.TrimSpace(r))
	if a, ok := regionAliases[r]; ok {
		r = a
	}
	return r, r != "" && phonenumbers.GetSupportedRegions()[r]
}

// Normalize returns the E.164 form ("+" and digits) of a phone number
// written in any common format. Numbers without a leading "+" (or the
// region's international prefix, such as "00") are read as national numbers
// of defaultRegion (an ISO 3166-1 code such as "DE"; "UK" is taken as "GB").
// An extension is dropped; use Parse to keep it. Invalid input gives an
// *Error, which matches ErrInvalid.
func Normalize(raw, defaultRegion string) (string, error) {
	n, err := Parse(raw, defaultRegion)
	if err != nil {
		return "", err
	}
	return n.E164, nil
}

// Parse is Normalize returning the number's details.
func Parse(raw, defaultRegion string) (Number, error) {
	reg, known := region(defaultRegion)
	fail := func(r Reason, err error) (Number, error) {
		return Number{}, &Error{Input: raw, Region: reg, Reason: r, Err: err}
	}
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return fail(ReasonEmpty, nil)
	case len(s) > maxInput:
		return fail(ReasonTooLong, phonenumbers.ErrNumTooLong)
	}
	if !known {
		reg = ""
	}
	num, err := phonenumbers.Parse(s, reg)
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			if !strings.HasPrefix(s, "+") && !known {
				return fail(ReasonInvalidRegion, err)
			}
			return fail(ReasonInvalidCountryCode, err)
		case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return fail(ReasonTooShort, err)
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return fail(ReasonTooLong, err)
		default:
			return fail(ReasonNotANumber, err)
		}
	}
	if !phonenumbers.IsValidNumber(num) {
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.TOO_SHORT:
			return fail(ReasonTooShort, nil)
		case phonenumbers.TOO_LONG:
			return fail(ReasonTooLong, nil)
		case phonenumbers.INVALID_COUNTRY_CODE:
			return fail(ReasonInvalidCountryCode, nil)
		}
		return fail(ReasonInvalidNumber, nil)
	}
	return Number{
		E164:          phonenumbers.Format(num, phonenumbers.E164),
		Extension:     num.GetExtension(),
		Region:        phonenumbers.GetRegionCodeForNumber(num),
		National:      phonenumbers.Format(num, phonenumbers.NATIONAL),
		International: phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
	}, nil
}

// SearchKey returns a digits-only key under which every way of writing the
// same number is filed: the country calling code followed by the national
// significant number ("49301234567" for "+49 30 1234567", "0049 30
// 1234567", "030 1234567" and "(030) 123-4567" with region "DE"). Numbers
// that parse but are not valid still get their country-code key; text the
// parser cannot read falls back to its digits. Extensions are not part of
// the key. It returns "" when there are no digits at all.
//
// National numbers can only be keyed with the right region: store keys
// computed with the contact's country (or the user's default region), and
// look up with the same.
func SearchKey(raw, defaultRegion string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	if len(s) <= maxInput {
		reg, known := region(defaultRegion)
		if !known {
			reg = ""
		}
		if num, err := phonenumbers.Parse(s, reg); err == nil && num.GetNationalNumber() != 0 {
			return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
		}
	}
	return phonenumbers.NormalizeDigitsOnly(s)
}
