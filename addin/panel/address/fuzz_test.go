package address

import (
	"strings"
	"testing"
)

// FuzzValidateFormat checks that Validate and Format never panic, that
// Normalize is idempotent, and that an address Validate accepts formats the
// same before and after normalising and stays valid once normalised.
func FuzzValidateFormat(f *testing.F) {
	f.Add("US", "1600 Amphitheatre Pkwy", "", "Mountain View", "CA", "94043", "", "")
	f.Add("gb", "10 Downing St", "", "London", "", "sw1a 2aa", "", "")
	f.Add("JP", "千代田1-1", "", "", "tokyo", "100-0001", "", "")
	f.Add("BR", "Av. Paulista, 1000", "Bela Vista", "São Paulo", "SP", "01310-100", "", "")
	f.Add("GP", "1 rue A\n2e étage", "", "Basse-Terre", "", "97100", "CEDEX", "")
	f.Add("CI", "Rue 12", "", "Abidjan", "", "", "01 BP 1", "x")
	f.Add("QQ", "\x00\xff", "  ", "\t", "%n", "%Z", "", "")
	f.Fuzz(func(t *testing.T, country, line, dep, city, region, zip, sorting, org string) {
		a := Address{
			Country: country, Organization: org, Lines: []string{line, line + " b"},
			DependentLocality: dep, Locality: city, Region: region, PostalCode: zip, SortingCode: sorting,
		}
		errs := Validate(a)
		out := Format(a)
		_ = FormatLatin(a)
		_ = FormatInternational(a, "US")
		n := Normalize(a)
		n2 := Normalize(n)
		if !sameAddress(n, n2) {
			t.Fatalf("Normalize not idempotent:\n%#v\n%#v", n, n2)
		}
		if Format(n) != out {
			t.Fatalf("Format changed by Normalize: %q vs %q", out, Format(n))
		}
		if out != Format(a) {
			t.Fatal("Format not deterministic")
		}
		if errs != nil {
			return
		}
		if e := Validate(n); e != nil {
			t.Fatalf("valid address invalid once normalised: %v", e)
		}
		for _, l := range strings.Split(out, "\n") {
			if l == "" || strings.TrimSpace(l) != l {
				t.Fatalf("untidy line %q in %q", l, out)
			}
		}
	})
}

func sameAddress(a, b Address) bool {
	return a.Country == b.Country && a.Name == b.Name && a.Organization == b.Organization &&
		strings.Join(a.Lines, "\n") == strings.Join(b.Lines, "\n") && len(a.Lines) == len(b.Lines) &&
		a.DependentLocality == b.DependentLocality && a.Locality == b.Locality && a.Region == b.Region &&
		a.PostalCode == b.PostalCode && a.SortingCode == b.SortingCode
}

func BenchmarkValidateFormat(b *testing.B) {
	addrs := []Address{
		{Country: "US", Name: "Jane Roe", Lines: []string{"1600 Amphitheatre Pkwy"}, Locality: "Mountain View", Region: "California", PostalCode: "94043"},
		{Country: "GB", Lines: []string{"10 Downing Street"}, Locality: "London", PostalCode: "SW1A 2AA"},
		{Country: "DE", Lines: []string{"Unter den Linden 1"}, Locality: "Berlin", PostalCode: "10117"},
		{Country: "JP", Lines: []string{"千代田1-1"}, Region: "東京都", PostalCode: "100-0001"},
	}
	for _, a := range addrs { // warm the lazily compiled rules
		Validate(a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a := addrs[i%len(addrs)]
		if Validate(a) != nil {
			b.Fatal("invalid")
		}
		if Format(a) == "" {
			b.Fatal("empty")
		}
	}
}
