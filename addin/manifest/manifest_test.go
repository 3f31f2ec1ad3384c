package manifest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/salesbridge/salesbridge/addin/manifest"
	"github.com/salesbridge/salesbridge/addin/manifest/manifesttest"
)

var update = flag.Bool("update", false, "rewrite the golden manifests in testdata")

const appID = "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"

// validCase is one registration and public URL, with what the manifest must
// then say.
type validCase struct {
	name       string
	in         manifest.Input
	wantBase   string   // the public URL as the manifest spells it
	wantHost   string   // host[:port]
	xmlWarn    []string // substrings, one per expected XML warning
	jsonWarn   []string // substrings, one per expected JSON warning
	wantVer    string
	wantProv   string
	wantLabel  string // display name after trimming
	wantSemver string
}

var validCases = []validCase{
	{
		name:     "https custom host with port",
		in:       manifest.Input{ApplicationID: appID, Name: "Acme Sales", PublicURL: "https://crm.example.com:8443", Version: "1.0.0.0", ProviderName: "Acme Corp"},
		wantBase: "https://crm.example.com:8443", wantHost: "crm.example.com:8443", wantVer: "1.0.0.0", wantProv: "Acme Corp", wantLabel: "Acme Sales", wantSemver: "1.0.0",
	},
	{
		name:     "path prefix",
		in:       manifest.Input{ApplicationID: strings.ToUpper(appID), Name: "Sales", PublicURL: "https://crm.example.com/sales"},
		wantBase: "https://crm.example.com/sales", wantHost: "crm.example.com", wantVer: "1.0.0.0", wantProv: "SalesBridge", wantLabel: "Sales", wantSemver: "1.0.0",
	},
	{
		name:     "trailing slash, default port and upper-case host are normalised",
		in:       manifest.Input{ApplicationID: appID, Name: "  Sales  ", PublicURL: " https://CRM.Example.com:443/sales/ ", Version: "2.3"},
		wantBase: "https://crm.example.com/sales", wantHost: "crm.example.com", wantVer: "2.3", wantProv: "SalesBridge", wantLabel: "Sales", wantSemver: "2.3.0",
	},
	{
		name:     "empty port is dropped",
		in:       manifest.Input{ApplicationID: appID, Name: "Sales", PublicURL: "https://crm.example.com:/sales"},
		wantBase: "https://crm.example.com/sales", wantHost: "crm.example.com", wantVer: "1.0.0.0", wantProv: "SalesBridge", wantLabel: "Sales", wantSemver: "1.0.0",
	},
	{
		name:     "localhost over http warns",
		in:       manifest.Input{ApplicationID: appID, Name: "Dev", PublicURL: "http://localhost:8080"},
		wantBase: "http://localhost:8080", wantHost: "localhost:8080", wantVer: "1.0.0.0", wantProv: "SalesBridge", wantLabel: "Dev", wantSemver: "1.0.0",
		xmlWarn: []string{"http"}, jsonWarn: []string{"http"},
	},
	{
		name:     "127.0.0.1 over http warns",
		in:       manifest.Input{ApplicationID: appID, Name: "Dev", PublicURL: "http://127.0.0.1:3000/app"},
		wantBase: "http://127.0.0.1:3000/app", wantHost: "127.0.0.1:3000", wantVer: "1.0.0.0", wantProv: "SalesBridge", wantLabel: "Dev", wantSemver: "1.0.0",
		xmlWarn: []string{"http"}, jsonWarn: []string{"http"},
	},
	{
		name:     "markup characters and quotes in names",
		in:       manifest.Input{ApplicationID: appID, Name: `R&D <Sales> "Team" 'EU' ]]> &amp;`, PublicURL: "https://crm.example.com", ProviderName: `A&B "Co" <Ltd>`, Version: "1.2.3.4"},
		wantBase: "https://crm.example.com", wantHost: "crm.example.com", wantVer: "1.2.3.4", wantProv: `A&B "Co" <Ltd>`, wantLabel: `R&D <Sales> "Team" 'EU' ]]> &amp;`, wantSemver: "1.2.3",
		jsonWarn: []string{"fourth part", "name.short", "mobile group label"},
	},
	{
		name:     "non-ASCII names and an escaped path",
		in:       manifest.Input{ApplicationID: appID, Name: "Équipe Ventes — 営業 🚀", PublicURL: "https://crm.example.com/ventes%20équipe", ProviderName: "Société Générale"},
		wantBase: "https://crm.example.com/ventes%20%C3%A9quipe", wantHost: "crm.example.com", wantVer: "1.0.0.0", wantProv: "Société Générale", wantLabel: "Équipe Ventes — 営業 🚀", wantSemver: "1.0.0",
	},
	{
		name:     "longest accepted name",
		in:       manifest.Input{ApplicationID: appID, Name: strings.Repeat("é", 125), PublicURL: "https://crm.example.com"},
		wantBase: "https://crm.example.com", wantHost: "crm.example.com", wantVer: "1.0.0.0", wantProv: "SalesBridge", wantLabel: strings.Repeat("é", 125), wantSemver: "1.0.0",
		jsonWarn: []string{"name.short", "name.full", "ribbon group label", "mobile group label"},
	},
}

func TestXMLValidatesAndCarriesTheInput(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			out, warnings, err := manifest.XML(tc.in)
			if err != nil {
				t.Fatalf("XML: %v", err)
			}
			manifesttest.ValidateXML(t, out)
			urls := manifesttest.CheckXMLURLs(t, out, tc.wantBase)
			if len(urls) < 10 {
				t.Errorf("only %d URLs checked: %v", len(urls), urls)
			}
			checkWarnings(t, warnings, tc.xmlWarn)

			doc := parse(t, out)
			wantID := strings.TrimSpace(tc.in.ApplicationID)
			for path, want := range map[string]string{
				"OfficeApp/Id":                                                            wantID,
				"OfficeApp/Version":                                                       tc.wantVer,
				"OfficeApp/ProviderName":                                                  tc.wantProv,
				"OfficeApp/DefaultLocale":                                                 "en-US",
				"OfficeApp/DisplayName@DefaultValue":                                      tc.wantLabel,
				"OfficeApp/IconUrl@DefaultValue":                                          tc.wantBase + "/crmUI/osc365/web/icons/icon-64.png",
				"OfficeApp/HighResolutionIconUrl@DefaultValue":                            tc.wantBase + "/crmUI/osc365/web/icons/icon-128.png",
				"OfficeApp/SupportUrl@DefaultValue":                                       tc.wantBase + "/",
				"OfficeApp/AppDomains/AppDomain":                                          tc.wantBase[:strings.Index(tc.wantBase, "://")+3] + tc.wantHost,
				"OfficeApp/Permissions":                                                   "ReadWriteMailbox",
				"OfficeApp/DisableEntityHighlighting":                                     "false",
				"OfficeApp/Requirements/Sets/Set@MinVersion":                              "1.1",
				"OfficeApp/FormSettings/Form@type":                                        "ItemRead",
				"OfficeApp/FormSettings/Form/DesktopSettings/SourceLocation@DefaultValue": tc.wantBase + "/crmUI/osc365/web/index.html",
				"OfficeApp/VersionOverrides/VersionOverrides/WebApplicationInfo/Id":       wantID,
				"OfficeApp/VersionOverrides/VersionOverrides/WebApplicationInfo/Resource": "api://" + tc.wantHost + "/" + wantID,
			} {
				if got := doc.one(t, path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			if got := doc.one(t, "OfficeApp/Description@DefaultValue"); !strings.HasPrefix(got, tc.wantLabel+": ") {
				t.Errorf("Description = %q, want it to start with the name", got)
			}
			rules := doc.all("OfficeApp/Rule/Rule@ItemType")
			if !slices.Equal(rules, []string{"Message", "Appointment"}) {
				t.Errorf("activation rules for %v, want Message and Appointment", rules)
			}
		})
	}
}

func TestXMLCommandSurfaces(t *testing.T) {
	out, _, err := manifest.XML(validCases[0].in)
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, out)
	const vo10 = "OfficeApp/VersionOverrides"
	const vo11 = vo10 + "/VersionOverrides"
	if got := doc.one(t, vo10+"@type"); got != "VersionOverridesV1_0" {
		t.Errorf("outer VersionOverrides type %q", got)
	}
	if got := doc.one(t, vo11+"@type"); got != "VersionOverridesV1_1" {
		t.Errorf("nested VersionOverrides type %q", got)
	}
	wantSurfaces := []string{"MessageReadCommandSurface", "AppointmentAttendeeCommandSurface", "AppointmentOrganizerCommandSurface"}
	for _, vo := range []string{vo10, vo11} {
		ff := vo + "/Hosts/Host/DesktopFormFactor"
		if got := doc.one(t, vo+"/Hosts/Host@type"); got != "MailHost" {
			t.Errorf("%s host type %q", vo, got)
		}
		if got := doc.all(ff + "/ExtensionPoint@type"); !slices.Equal(got, wantSurfaces) {
			t.Errorf("%s extension points %v, want %v", vo, got, wantSurfaces)
		}
		// Every surface: one group labelled with the registration name,
		// a task-pane button then the share button.
		if got := doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Label@resid"); len(got) != 3 || got[0] != "groupLabel" {
			t.Errorf("%s group labels %v", vo, got)
		}
		actions := doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Control/Action@type")
		if !slices.Equal(actions, []string{"ShowTaskpane", "ExecuteFunction", "ShowTaskpane", "ExecuteFunction", "ShowTaskpane", "ExecuteFunction"}) {
			t.Errorf("%s actions %v", vo, actions)
		}
		for _, fn := range doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Control/Action/FunctionName") {
			if fn != manifest.ShareFunctionName {
				t.Errorf("%s FunctionName %q", vo, fn)
			}
		}
		if got := doc.resource(t, vo, doc.one(t, ff+"/FunctionFile@resid")); got != validCases[0].wantBase+"/crmUI/osc365/web/commands.html" {
			t.Errorf("%s FunctionFile → %q", vo, got)
		}
		for _, resid := range doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Control/Action/SourceLocation@resid") {
			if got := doc.resource(t, vo, resid); got != validCases[0].wantBase+"/crmUI/osc365/web/index.html" {
				t.Errorf("%s task pane → %q", vo, got)
			}
		}
		if got := doc.resource(t, vo, "groupLabel"); got != "Acme Sales" {
			t.Errorf("%s group label %q", vo, got)
		}
		labels := doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Control/Label@resid")
		if got := doc.resource(t, vo, labels[1]); got != "Share with Sales" {
			t.Errorf("%s share button label %q", vo, got)
		}
		// Ribbon buttons list the three mandatory icon sizes.
		if got := doc.all(ff + "/ExtensionPoint/OfficeTab/Group/Control/Icon/Image@size")[:3]; !slices.Equal(got, []string{"16", "32", "80"}) {
			t.Errorf("%s icon sizes %v", vo, got)
		}
		checkResids(t, doc, vo)
	}
	if got := doc.all(vo10 + "/Hosts/Host/DesktopFormFactor/ExtensionPoint/OfficeTab/Group/Control/Action/SupportsPinning"); len(got) != 0 {
		t.Errorf("SupportsPinning in VersionOverrides 1.0 (its schema lacks it): %v", got)
	}
	if got := doc.all(vo11 + "/Hosts/Host/DesktopFormFactor/ExtensionPoint/OfficeTab/Group/Control/Action/SupportsPinning"); !slices.Equal(got, []string{"true", "true", "true"}) {
		t.Errorf("SupportsPinning in 1.1 = %v, want true on the three task-pane buttons", got)
	}
	if got := doc.all(vo11 + "/Hosts/Host/MobileFormFactor/ExtensionPoint@type"); !slices.Equal(got, []string{"MobileMessageReadCommandSurface"}) {
		t.Errorf("mobile extension points %v", got)
	}
	if got := doc.all(vo10 + "/WebApplicationInfo/Id"); len(got) != 0 {
		t.Errorf("WebApplicationInfo in VersionOverrides 1.0: %v", got)
	}
	for _, sz := range []string{"16", "32", "64", "80", "128"} {
		want := validCases[0].wantBase + "/crmUI/osc365/web/icons/icon-" + sz + ".png"
		if got := doc.resource(t, vo11, "icon"+sz); got != want {
			t.Errorf("icon%s → %q, want %q", sz, got, want)
		}
	}
}

// checkResids: every resid used under a VersionOverrides names a resource
// defined in it (the XSD cannot check this), and control / group ids are
// unique.
func checkResids(t *testing.T, doc *xmlDoc, vo string) {
	t.Helper()
	defined := map[string]bool{}
	for _, kind := range []string{"Images/Image", "Urls/Url", "ShortStrings/String", "LongStrings/String"} {
		for _, id := range doc.all(vo + "/Resources/" + kind + "@id") {
			if defined[id] {
				t.Errorf("%s: resource id %q defined twice", vo, id)
			}
			defined[id] = true
		}
	}
	used := doc.attrsUnder(vo+"/Hosts", "resid")
	if len(used) == 0 {
		t.Fatalf("%s: no resids", vo)
	}
	for _, r := range used {
		if !defined[r] {
			t.Errorf("%s: resid %q is not defined in its Resources", vo, r)
		}
	}
	ids := doc.attrsUnder(vo+"/Hosts", "id")
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "TabDefault" {
			continue
		}
		if seen[id] {
			t.Errorf("%s: id %q used twice", vo, id)
		}
		seen[id] = true
	}
}

func TestXMLEscapesMarkupInValues(t *testing.T) {
	name := `x"/><Evil attr="1`
	out, _, err := manifest.XML(manifest.Input{ApplicationID: appID, Name: name, PublicURL: "https://crm.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("<Evil")) {
		t.Fatalf("name leaked markup into the manifest:\n%s", out)
	}
	manifesttest.ValidateXML(t, out)
	if got := parse(t, out).one(t, "OfficeApp/DisplayName@DefaultValue"); got != name {
		t.Errorf("DisplayName round-trips as %q", got)
	}
}

func TestInvalidInputNamesTheFields(t *testing.T) {
	ok := manifest.Input{ApplicationID: appID, Name: "Sales", PublicURL: "https://crm.example.com"}
	with := func(f func(*manifest.Input)) manifest.Input {
		in := ok
		f(&in)
		return in
	}
	cases := []struct {
		name string
		in   manifest.Input
		want []string
	}{
		{"non-GUID id", with(func(in *manifest.Input) { in.ApplicationID = "my-app" }), []string{manifest.FieldApplicationID}},
		{"GUID with a bad digit", with(func(in *manifest.Input) { in.ApplicationID = "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5g" }), []string{manifest.FieldApplicationID}},
		{"braced GUID", with(func(in *manifest.Input) { in.ApplicationID = "{" + appID + "}" }), []string{manifest.FieldApplicationID}},
		{"empty id", with(func(in *manifest.Input) { in.ApplicationID = "" }), []string{manifest.FieldApplicationID}},
		{"empty name", with(func(in *manifest.Input) { in.Name = "" }), []string{manifest.FieldName}},
		{"blank name", with(func(in *manifest.Input) { in.Name = " \t " }), []string{manifest.FieldName}},
		{"name too long", with(func(in *manifest.Input) { in.Name = strings.Repeat("a", 126) }), []string{manifest.FieldName}},
		{"name with a line break", with(func(in *manifest.Input) { in.Name = "Sales\nTeam" }), []string{manifest.FieldName}},
		{"name with a NUL", with(func(in *manifest.Input) { in.Name = "Sales\x00" }), []string{manifest.FieldName}},
		{"name not UTF-8", with(func(in *manifest.Input) { in.Name = "Sales\xff" }), []string{manifest.FieldName}},
		{"provider too long", with(func(in *manifest.Input) { in.ProviderName = strings.Repeat("p", 126) }), []string{manifest.FieldProviderName}},
		{"http on a public host", with(func(in *manifest.Input) { in.PublicURL = "http://crm.example.com" }), []string{manifest.FieldPublicURL}},
		{"http on a host named like localhost", with(func(in *manifest.Input) { in.PublicURL = "http://localhost.example.com" }), []string{manifest.FieldPublicURL}},
		{"ftp", with(func(in *manifest.Input) { in.PublicURL = "ftp://crm.example.com" }), []string{manifest.FieldPublicURL}},
		{"no scheme", with(func(in *manifest.Input) { in.PublicURL = "crm.example.com" }), []string{manifest.FieldPublicURL}},
		{"no host", with(func(in *manifest.Input) { in.PublicURL = "https:///sales" }), []string{manifest.FieldPublicURL}},
		{"empty URL", with(func(in *manifest.Input) { in.PublicURL = "" }), []string{manifest.FieldPublicURL}},
		{"query", with(func(in *manifest.Input) { in.PublicURL = "https://crm.example.com/?a=1" }), []string{manifest.FieldPublicURL}},
		{"fragment", with(func(in *manifest.Input) { in.PublicURL = "https://crm.example.com/#x" }), []string{manifest.FieldPublicURL}},
		{"user info", with(func(in *manifest.Input) { in.PublicURL = "https://admin:pw@crm.example.com" }), []string{manifest.FieldPublicURL}},
		{"dot-dot path", with(func(in *manifest.Input) { in.PublicURL = "https://crm.example.com/a/../b" }), []string{manifest.FieldPublicURL}},
		{"port zero", with(func(in *manifest.Input) { in.PublicURL = "https://crm.example.com:0" }), []string{manifest.FieldPublicURL}},
		{"port out of range", with(func(in *manifest.Input) { in.PublicURL = "https://crm.example.com:70000" }), []string{manifest.FieldPublicURL}},
		{"unicode host", with(func(in *manifest.Input) { in.PublicURL = "https://bücher.example" }), []string{manifest.FieldPublicURL}},
		{"five-part version", with(func(in *manifest.Input) { in.Version = "1.0.0.0.0" }), []string{manifest.FieldVersion}},
		{"non-numeric version", with(func(in *manifest.Input) { in.Version = "v1" }), []string{manifest.FieldVersion}},
		{"everything at once", manifest.Input{ApplicationID: "x", PublicURL: "http://example.com", Version: "1..0"},
			[]string{manifest.FieldApplicationID, manifest.FieldName, manifest.FieldPublicURL, manifest.FieldVersion}},
	}
	for _, tc := range cases {
		for gen, fn := range map[string]func(manifest.Input) ([]byte, []string, error){"XML": manifest.XML, "JSON": manifest.JSON} {
			t.Run(tc.name+"/"+gen, func(t *testing.T) {
				out, _, err := fn(tc.in)
				if err == nil {
					t.Fatalf("accepted:\n%s", out)
				}
				var ve *manifest.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T %v, want *manifest.ValidationError", err, err)
				}
				var got []string
				for f, msg := range ve.Fields {
					if msg == "" {
						t.Errorf("field %s has no message", f)
					}
					got = append(got, f)
				}
				slices.Sort(got)
				want := slices.Sorted(slices.Values(tc.want))
				if !slices.Equal(got, want) {
					t.Errorf("fields %v (%v), want %v", got, err, want)
				}
				for _, f := range want {
					if !strings.Contains(err.Error(), f+": ") {
						t.Errorf("message %q does not name %s", err, f)
					}
				}
			})
		}
	}
}

// TestGolden keeps one full manifest of each kind in testdata, so a review
// shows every change to the generated documents. Run with -update to accept.
func TestGolden(t *testing.T) {
	in := manifest.Input{ApplicationID: appID, Name: "Acme Sales", PublicURL: "https://crm.example.com:8443/sales", Version: "1.0.0.0", ProviderName: "Acme Corp"}
	for file, fn := range map[string]func(manifest.Input) ([]byte, []string, error){
		"acme.manifest.xml":  manifest.XML,
		"acme.manifest.json": manifest.JSON,
	} {
		out, warnings, err := fn(in)
		if err != nil || len(warnings) != 0 {
			t.Fatalf("%s: err %v, warnings %v", file, err, warnings)
		}
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s differs from the generated manifest; run go test -update and review the diff", path)
		}
	}
}

// checkWarnings wants exactly one warning per substring in want.
func checkWarnings(t *testing.T, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("no warning mentioning %q in %q", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("warnings %q, want %d (%q)", got, len(want), want)
	}
}

// xmlDoc indexes a manifest by slash-separated element paths of local names
// ("OfficeApp/VersionOverrides/Hosts"), with "@attr" for attributes
// (xsi:type is "@type"), in document order.
type xmlDoc struct {
	values map[string][]string
	// elems lists every element path in order with its attributes.
	elems []elem
}

type elem struct {
	path  string
	attrs map[string]string
}

func parse(t *testing.T, data []byte) *xmlDoc {
	t.Helper()
	d := &xmlDoc{values: map[string][]string{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse manifest: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			path := strings.Join(stack, "/")
			e := elem{path: path, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				d.values[path+"@"+a.Name.Local] = append(d.values[path+"@"+a.Name.Local], a.Value)
				e.attrs[a.Name.Local] = a.Value
			}
			d.elems = append(d.elems, e)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			path := strings.Join(stack, "/")
			if v := strings.TrimSpace(text.String()); v != "" {
				d.values[path] = append(d.values[path], v)
			}
			text.Reset()
			stack = stack[:len(stack)-1]
		}
	}
	return d
}

func (d *xmlDoc) all(path string) []string { return d.values[path] }

func (d *xmlDoc) one(t *testing.T, path string) string {
	t.Helper()
	v := d.values[path]
	if len(v) != 1 {
		t.Fatalf("%s: %d values %q, want 1", path, len(v), v)
	}
	return v[0]
}

// resource returns the DefaultValue of the resource id defined directly in
// vo's Resources.
func (d *xmlDoc) resource(t *testing.T, vo, id string) string {
	t.Helper()
	for _, e := range d.elems {
		if strings.HasPrefix(e.path, vo+"/Resources/") && strings.Count(e.path, "/") == strings.Count(vo, "/")+3 && e.attrs["id"] == id {
			return e.attrs["DefaultValue"]
		}
	}
	t.Fatalf("%s: no resource %q", vo, id)
	return ""
}

// attrsUnder lists the values of attr on elements below prefix.
func (d *xmlDoc) attrsUnder(prefix, attr string) []string {
	var out []string
	for _, e := range d.elems {
		if strings.HasPrefix(e.path, prefix+"/") {
			if v, ok := e.attrs[attr]; ok {
				out = append(out, v)
			}
		}
	}
	return out
}
