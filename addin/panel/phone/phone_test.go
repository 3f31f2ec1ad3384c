package phone

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ raw, region, want string }{
		{"+49 30 1234567", "", "+49301234567"},
		{"+49 30 1234567", "US", "+49301234567"},
		{"030 1234567", "DE", "+49301234567"},
		{"(030) 123-4567", "de", "+49301234567"},
		{"0049 30 1234567", "DE", "+49301234567"},
		{"+49 (0)30 1234567", "", "+49301234567"},
		{"(650) 253-0000", "US", "+16502530000"},
		{"1-650-253-0000", "US", "+16502530000"},
		{"011 49 30 1234567", "US", "+49301234567"},
		{"020 7946 0018", "UK", "+442079460018"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"03-1234-5678", "JP", "+81312345678"},
		{"02 1234 5678", "IT", "+390212345678"}, // Italian leading zero kept
		{"+1 650 253 0000 ext. 123", "", "+16502530000"},
		{"tel:+1-650-253-0000", "", "+16502530000"},
		{"＋４９ ３０ １２３４５６７", "", "+49301234567"}, // full-width digits
		{"  +44 20 7946 0018  ", "", "+442079460018"},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.raw, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = '1'
	}
	tests := []struct {
		raw, region string
		want        Reason
	}{
		{"", "DE", ReasonEmpty},
		{"   ", "DE", ReasonEmpty},
		{"030 1234567", "", ReasonInvalidRegion},
		{"030 1234567", "XX", ReasonInvalidRegion},
		{"+999 1234567", "", ReasonInvalidCountryCode},
		{"hello", "DE", ReasonNotANumber},
		{"1", "DE", ReasonNotANumber},
		{"12", "US", ReasonTooShort},
		{"+1 650 253 00000000", "", ReasonTooLong},
		{string(long), "US", ReasonTooLong},
		{"+1 123 456 7890", "", ReasonInvalidNumber},
		{"+49 1", "", ReasonTooShort},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.raw, tc.region)
		var pe *Error
		if got != "" || !errors.As(err, &pe) {
			t.Errorf("Normalize(%q, %q) = %q, %v; want *Error", tc.raw, tc.region, got, err)
			continue
		}
		if pe.Reason != tc.want {
			t.Errorf("Normalize(%q, %q) reason = %v (%d), want %v (%d)", tc.raw, tc.region, pe.Reason, pe.Reason, tc.want, tc.want)
		}
		if !errors.Is(err, ErrInvalid) || pe.Input != tc.raw || err.Error() == "" {
			t.Errorf("Normalize(%q, %q): error %#v not well-formed", tc.raw, tc.region, err)
		}
	}
}

func TestParse(t *testing.T) {
	n, err := Parse("(030) 123-4567 x89", "DE")
	if err != nil {
		t.Fatal(err)
	}
	want := Number{E164: "+49301234567", Extension: "89", Region: "DE", National: "030 1234567 ext. 89", International: "+49 30 1234567 ext. 89"}
	if n != want {
		t.Errorf("Parse = %+v, want %+v", n, want)
	}
	if n, err := Parse("+800 1234 5678", ""); err != nil || n.Region != "001" {
		t.Errorf("non-geographic number: %+v, %v", n, err)
	}
}

func TestSearchKey(t *testing.T) {
	same := []struct{ raw, region string }{
		{"+49 30 1234567", "DE"},
		{"+49 30 1234567", ""},
		{"+49 30 1234567", "US"},
		{"030 1234567", "DE"},
		{"(030) 123-4567", "DE"},
		{"0049-30-1234567", "DE"},
		{"+49 (0)30 1234567 ext. 5", "FR"},
		{"+49.30.123.45.67", ""},
	}
	for _, tc := range same {
		if got := SearchKey(tc.raw, tc.region); got != "49301234567" {
			t.Errorf("SearchKey(%q, %q) = %q", tc.raw, tc.region, got)
		}
	}
	if a, b := SearchKey("(650) 253-0000", "US"), SearchKey("+1 650-253-0000", "GB"); a != b || a != "16502530000" {
		t.Errorf("US keys %q %q", a, b)
	}
	// Different numbers get different keys.
	if SearchKey("030 1234567", "DE") == SearchKey("030 1234568", "DE") {
		t.Error("distinct numbers share a key")
	}
	// Invalid but parseable numbers still key consistently.
	if a, b := SearchKey("+1 123 456 7890", ""), SearchKey("(123) 456-7890", "US"); a != b || a != "11234567890" {
		t.Errorf("invalid-number keys %q %q", a, b)
	}
	// Unparseable text falls back to its digits; no digits gives "".
	for raw, want := range map[string]string{"030 1234567": "0301234567", "n/a": "", "": "", "ab 12": "12"} {
		if got := SearchKey(raw, ""); got != want {
			t.Errorf("SearchKey(%q, \"\") = %q, want %q", raw, got, want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("+49 30 1234567", "DE")
	f.Add("(650) 253-0000", "US")
	f.Add("\x00+", "zz")
	f.Fuzz(func(t *testing.T, raw, region string) {
		e, err := Normalize(raw, region)
		key := SearchKey(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if e == "" || e[0] != '+' {
			t.Fatalf("bad E.164 %q", e)
		}
		// The E.164 form is itself valid, stable and keys the same.
		if e2, err := Normalize(e, ""); err != nil || e2 != e {
			t.Fatalf("Normalize(%q) = %q, %v", e, e2, err)
		}
		if key != e[1:] || SearchKey(e, "") != key {
			t.Fatalf("key %q for %q", key, e)
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		if _, err := Normalize("(030) 123-4567", "DE"); err != nil {
			b.Fatal(err)
		}
	}
}
