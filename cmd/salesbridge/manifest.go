package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/salesbridge/salesbridge/models"
	"github.com/salesbridge/salesbridge/server"
)

// manifestCmd writes the add-in manifest built from the stored
// registration and the public URL, like the admin page's download.
func manifestCmd(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	file := fs.String("out", "", "write the manifest to this file (default standard output)")
	format := fs.String("format", "xml", "xml (manifest.xml) or json (unified manifest.json)")
	dbURL := fs.String("database-url", "", "database URL (default SALESBRIDGE_DATABASE_URL)")
	publicURL := fs.String("public-url", "", "public URL (default SALESBRIDGE_PUBLIC_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "xml" && *format != "json" {
		return fmt.Errorf("--format must be xml or json")
	}
	cfg, err := commandConfig(getenv, "--database-url", *dbURL, "--public-url", *publicURL)
	if err != nil {
		return err
	}
	data, warnings, err := server.BuildManifest(ctx, cfg, *format)
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			names := make([]string, 0, len(e.Fields))
			for k := range e.Fields {
				names = append(names, k)
			}
			sort.Strings(names)
			var b strings.Builder
			b.WriteString(e.Message)
			for _, k := range names {
				fmt.Fprintf(&b, "\n  %s: %s", k, e.Fields[k])
			}
			return errors.New(b.String())
		}
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if *file == "" {
		_, err := out.Write(data)
		return err
	}
	if err := os.WriteFile(*file, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%d bytes)\n", *file, len(data))
	return nil
}
