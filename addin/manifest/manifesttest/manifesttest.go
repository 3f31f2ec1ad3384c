// Package manifesttest holds test helpers for add-in manifests: schema
// validation of the XML manifest (xmllint against Microsoft's XSDs in
// shared/conformance/manifest-xsd) and of the unified JSON manifest (its
// published JSON schema), and a check that every URL in a manifest is served
// from the expected public URL.
//
// When xmllint or the XSDs are missing, ValidateXML skips the test with the
// reason, except in CI (CI=true), where it fails: a manifest check must never
// pass silently there.
package manifesttest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// XSDRelPath is where the manifest XSDs live relative to a directory that
// holds shared/ (the repository's parent, or the repository itself).
const XSDRelPath = "shared/conformance/manifest-xsd"

// RootXSD is the schema xmllint is pointed at; it imports the others.
const RootXSD = "OfficeAppManifestV1_1.xsd"

// FindXSDDir walks up from the working directory (a test's package
// directory) to the first ancestor holding shared/conformance/manifest-xsd
// with the root schema, so the repository may be cloned anywhere as long as
// shared/ sits beside it.
func FindXSDDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		cand := filepath.Join(dir, filepath.FromSlash(XSDRelPath))
		if _, err := os.Stat(filepath.Join(cand, RootXSD)); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s/%s in %s or any parent directory", XSDRelPath, RootXSD, wd)
		}
		dir = parent
	}
}

// unavailable skips the test, or fails it when running in CI.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("manifest XML validation unavailable in CI: %s", reason)
		return
	}
	t.Skipf("skipping manifest XML validation: %s", reason)
}

var xmllintLine = regexp.MustCompile(`:(\d+): `)

// ValidateXML validates an add-in-only XML manifest with
// `xmllint --noout --schema …/OfficeAppManifestV1_1.xsd` and fails the test
// with xmllint's output (and the manifest lines it points at) if it is not
// valid.
func ValidateXML(t testing.TB, manifest []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		unavailable(t, "xmllint not found on PATH (Debian: apt-get install libxml2-utils)")
		return
	}
	dir, err := FindXSDDir()
	if err != nil {
		unavailable(t, err.Error())
		return
	}
	file := filepath.Join(t.TempDir(), "manifest.xml")
	if err := os.WriteFile(file, manifest, 0o600); err != nil {
		t.Fatalf("write manifest: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, xmllint, "--noout", "--nonet",
		"--schema", filepath.Join(dir, RootXSD), file)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("run xmllint: %v\n%s", err, out)
		return
	}
	t.Fatalf("manifest is not valid against %s (xmllint exit %d):\n%s%s",
		RootXSD, exit.ExitCode(), out, quoteLines(manifest, out))
}

// quoteLines returns the manifest lines xmllint's messages refer to.
func quoteLines(manifest, xmllintOut []byte) string {
	lines := strings.Split(string(manifest), "\n")
	var b strings.Builder
	seen := map[int]bool{}
	for _, m := range xmllintLine.FindAllSubmatch(xmllintOut, 20) {
		n, _ := strconv.Atoi(string(m[1]))
		if n < 1 || n > len(lines) || seen[n] {
			continue
		}
		seen[n] = true
		fmt.Fprintf(&b, "  line %d: %s\n", n, strings.TrimSpace(lines[n-1]))
	}
	if b.Len() == 0 {
		return ""
	}
	return "offending lines:\n" + b.String()
}

//go:embed testdata/MicrosoftTeams.v1.17.schema.json
var teamsSchemaV1_17 []byte

// SchemaURLV1_17 is the $schema URL of the one unified-manifest version
// ValidateJSON knows.
const SchemaURLV1_17 = "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(teamsSchemaV1_17))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaURLV1_17, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaURLV1_17)
})

// ValidateJSON validates a unified (JSON) app manifest against the published
// JSON schema of manifest version 1.17, which is embedded, so this never
// needs the network or skips.
func ValidateJSON(t testing.TB, manifest []byte) {
	t.Helper()
	var head struct {
		Schema          string `json:"$schema"`
		ManifestVersion string `json:"manifestVersion"`
	}
	if err := json.Unmarshal(manifest, &head); err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
		return
	}
	if head.ManifestVersion != "1.17" || head.Schema != SchemaURLV1_17 {
		t.Fatalf("ValidateJSON knows manifest version 1.17 (%s) only; got manifestVersion %q, $schema %q",
			SchemaURLV1_17, head.ManifestVersion, head.Schema)
		return
	}
	sch, err := compiled()
	if err != nil {
		t.Fatalf("compile the embedded manifest schema: %v", err)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifest))
	if err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("manifest is not valid against the v1.17 schema:\n%v", err)
	}
}

// CheckXMLURLs fails the test unless every URL in the XML manifest (any
// attribute value or text that contains "://", namespace declarations aside)
// is served from publicURL: https (or http when publicURL is http), the same
// host and port, and, when it has a path, a path below publicURL's path.
// api:// identifiers must name the same host. It returns the URLs checked and
// fails if there are none.
func CheckXMLURLs(t testing.TB, manifest []byte, publicURL string) []string {
	t.Helper()
	var values []string
	dec := xml.NewDecoder(bytes.NewReader(manifest))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse manifest XML: %v", err)
			return nil
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				values = append(values, a.Value)
			}
		case xml.CharData:
			values = append(values, strings.TrimSpace(string(tok)))
		}
	}
	return checkURLs(t, values, publicURL)
}

// CheckJSONURLs is CheckXMLURLs for the JSON manifest: every string value
// containing "://", except the "$schema" reference, is checked.
func CheckJSONURLs(t testing.TB, manifest []byte, publicURL string) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(manifest, &doc); err != nil {
		t.Fatalf("parse manifest JSON: %v", err)
		return nil
	}
	var values []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if key != "$schema" {
				values = append(values, v)
			}
		}
	}
	walk("", doc)
	return checkURLs(t, values, publicURL)
}

func checkURLs(t testing.TB, values []string, publicURL string) []string {
	t.Helper()
	base, err := url.Parse(publicURL)
	if err != nil {
		t.Fatalf("parse public URL %q: %v", publicURL, err)
		return nil
	}
	wantScheme := strings.ToLower(base.Scheme)
	wantHost := normalHost(wantScheme, base.Host)
	prefix := strings.TrimRight(base.EscapedPath(), "/") + "/"

	var checked []string
	for _, v := range values {
		if !strings.Contains(v, "://") {
			continue
		}
		checked = append(checked, v)
		u, err := url.Parse(v)
		if err != nil {
			t.Errorf("value %q looks like a URL but does not parse: %v", v, err)
			continue
		}
		if u.Scheme == "api" { // Application ID URI: an identifier, not fetched
			if u.Host != wantHost {
				t.Errorf("%q: host %q, want %q", v, u.Host, wantHost)
			}
			continue
		}
		if u.Scheme != wantScheme || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
			t.Errorf("%q: scheme %q, want https (http only for a localhost public URL)", v, u.Scheme)
		}
		if h := normalHost(u.Scheme, u.Host); h != wantHost {
			t.Errorf("%q: host %q, want %q", v, h, wantHost)
		}
		if p := u.EscapedPath(); p != "" && !strings.HasPrefix(p, prefix) {
			t.Errorf("%q: path %q is not below %q", v, p, prefix)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("%q: unexpected user info, query or fragment", v)
		}
	}
	if len(checked) == 0 {
		t.Fatalf("no URLs found in the manifest")
	}
	return checked
}

func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return host
}

func isLoopback(host string) bool { return host == "localhost" || host == "127.0.0.1" }
