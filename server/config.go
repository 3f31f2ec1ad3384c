package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/salesbridge/salesbridge/models"
)

// Config is the effective configuration of a SalesBridge process. Every
// field comes from a SALESBRIDGE_* environment variable or its flag (the
// flag wins).
type Config struct {
	Addr           string
	PublicURL      string
	DatabaseURL    string
	SecretKey      string
	PreviousKeys   []string
	AuthorityURL   string
	GraphURL       string
	Demo           bool
	Workers        bool
	TLSCert        string
	TLSKey         string
	ExtraCAFile    string
	TrustedProxies []string
	BodyLimit      int64
	ShareBodyLimit int64
	NoMigrate      bool
	LogLevel       slog.Level
	ShutdownGrace  time.Duration
}

type option struct {
	env, flag, def, usage string
	secret                bool
	set                   func(c *Config, v string) error
}

func boolValue(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "on", "yes":
		return true, nil
	case "0", "false", "off", "no", "":
		return false, nil
	}
	return false, fmt.Errorf("must be on or off (got %q)", v)
}

func httpURL(v string, requireTenantPath bool) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL (got %q)", v)
	}
	if requireTenantPath && strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("must name a tenant path, e.g. https://login.microsoftonline.com/organizations (got %q)", v)
	}
	return nil
}

func byteSize(v string) (int64, error) {
	v = strings.TrimSpace(strings.ToUpper(v))
	mult := int64(1)
	for _, s := range []struct {
		suffix string
		m      int64
	}{{"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(v, s.suffix) {
			mult = s.m
			v = strings.TrimSuffix(v, s.suffix)
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("must be a positive size such as 1MB or 4096 (got %q)", v)
	}
	return n * mult, nil
}

var options = []option{
	{env: "SALESBRIDGE_ADDR", flag: "addr", def: ":8080", usage: "listen address", set: func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port (got %q)", v)
		}
		c.Addr = v
		return nil
	}},
	{env: "SALESBRIDGE_PUBLIC_URL", flag: "public-url", def: "http://localhost:8080", usage: "external base URL (manifest, redirect URIs)", set: func(c *Config, v string) error {
		if err := httpURL(v, false); err != nil {
			return err
		}
		c.PublicURL = strings.TrimRight(v, "/")
		return nil
	}},
	{env: "SALESBRIDGE_DATABASE_URL", flag: "database-url", def: "sqlite://./data/salesbridge.db", usage: "sqlite://PATH or postgres://…", secret: true, set: func(c *Config, v string) error {
		if _, _, err := models.ParseDatabaseURL(v); err != nil {
			return err
		}
		c.DatabaseURL = v
		return nil
	}},
	{env: "SALESBRIDGE_SECRET_KEY", flag: "secret-key", def: "", usage: "signs sessions, encrypts secrets (generated in embedded mode)", secret: true, set: func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return errors.New("must be at least 32 characters")
		}
		c.SecretKey = v
		return nil
	}},
	{env: "SALESBRIDGE_PREVIOUS_SECRET_KEYS", flag: "previous-secret-keys", def: "", usage: "comma-separated earlier secret keys, still accepted for decryption while keys rotate", secret: true, set: func(c *Config, v string) error {
		c.PreviousKeys = nil
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.PreviousKeys = append(c.PreviousKeys, k)
			}
		}
		return nil
	}},
	{env: "SALESBRIDGE_AUTHORITY_URL", flag: "authority-url", def: "https://login.microsoftonline.com/organizations", usage: "Microsoft identity authority", set: func(c *Config, v string) error {
		if err := httpURL(v, true); err != nil {
			return err
		}
		c.AuthorityURL = strings.TrimRight(v, "/")
		return nil
	}},
	{env: "SALESBRIDGE_GRAPH_URL", flag: "graph-url", def: "https://graph.microsoft.com/v1.0", usage: "Microsoft Graph base URL", set: func(c *Config, v string) error {
		if err := httpURL(v, false); err != nil {
			return err
		}
		c.GraphURL = strings.TrimRight(v, "/")
		return nil
	}},
	{env: "SALESBRIDGE_DEMO", flag: "demo", def: "off", usage: "seed demo users and CRM data at start", set: func(c *Config, v string) (err error) {
		c.Demo, err = boolValue(v)
		return
	}},
	{env: "SALESBRIDGE_WORKERS", flag: "workers", def: "on", usage: "run background job workers in this process", set: func(c *Config, v string) (err error) {
		c.Workers, err = boolValue(v)
		return
	}},
	{env: "SALESBRIDGE_TLS_CERT", flag: "tls-cert", def: "", usage: "PEM certificate to serve HTTPS directly", set: func(c *Config, v string) error {
		c.TLSCert = v
		return fileIfSet(v)
	}},
	{env: "SALESBRIDGE_TLS_KEY", flag: "tls-key", def: "", usage: "PEM private key for SALESBRIDGE_TLS_CERT", secret: false, set: func(c *Config, v string) error {
		c.TLSKey = v
		return fileIfSet(v)
	}},
	{env: "SALESBRIDGE_EXTRA_CA_FILE", flag: "extra-ca-file", def: "", usage: "PEM bundle trusted besides the system roots for calls to Microsoft", set: func(c *Config, v string) error {
		c.ExtraCAFile = v
		return fileIfSet(v)
	}},
	{env: "SALESBRIDGE_TRUSTED_PROXIES", flag: "trusted-proxies", def: "", usage: "comma-separated proxy addresses or CIDRs whose X-Forwarded-For is trusted", set: func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					return fmt.Errorf("%q is not an IP address or CIDR", p)
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{env: "SALESBRIDGE_BODY_LIMIT", flag: "body-limit", def: "1MB", usage: "largest request body", set: func(c *Config, v string) (err error) {
		c.BodyLimit, err = byteSize(v)
		return
	}},
	{env: "SALESBRIDGE_SHARE_BODY_LIMIT", flag: "share-body-limit", def: "4MB", usage: "largest share request body (emails with large bodies)", set: func(c *Config, v string) (err error) {
		c.ShareBodyLimit, err = byteSize(v)
		return
	}},
	{env: "SALESBRIDGE_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error", set: func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{env: "SALESBRIDGE_SHUTDOWN_GRACE", flag: "shutdown-grace", def: "20s", usage: "how long shutdown waits for requests and jobs", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 20s (got %q)", v)
		}
		c.ShutdownGrace = d
		return nil
	}},
}

func fileIfSet(p string) error {
	if p == "" {
		return nil
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("cannot read %q: %v", p, err)
	}
	return nil
}

// ConfigError names the variable whose value is wrong.
type ConfigError struct {
	Var string
	Err error
}

func (e *ConfigError) Error() string { return fmt.Sprintf("%s: %v", e.Var, e.Err) }

// LoadConfig builds the configuration from the environment and the flags in
// args (flags win). It validates every value and stops at the first bad
// one, naming its variable.
func LoadConfig(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	vals := make([]*string, len(options))
	for i, o := range options {
		vals[i] = fs.String(o.flag, "", fmt.Sprintf("%s (env %s, default %q)", o.usage, o.env, o.def))
	}
	noMigrate := fs.Bool("no-migrate", false, "do not run migrations at start")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c := &Config{NoMigrate: *noMigrate}
	for i, o := range options {
		v := o.def
		if e := getenv(o.env); e != "" {
			v = e
		}
		if set[o.flag] {
			v = *vals[i]
		}
		if err := o.set(c, v); err != nil {
			return nil, &ConfigError{Var: o.env, Err: err}
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, &ConfigError{Var: "SALESBRIDGE_TLS_KEY", Err: errors.New("SALESBRIDGE_TLS_CERT and SALESBRIDGE_TLS_KEY go together")}
	}
	return c, nil
}

// Dialect of the configured database.
func (c *Config) Dialect() models.Dialect {
	d, _, _ := models.ParseDatabaseURL(c.DatabaseURL)
	return d
}

// EnsureSecretKey fills SecretKey: in embedded mode a random key is
// generated once into the data directory (mode 0600) and reused; with
// PostgreSQL the key is required.
func (c *Config) EnsureSecretKey() error {
	if c.SecretKey != "" {
		return nil
	}
	d, path, err := models.ParseDatabaseURL(c.DatabaseURL)
	if err != nil {
		return &ConfigError{Var: "SALESBRIDGE_DATABASE_URL", Err: err}
	}
	if d != models.SQLite {
		return &ConfigError{Var: "SALESBRIDGE_SECRET_KEY", Err: errors.New("is required with PostgreSQL (32+ random characters; keep it safe: it encrypts stored Microsoft tokens)")}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return &ConfigError{Var: "SALESBRIDGE_DATABASE_URL", Err: err}
	}
	keyFile := filepath.Join(dir, "secret.key")
	if b, err := os.ReadFile(keyFile); err == nil {
		k := strings.TrimSpace(string(b))
		if len(k) < 32 {
			return &ConfigError{Var: "SALESBRIDGE_SECRET_KEY", Err: fmt.Errorf("%s holds a key shorter than 32 characters", keyFile)}
		}
		c.SecretKey = k
		return nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	k := hex.EncodeToString(buf)
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) { // another process won the race: use its key
			c.SecretKey = ""
			return c.EnsureSecretKey()
		}
		return &ConfigError{Var: "SALESBRIDGE_SECRET_KEY", Err: fmt.Errorf("generate %s: %v", keyFile, err)}
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	c.SecretKey = k
	return nil
}

// LogAttrs is the effective configuration with secrets masked.
func (c *Config) LogAttrs() []any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "********"
	}
	db := c.DatabaseURL
	if u, err := url.Parse(db); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			db = u.String()
		}
	}
	return []any{
		"addr", c.Addr, "public_url", c.PublicURL, "database_url", db,
		"secret_key", mask(c.SecretKey), "previous_secret_keys", len(c.PreviousKeys),
		"authority_url", c.AuthorityURL, "graph_url", c.GraphURL,
		"demo", c.Demo, "workers", c.Workers, "tls", c.TLSCert != "", "extra_ca_file", c.ExtraCAFile,
		"trusted_proxies", c.TrustedProxies, "body_limit", c.BodyLimit, "share_body_limit", c.ShareBodyLimit,
		"no_migrate", c.NoMigrate,
	}
}
