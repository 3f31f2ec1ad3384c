package manifesttest_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/salesbridge/salesbridge/addin/manifest"
	"github.com/salesbridge/salesbridge/addin/manifest/manifesttest"
)

// recorder stands in for the test given to a helper, to see how the helper
// fails without failing the real test.
type recorder struct {
	testing.TB
	fatal, skip string
	errors      []string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	if r.fatal == "" {
		r.fatal = fmt.Sprintf(format, args...)
	}
}

func (r *recorder) Skipf(format string, args ...any) { r.skip = fmt.Sprintf(format, args...) }

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func samplesDir(t *testing.T) string {
	t.Helper()
	dir, err := manifesttest.FindXSDDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return filepath.Join(filepath.Dir(dir), "manifest-samples")
}

func generated(t *testing.T) []byte {
	t.Helper()
	out, _, err := manifest.XML(manifest.Input{
		ApplicationID: "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", Name: "Sales", PublicURL: "https://crm.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The samples SOURCES.md records as valid must pass: the helper is wired to
// the schemas correctly.
func TestValidateXMLAcceptsMicrosoftSamples(t *testing.T) {
	dir := samplesDir(t)
	for _, name := range []string{
		"Office-Addin-TaskPane.manifest.outlook.xml",
		"outlook-add-in-command-demo.command-demo-manifest.xml",
		"Office-Add-in-samples.outlook-actionable-message.manifest.xml",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			manifesttest.ValidateXML(t, data)
		})
	}
}

func TestValidateXMLRejects(t *testing.T) {
	dir := samplesDir(t)
	signature, err := os.ReadFile(filepath.Join(dir, "Office-Add-in-samples.outlook-set-signature.manifest.xml"))
	if err != nil {
		t.Fatal(err)
	}
	good := generated(t)
	cases := map[string]struct {
		data []byte
		want []string
	}{
		"Runtimes, newer than the XSDs": {signature, []string{"Runtimes", "offending lines"}},
		"missing Id": {
			regexp.MustCompile(`(?m)^\s*<Id>[^<]*</Id>\n`).ReplaceAll(good, nil),
			[]string{"Element '{http://schemas.microsoft.com/office/appforoffice/1.1}Version': This element is not expected", "}Id )", "line 3: <Version>"},
		},
		"SupportsPinning in VersionOverrides 1.0": {
			bytes.Replace(good, []byte(`<SourceLocation resid="taskPaneUrl" />`),
				[]byte(`<SourceLocation resid="taskPaneUrl" /><SupportsPinning>true</SupportsPinning>`), 1),
			[]string{"SupportsPinning"},
		},
		"not XML": {[]byte("<OfficeApp>"), []string{"xmllint exit"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(tc.data, good) {
				t.Fatal("the edit did not change the manifest")
			}
			r := &recorder{TB: t}
			manifesttest.ValidateXML(r, tc.data)
			if r.skip != "" {
				t.Skip(r.skip)
			}
			if r.fatal == "" {
				t.Fatal("ValidateXML accepted an invalid manifest")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.fatal, w) {
					t.Errorf("failure does not mention %q:\n%s", w, r.fatal)
				}
			}
		})
	}
}

func TestValidateXMLWithoutXmllintOrSchemas(t *testing.T) {
	good := generated(t)
	noXmllint := func(t *testing.T) { t.Setenv("PATH", t.TempDir()) }
	noSchemas := func(t *testing.T) { t.Chdir(t.TempDir()) }
	for name, setup := range map[string]func(*testing.T){"no xmllint": noXmllint, "no schemas": noSchemas} {
		for _, ci := range []string{"", "true"} {
			t.Run(name+"/CI="+ci, func(t *testing.T) {
				setup(t)
				t.Setenv("CI", ci)
				r := &recorder{TB: t}
				manifesttest.ValidateXML(r, good)
				if ci == "true" {
					if r.fatal == "" || r.skip != "" {
						t.Errorf("in CI: fatal %q, skip %q; want a failure", r.fatal, r.skip)
					}
				} else if r.skip == "" || r.fatal != "" {
					t.Errorf("locally: fatal %q, skip %q; want a skip with the reason", r.fatal, r.skip)
				}
			})
		}
	}
}

func TestValidateJSONRejects(t *testing.T) {
	good, _, err := manifest.JSON(manifest.Input{
		ApplicationID: "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f", Name: "Sales", PublicURL: "https://crm.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	manifesttest.ValidateJSON(t, good)
	for name, data := range map[string][]byte{
		"not JSON":           []byte("{"),
		"other version":      bytes.Replace(good, []byte(`"manifestVersion": "1.17"`), []byte(`"manifestVersion": "1.16"`), 1),
		"bad id":             bytes.Replace(good, []byte(`"id": "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"`), []byte(`"id": "nope"`), 1),
		"unknown property":   bytes.Replace(good, []byte(`"accentColor"`), []byte(`"accentColour"`), 1),
		"bad ribbon context": bytes.Replace(good, []byte(`"meetingDetailsAttendee"`), []byte(`"meetingAttendee"`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(data, good) {
				t.Fatal("the edit did not change the manifest")
			}
			r := &recorder{TB: t}
			manifesttest.ValidateJSON(r, data)
			if r.fatal == "" {
				t.Fatal("ValidateJSON accepted an invalid manifest")
			}
		})
	}
}

func TestCheckURLs(t *testing.T) {
	const base = "https://crm.example.com:8443/sales"
	ok := []string{
		`<a href="https://crm.example.com:8443/sales/x.html"/>`,
		`<a>https://crm.example.com:8443</a>`,
		`<a>api://crm.example.com:8443/0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f</a>`,
		`<a xmlns="http://schemas.microsoft.com/office/appforoffice/1.1" href="https://CRM.example.com:8443/sales/"/>`,
	}
	bad := []string{
		`<a href="http://crm.example.com:8443/sales/x.html"/>`,
		`<a href="https://evil.example.com:8443/sales/x.html"/>`,
		`<a href="https://crm.example.com/sales/x.html"/>`,
		`<a href="https://crm.example.com:8443/other/x.html"/>`,
		`<a href="https://crm.example.com:8443/salesx/x.html"/>`,
		`<a href="https://crm.example.com:8443/sales/x.html?q=1"/>`,
		`<a>api://evil.example.com/0f1c2d3e</a>`,
	}
	for _, doc := range ok {
		r := &recorder{TB: t}
		manifesttest.CheckXMLURLs(r, []byte(doc), base)
		if len(r.errors) != 0 || r.fatal != "" {
			t.Errorf("%s: rejected: %q %q", doc, r.errors, r.fatal)
		}
	}
	for _, doc := range bad {
		r := &recorder{TB: t}
		manifesttest.CheckXMLURLs(r, []byte(doc), base)
		if len(r.errors) == 0 {
			t.Errorf("%s: accepted", doc)
		}
	}
	r := &recorder{TB: t}
	manifesttest.CheckXMLURLs(r, []byte(`<a>no urls here</a>`), base)
	if r.fatal == "" {
		t.Error("a manifest without URLs passed")
	}
	r = &recorder{TB: t}
	manifesttest.CheckJSONURLs(r, []byte(`{"$schema":"https://example.org/s.json","a":["http://localhost:8080/x"]}`), "http://localhost:8080")
	if len(r.errors) != 0 || r.fatal != "" {
		t.Errorf("JSON: %q %q", r.errors, r.fatal)
	}
	r = &recorder{TB: t}
	manifesttest.CheckJSONURLs(r, []byte(`{"a":{"b":"https://elsewhere.example/x"}}`), "https://crm.example.com")
	if len(r.errors) == 0 {
		t.Error("JSON: a foreign URL passed")
	}
}
