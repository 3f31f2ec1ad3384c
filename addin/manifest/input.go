package manifest

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input is what a manifest is built from: the add-in registration and the
// server's public URL.
type Input struct {
	// ApplicationID is the Microsoft Entra application (client) id, a GUID
	// such as 0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f. It becomes the manifest Id.
	ApplicationID string
	// Name is the registration's display name, shown on the ribbon group and
	// in the add-in list.
	Name string
	// PublicURL is where this server is reached from Outlook, e.g.
	// https://crm.example.com or https://crm.example.com:8443/sales.
	PublicURL string
	// Version is the add-in version, 1 to 4 dot-separated numbers
	// (default 1.0.0.0).
	Version string
	// ProviderName is the publisher shown in Outlook (default SalesBridge).
	ProviderName string
}

// Field names used in ValidationError.Fields. They match the JSON names of
// the registration API so a handler can pass them through unchanged.
const (
	FieldApplicationID = "applicationId"
	FieldName          = "name"
	FieldPublicURL     = "publicUrl"
	FieldVersion       = "version"
	FieldProviderName  = "providerName"
)

// ValidationError reports every unusable Input field at once.
type ValidationError struct {
	// Fields maps a Field* name to a message fit to show the administrator.
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = f + ": " + e.Fields[f]
	}
	return "manifest: invalid input: " + strings.Join(parts, "; ")
}

const (
	defaultVersion      = "1.0.0.0"
	defaultProviderName = "SalesBridge"
	// Limits of the XSD types the values land in (bt:ShortString is 1..125
	// characters; DisplayName, ProviderName and the group label use it).
	maxShortString = 125
)

// Paths of the pages and icons the server serves (PRODUCT.md §2), relative to
// the public URL.
const (
	pathTaskPane     = "crmUI/osc365/web/index.html"
	pathFunctionFile = "crmUI/osc365/web/commands.html"
	pathIconPattern  = "crmUI/osc365/web/icons/icon-%d.png"
)

var (
	guidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	versionRE = regexp.MustCompile(`^[0-9]{1,5}(\.[0-9]{1,5}){0,3}$`)
)

// spec is a validated Input with everything both manifests derive from it.
type spec struct {
	appID    string
	name     string
	version  string
	provider string
	base     *url.URL // scheme://host[:port][/prefix], no trailing slash
	warnings []string
}

func (s *spec) host() string { return s.base.Host }

// origin is scheme://host[:port], the form AppDomain takes.
func (s *spec) origin() string { return s.base.Scheme + "://" + s.base.Host }

// url returns the absolute URL of a path below the public URL.
func (s *spec) url(rel string) string { return s.base.JoinPath(rel).String() }

// rootURL is the public URL itself, with a trailing slash.
func (s *spec) rootURL() string { return s.base.JoinPath("/").String() }

func (s *spec) iconURL(size int) string { return s.url(fmt.Sprintf(pathIconPattern, size)) }

// resource is the Application ID URI Office SSO expects for the app:
// api://{host}/{applicationId}.
func (s *spec) resource() string { return "api://" + s.host() + "/" + s.appID }

func (s *spec) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// check validates in and fills a spec, or returns a *ValidationError.
func check(in Input) (*spec, error) {
	s := &spec{}
	bad := map[string]string{}

	s.appID = strings.TrimSpace(in.ApplicationID)
	switch {
	case s.appID == "":
		bad[FieldApplicationID] = "is required"
	case !guidRE.MatchString(s.appID):
		bad[FieldApplicationID] = "must be a GUID such as 0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"
	}

	s.name = strings.TrimSpace(in.Name)
	if msg := checkText(s.name, true); msg != "" {
		bad[FieldName] = msg
	}

	s.provider = strings.TrimSpace(in.ProviderName)
	if s.provider == "" {
		s.provider = defaultProviderName
	}
	if msg := checkText(s.provider, false); msg != "" {
		bad[FieldProviderName] = msg
	}

	s.version = strings.TrimSpace(in.Version)
	if s.version == "" {
		s.version = defaultVersion
	}
	if !versionRE.MatchString(s.version) {
		bad[FieldVersion] = "must be 1 to 4 dot-separated numbers of up to 5 digits, such as 1.0.0.0"
	}

	base, msg := checkPublicURL(strings.TrimSpace(in.PublicURL))
	if msg != "" {
		bad[FieldPublicURL] = msg
	} else {
		s.base = base
		if base.Scheme == "http" {
			s.warnf("publicUrl uses http: Outlook loads add-ins only over https, so this manifest is for local development on %s only", base.Hostname())
		}
	}

	if len(bad) > 0 {
		return nil, &ValidationError{Fields: bad}
	}
	return s, nil
}

// checkText returns why a display string cannot be used, or "".
func checkText(v string, required bool) string {
	switch {
	case v == "":
		if required {
			return "is required"
		}
		return ""
	case !utf8.ValidString(v):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(v) > maxShortString:
		return fmt.Sprintf("must be at most %d characters", maxShortString)
	}
	for _, r := range v {
		// Control characters cannot be carried by XML 1.0 (or would be
		// normalised away in attribute values); none belongs in a label.
		if unicode.IsControl(r) || r == '\uFFFE' || r == '\uFFFF' {
			return "must not contain control characters or line breaks"
		}
	}
	return ""
}

// checkPublicURL parses the server's public URL. Only https is accepted,
// except plain http on localhost / 127.0.0.1 for local development.
func checkPublicURL(raw string) (*url.URL, string) {
	if raw == "" {
		return nil, "is required"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, "must be an absolute URL such as https://crm.example.com"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "":
		return nil, "must name a host, such as https://crm.example.com"
	case u.User != nil:
		return nil, "must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, "must not contain a query or fragment"
	}
	for _, r := range u.Host {
		if r > unicode.MaxASCII {
			return nil, "must use the ASCII (xn--) form of an internationalised host name"
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if host != "localhost" && host != "127.0.0.1" {
			return nil, "must use https (http is accepted only for localhost and 127.0.0.1)"
		}
	default:
		return nil, "must use https"
	}
	// url.Parse has checked the port is digits; an empty one ("host:") is
	// dropped like a default one, so every URL names the host the same way.
	port := u.Port()
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
		return nil, "has an invalid port"
	}
	u.Host = strings.TrimSuffix(u.Host, ":")
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		u.Host = strings.TrimSuffix(u.Host, ":"+port)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	if strings.Contains(u.Path, "/./") || strings.Contains(u.Path, "/../") ||
		strings.HasSuffix(u.Path, "/.") || strings.HasSuffix(u.Path, "/..") {
		return nil, "must not contain . or .. path segments"
	}
	return u, ""
}

// truncate shortens v to at most n characters, reporting whether it did.
func truncate(v string, n int) (string, bool) {
	if utf8.RuneCountInString(v) <= n {
		return v, false
	}
	r := []rune(v)
	return strings.TrimSpace(string(r[:n])), true
}
